"""`ingest daemon`: poll every account on a schedule and watch folders with IMAP IDLE.

The only module that imports APScheduler. Each poll is the same `runs.run_account` a one-off
run uses; the daemon adds scheduling (one job per account, `max_instances=1`, `coalesce`, a real
misfire grace time), one IDLE watcher thread per watched folder, retries with exponential backoff
and jitter, and signals: SIGTERM/SIGINT stop cleanly, SIGHUP reloads the config.

Not every failure is transient. A refused login holds the account back for hours, then stops it
(`logins`, shared with plain runs); its watchers wait meanwhile and polls do the few tries. A missing
folder stops that folder only (its watcher waits until a poll finds the folder). Each change of state
is logged once, and `daemon_state` keeps what `ingest status` shows (pid, next polls, watchers).

The daemon holds the archive's run lock for its whole life (no second ingest); each poll takes the
short write lock, so `ingest drafts accept` and friends work between polls. Polls run one at a time.
"""

from __future__ import annotations

import functools
import logging
import random
import signal
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import FrameType

from apscheduler.schedulers.blocking import BlockingScheduler

from ingester import config as config_mod
from ingester import logins
from ingester.config import Account, Config
from ingester.config.password import allow_password_commands, stop_password_commands
from ingester.daemon_state import DaemonState
from ingester.errors import ConfigError, FolderMissing, IngesterError, LoginRefused, SourceError
from ingester.fill.run import fill_filed
from ingester.pipeline import Pipeline, RunSummary
from ingester.runs import run_account
from ingester.source import ImapSession
from ingester.store.ledger import Ledger

logger = logging.getLogger(__name__)

BACKOFF_FIRST = 5.0  # seconds after the first failure
BACKOFF_MAX = 15 * 60.0  # never wait longer than this between tries
PAUSE_CHECK = 30.0  # seconds between looks at the ledger while a watcher waits for its account or folder


def backoff(failures: int, first: float = BACKOFF_FIRST, cap: float = BACKOFF_MAX) -> float:
    """Seconds to wait after `failures` failures in a row: doubling, capped, with ±25 % jitter."""
    delay = min(first * 2 ** max(failures - 1, 0), cap)
    return float(delay * random.uniform(0.75, 1.25))  # noqa: S311 - jitter, not a secret


@dataclass
class _AccountState:
    failures: int = 0
    watchers: list[threading.Thread] = field(default_factory=list)
    polled: threading.Event = field(default_factory=threading.Event)  # a first poll ended: watchers may log in
    missing: dict[str, str] = field(default_factory=dict)  # folder → error, logged once


def _login_settings(account: Account) -> tuple[object, ...]:
    """What a login depends on (`logins.fingerprint`), and the password when the config file holds it:
    compared in memory only, so a SIGHUP notices a changed inline password too."""
    return (logins.fingerprint(account), account.password)


