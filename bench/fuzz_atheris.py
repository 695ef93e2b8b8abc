"""libFuzzer (atheris) harness over the message → note work, seeded with real messages (issue #7).

Run from the repository (`make fuzz` does, when atheris is installed):

    .venv/bin/python bench/fuzz_atheris.py -max_total_time=600
    FUZZ_LIVE=1 .venv/bin/python bench/fuzz_atheris.py -max_total_time=600   # also: no live HTML in the note

Each input is one raw message. The checks are tests/test_fuzz.py's: `sound_note` (no exception, front
matter that YAML reads with every promised key, note path inside the archive) and, with FUZZ_LIVE=1,
`live_html` (nothing that would run when the note is previewed). Crashes already saved and listed in
tests/test_fuzz.py KNOWN_CRASHES are ignored, so a run looks for new ones. Without corpus
arguments the seeds (tests/fixtures/emails and ../shared/corpus) are copied to a working corpus in
.hypothesis/atheris/corpus/, and crash inputs land in .hypothesis/atheris/ (both git-ignored): save
a new one under tests/fixtures/fuzz/ and it is replayed by `make test`. Any libFuzzer flag passes
through (-fork=N, -jobs=N, -timeout=S, -rss_limit_mb=MB, -max_len=BYTES).
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import atheris

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
WORK = REPO / ".hypothesis" / "atheris"

# Imported first and instrumented, so that coverage of our code (and of the HTML libraries) guides the fuzzer.
with atheris.instrument_imports(include=["ingester", "bs4", "html2text"]):
    import ingester.clean
    import ingester.convert
    import ingester.message
    import ingester.metadata
    import ingester.pipeline
    import ingester.render  # noqa: F401

from tests.conftest import live_html
from tests.test_fuzz import _seed_files, known_crash, sound_note

LIVE = os.environ.get("FUZZ_LIVE") == "1"


def test_one_input(data: bytes) -> None:
    try:
        note = sound_note(data)
    except AssertionError:
        raise
    except Exception as exc:
        if known_crash(exc) is not None:
            return
        raise
    if LIVE:
        found = live_html(note.text)
        if found:
            raise AssertionError(f"live HTML in the note: {found[:3]}")


def main() -> None:
    args = sys.argv[1:]
    if not any(not a.startswith("-") for a in args):  # no corpus given: seed a working one
        corpus = WORK / "corpus"
        corpus.mkdir(parents=True, exist_ok=True)
        for n, seed in enumerate(_seed_files()):
            target = corpus / f"seed-{n:03d}-{seed.name}"
            if not target.exists():
                shutil.copyfile(seed, target)
        args.append(str(corpus))
    defaults = {"-artifact_prefix=": f"{WORK}/", "-max_len=": "400000", "-timeout=": "60", "-rss_limit_mb=": "4096"}
    for flag, value in defaults.items():
        if not any(a.startswith(flag) for a in args):
            args.insert(0, flag + value)
    atheris.Setup([sys.argv[0], *args], test_one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
