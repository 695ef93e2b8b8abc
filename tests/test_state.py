"""`ingester.state`: the ledger of what happened to each message, and the per-archive lock."""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from ingester.config import Config
from ingester.errors import ArchiveError
from ingester.message import content_hash
from ingester.runs import run_local
from ingester.source import local_messages
from ingester.store import raw as raw_copies
from ingester.store.ledger import MIGRATIONS, Ledger, Location
from ingester.workers import POOL_AFTER

INBOX = Location("work", "INBOX", 1700000000, 41)


@pytest.fixture
def state_dir(tmp_path: Path) -> Path:
    return tmp_path / "archive" / ".ingest"


@pytest.fixture
def ledger(state_dir: Path) -> Iterator[Ledger]:
    with Ledger(state_dir) as opened:
        yield opened


def record(
    ledger: Ledger,
    key: str = "<a@example.com>",
    outcome: str = "filed",
    detail: str = "2025/01/a.md",
    source: str = "imap://work/INBOX;UIDVALIDITY=1700000000/;UID=41",
    location: Location | None = None,
) -> None:
    ledger.record(key, key if key.startswith("<") else "", "c0ffee", outcome, detail, source, location)


# --- Messages -----------------------------------------------------------------------------------------------------


def test_record_then_get(ledger: Ledger) -> None:
    before = datetime.now(UTC).replace(microsecond=0)
    record(ledger)

    got = ledger.get("<a@example.com>")

    assert got is not None
    assert (got.key, got.outcome, got.detail, got.source, got.attempts) == (
        "<a@example.com>",
        "filed",
        "2025/01/a.md",
        "imap://work/INBOX;UIDVALIDITY=1700000000/;UID=41",
        1,
    )
    updated = datetime.fromisoformat(got.updated_at)
    assert updated.utcoffset() == timedelta(0)
    assert before <= updated <= datetime.now(UTC) + timedelta(seconds=1)


def test_get_unknown_key_is_none(ledger: Ledger) -> None:
    record(ledger)

    assert ledger.get("<b@example.com>") is None


def test_re_record_increments_attempts_and_replaces_the_outcome(ledger: Ledger) -> None:
    record(ledger, outcome="failed", detail="ValueError: bad charset")
    record(ledger, outcome="failed", detail="ValueError: bad charset again")
    record(ledger, outcome="filed", detail="2025/01/a.md", source="file:///tmp/sample.mbox#3")

    got = ledger.get("<a@example.com>")

    assert got is not None
    assert (got.outcome, got.detail, got.source, got.attempts) == (
        "filed",
        "2025/01/a.md",
        "file:///tmp/sample.mbox#3",
        3,
    )


def test_records_survive_closing_and_reopening(state_dir: Path) -> None:
    with Ledger(state_dir) as first:
        record(first, key="sha256:c0ffee", outcome="skipped", detail="not a newsletter")

    with Ledger(state_dir) as second:
        got = second.get("sha256:c0ffee")

    assert got is not None and (got.outcome, got.detail) == ("skipped", "not a newsletter")


def test_failures_and_counts(ledger: Ledger) -> None:
    record(ledger, key="<a@example.com>", outcome="filed")
    record(ledger, key="<b@example.com>", outcome="failed", detail="boom")
    record(ledger, key="<c@example.com>", outcome="skipped", detail="not a newsletter")
    record(ledger, key="<d@example.com>", outcome="failed", detail="bang")

    assert sorted(r.key for r in ledger.failures()) == ["<b@example.com>", "<d@example.com>"]
    assert [ledger.count(o) for o in ("filed", "skipped", "failed")] == [1, 1, 2]


def test_a_rejected_record_rolls_back_and_the_ledger_stays_usable(ledger: Ledger) -> None:
    with pytest.raises(sqlite3.IntegrityError):
        record(ledger, outcome="lost", location=INBOX)  # not an allowed outcome

    assert ledger.get("<a@example.com>") is None
    assert ledger.known_uids("work", "INBOX", INBOX.uidvalidity, [INBOX.uid]) == {}
    record(ledger, location=INBOX)  # no transaction left open
    assert ledger.known_uids("work", "INBOX", INBOX.uidvalidity, [INBOX.uid]) == {INBOX.uid: "filed"}


# --- IMAP locations and folder marks ------------------------------------------------------------------------------


