"""What was skipped and why: `ingest log`, `explain` over a whole mbox, files that are no mail, the
progress total of a local import, and --json on the commands that print results."""

from __future__ import annotations

import json
import mailbox
import re
import shutil
import sqlite3
from pathlib import Path

import pytest

from ingester import pipeline, runs
from ingester.cli import listing
from ingester.config import Config
from ingester.source import count_messages, local_messages
from ingester.store.ledger import MIGRATIONS
from tests.conftest import EMAILS, REPO, run_ingest

DEMO = REPO / "tests" / "fixtures" / "demo" / "sample.mbox"


def test_log_names_each_skipped_sender_with_the_reason() -> None:
    run_ingest("import", DEMO)

    result = run_ingest("log", "--skipped")

    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == 2
    assert all(re.match(r"^\d{4}-\d\d-\d\d \d\d:\d\d  skipped  ", line) for line in lines)
    assert "bob@marley.com" in result.stdout and "Testing message parsing" in result.stdout
    assert all("not a newsletter (no List-Unsubscribe" in line for line in lines)
    assert {line.rsplit("[", 1)[1] for line in lines} == {f"{DEMO}#5]", f"{DEMO}#6]"}


def test_log_json_filters_and_limit() -> None:
    run_ingest("import", DEMO)

    everything = json.loads(run_ingest("log", "--json").stdout)
    filed = json.loads(run_ingest("--json", "log", "--filed", "-n", "3").stdout)
    both = json.loads(run_ingest("log", "--filed", "--skipped", "--json").stdout)

    assert [row["outcome"] for row in everything].count("filed") == 4 and len(everything) == 6
    assert len(filed) == 3 and {row["outcome"] for row in filed} == {"filed"}
    assert len(both) == 6
    quiet = next(row for row in everything if row["subject"] == "The quiet year of small models")
    assert quiet["sender"] == "fieldnotes@substack.com"
    assert quiet["detail"] == "2025/01/2025-01-27-the-quiet-year-of-small-models.md"
    assert quiet["sent_at"].startswith("2025-01-27T")
    assert set(quiet) == {"recorded_at", "sender", "subject", "sent_at", "outcome", "detail", "source", "attempts"}
    assert json.loads(run_ingest("log", "--since", "2999-01-01", "--json").stdout) == []


@pytest.mark.parametrize("columns", [72, 80, 120])
def test_log_fits_the_terminal_and_wide_shows_everything(columns: int) -> None:
    """The demo mbox's log: its 4 notes, 2 skipped mails, a Chinese subject, /long/sources#N. Fitted to
    $COLUMNS, every line fits, cut with …, each row still there with its time and outcome, and the
    reason or note still begins readably; --wide (or a pipe, but for senders and subjects) cuts nothing."""
    run_ingest("import", DEMO)
    env = {"COLUMNS": str(columns)}

    fitted = run_ingest("log", env=env).stdout.splitlines()
    wide = run_ingest("log", "--wide", env=env).stdout.splitlines()
    piped = run_ingest("log", env={"COLUMNS": ""}).stdout.splitlines()  # not a terminal: no width to fit

    assert len(fitted) == len(wide) == len(piped) == 6
    assert max(listing._width(line) for line in fitted) <= columns
    assert all(line.endswith("…") for line in fitted)  # every line here is longer than 120 columns whole
    assert [line.split("  ")[:2] for line in fitted] == [line.split("  ")[:2] for line in wide]
    room = columns - len("2025-01-01 00:00  skipped  ") - 12 - 2 - 16 - 2  # sender and subject give way first
    reasons = [line for line in fitted if " skipped " in line]
    assert all(f"  {'not a newsletter (no List-Unsubscribe'[: room - 1]}" in line for line in reasons), reasons
    whole_subject = "全新原装进口，送货上门，货到付款－台湾鑫龙商贸集团公司向您拜年!"
    assert f"  {whole_subject}  " in "\n".join(wide)
    assert all(line.endswith(f"[{DEMO}#{6 - n}]") for n, line in enumerate(wide))
    assert all(line.endswith(f"[{DEMO}#{6 - n}]") for n, line in enumerate(piped))
    assert "allow_senders)  [" in piped[0] and whole_subject not in piped[1]  # subjects cut at 50 columns


