"""A login the server refused is not transient: the account waits hours, then stops, until a person acts.

Gmail, Fastmail and others lock an account after a few wrong passwords, so a refusal is never retried
quickly: after the first, no login to that account for `FIRST_WAIT`, then twice as long (capped at
`MAX_WAIT`); after `STOP_AFTER` refusals in a row the account is stopped until `ingest status --reset
ACCOUNT`, or until its login settings change (a SIGHUP reload or a restart with a changed host, port,
username or password source: the ledger keeps a fingerprint of those, never the password). The state is
in the ledger (`store.logins`), so it holds across runs and restarts, for the daemon and plain runs alike.

A refusal counts only while the account may log in: two connections refused at the same moment (a
poll and an IDLE watcher) are one try. Each function returns the one line to show; a change of state
is logged once by whoever caused it.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from ingester.config import Account
from ingester.store import logins as store
from ingester.store.logins import Refusals

logger = logging.getLogger(__name__)

FIRST_WAIT = timedelta(hours=1)  # after the first refusal; doubling after each further one
MAX_WAIT = timedelta(hours=8)
STOP_AFTER = 3  # refusals in a row, then no more tries until a reset or a config change
NEVER = "never"


def fingerprint(account: Account) -> str:
    """What the login depends on, hashed: host, port, security, username, and where the password comes
    from (the command, the variable's name, or "the config file"); never the password itself."""
    if account.password_command:
        source = f"command {account.password_command}"
    elif account.password_env:
        source = f"environment {account.password_env}"
    else:
        source = "config file"
    settings = "\0".join((account.host.lower(), str(account.port), account.security, account.username, source))
    return hashlib.sha256(settings.encode()).hexdigest()[:16]


def wait_after(refusals: int) -> timedelta:
    """How long no login is tried after `refusals` refusals in a row (1 h, 2 h, 4 h … capped)."""
    wait: timedelta = FIRST_WAIT * 2 ** max(refusals - 1, 0)
    return min(wait, MAX_WAIT)


@dataclass(frozen=True)
class LoginState:
    """An account's login state: "ok", "waiting" (until `until`), "due" (the wait is over: the next try
    may log in) or "stopped"."""

    account: str
    state: str = "ok"
    refusals: int = 0
    until: str = ""
    error: str = ""
    refused_at: str = ""

    @property
    def blocked(self) -> bool:
        return self.state in ("waiting", "stopped")

    def describe(self) -> str:
        """One line for a person, with how to get out of it."""
        name = self.account
        if self.state == "stopped":
            return (
                f"account {name!r}: stopped after {self.refusals} refused logins (last at {_shown(self.refused_at)}: "
                f"{self.error}); fix the username or password, then `ingest status --reset {name}`"
            )
        if self.state == "waiting":
            return (
                f"account {name!r}: login refused {self.refusals} time(s) in a row, no new try before "
                f"{_shown(self.until)} (providers lock accounts after a few); `ingest status --reset {name}` to "
                "try now"
            )
        if self.state == "due":
            return f"account {name!r}: login refused {self.refusals} time(s) in a row; the next poll tries again"
        return f"account {name!r}: ok"

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def _shown(iso: str) -> str:
    return iso.replace("T", " ").replace("+00:00", " UTC")


def _now() -> datetime:
    return datetime.now(UTC)


def _state(row: Refusals | None, name: str, now: datetime) -> LoginState:
    if row is None:
        return LoginState(name)
    if row.wait_until == NEVER:
        kind = "stopped"
    else:
        kind = "waiting" if now < datetime.fromisoformat(row.wait_until) else "due"
    return LoginState(name, kind, row.refusals, row.wait_until, row.error, row.refused_at)


def state(state_dir: Path, account: Account, now: datetime | None = None, forget: bool = True) -> LoginState:
    """The account's login state. Refusals recorded under other login settings are forgotten (and that is
    logged, once) when `forget`; otherwise (`ingest status`, read-only) they only do not count."""
    row = store.get(state_dir, account.name)
    if row is not None and row.fingerprint != fingerprint(account):
        if forget:
            _, gone = store.update(state_dir, account.name, lambda old: None if old == row else old)
            if gone is None:
                logger.warning("account %r: login settings changed since the refused login; trying again", account.name)
        return LoginState(account.name)
    return _state(row, account.name, now or _now())


def blocked(state_dir: Path, account: Account) -> str | None:
    """Why the account may not log in now (one line, with how to reset it), or None."""
    current = state(state_dir, account)
    return current.describe() if current.blocked else None


def refused(state_dir: Path, account: Account, error: str) -> tuple[str, bool]:
    """Record a refused login: the line to show and whether it counted (False when another connection's
    refusal had already closed the account a moment before: the same try)."""
    now = _now()
    mark = fingerprint(account)

    def count(old: Refusals | None) -> Refusals | None:
        if old is not None and old.fingerprint == mark and _state(old, account.name, now).blocked:
            return old
        refusals = old.refusals + 1 if old is not None and old.fingerprint == mark else 1
        until = NEVER if refusals >= STOP_AFTER else (now + wait_after(refusals)).isoformat(timespec="seconds")
        return Refusals(account.name, mark, refusals, until, error, now.isoformat(timespec="seconds"))

    old, new = store.update(state_dir, account.name, count)
    if new is None or new == old:
        return _state(new, account.name, now).describe(), False
    if new.wait_until == NEVER:
        return (
            f"{error}; stopped after {new.refusals} refused logins in a row: fix the username or password, "
            f"then `ingest status --reset {account.name}` (or change the account in the config)"
        ), True
    return (
        f"{error}; no new try before {_shown(new.wait_until)} (refusal {new.refusals} of {STOP_AFTER}: providers lock "
        f"accounts after a few; `ingest status --reset {account.name}` to try sooner)"
    ), True


def accepted(state_dir: Path, account: Account) -> None:
    """The server took the login: forget its refusals (logged once, when there were some)."""
    if store.get(state_dir, account.name) is None:
        return
    old, _ = store.update(state_dir, account.name, lambda old: None)
    if old is not None:
        logger.warning("account %r: login accepted again after %d refusal(s)", account.name, old.refusals)


def reset(state_dir: Path, name: str) -> LoginState | None:
    """Forget an account's refused logins (`ingest status --reset`); its state before, or None."""
    old, _ = store.update(state_dir, name, lambda old: None)
    return _state(old, name, _now()) if old is not None else None


def every(state_dir: Path, accounts: tuple[Account, ...] | list[Account]) -> list[LoginState]:
    """The login state of each configured account, and of any other account the ledger has refusals
    for, read-only (refusals under other login settings show as ok: the next try forgets them)."""
    rows = {row.account: row for row in store.every(state_dir)}
    now = _now()
    found = []
    for account in accounts:
        row = rows.pop(account.name, None)
        found.append(_state(row if row and row.fingerprint == fingerprint(account) else None, account.name, now))
    return found + [_state(row, name, now) for name, row in rows.items()]
