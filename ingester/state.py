"""The ledger: what happened to each message, and where each IMAP folder was read up to.

SQLite (stdlib) in `<archive>/.ingest/ledger.sqlite3`, WAL mode, schema versions in
`PRAGMA user_version` (append to `MIGRATIONS`, never edit a released one). A message is recorded
only after its note is on disk; a crash in between is healed by `archive.write_note`, which finds
the note already there. One process per archive holds `<archive>/.ingest/lock`.
"""

from __future__ import annotations

import fcntl
import os
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from ingester.archive import ensure_dir
from ingester.errors import ArchiveError

MIGRATIONS: list[str] = [
    """
    CREATE TABLE messages (
        key TEXT PRIMARY KEY,          -- Message-ID, else sha256:<content hash>
        message_id TEXT NOT NULL,
        content_hash TEXT NOT NULL,
        outcome TEXT NOT NULL CHECK (outcome IN ('filed', 'skipped', 'failed')),
        detail TEXT NOT NULL,          -- note path (filed), reason (skipped), error (failed)
        source TEXT NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 1,
        updated_at TEXT NOT NULL
    );
    CREATE TABLE locations (
        account TEXT NOT NULL, folder TEXT NOT NULL, uidvalidity INTEGER NOT NULL, uid INTEGER NOT NULL,
        key TEXT NOT NULL REFERENCES messages(key),
        PRIMARY KEY (account, folder, uidvalidity, uid)
    );
    CREATE TABLE folders (
        account TEXT NOT NULL, folder TEXT NOT NULL,
        uidvalidity INTEGER NOT NULL, last_uid INTEGER NOT NULL, last_poll TEXT NOT NULL,
        PRIMARY KEY (account, folder)
    );
    """,
]


@dataclass(frozen=True)
class Record:
    """What the ledger knows about one message."""

    key: str
    outcome: str
    detail: str
    source: str
    attempts: int
    updated_at: str


@dataclass(frozen=True)
class Location:
    """Where a message was seen on an IMAP server."""

    account: str
    folder: str
    uidvalidity: int
    uid: int


class Ledger:
    """The archive's ledger and its lock. Use as a context manager."""

    def __init__(self, state_dir: Path) -> None:
        self.state_dir = state_dir
        self._lock_fd: int | None = None
        self.db: sqlite3.Connection | None = None

    def __enter__(self) -> Ledger:
        ensure_dir(self.state_dir)
        self._lock()
        try:
            self.db = sqlite3.connect(self.state_dir / "ledger.sqlite3", isolation_level=None)
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA synchronous=FULL")
            self._migrate()
        except sqlite3.Error as exc:
            self.close()
            raise ArchiveError(f"cannot open the ledger in {self.state_dir}: {exc}") from None
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
        path = self.state_dir / "lock"
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            other = os.read(fd, 32).decode(errors="replace").strip() or "?"
            os.close(fd)
            raise ArchiveError(
                f"another ingest (pid {other}) is already using {self.state_dir.parent}; "
                "wait for it to finish or stop it"
            ) from None
        os.ftruncate(fd, 0)
        os.write(fd, str(os.getpid()).encode())
        self._lock_fd = fd

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
        row = self._db.execute(
            "SELECT key, outcome, detail, source, attempts, updated_at FROM messages WHERE key = ?", (key,)
        ).fetchone()
        return Record(*row) if row else None

    def record(
        self, key: str, message_id: str, content_hash: str, outcome: str, detail: str, source: str,
        location: Location | None = None,
    ) -> None:
        """Record an outcome (after the note, if any, is durably on disk) and where the message was."""
        now = datetime.now(timezone.utc).isoformat(timespec="seconds")
        with self._transaction() as db:
            db.execute(
                """INSERT INTO messages (key, message_id, content_hash, outcome, detail, source, updated_at)
                   VALUES (?, ?, ?, ?, ?, ?, ?)
                   ON CONFLICT (key) DO UPDATE SET outcome = excluded.outcome, detail = excluded.detail,
                       source = excluded.source, updated_at = excluded.updated_at,
                       attempts = messages.attempts + 1""",
                (key, message_id, content_hash, outcome, detail, source, now),
            )
            if location is not None:
                self._add_location(db, key, location)

    def add_location(self, key: str, location: Location) -> None:
        """Remember that an already recorded message was also seen here (another folder, account or UID)."""
        with self._transaction() as db:
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
        rows = self._db.execute(
            """SELECT l.uid, m.outcome FROM locations l JOIN messages m ON m.key = l.key
               WHERE l.account = ? AND l.folder = ? AND l.uidvalidity = ?""",
            (account, folder, uidvalidity),
        )
        return {uid: outcome for uid, outcome in rows if uid in wanted}

    def folder_mark(self, account: str, folder: str) -> tuple[int, int] | None:
        """(uidvalidity, last_uid) saved for a folder, or None if it was never read."""
        row = self._db.execute(
            "SELECT uidvalidity, last_uid FROM folders WHERE account = ? AND folder = ?", (account, folder)
        ).fetchone()
        return (row[0], row[1]) if row else None

    def set_folder_mark(self, account: str, folder: str, uidvalidity: int, last_uid: int) -> None:
        now = datetime.now(timezone.utc).isoformat(timespec="seconds")
        with self._transaction() as db:
            db.execute(
                "INSERT OR REPLACE INTO folders VALUES (?, ?, ?, ?, ?)", (account, folder, uidvalidity, last_uid, now)
            )

    def failures(self) -> list[Record]:
        rows = self._db.execute(
            "SELECT key, outcome, detail, source, attempts, updated_at FROM messages WHERE outcome = 'failed'"
            " ORDER BY updated_at"
        )
        return [Record(*row) for row in rows]

    def count(self, outcome: str) -> int:
        return int(self._db.execute("SELECT count(*) FROM messages WHERE outcome = ?", (outcome,)).fetchone()[0])

    def _transaction(self) -> _Transaction:
        return _Transaction(self._db)


class _Transaction:
    """BEGIN IMMEDIATE … COMMIT, rolled back on any exception."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db

    def __enter__(self) -> sqlite3.Connection:
        self.db.execute("BEGIN IMMEDIATE")
        return self.db

    def __exit__(self, exc_type: object, *rest: object) -> None:
        self.db.execute("ROLLBACK" if exc_type else "COMMIT")