def test_log_with_nothing_to_show_names_the_archive(tmp_path: Path) -> None:
    run_ingest("import", DEMO)

    result = run_ingest("log", "--failed")

    assert (result.returncode, result.stdout) == (0, f"Nothing recorded in {tmp_path / 'archive'} matches.\n")


def test_a_ledger_of_before_this_change_is_migrated_and_logged(tmp_path: Path) -> None:
    run_ingest("import", EMAILS / "substack-post.eml")
    with sqlite3.connect(tmp_path / "archive" / ".ingest" / "ledger.sqlite3") as db:
        version = db.execute("PRAGMA user_version").fetchone()[0]
        columns = {row[1] for row in db.execute("PRAGMA table_info(messages)")}

    assert version == len(MIGRATIONS) and {"sender", "subject", "sent_at"} <= columns


def test_explain_covers_every_message_of_an_mbox() -> None:
    everything = run_ingest("explain", DEMO)
    third = run_ingest("explain", DEMO, "--index", "3")
    as_json = json.loads(run_ingest("explain", DEMO, "--json", "-n", "2").stdout)

    assert everything.returncode == 0, everything.stderr
    assert re.findall(r"^message:\s+(\S+)$", everything.stdout, re.MULTILINE) == [f"{DEMO}#{n}" for n in range(1, 7)]
    assert third.stdout.splitlines()[0] == f"message:        {DEMO}#3"
    assert "message:        " not in "\n".join(third.stdout.splitlines()[1:])
    assert [item["message"] for item in as_json] == [f"{DEMO}#1", f"{DEMO}#2"]
    assert as_json[0]["newsletter"].startswith("yes, ")
    assert as_json[0]["title"].startswith("The quiet year of small models")


def test_explain_of_a_missing_index_is_an_error() -> None:
    result = run_ingest("explain", DEMO, "--index", "99")

    assert result.returncode == 1
    assert result.stderr == f"Error: {DEMO}: no message at the index given\n"


def test_a_folder_that_is_no_mail_is_refused_and_leaves_no_rows(tmp_path: Path) -> None:
    etc = tmp_path / "etc"
    etc.mkdir()
    (etc / "hosts").write_text("127.0.0.1 localhost\n::1 localhost\n")
    (etc / "fstab").write_text("# <file system> <mount point>\nUUID=abc / ext4 defaults 0 1\n")
    (etc / "picture.png").write_bytes(bytes(range(256)) * 64)

    result = run_ingest("import", etc)

    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.startswith("Error: no email message found: 3 files are not mail (")
    assert "give an mbox, a Maildir, .eml files or a folder of them" in result.stderr
    assert json.loads(run_ingest("log", "--json").stdout) == []  # nothing recorded, nothing permanent


def test_files_that_are_no_mail_beside_mail_are_named_and_the_mail_is_filed(tmp_path: Path) -> None:
    folder = tmp_path / "mixed"
    folder.mkdir()
    shutil.copy(EMAILS / "substack-post.eml", folder / "a.eml")
    (folder / "notes.txt").write_text("Just some text: with a colon\n")

    result = run_ingest("import", folder, "--json")

    summary = json.loads(result.stdout)
    assert result.returncode == 0
    assert (summary["filed"], summary["skipped"], summary["not_mail"]) == (1, 0, [str(folder / "notes.txt")])
    assert result.stderr == f"Not mail, ignored: {folder / 'notes.txt'}\n"


def test_a_folder_holding_the_archive_is_imported_without_it(tmp_path: Path) -> None:
    """`ingest import .` where the archive is `./archive`: its notes, raw copies and ledger are no mail."""
    for name in ("substack-post.eml", "text-only-newsletter.eml"):
        shutil.copy(EMAILS / name, tmp_path / name)

    first = json.loads(run_ingest("import", tmp_path, "--json").stdout)
    second = run_ingest("import", tmp_path, "--json")

    assert (first["filed"], first["not_mail"]) == (2, [])
    assert (tmp_path / "archive" / ".ingest").is_dir()
    summary = json.loads(second.stdout)
    assert (summary["filed"], summary["duplicates"], summary["not_mail"]) == (0, 2, [])
    assert second.returncode == 0 and "Not mail" not in second.stderr


