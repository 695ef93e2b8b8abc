"""Where the message → note work goes (issue #19): cProfile over `pipeline.prepare` on the corpus mix.

    .venv/bin/python bench/hotspots.py                  # each corpus-mix message once: top functions, slowest 10
    .venv/bin/python bench/hotspots.py --repeat 3       # each message 3 times (steadier timings)
    .venv/bin/python bench/hotspots.py --no-profile     # timings only (cProfile slows Python code ~1.5-2x)
    .venv/bin/python bench/hotspots.py --dump DIR       # write every note to DIR (no timing): diff two dumps
                                                       # to check that a speed change changes no note

The messages are those of `bench/backfill.py --mix corpus` (its `corpus_bases` and `copies`), prepared as
row 4 of that benchmark prepares them; html2text alone on the same HTML is timed beside them, so the ratio
printed is the benchmark's "work ÷ html2text" on an evenly weighted mix. Times are CPU times of this process
(`time.process_time`): other work on a shared machine changes them far less than wall times. `--dump` also
writes the note (or skip reason, or error) of every message of every corpus file as `ingest import --all`
sees it, and of every fixture message in English and Chinese.
"""

from __future__ import annotations

import argparse
import cProfile
import importlib.util
import io
import pstats
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from ingester import convert, pipeline
from ingester.compose import Settings
from ingester.config import Config
from ingester.message import RawMessage
from ingester.source import local_messages


def load_backfill():
    """bench/backfill.py as a module (its corpus mix and message copies)."""
    spec = importlib.util.spec_from_file_location("bench_backfill", REPO / "bench" / "backfill.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def outcome(prepared: pipeline.Prepared) -> str:
    if prepared.error:
        return f"ERROR {prepared.error}\n"
    if prepared.skip:
        return f"SKIP {prepared.skip}\n"
    return prepared.text


def dump(folder: Path) -> int:
    """Every note this code makes of the corpus mix, the corpus files and the fixtures, one file each."""
    backfill = load_backfill()
    folder.mkdir(parents=True, exist_ok=True)
    written = 0

    def write(name: str, text: str) -> None:
        nonlocal written
        (folder / name.replace("/", "__")).write_text(text, encoding="utf-8")
        written += 1

    config = Config()
    job = pipeline.Job(config, Settings.of(config))
    bases = backfill.corpus_bases(backfill.CORPUS, "corpus")
    for copy in backfill.copies(bases, len(bases), 1.0, "dump"):
        write(f"mix--{copy.base.file}.md", outcome(pipeline.prepare(backfill._raw_message(copy), job)))
    every = pipeline.Job(config, Settings.of(config), all_messages=True)
    for file in sorted(p for p in backfill.CORPUS.rglob("*") if p.is_file()):
        for i, raw in enumerate(local_messages(file)):
            write(f"corpus--{file.relative_to(backfill.CORPUS)}--{i}.md", outcome(pipeline.prepare(raw, every)))
    for language in ("en", "zh"):
        config = Config(language=language)
        job = pipeline.Job(config, Settings.of(config), all_messages=True)
        for email in sorted((REPO / "tests" / "fixtures" / "emails").glob("*.eml")):
            raw = RawMessage(email.read_bytes(), source=f"fixtures/{email.name}")
            write(f"fixture--{email.stem}.{language}.md", outcome(pipeline.prepare(raw, job)))
    return written


def measure(repeat: int, profile: bool, top: int, only: str = "", stats: Path | None = None) -> None:
    backfill = load_backfill()
    config = Config()
    job = pipeline.Job(config, Settings.of(config))
    bases = backfill.corpus_bases(backfill.CORPUS, "corpus")
    messages = [c for c in backfill.copies(bases, len(bases), 1.0, "profile") if only in c.base.file]
    pipeline.prepare(backfill._raw_message(messages[0]), job)  # warm-up: link rules, lazy imports
    convert._converter().handle(bases[0].html or "")
    profiler = cProfile.Profile() if profile else None
    work: dict[str, float] = {}
    h2t: dict[str, float] = {}
    for _ in range(repeat):
        for copy in messages:
            if copy.base.html is not None:
                started = time.process_time()
                convert._converter().handle(copy.base.html)
                h2t[copy.base.file] = h2t.get(copy.base.file, 0.0) + time.process_time() - started
            raw = backfill._raw_message(copy)
            started = time.process_time()
            if profiler is not None:
                profiler.enable()
            pipeline.prepare(raw, job)
            if profiler is not None:
                profiler.disable()
            work[copy.base.file] = work.get(copy.base.file, 0.0) + time.process_time() - started
    if profiler is not None and stats is not None:
        profiler.dump_stats(stats)
    if profiler is not None:
        for key in ("tottime", "cumulative"):
            out = io.StringIO()
            pstats.Stats(profiler, stream=out).sort_stats(key).print_stats(top)
            print(f"--- top {top} by {key} " + "-" * 60)
            print("\n".join(out.getvalue().splitlines()[6:]))
    print(f"slowest 10 messages (CPU ms of work per message{', under cProfile' if profile else ''}; html2text beside)")
    for file in sorted(work, key=lambda f: -work[f])[:10]:
        print(f"  {1000 * work[file] / repeat:7.1f} ms  h2t {1000 * h2t.get(file, 0.0) / repeat:6.1f} ms  {file}")
    total_work, total_h2t = sum(work.values()), sum(h2t.values())
    print(
        f"{len(messages)} messages x {repeat}: CPU work {total_work:.2f} s, html2text {total_h2t:.2f} s, "
        f"ratio {total_work / total_h2t:.2f}, over 100 ms: {sum(w / repeat > 0.1 for w in work.values())}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=1, help="times each message is prepared (default 1)")
    parser.add_argument("--no-profile", action="store_true", help="timings only, no cProfile")
    parser.add_argument("--top", type=int, default=30, help="functions listed (default 30)")
    parser.add_argument("--only", default="", help="only the messages whose corpus path contains this")
    parser.add_argument("--stats", type=Path, help="also save the cProfile statistics here (for pstats callers)")
    parser.add_argument("--dump", type=Path, help="write every note to this folder instead of measuring")
    args = parser.parse_args()
    if args.dump:
        print(f"{dump(args.dump)} notes written to {args.dump}")
    else:
        measure(args.repeat, not args.no_profile, args.top, args.only, args.stats)


if __name__ == "__main__":
    main()
