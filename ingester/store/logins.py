"""The ledger's `logins` table (migration 7): per account, the logins the server refused in a row.

Only rows and SQL; the policy (how long to wait, when to stop) is `ingester.logins`. Each call opens its
own connection to the ledger (`Ledger(exclusive=False)`), so the daemon's watcher threads, its polls and
`ingest status --reset` in another process can all use it; writes are one short transaction each.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from ingester.errors import ArchiveError
from ingester.store.ledger import Ledger

COLUMNS = "account, fingerprint, refusals, wait_until, error, refused_at"


@dataclass(frozen=True)
class Refusals:
    """An account's refused logins in a row: how many, until when no login is tried, the last error."""

    account: str
    fingerprint: str
    refusals: int
    wait_until: str  # ISO time, or "never" once the account is stopped
    error: str
    refused_at: str


def _reading(state_dir: Path) -> Ledger | None:
    """The ledger read-only, or None when there is none (yet)."""
    if not (state_dir / "ledger.sqlite3").exists():
        return None
    return Ledger(state_dir, readonly=True)


@contextlib.contextmanager
def _read(state_dir: Path) -> Iterator[sqlite3.Connection | None]:
    ledger = _reading(state_dir)
    if ledger is None:
        yield None
        return
    with ledger:
        yield ledger.db


def _rows(db: sqlite3.Connection, account: str | None) -> list[Refusals]:
    try:
        if account is None:
            found = db.execute(f"SELECT {COLUMNS} FROM logins ORDER BY account")  # noqa: S608 - constant
        else:
            found = db.execute(f"SELECT {COLUMNS} FROM logins WHERE account = ?", (account,))  # noqa: S608
    except sqlite3.OperationalError as exc:  # a ledger older than migration 7, read-only: nothing refused
        if "no such table" in str(exc):
            return []
        raise ArchiveError(f"cannot read the ledger: {exc}") from exc
    return [Refusals(*row) for row in found]


def every(state_dir: Path) -> list[Refusals]:
    """Every account with refused logins (none when there is no ledger)."""
    with _read(state_dir) as db:
        return _rows(db, None) if db is not None else []


def get(state_dir: Path, account: str) -> Refusals | None:
    with _read(state_dir) as db:
        found = _rows(db, account) if db is not None else []
    return found[0] if found else None


def update(
    state_dir: Path, account: str, change: Callable[[Refusals | None], Refusals | None]
) -> tuple[Refusals | None, Refusals | None]:
    """Replace an account's row by `change(row)` (None: no row) in one transaction, so another thread or
    process changing the same row waits (BEGIN IMMEDIATE); returns the row before and after."""
    try:
        with Ledger(state_dir, exclusive=False) as ledger, ledger.transaction() as db:  # a full disk: DiskFull
            found = _rows(db, account)
            old = found[0] if found else None
            new = change(old)
            db.execute("DELETE FROM logins WHERE account = ?", (account,))
            if new is not None:
                db.execute(
                    f"INSERT INTO logins ({COLUMNS}) VALUES (?, ?, ?, ?, ?, ?)",  # noqa: S608 - constant
                    (new.account, new.fingerprint, new.refusals, new.wait_until, new.error, new.refused_at),
                )
    except sqlite3.Error as exc:
        raise ArchiveError(f"cannot record a login in the ledger: {exc}") from exc
    return old, new
