"""The command line as people expect it: global options anywhere, run options refused where they mean
nothing, -h, quiet means quiet, exit codes after signals."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ingester.store import notes
from tests.conftest import EMAILS, REPO, email_bytes, notes_in, run_ingest, write_config

DEMO = REPO / "tests" / "fixtures" / "demo" / "sample.mbox"


def test_json_before_or_after_the_command_is_the_same() -> None:
    run_ingest("import", DEMO)
    before, after = run_ingest("--json", "status"), run_ingest("status", "--json")

    assert before.returncode == after.returncode == 0
    assert json.loads(before.stdout) == json.loads(after.stdout)
    assert json.loads(before.stdout)["totals"]["filed"] == 4


def test_config_before_or_after_the_command(tmp_path: Path) -> None:
    config = write_config(tmp_path / "elsewhere.toml", tmp_path / "notes")
    run_ingest("import", DEMO, "--config", config)

    for args in (("--config", config, "drafts", "list"), ("drafts", "list", "--config", config)):
        result = run_ingest(*args)
        assert result.returncode == 0, result.stderr
        assert len(result.stdout.splitlines()) == 5  # header and four drafts, from tmp_path/notes
    assert not (tmp_path / "archive").exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--since", "2025-03-01", "drafts"), "`ingest drafts` has no --since option; --since works with `ingest`"),
        (
            ("--jobs", "2", "status"),
            "`ingest status` has no --jobs option; --jobs works with `ingest`, `ingest import`",
        ),
        (("--all", "drafts", "list"), "`ingest drafts` has no --all option"),
        (("--json", "review"), "`ingest review` has no --json option; --json works with `ingest`"),
        (("--json", "drafts", "edit", "c2f5"), "`ingest drafts edit` has no --json option"),
        (("--json", "config", "init"), "`ingest config init` has no --json option; --json works with `ingest config"),
    ],
)
def test_an_option_before_a_command_that_cannot_use_it_is_an_error(args: tuple[str, ...], message: str) -> None:
    result = run_ingest(*args)

    assert result.returncode == 2
    assert message in result.stderr
    assert result.stdout == ""


def test_a_run_option_before_a_command_that_has_it_is_handed_on() -> None:
    result = run_ingest("--all", "--jobs", "1", "import", DEMO, "--json")

    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["filed"] == 6  # --all: the two messages that are no newsletters too


def test_since_names_every_command_that_has_it() -> None:
    result = run_ingest("--since", "2025-03-01", "drafts")

    assert result.stderr.endswith("--since works with `ingest`, `ingest drafts list`, `ingest log`, `ingest review`\n")


@pytest.mark.parametrize("args", [("-h",), ("import", "-h"), ("drafts", "show", "-h"), ("config", "-h")])
def test_h_is_help(args: tuple[str, ...]) -> None:
    short, long = run_ingest(*args), run_ingest(*args[:-1], "--help")

    assert short.returncode == 0
    assert short.stdout == long.stdout
    assert short.stdout.startswith("Usage: ingest")


@pytest.mark.parametrize("where", ["before", "after"])
def test_quiet_prints_nothing_when_all_went_well(where: str) -> None:
    args = ("-q", "import", DEMO) if where == "before" else ("import", DEMO, "-q")
    first, again = run_ingest(*args), run_ingest(*args)

    assert (first.returncode, first.stdout, first.stderr) == (0, "", "")
    assert (again.returncode, again.stdout, again.stderr) == (0, "", "")  # not even "Nothing new"
    assert len(notes_in(Path("archive"))) == 4


def test_quiet_still_says_what_failed_on_stderr(monkeypatch: pytest.MonkeyPatch) -> None:
    from ingester import pipeline

    def broken(*args: object, **kwargs: object) -> object:
        raise ValueError("converter exploded")

    monkeypatch.setattr(pipeline, "make_note", broken)
    result = run_ingest("-q", "import", EMAILS / "substack-post.eml")

    assert result.returncode == 3
    assert result.stdout == ""
    assert result.stderr == f"failed  {EMAILS / 'substack-post.eml'}: ValueError: converter exploded\n"


def test_quiet_decisions_print_nothing_and_errors_still_show(filed_archive: Path, tmp_path: Path) -> None:
    import shutil

    shutil.copytree(filed_archive, tmp_path / "archive")
    accepted = run_ingest("drafts", "accept", "c2f51ed", "-q")
    unknown = run_ingest("-q", "drafts", "accept", "fffffff")

    assert (accepted.returncode, accepted.stdout, accepted.stderr) == (0, "", "")
    assert (
        'status: "reviewed"'
        in (tmp_path / "archive" / "2025/01/2025-01-27-the-quiet-year-of-small-models.md").read_text()
    )
    assert unknown.returncode == 2 and unknown.stdout == "" and "fffffff" in unknown.stderr


def test_verbose_after_the_command_names_each_skipped_message() -> None:
    result = run_ingest("import", DEMO, "-v")

    assert result.returncode == 0
    skipped = re.findall(r"^INFO: skipped (\S+): (.*)$", result.stderr, re.MULTILINE)
    assert [source for source, _ in skipped] == [f"{DEMO}#5", f"{DEMO}#6"]
    assert all(reason.startswith("not a newsletter") for _, reason in skipped)


def test_ctrl_c_outside_a_run_exits_130(monkeypatch: pytest.MonkeyPatch) -> None:
    def interrupted(*args: object) -> object:
        raise KeyboardInterrupt

    monkeypatch.setattr(notes, "scan", interrupted)
    result = run_ingest("drafts", "list")

    assert result.returncode == 130
    assert "Traceback" not in result.stderr and "unexpected" not in result.stderr


def _big_mbox(path: Path, count: int) -> Path:
    raw = email_bytes("substack-post.eml")
    with path.open("wb") as box:
        for n in range(count):
            one = re.sub(rb"(?im)^Message-ID:.*$", f"Message-ID: <issue-{n}@cli.example.com>".encode(), raw, count=1)
            one = re.sub(rb"(?im)^Subject:.*$", f"Subject: Issue number {n}".encode(), one, count=1)
            box.write(b"From news@example.com Mon Jan 27 13:05:00 2025\n" + one.replace(b"\nFrom ", b"\n>From "))
            box.write(b"\n")
    return path


@pytest.mark.slow
@pytest.mark.parametrize(("sig", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_a_signal_stops_an_import_cleanly_with_its_exit_code(tmp_path: Path, sig: int, code: int) -> None:
    box = _big_mbox(tmp_path / "big.mbox", 2000)
    proc = subprocess.Popen(
        [sys.executable, "-m", "ingester", "import", "--jobs", "1", str(box)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=tmp_path,
    )
    deadline = time.monotonic() + 60
    while len(notes_in(tmp_path / "archive")) < 5 and time.monotonic() < deadline:
        time.sleep(0.01)
    proc.send_signal(sig)
    out, err = proc.communicate(timeout=30)

    assert proc.returncode == code, err
    assert out.splitlines()[-1].startswith("Stopped early: ")
    assert "Traceback" not in err
    assert 5 <= len(notes_in(tmp_path / "archive")) < 2000


def test_shell_completion_offers_commands_and_note_ids(filed_archive: Path, tmp_path: Path) -> None:
    import shutil

    shutil.copytree(filed_archive, tmp_path / "archive")

    def complete(words: str) -> list[str]:
        env = {"_INGEST_COMPLETE": "bash_complete", "COMP_WORDS": words, "COMP_CWORD": str(len(words.split(" ")) - 1)}
        return [line.split(",", 1)[1] for line in run_ingest(env=env).stdout.splitlines()]

    assert complete("ingest dr") == ["drafts"]
    assert complete("ingest config ") == ["init", "path", "show"]
    assert complete("ingest drafts show c2") == ["c2f51ed"]
    assert sorted(complete("ingest drafts accept ")) == sorted(["7c8e7e4", "3a84b58", "c2f51ed", "ab3faa1", "ee38bfa"])
