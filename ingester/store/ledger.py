"""The ledger: what happened to each message, and where each IMAP folder was read up to.

SQLite (stdlib) in `<archive>/.ingest/ledger.sqlite3`, WAL mode, schema versions in
`PRAGMA user_version` (`schema.MIGRATIONS`). A message is recorded
only after its note is on disk; a crash in between is healed by `files.write_note`, which finds
the note already there. One process per archive holds `<archive>/.ingest/lock`.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import sqlite3
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from ingester.errors import ArchiveError
from ingester.store import space
from ingester.store.files import ensure_dir
from ingester.store.schema import MIGRATIONS

__all__ = ["MIGRATIONS", "About", "Ledger", "Location", "Record"]

LOG_OUTCOMES = ("filed", "skipped", "failed")


@dataclass(frozen=True)
class About:
    """What a person recognises a message by: sender address, subject, the date it was sent (ISO)."""

    sender: str = ""
    subject: str = ""
    sent_at: str = ""


@dataclass(frozen=True)
class Record:
    """What the ledger knows about one message."""

    key: str
    outcome: str
    detail: str
    source: str
    attempts: int
    updated_at: str
    content_hash: str = ""
    note_sha256: str = ""
    retry_after: str = ""


# Every query below is a constant string (these column names are ours), never built from input.
RECORD_COLUMNS = "key, outcome, detail, source, attempts, updated_at, content_hash, note_sha256, retry_after"
FILED_QUERY = f"SELECT {RECORD_COLUMNS} FROM messages WHERE outcome = 'filed' ORDER BY updated_at"  # noqa: S608
FAILED_QUERY = f"SELECT {RECORD_COLUMNS} FROM messages WHERE outcome = 'failed' ORDER BY updated_at"  # noqa: S608
MAX_RETRY_DELAY = timedelta(hours=24)
MAX_TRIES = 5  # a message that failed this often fails for good (a parse that always fails): not retried
GIVEN_UP = "never"  # retry_after of such a message
DAMAGED = ("SQLITE_NOTADB", "SQLITE_CORRUPT")  # the file is no SQLite database, or a damaged one


def retry_delay(attempts: int) -> timedelta:
    """Backoff after the n-th failure: 1 min, 2, 4 … capped at a day (a bug fix may come any time)."""
    return min(timedelta(minutes=2 ** max(attempts - 1, 0)), MAX_RETRY_DELAY)


@dataclass(frozen=True)
class Location:
    """Where a message was seen on an IMAP server."""

    account: str
    folder: str
    uidvalidity: int
    uid: int


class Ledger:
    """The archive's ledger and its lock. Use as a context manager.

    `readonly=True` takes no lock and writes nothing (for `ingest status` while a daemon runs; WAL
    lets readers see committed rows while a writer works). The connection may be used from several
    threads (the daemon's), one at a time: callers serialise.
    """

    def __init__(self, state_dir: Path, readonly: bool = False, exclusive: bool = True) -> None:
        self.state_dir = state_dir
        self.readonly = readonly
        self.exclusive = exclusive  # the run lock: one ingest (run or daemon) per archive
        self._lock_fd: int | None = None
        self.db: sqlite3.Connection | None = None

    def __enter__(self) -> Ledger:
        path = self.state_dir / "ledger.sqlite3"
        try:
            if self.readonly:
                if not path.exists():
                    raise ArchiveError(f"no ledger in {self.state_dir}: nothing was ingested into this archive yet")
                self.db = sqlite3.connect(
                    f"{path.resolve().as_uri()}?mode=ro", uri=True, isolation_level=None, check_same_thread=False
                )
                self.db.execute("PRAGMA schema_version")  # reads the file's header: a damaged ledger fails here
                return self
            ensure_dir(self.state_dir)
            if self.exclusive:
                self._lock()
            self.db = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=30)
            self.db.execute("PRAGMA journal_mode=WAL")
            # NORMAL in WAL mode: a commit is not fsynced on its own, and a power cut may undo the
            # last few. That loses nothing: each note is fsynced before its row is written, and a
            # rerun recognises a note on disk (archive.write_note). It saves an fsync per message.
            self.db.execute("PRAGMA synchronous=NORMAL")
            self._migrate()
        except sqlite3.DatabaseError as exc:
            self.close()
            if space.is_full(exc, self.state_dir):
                raise space.no_space(self.state_dir) from exc
            if getattr(exc, "sqlite_errorname", "") not in DAMAGED:
                raise ArchiveError(f"cannot open the ledger in {self.state_dir}: {exc}") from exc
            raise ArchiveError(
                f"the ledger {path} is damaged ({exc}); move it aside and run again to start a new one "
                "(notes on disk are recognised and not filed twice), or restore it from a backup"
            ) from exc
        except sqlite3.Error as exc:  # e.g. a read-only file system
            self.close()
            raise ArchiveError(f"cannot open the ledger in {self.state_dir}: {exc}") from exc
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self.db is not None:
            self.db.close()
            self.db = None
        if self._lock_fd is not None:
            os.close(self._lock_fd)
            self._lock_fd = None

    def _lock(self) -> None:
        fd = _lock_file(self.state_dir / "lock")
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            other = os.read(fd, 32).decode(errors="replace").strip() or "?"
            os.close(fd)
            raise ArchiveError(
                f"another ingest (pid {other}) is already using {self.state_dir.parent}; "
                "wait for it to finish or stop it"
            ) from exc
        self._lock_fd = fd
        try:  # the pid is for the message above; a full disk does not stop a run from starting
            os.ftruncate(fd, 0)
            os.write(fd, str(os.getpid()).encode())
        except OSError as exc:
            if exc.errno not in space.ERRNOS:
                raise

    @contextlib.contextmanager
    def writing(self, wait: float = 10.0) -> Iterator[None]:
        """Hold the write lock while notes and ledger rows change together.

        Short-lived (a run, one daemon poll, one review decision), so `ingest drafts accept` works
        while the daemon idles, and neither can change a note under the other.
        """
        fd = _lock_file(self.state_dir / "write.lock")
        deadline = time.monotonic() + wait
        try:
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError as exc:
                    if time.monotonic() >= deadline:
                        raise ArchiveError(
                            f"another ingest is writing to {self.state_dir.parent}; try again when it has finished"
                        ) from exc
                    time.sleep(0.1)
            yield
        finally:
            os.close(fd)  # closing releases the lock

    def _migrate(self) -> None:
        db = self._db
        version = db.execute("PRAGMA user_version").fetchone()[0]
        for number, script in enumerate(MIGRATIONS[version:], start=version + 1):
            db.executescript(f"BEGIN; {script}; PRAGMA user_version = {number}; COMMIT;")

    @property
    def _db(self) -> sqlite3.Connection:
        if self.db is None:
            raise ArchiveError("the ledger is not open")
        return self.db

    def get(self, key: str) -> Record | None:
        row = self._db.execute(f"SELECT {RECORD_COLUMNS} FROM messages WHERE key = ?", (key,)).fetchone()  # noqa: S608
        return Record(*row) if row else None

    def filed(self) -> list[Record]:
        """Every filed message, oldest first."""
        rows = self._db.execute(FILED_QUERY)
        return [Record(*row) for row in rows]

    def set_note(self, key: str, detail: str, note_sha256: str) -> None:
        """A note was re-rendered or moved: its new path (relative to the archive) and hash."""
        with self.transaction() as db:
            db.execute("UPDATE messages SET detail = ?, note_sha256 = ? WHERE key = ?", (detail, note_sha256, key))

    def record_fill(self, key: str, note: str, outcome: str, detail: str, filled_by: str) -> None:
        """The outcome of the last `ingest fill` of a note (`filled`, or `failed` with the error)."""
        with self.transaction() as db:  # a full disk: DiskFull, the fill is not recorded
            db.execute(
                """INSERT INTO fills VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (key) DO UPDATE SET note = excluded.note,
                   outcome = excluded.outcome, detail = excluded.detail, filled_by = excluded.filled_by,
                   updated_at = excluded.updated_at, attempts = (fills.attempts + 1) * (excluded.outcome = 'failed')""",
                (
                    key,
                    note,
                    outcome,
                    detail,
                    filled_by,
                    datetime.now(UTC).isoformat(timespec="seconds"),
                    outcome == "failed",
                ),
            )

    def fill_failures(self) -> list[tuple[str, str, str, int]]:
        """(note, error, when, failures in a row) of every note whose last fill failed, newest first."""
        rows = self._db.execute(
            "SELECT note, detail, updated_at, attempts FROM fills WHERE outcome = 'failed' ORDER BY 3 DESC"
        )
        return [(str(n), str(d), str(u), int(a)) for n, d, u, a in rows]

    def record(
        self,
        key: str,
        message_id: str,
        content_hash: str,
        outcome: str,
        detail: str,
        source: str,
        location: Location | None = None,
        note_sha256: str = "",
        about: About | None = None,
        fidelity: str = "",
    ) -> None:
        """Record an outcome (after the note, if any, is durably on disk) and where the message was."""
        about = about or About()
        now = datetime.now(UTC)
        previous = self.get(key) if outcome == "failed" else None
        failures = previous.attempts + 1 if previous is not None and previous.outcome == "failed" else 1
        retry_after = (now + retry_delay(failures)).isoformat(timespec="seconds") if outcome == "failed" else ""
        if outcome == "failed" and failures >= MAX_TRIES:
            retry_after = GIVEN_UP
        with self.transaction() as db:
            db.execute(
                """INSERT INTO messages (key, message_id, content_hash, outcome, detail, source, updated_at,
                                         note_sha256, retry_after, sender, subject, sent_at, fidelity)
                   VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                   ON CONFLICT (key) DO UPDATE SET outcome = excluded.outcome, detail = excluded.detail,
                       source = excluded.source, updated_at = excluded.updated_at,
                       note_sha256 = excluded.note_sha256, retry_after = excluded.retry_after,
                       sender = excluded.sender, subject = excluded.subject, sent_at = excluded.sent_at,
                       fidelity = excluded.fidelity,
                       attempts = messages.attempts + 1""",
                (
                    key,
                    message_id,
                    content_hash,
                    outcome,
                    detail,
                    source,
                    now.isoformat(timespec="seconds"),
                    note_sha256,
                    retry_after,
                    about.sender,
                    about.subject,
                    about.sent_at,
                    fidelity,
                ),
            )
            if location is not None:
                self._add_location(db, key, location)

    def log(self, outcomes: tuple[str, ...] = LOG_OUTCOMES, since: str = "", limit: int = 50) -> list[dict[str, Any]]:
        """The latest outcomes, newest first: when, sender, subject, sent, outcome, detail, source, attempts."""
        wanted = [o for o in outcomes if o in LOG_OUTCOMES] or list(LOG_OUTCOMES)
        marks = ", ".join("?" * len(wanted))
        rows = self._db.execute(
            f"""SELECT updated_at, sender, subject, sent_at, outcome, detail, source, attempts FROM messages
                WHERE outcome IN ({marks}) AND updated_at >= ? ORDER BY updated_at DESC, rowid DESC LIMIT ?""",  # noqa: S608 - marks only
            (*wanted, since, limit),
        )
        names = ("recorded_at", "sender", "subject", "sent_at", "outcome", "detail", "source", "attempts")
        found = [dict(zip(names, row, strict=True)) for row in rows]
        if "failed" in wanted:  # a failed `ingest fill` of a filed message, said as such
            fills = self._db.execute(
                """SELECT f.updated_at, m.sender, m.subject, m.sent_at, 'failed', 'fill: ' || f.detail, m.source, 1
                   FROM fills f JOIN messages m ON m.key = f.key WHERE f.outcome = 'failed' AND f.updated_at >= ?""",
                (since,),
            )
            found += [dict(zip(names, row, strict=True)) for row in fills]  # newest first, ties as they were:
            found = sorted(found, key=lambda row: str(row["recorded_at"]), reverse=True)[:limit]
        return found

    def remember_blocks(self, publication_id: str, key: str, blocks: Iterable[tuple[str, str]]) -> None:
        """The (position, fingerprint) blocks of one filed issue (replacing what it left before)."""
        with self.transaction() as db:
            db.execute("DELETE FROM blocks WHERE key = ?", (key,))
            rows = ((publication_id, position, fingerprint, key) for position, fingerprint in blocks)
            db.executemany("INSERT OR IGNORE INTO blocks VALUES (?, ?, ?, ?)", rows)

    def recall_blocks(self, publication_id: str, except_key: str, at_least: int) -> dict[str, dict[str, int]]:
        """{position: {fingerprint: issues}} of the blocks seen in at least `at_least` other issues."""
        found: dict[str, dict[str, int]] = {"head": {}, "tail": {}}
        try:
            rows = self._db.execute(
                """SELECT position, fingerprint, count(*) FROM blocks WHERE publication_id = ? AND key != ?
                   GROUP BY position, fingerprint HAVING count(*) >= ?""",
                (publication_id, except_key, at_least),
            ).fetchall()
        except sqlite3.OperationalError:  # a read-only ledger an older version made: no memory yet
            rows = []
        for position, fingerprint, issues in rows:
            found.setdefault(position, {})[fingerprint] = issues
        return found

    def add_location(self, key: str, location: Location) -> None:
        """Remember that an already recorded message was also seen here (another folder, account or UID)."""
        with self.transaction() as db:
            self._add_location(db, key, location)

    @staticmethod
    def _add_location(db: sqlite3.Connection, key: str, location: Location) -> None:
        db.execute(
            "INSERT OR REPLACE INTO locations VALUES (?, ?, ?, ?, ?)",
            (location.account, location.folder, location.uidvalidity, location.uid, key),
        )

    def known_uids(self, account: str, folder: str, uidvalidity: int, uids: Iterable[int]) -> dict[int, str]:
        """{uid: outcome} for the given UIDs already handled in this folder and UIDVALIDITY."""
        wanted = set(uids)
        return {uid: outcome for uid, outcome, _ in self._folder_rows(account, folder, uidvalidity) if uid in wanted}

    def failed_uids_due(self, account: str, folder: str, uidvalidity: int, now: datetime) -> list[int]:
        """UIDs of failed messages in this folder whose backoff has passed: an incremental run retries them."""
        return sorted(
            uid
            for uid, outcome, retry_after in self._folder_rows(account, folder, uidvalidity)
            if outcome == "failed"
            and retry_after != GIVEN_UP
            and (not retry_after or datetime.fromisoformat(retry_after) <= now)
        )

    def _folder_rows(self, account: str, folder: str, uidvalidity: int) -> list[tuple[int, str, str]]:
        return self._db.execute(
            """SELECT l.uid, m.outcome, m.retry_after FROM locations l JOIN messages m ON m.key = l.key
               WHERE l.account = ? AND l.folder = ? AND l.uidvalidity = ?""",
            (account, folder, uidvalidity),
        ).fetchall()

    def folder_mark(self, account: str, folder: str) -> tuple[int, int] | None:
        """(uidvalidity, last_uid) saved for a folder, or None if it was never read."""
        row = self._db.execute(
            "SELECT uidvalidity, last_uid FROM folders WHERE account = ? AND folder = ?", (account, folder)
        ).fetchone()
        return (row[0], row[1]) if row else None

    def set_folder_mark(self, account: str, folder: str, uidvalidity: int, last_uid: int) -> None:
        now = datetime.now(UTC).isoformat(timespec="seconds")
        with self.transaction() as db:
            db.execute(
                "INSERT OR REPLACE INTO folders VALUES (?, ?, ?, ?, ?)", (account, folder, uidvalidity, last_uid, now)
            )

    def account_result(self, account: str, error: str = "") -> None:
        """Remember how the last run of an account went: success clears the error."""
        now = datetime.now(UTC).isoformat(timespec="seconds")
        with self.transaction() as db:
            db.execute("INSERT OR IGNORE INTO accounts (account) VALUES (?)", (account,))
            if error:
                db.execute(
                    "UPDATE accounts SET last_error = ?, last_error_at = ? WHERE account = ?", (error, now, account)
                )
            else:
                db.execute(
                    "UPDATE accounts SET last_success = ?, last_error = '', last_error_at = '' WHERE account = ?",
                    (now, account),
                )

    def status(self) -> dict[str, Any]:
        """Per account and folder: last poll, counts by outcome, high-water mark; plus failures and errors."""
        db = self._db
        folders = []
        for account, folder, uidvalidity, last_uid, last_poll in db.execute(
            "SELECT account, folder, uidvalidity, last_uid, last_poll FROM folders ORDER BY account, folder"
        ):
            counts = dict(
                db.execute(
                    """SELECT m.outcome, count(DISTINCT m.key) FROM locations l JOIN messages m ON m.key = l.key
                   WHERE l.account = ? AND l.folder = ? GROUP BY m.outcome""",
                    (account, folder),
                ).fetchall()
            )
            folders.append(
                {
                    "account": account,
                    "folder": folder,
                    "uidvalidity": uidvalidity,
                    "high_water_uid": last_uid,
                    "last_poll": last_poll,
                    **{o: counts.get(o, 0) for o in ("filed", "skipped", "failed")},
                }
            )
        accounts = [
            {"account": a, "last_success": s, "last_error": e, "last_error_at": at}
            for a, s, e, at in db.execute("SELECT * FROM accounts ORDER BY account")
        ]
        totals = dict(db.execute("SELECT outcome, count(*) FROM messages GROUP BY outcome").fetchall())
        partial = db.execute("SELECT count(*) FROM messages WHERE outcome = 'filed' AND fidelity = 'partial'")
        return {
            "accounts": accounts,
            "folders": folders,
            "totals": {
                **{o: totals.get(o, 0) for o in ("filed", "skipped", "failed")},
                "partial": partial.fetchone()[0],
                "fill_failed": len(fill_failures := self.fill_failures()),
            },
            "fill_failures": [{"note": n, "error": e, "at": at, "attempts": a} for n, e, at, a in fill_failures],
            "failures": [
                {"source": r.source, "error": r.detail, "attempts": r.attempts, "retry_after": r.retry_after}
                for r in self.failures()
            ],
        }

    def failures(self) -> list[Record]:
        rows = self._db.execute(FAILED_QUERY)
        return [Record(*row) for row in rows]

    def count(self, outcome: str) -> int:
        return int(self._db.execute("SELECT count(*) FROM messages WHERE outcome = ?", (outcome,)).fetchone()[0])

    def transaction(self) -> _Transaction:
        """BEGIN IMMEDIATE … COMMIT; a full disk raises `DiskFull`."""
        return _Transaction(self._db, self.state_dir)


def _lock_file(path: Path) -> int:
    """Open (or create, user-only) a lock file; no room for it is `DiskFull`, anything else an `ArchiveError`."""
    try:
        return os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    except OSError as exc:
        if exc.errno in space.ERRNOS:
            raise space.no_space(path.parent) from exc
        problem = f"cannot create the lock file {path}: {exc.strerror}; check the archive's permissions"
        raise ArchiveError(problem) from exc


class _Transaction:
    """BEGIN IMMEDIATE … COMMIT, rolled back on any exception (SQLite may have rolled it back itself: a
    full disk). No space for it, here or at the commit, is `DiskFull`: the ledger stays as it was."""

    def __init__(self, db: sqlite3.Connection, state_dir: Path) -> None:
        self.db = db
        self.state_dir = state_dir

    def __enter__(self) -> sqlite3.Connection:
        self._run("BEGIN IMMEDIATE", None)
        return self.db

    def __exit__(self, exc_type: object, exc: BaseException | None, *rest: object) -> None:
        self._run("ROLLBACK" if exc_type else "COMMIT", exc)

    def _run(self, statement: str, pending: BaseException | None) -> None:
        try:
            if statement != "ROLLBACK" or self.db.in_transaction:
                self.db.execute(statement)
        except sqlite3.Error as exc:
            if self.db.in_transaction:
                self.db.execute("ROLLBACK")
            pending = exc
        if pending is not None and space.is_full(pending, self.state_dir):
            raise space.no_space(self.state_dir) from pending
        if pending is not None and statement != "ROLLBACK":
            raise pending