def test_known_uids_are_filtered_by_folder_uidvalidity_and_the_uids_asked_for(ledger: Ledger) -> None:
    record(ledger, key="<a@example.com>", outcome="filed", location=Location("work", "INBOX", 7, 1))
    record(ledger, key="<b@example.com>", outcome="failed", location=Location("work", "INBOX", 7, 2))
    record(ledger, key="<c@example.com>", outcome="skipped", location=Location("work", "INBOX", 7, 3))
    record(ledger, key="<d@example.com>", outcome="filed", location=Location("work", "INBOX", 8, 1))  # new UIDVALIDITY
    record(ledger, key="<e@example.com>", outcome="filed", location=Location("work", "Lists", 7, 4))
    record(ledger, key="<f@example.com>", outcome="filed", location=Location("home", "INBOX", 7, 5))

    assert ledger.known_uids("work", "INBOX", 7, [1, 2, 4, 5, 99]) == {1: "filed", 2: "failed"}
    assert ledger.known_uids("work", "INBOX", 7, range(1, 10)) == {1: "filed", 2: "failed", 3: "skipped"}
    assert ledger.known_uids("work", "INBOX", 8, [1, 2, 3]) == {1: "filed"}
    assert ledger.known_uids("work", "INBOX", 9, [1, 2, 3]) == {}  # folder re-created: nothing is known
    assert ledger.known_uids("work", "INBOX", 7, []) == {}


def test_known_uids_report_the_latest_outcome(ledger: Ledger) -> None:
    record(ledger, outcome="failed", detail="boom", location=INBOX)
    record(ledger, outcome="filed", location=INBOX)

    assert ledger.known_uids("work", "INBOX", INBOX.uidvalidity, [INBOX.uid]) == {INBOX.uid: "filed"}


def test_folder_marks(ledger: Ledger) -> None:
    assert ledger.folder_mark("work", "INBOX") is None

    ledger.set_folder_mark("work", "INBOX", 7, 120)
    ledger.set_folder_mark("work", "Lists", 9, 5)
    ledger.set_folder_mark("work", "INBOX", 7, 150)  # moves the mark on

    assert ledger.folder_mark("work", "INBOX") == (7, 150)
    assert ledger.folder_mark("work", "Lists") == (9, 5)
    assert ledger.folder_mark("home", "INBOX") is None


def test_folder_mark_follows_a_new_uidvalidity(ledger: Ledger) -> None:
    ledger.set_folder_mark("work", "INBOX", 7, 120)
    ledger.set_folder_mark("work", "INBOX", 8, 3)

    assert ledger.folder_mark("work", "INBOX") == (8, 3)


# --- Lock and schema ----------------------------------------------------------------------------------------------


def test_second_ledger_on_the_same_archive_is_refused_while_the_first_is_open(state_dir: Path) -> None:
    with Ledger(state_dir), pytest.raises(ArchiveError, match="already using") as refused:
        Ledger(state_dir).__enter__()
    assert f"pid {os.getpid()}" in str(refused.value)
    assert str(state_dir.parent) in str(refused.value)

    with Ledger(state_dir) as reopened:  # the lock went with the first ledger
        assert reopened.get("<a@example.com>") is None


def test_schema_version_is_the_number_of_migrations(ledger: Ledger, state_dir: Path) -> None:
    db = sqlite3.connect(state_dir / "ledger.sqlite3")
    try:
        version = db.execute("PRAGMA user_version").fetchone()[0]
        tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    finally:
        db.close()

    assert version == len(MIGRATIONS) >= 1
    assert {"messages", "locations", "folders"} <= tables


def test_reopening_does_not_rerun_migrations(state_dir: Path) -> None:
    with Ledger(state_dir) as first:
        record(first)
    with Ledger(state_dir) as second:  # CREATE TABLE again would fail here
        assert second.get("<a@example.com>") is not None
        assert second.db is not None
        assert second.db.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)


def test_state_dir_is_private(ledger: Ledger, state_dir: Path) -> None:
    assert state_dir.stat().st_mode & 0o777 == 0o700
    assert (state_dir / "lock").stat().st_mode & 0o777 == 0o600


def test_closed_ledger_refuses_use(state_dir: Path) -> None:
    with Ledger(state_dir) as ledger:
        pass

    with pytest.raises(ArchiveError, match="not open"):
        ledger.get("<a@example.com>")


@pytest.mark.slow
def test_raw_copies_compressed_in_worker_processes_are_the_messages_filed(tmp_path: Path) -> None:
    """With workers, each raw copy is gzipped where its message is converted and only written by the filing
    process: every filed message's kept copy is that very message, byte for byte."""
    emails = sorted((Path(__file__).parent / "fixtures" / "emails").glob("*.eml"))
    assert len(emails) > POOL_AFTER  # enough that the worker processes start
    config = Config(archive_path=tmp_path / "archive")
    summary = run_local(config, emails, all_messages=True, jobs=2)
    originals = {content_hash(raw.raw): raw.raw for path in emails for raw in local_messages(path)}
    with Ledger(config.state_dir) as opened:
        kept = {r.content_hash: raw_copies.read(opened.state_dir, r.content_hash) for r in opened.filed()}
    assert summary.filed == len(kept) > POOL_AFTER
    assert {digest: originals[digest] for digest in kept} == kept
