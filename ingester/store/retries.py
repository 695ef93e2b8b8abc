"""Another try for messages that failed (`ingest retry`): their backoff, or their giving up after
`ledger.MAX_TRIES` failures, cleared, so the next run converts them again.

The failures counted so far are kept: a message released after it was given up that fails once more is
given up again at once (it is "one more try"), and its `ingest log` line still says how often it failed.
"""

from __future__ import annotations

from dataclasses import dataclass

from ingester.errors import UsageError
from ingester.store.ledger import GIVEN_UP, RECORD_COLUMNS, Ledger, Record

# Constant strings (our column names), never built from input.
BY_ID = f"SELECT {RECORD_COLUMNS} FROM messages WHERE key IN (?, ?) OR source = ? ORDER BY updated_at"  # noqa: S608
FAILED = f"SELECT {RECORD_COLUMNS} FROM messages WHERE outcome = 'failed' ORDER BY updated_at"  # noqa: S608
HOW = "give a source as `ingest log --failed` shows it (between [ ]), or a Message-ID"


@dataclass(frozen=True)
class Released:
    """A failed message made due again: what it was, and what its state was before."""

    key: str
    source: str
    error: str
    attempts: int
    content_hash: str
    was: str  # "given up", or "next try after <when>", or "next run"

    def as_dict(self) -> dict[str, object]:
        return {
            "key": self.key,
            "source": self.source,
            "error": self.error,
            "attempts": self.attempts,
            "was": self.was,
        }


def release(ledger: Ledger, ids: list[str], all_failed: bool = False) -> list[Released]:
    """Clear the backoff of the failed messages named by `ids` (or of every failed one); what was released.

    Every id is checked before anything changes: one that names no message, or one that did not fail,
    is a `UsageError` and nothing is released.
    """
    with ledger.transaction() as db:
        if all_failed:
            records = [Record(*row) for row in db.execute(FAILED)]
        else:
            records = []
            for given in ids:
                found = [Record(*row) for row in db.execute(BY_ID, _forms(given))]
                _check(given, found)
                records += [r for r in found if r.outcome == "failed" and r not in records]
        db.executemany(
            "UPDATE messages SET retry_after = '' WHERE key = ? AND outcome = 'failed'", [(r.key,) for r in records]
        )
    return [Released(r.key, r.source, r.detail, r.attempts, r.content_hash, _state(r)) for r in records]


def _forms(given: str) -> tuple[str, str, str]:
    """The ways an id may name a message: its key as given, as a Message-ID in <>, or its source."""
    bare = given.strip()
    return bare, f"<{bare.strip('<>')}>", bare


def _check(given: str, records: list[Record]) -> None:
    if not records:
        raise UsageError(f"no message in the ledger is {given!r}: {HOW}")
    if all(r.outcome != "failed" for r in records):
        raise UsageError(f"{given!r} did not fail (it was {records[-1].outcome}): nothing to retry")


def _state(record: Record) -> str:
    if record.retry_after == GIVEN_UP:
        return "given up"
    return f"next try after {record.retry_after}" if record.retry_after else "next run"