def test_local_imports_are_counted_before_they_are_read(tmp_path: Path) -> None:
    box = mailbox.Maildir(tmp_path / "Maildir")
    for name in ("substack-post.eml", "chinese-newsletter.eml", "text-only-newsletter.eml"):
        box.add((EMAILS / name).read_bytes())
    folder = tmp_path / "emls"
    folder.mkdir()
    shutil.copy(DEMO, folder / "box.mbox")
    shutil.copy(EMAILS / "substack-post.eml", folder / "one.eml")

    for path in (DEMO, tmp_path / "Maildir", folder, EMAILS / "substack-post.eml"):
        assert count_messages(path) == len(list(local_messages(path))), path
    assert count_messages(DEMO) == 6


def test_the_progress_display_gets_the_total_first(tmp_path: Path) -> None:
    calls: list[tuple[int, int]] = []

    runs.run_local(Config(archive_path=tmp_path / "a"), [DEMO], progress=lambda d, m: calls.append((d, m)))

    assert calls[0] == (0, 6)
    assert sum(done for done, _ in calls) == 6


def test_clean_url_json() -> None:
    result = run_ingest("clean-url", "--json", "https://example.com/a?utm_source=x&id=3")

    assert json.loads(result.stdout) == [
        {"url": "https://example.com/a?utm_source=x&id=3", "clean": "https://example.com/a?id=3"}
    ]


@pytest.mark.parametrize("flag", ["--json", "-q"])
def test_rerender_json_and_quiet(filed_archive: Path, tmp_path: Path, flag: str) -> None:
    shutil.copytree(filed_archive, tmp_path / "archive")

    result = run_ingest("rerender", "--all", flag)

    assert result.returncode == 0, result.stderr
    if flag == "-q":
        assert (result.stdout, result.stderr) == ("", "")
        return
    data = json.loads(result.stdout)
    assert (data["rerendered"], data["unchanged"], data["skipped"], data["failed"]) == (0, 5, 0, 0)
    assert {row["outcome"] for row in data["notes"]} == {"unchanged"} and len(data["notes"]) == 5
    assert data["elapsed_seconds"] >= 0


def test_status_limit_keeps_the_latest_failures(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: object, **kwargs: object) -> object:
        raise ValueError("converter exploded")

    monkeypatch.setattr(pipeline, "make_note", broken)
    assert run_ingest("import", DEMO).returncode == 3

    every = json.loads(run_ingest("status", "--json").stdout)["failures"]
    two = json.loads(run_ingest("status", "--json", "-n", "2").stdout)["failures"]
    text = run_ingest("status", "-n", "1").stdout

    assert len(every) == 4 and two == every[-2:]
    assert text.count("failed  ") == 1
    assert json.loads(run_ingest("log", "--failed", "--json").stdout)[0]["detail"] == "ValueError: converter exploded"


def test_mail_is_told_by_its_header_fields_not_by_a_colon(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "passwd").write_text("root:x:0:0:root:/root:/bin/bash\ndaemon:x:1:1::/usr/sbin:/usr/sbin/nologin\n")
    (folder / "page.html").write_text("<!DOCTYPE html><html><body><p>Hello</p></body></html>\n")
    # a MIME fragment with a subject and no From, Date or Message-ID is still mail (real archives hold such)
    (folder / "fragment").write_bytes(
        b"Subject: 1234\r\nMIME-Version: 1.0\r\nContent-Type: text/plain\r\n\r\nHello\r\n"
    )

    summary = json.loads(run_ingest("import", folder, "--all", "--json").stdout)

    assert sorted(summary["not_mail"]) == [str(folder / "page.html"), str(folder / "passwd")]
    assert summary["seen"] == 1
