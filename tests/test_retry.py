"""Permanent failures and `ingest retry`: a message that fails every time is given up after MAX_TRIES runs
and no longer converted; `ingest retry ID` gives it one more try (on the next run, or at once with --now).

The failing message is real: a megabyte that takes seconds to convert, under a one-second budget
(`[limits] message_seconds`); raising the budget is the "fix" after which it files.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from ingester.store.ledger import MAX_TRIES
from tests.conftest import EMAILS, Mailbox, notes_in, run_ingest
from tests.test_bounded import slow_message

SLOW_ID = "<slow@example.com>"


def config_with_budget(tmp_path: Path, seconds: int) -> Path:
    config = tmp_path / "ingester.toml"
    config.write_text(f'[archive]\npath = "{tmp_path / "archive"}"\n[limits]\nmessage_seconds = {seconds}\n')
    return config


def state(tmp_path: Path, key: str) -> tuple[str, int, str]:
    """(outcome, attempts, retry_after) the ledger holds for one message."""
    db = sqlite3.connect(tmp_path / "archive" / ".ingest" / "ledger.sqlite3")
    try:
        row = db.execute("SELECT outcome, attempts, retry_after FROM messages WHERE key = ?", (key,)).fetchone()
    finally:
        db.close()
    return row[0], row[1], row[2]


@pytest.mark.slow
def test_a_message_failing_every_time_is_given_up_and_retry_forces_one_more_try(tmp_path: Path) -> None:
    mail = tmp_path / "slow.eml"
    mail.write_bytes(slow_message())
    config = config_with_budget(tmp_path, 1)
    for tries in range(1, MAX_TRIES + 1):
        ran = run_ingest("--config", config, "import", "--json", mail)
        assert (ran.returncode, json.loads(ran.stdout)["failed"]) == (3, 1), ran
        assert state(tmp_path, SLOW_ID)[:2] == ("failed", tries)
    assert state(tmp_path, SLOW_ID)[2] == "never"
    status = run_ingest("--config", config, "status")
    assert f"(tries: {MAX_TRIES}, given up: fails every time; `ingest retry` tries it again)" in status.stdout

    again = run_ingest("--config", config, "import", "--json", mail)  # given up: not converted again

    assert again.returncode == 0 and json.loads(again.stdout)["failed"] == 0
    assert (json.loads(again.stdout)["skipped"], json.loads(again.stdout)["duplicates"]) == (1, 0)  # not filed
    assert state(tmp_path, SLOW_ID) == ("failed", MAX_TRIES, "never")

    released = run_ingest("--config", config, "retry", str(mail))  # the source, as `ingest log` shows it

    assert released.returncode == 0, released.stderr
    assert released.stdout.splitlines() == [
        (
            f"retry   {mail}: MessageTooSlow: took longer than 1 s ([limits] message_seconds) (tries: {MAX_TRIES}, "
            "given up)"
        ),
        "1 message is tried again on the next run.",
    ]
    assert state(tmp_path, SLOW_ID) == ("failed", MAX_TRIES, "")
    one_more = run_ingest("--config", config, "import", "--json", mail)
    assert one_more.returncode == 3 and json.loads(one_more.stdout)["failed"] == 1  # tried, failed again …
    assert state(tmp_path, SLOW_ID) == ("failed", MAX_TRIES + 1, "never")  # … and given up again at once

    fixed = config_with_budget(tmp_path, 60)
    now = run_ingest("--config", fixed, "retry", SLOW_ID.strip("<>"), "--now", "--json")  # the Message-ID

    assert now.returncode == 0, now.stderr
    summary = json.loads(now.stdout)
    assert (summary["filed"], summary["failed"]) == (1, 0)
    assert state(tmp_path, SLOW_ID)[0] == "filed"
    assert len(notes_in(tmp_path / "archive")) == 1
    assert run_ingest("--config", fixed, "import", "--json", mail).stdout.count('"duplicates": 1') == 1


@pytest.fixture
def archive_with_one_filed(tmp_path: Path) -> Path:
    ran = run_ingest("import", EMAILS / "substack-post.eml", cwd=tmp_path)
    assert ran.returncode == 0, ran.stderr
    return tmp_path


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["<nobody@example.com>"], 2, "Error: no message in the ledger is '<nobody@example.com>': give a source"),
        ([str(EMAILS / "substack-post.eml")], 2, "did not fail (it was filed): nothing to retry"),
        ([], 2, "give the IDs of failed messages, or --all-failed (not both)"),
        (["x", "--all-failed"], 2, "give the IDs of failed messages, or --all-failed (not both)"),
    ],
)
def test_retry_refuses_what_it_cannot_retry_in_one_line(
    archive_with_one_filed: Path, args: list[str], code: int, message: str
) -> None:
    ran = run_ingest("retry", *args, cwd=archive_with_one_filed)
    assert ran.returncode == code
    assert message in ran.stderr
    assert "Traceback" not in ran.stderr


def test_retry_all_failed_with_no_failure_says_so(archive_with_one_filed: Path) -> None:
    ran = run_ingest("retry", "--all-failed", cwd=archive_with_one_filed)
    assert (ran.returncode, ran.stdout) == (0, "Nothing to retry: no message failed.\n")


def test_retry_without_a_ledger_is_an_error(tmp_path: Path) -> None:
    ran = run_ingest("retry", "--all-failed", cwd=tmp_path)
    assert ran.returncode == 1
    assert ran.stderr.startswith("Error: no ledger in ")
    assert not (tmp_path / "archive").exists()  # nothing created


@pytest.mark.slow
def test_retry_makes_the_next_incremental_imap_run_fetch_a_given_up_message(mailbox: Mailbox) -> None:
    config = mailbox.config
    config.write_text(config.read_text(encoding="utf-8") + "[limits]\nmessage_seconds = 1\n", encoding="utf-8")
    mailbox.append(slow_message())
    for _ in range(MAX_TRIES):  # --since: each run fetches it again, whatever its backoff
        assert run_ingest("--config", config, "--since", "2000-01-01", "-j1").returncode == 3
    incremental = run_ingest("--config", config, "--json", "-j1")
    assert json.loads(incremental.stdout)["seen"] == 0  # given up: not even fetched

    released = run_ingest("--config", config, "retry", "--all-failed", "--json")

    assert released.returncode == 0, released.stderr
    [item] = json.loads(released.stdout)
    assert (item["key"], item["attempts"], item["was"]) == (SLOW_ID, MAX_TRIES, "given up")
    assert item["source"].startswith("imap://test/INBOX;UIDVALIDITY=")
    tried = run_ingest("--config", config, "--json", "-j1")
    assert tried.returncode == 3 and json.loads(tried.stdout)["failed"] == 1  # fetched and tried again