class Daemon:
    """Runs until stopped; see the module docstring."""

    def __init__(self, config: Config, config_path: str | None) -> None:
        self.config = config
        self.config_path = config_path
        self.stop_event = threading.Event()  # the whole daemon is stopping
        self.watch_stop = threading.Event()  # the current watchers are stopping (also on reload)
        self.run_lock = threading.Lock()  # one poll at a time: they share the ledger connection
        self.scheduler = BlockingScheduler(timezone=UTC)
        self.accounts: dict[str, _AccountState] = {}
        self.ledger: Ledger | None = None
        self.pipeline: Pipeline | None = None
        self.stopped_by = 0  # the signal that stopped the daemon (the CLI's exit code says which)
        self.state = DaemonState(config.state_dir)

    def run(self) -> None:
        """Start polling and watching; return after SIGTERM/SIGINT once everything has stopped."""
        if not self.config.accounts:
            raise ConfigError("no account is configured: `ingest daemon` needs at least one [[accounts]]")
        with Ledger(self.config.state_dir) as ledger:
            self.ledger = ledger
            self._install_signals()
            self._start()
            self.state.write()  # from the start, `ingest status` sees the daemon
            logger.warning(
                "daemon started: %d account(s), polling every %s",
                len(self.config.accounts),
                timedelta(seconds=self.config.interval),
            )
            try:
                self.scheduler.start()  # blocks until shutdown
            finally:
                self._pipeline.close()  # its worker processes
                self.state.remove()
            self.watch_stop.set()
            for state in self.accounts.values():
                for thread in state.watchers:
                    thread.join(timeout=5)
        logger.warning("daemon stopped")

    def _start(self) -> None:
        self.pipeline = Pipeline(self.config, self._ledger, stop=self.stop_event)
        self.watch_stop = threading.Event()
        if self.stop_event.is_set():  # a stop during a reload: `stop` set the old event (it sets this one first)
            self.watch_stop.set()
        now = datetime.now(UTC)
        for account in self.config.accounts:
            state = self.accounts.setdefault(account.name, _AccountState())
            self.scheduler.add_job(
                self.poll,
                "interval",
                seconds=self.config.interval,
                args=[account.name],
                id=f"poll:{account.name}",
                max_instances=1,
                coalesce=True,
                replace_existing=True,
                next_run_time=now,
                # a poll that starts late (suspend, a long backfill before it) still runs, once
                misfire_grace_time=int(max(60, self.config.interval)),
            )
            if account.idle:
                state.watchers = [self._spawn(self._watch, account, folder) for folder in account.folders]

    @property
    def _ledger(self) -> Ledger:
        if self.ledger is None:
            raise IngesterError("the daemon's ledger is not open")
        return self.ledger

    @property
    def _pipeline(self) -> Pipeline:
        if self.pipeline is None:
            raise IngesterError("the daemon has not started")
        return self.pipeline

    def _spawn(self, target: Callable[..., None], *args: object) -> threading.Thread:
        thread = threading.Thread(target=target, args=args, daemon=True, name=f"watch:{args[0]}")
        thread.start()
        return thread

    def poll(self, name: str) -> None:
        """One poll of one account: new mail since the last run, failed messages whose backoff passed."""
        account = next((a for a in self.config.accounts if a.name == name), None)
        if account is None or self.stop_event.is_set():
            return
        state_dir = self.config.state_dir
        before = logins.state(state_dir, account)
        if before.blocked:  # logged when it changed; `ingest status` says until when and how to reset
            self._published(name, before.describe())
            return
        with self.run_lock:
            pipeline, ledger = self._pipeline, self._ledger
            pipeline.summary = RunSummary()
            try:
                with ledger.writing(wait=60):  # a review decision in progress finishes first
                    run_account(pipeline, account)
            except IngesterError as exc:
                pipeline.summary.errors.append(str(exc))
            summary = pipeline.summary
        state = self.accounts[name]
        state.polled.set()
        errors = [e for e in summary.errors if e not in summary.missing.values()]
        after = logins.state(state_dir, account)
        self._missing(account, state, summary.missing, complete=not errors and not summary.stopped)
        if after.blocked:  # refused: no quick retry; logged once per change (not for a try a watcher counted)
            if after != before and errors:
                logger.error("%s", errors[0])
            self._published(name, after.describe())
            return
        self._published(name, errors[0] if errors else next(iter(summary.missing.values()), ""))
        if errors:
            state.failures += 1
            delay = backoff(state.failures)
            # once per backoff step, never in a tight loop
            logger.error("%s (try %d; next in %.0f s)", errors[0], state.failures, delay)
            if delay < self.config.interval and not self.stop_event.is_set():
                self.scheduler.add_job(
                    self.poll,
                    "date",
                    run_date=datetime.now(UTC) + timedelta(seconds=delay),
                    args=[name],
                    id=f"retry:{name}",
                    replace_existing=True,
                    misfire_grace_time=int(max(60, delay)),
                )
            return
        state.failures = 0
        if self.config.fill.auto and self.config.fill.enabled:
            self._fill(summary.notes)
        if summary.filed or summary.failed:
            logger.warning(
                "%s: %d filed, %d skipped, %d duplicates, %d failed",
                name,
                summary.filed,
                summary.skipped,
                summary.duplicates,
                summary.failed,
            )

    def _missing(self, account: Account, state: _AccountState, missing: dict[str, str], complete: bool) -> None:
        """Log each folder that went missing once, and (after a poll that read every folder) each that
        came back."""
        for folder, error in missing.items():
            if folder not in state.missing:
                logger.error("%s (the other folders go on)", error)
        back = set(state.missing) - set(missing) if complete else set()
        for folder in sorted(back):
            logger.warning("%s/%s: the folder is there again", account.name, folder)
        state.missing = {f: e for f, e in state.missing.items() if f not in back} | missing

    def _published(self, name: str, error: str) -> None:
        """The account's line in the daemon's state file: last poll, next poll, current error."""
        job = self.scheduler.get_job(f"poll:{name}") if self.scheduler.running else None
        next_run = getattr(job, "next_run_time", None)
        self.state.account(
            name,
            last_poll=datetime.now(UTC).isoformat(timespec="seconds"),
            next_poll=next_run.astimezone(UTC).isoformat(timespec="seconds") if next_run else "",
            error=error,
        )

    def _fill(self, filed: list[str]) -> None:
        """`[fill] auto`: fill what this poll filed, and failed fills whose backoff passed (never fatal)."""
        try:
            done = fill_filed(self.config, self._ledger, filed)
        except IngesterError as exc:
            logger.error("fill: %s", exc)
            return
        for result in done:
            if result.outcome != "skipped":
                reason = f": {result.reason}" if result.reason else ""
                logger.warning("fill: %s %s%s", result.outcome, result.note.relative, reason)

    def _watch(self, account: Account, folder: str) -> None:
        """Hold an IDLE connection on one folder; poll the account as soon as it changes.

        Supervised: whatever fails, the watcher logs it and reconnects with backoff. It leaves the login
        tries after a refusal to the polls (it waits while the account has refusals recorded), and
        waits while its folder is missing, until a poll finds it."""
        failures = 0
        stop, name = self.watch_stop, account.name
        state = self.accounts.setdefault(name, _AccountState())
        report = functools.partial(self.state.watcher, name, folder)
        report("waiting for the first poll")
        while not stop.is_set() and not state.polled.wait(0.2):
            pass
        while not stop.is_set():
            why = self._paused(account, state, folder)
            if why:
                report("stopped" if folder in state.missing else "paused", why)
                stop.wait(PAUSE_CHECK)
                continue
            try:
                report("connecting")
                with ImapSession(account) as session:
                    if not session.supports_idle():
                        logger.warning("%s: server has no IDLE; polling only", name)
                        report("stopped", "the server has no IDLE: polling only")
                        return
                    session.select(folder)
                    logger.info("%s/%s: watching for new mail (IDLE)", name, folder)
                    report("idling")
                    if failures:
                        self.poll(name)  # mail may have arrived while the connection was down
                    failures = 0
                    while not stop.is_set():
                        if session.wait_for_mail(stop):
                            logger.info("%s/%s: new mail", name, folder)
                            self.poll(name)
            except LoginRefused as exc:
                line, counted = logins.refused(self.config.state_dir, account, str(exc))
                if counted:  # once per change of state; the same try seen by a poll is not counted twice
                    logger.error("%s", line)
            except FolderMissing as exc:
                if folder not in state.missing:
                    logger.error("%s (the other folders go on)", exc)
                state.missing[folder] = str(exc)
            except SourceError as exc:
                failures += 1
                delay = backoff(failures)
                logger.error("%s (watching %s; reconnecting in %.0f s)", exc, folder, delay)
                report("reconnecting", f"in {delay:.0f} s (try {failures}): {exc}")
                stop.wait(delay)
            except Exception as exc:  # supervised: a watcher that died lost IDLE for good (disk full)
                failures += 1
                delay = backoff(failures)
                logger.error(
                    "%s/%s: watcher failed (%s: %s); restarting in %.0f s",
                    name,
                    folder,
                    type(exc).__name__,
                    exc,
                    delay,
                )
                logger.debug("watcher failure", exc_info=True)
                report("reconnecting", f"in {delay:.0f} s (try {failures}): {type(exc).__name__}: {exc}")
                stop.wait(delay)

    def _paused(self, account: Account, state: _AccountState, folder: str) -> str:
        """Why the watcher may not connect now: the folder is missing, or the account has refused logins."""
        if folder in state.missing:
            return f"{state.missing[folder]} (watching again once a poll finds it)"
        login = logins.state(self.config.state_dir, account)
        if login.state != "ok":
            return f"{login.describe()} (the polls try; watching again after a login is accepted)"
        return ""

    def stop(self) -> None:
        """Finish or abandon the message in hand, stop watchers and the scheduler."""
        self.stop_event.set()
        self.watch_stop.set()
        stop_password_commands()  # a hung one would hold a poll, and so the shutdown, for its whole timeout
        if self.scheduler.running:
            self.scheduler.shutdown(wait=True)

    def reload(self) -> None:
        """Re-read the config (SIGHUP); an invalid file is reported and the old config kept."""
        try:
            new = config_mod.load(self.config_path)
        except IngesterError as exc:
            logger.error("config not reloaded: %s", exc)
            return
        if new.state_dir.resolve() != self.config.state_dir.resolve():
            logger.error("config not reloaded: [archive] path changed; restart the daemon to move archives")
            return
        old = {account.name: _login_settings(account) for account in self.config.accounts}
        with self.run_lock:
            self.watch_stop.set()
            for job in self.scheduler.get_jobs():
                job.remove()
            self._pipeline.close()
            for account in new.accounts:
                changed = account.name in old and old[account.name] != _login_settings(account)
                if changed and logins.reset(new.state_dir, account.name) is not None:
                    logger.warning("account %r: login settings changed; refused logins forgotten", account.name)
            for state in self.accounts.values():
                state.missing = {}  # the folders may be fixed: the next poll says
                state.polled.clear()  # the poll (at once) tries the login first, not each watcher besides
            self.state.forget_watchers()
            self.config = new
            self._start()
        logger.warning("config reloaded: %d account(s)", len(new.accounts))

    def _install_signals(self) -> None:
        # Handlers only start a thread: shutting the scheduler down inside a signal handler could
        # deadlock on a lock the interrupted code holds.
        def on_stop(signum: int, frame: FrameType | None) -> None:
            self.stopped_by = self.stopped_by or signum
            threading.Thread(target=self.stop, name="stop").start()

        def on_hup(signum: int, frame: FrameType | None) -> None:
            threading.Thread(target=self.reload, name="reload").start()

        signal.signal(signal.SIGTERM, on_stop)
        signal.signal(signal.SIGINT, on_stop)
        signal.signal(signal.SIGHUP, on_hup)


def run_daemon(config: Config, config_path: str | Path | None) -> int:
    """Entry point for `ingest daemon`; returns the signal that stopped it."""
    daemon = Daemon(config, str(config_path) if config_path else None)
    try:
        daemon.run()
    finally:
        allow_password_commands()  # the next daemon of this process (tests) may run them again
    return daemon.stopped_by
