"""`ingest daemon` and crash safety against a real Dovecot: IDLE, polling, faults, signals, kills."""

from __future__ import annotations

import dataclasses
import json
import os
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from ingester import config as config_mod
from ingester.errors import ConnectError, ConnectionLost, FolderMissing, LoginRefused
from ingester.source import ImapSession
from tests.conftest import Mailbox, account_toml, email_bytes, notes_in, run_ingest, write_config
from tests.imapserver import DovecotServer


def wait_for(predicate: Callable[[], bool], timeout: float, step: float = 0.05) -> float:
    """Seconds it took for `predicate` to hold; fails the test after `timeout`."""
    start = time.monotonic()
    while not predicate():
        if time.monotonic() - start > timeout:
            pytest.fail(f"condition not met within {timeout} s")
        time.sleep(step)
    return time.monotonic() - start


class Daemon:
    """`ingest daemon` in a subprocess, its log in a file."""

    def __init__(self, config: Path, log: Path) -> None:
        self.log = log
        with log.open("w") as stderr:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "ingester", "-v", "--config", str(config), "daemon"],
                stdout=subprocess.DEVNULL,
                stderr=stderr,
                cwd=config.parent,
            )

    def text(self) -> str:
        return self.log.read_text(errors="replace")

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 10) -> tuple[int, float]:
        start = time.monotonic()
        self.proc.send_signal(sig)
        code = self.proc.wait(timeout=timeout)
        return code, time.monotonic() - start


@pytest.fixture
def daemons() -> Iterator[list[Daemon]]:
    running: list[Daemon] = []
    yield running
    for daemon in running:
        if daemon.proc.poll() is None:
            daemon.proc.kill()
            daemon.proc.wait()


def unique(name: str, n: int, day: int = 27) -> bytes:
    """A fixture message made into issue n: its own Message-ID and subject."""
    raw = email_bytes(name)
    raw = re.sub(rb"(?im)^Message-ID:.*$", f"Message-ID: <issue-{n}@bench.example.com>".encode(), raw, count=1)
    return re.sub(rb"(?im)^Subject:.*$", f"Subject: Issue number {n}".encode(), raw, count=1)


def start_daemon(
    mailbox: Mailbox,
    tmp_path: Path,
    daemons: list[Daemon],
    extra: str = "",
    idle: bool = True,
    interval: str = "1h",
    accounts: str | None = None,
) -> Daemon:
    account = accounts if accounts is not None else account_toml(mailbox.server, mailbox.user, mailbox.password)
    if not idle:
        account = account.replace("[[accounts]]\n", "[[accounts]]\nidle = false\n")
    config = write_config(
        tmp_path / "daemon.toml", mailbox.archive, f'[daemon]\ninterval = "{interval}"\n{extra}\n{account}'
    )
    daemon = Daemon(config, tmp_path / "daemon.log")
    daemons.append(daemon)
    return daemon


def test_idle_files_a_new_message_within_5_seconds(mailbox: Mailbox, tmp_path: Path, daemons: list[Daemon]) -> None:
    daemon = start_daemon(mailbox, tmp_path, daemons)
    wait_for(lambda: "test/INBOX: watching for new mail (IDLE)" in daemon.text(), 10)

    mailbox.append("substack-post.eml")
    took = wait_for(lambda: len(notes_in(mailbox.archive)) == 1, 5)

    code, stop_took = daemon.stop()
    assert code == 0 and stop_took < 5
    assert took < 5
    assert "daemon stopped" in daemon.text()


def test_without_idle_the_next_poll_files_it(mailbox: Mailbox, tmp_path: Path, daemons: list[Daemon]) -> None:
    daemon = start_daemon(mailbox, tmp_path, daemons, idle=False, interval="2s")
    wait_for(lambda: "daemon started" in daemon.text(), 10)
    mailbox.append("substack-post.eml")

    wait_for(lambda: len(notes_in(mailbox.archive)) == 1, 8)
    assert daemon.stop(signal.SIGINT)[0] == 130  # Ctrl-C: stopped cleanly, and the shell can tell (SIGTERM: 0)
    assert "daemon stopped" in daemon.text()


def test_a_second_ingest_on_the_same_archive_is_refused(
    mailbox: Mailbox, tmp_path: Path, daemons: list[Daemon]
) -> None:
    daemon = start_daemon(mailbox, tmp_path, daemons)
    wait_for(lambda: "daemon started" in daemon.text(), 10)

    other = run_ingest("--config", tmp_path / "daemon.toml", "--since", "2025-01-01")

    assert other.returncode == 1
    assert re.match(
        r"Error: another ingest \(pid \d+\) is already using .*archive; wait for it to finish or stop it", other.stderr
    )
    status = run_ingest("--config", tmp_path / "daemon.toml", "status", "--json")
    assert status.returncode == 0, status.stderr  # reading works while the daemon runs
    assert daemon.stop()[0] == 0


def test_two_accounts_one_with_a_wrong_password(mailbox: Mailbox, tmp_path: Path, daemons: list[Daemon]) -> None:
    good = account_toml(mailbox.server, mailbox.user, mailbox.password, name="good")
    bad = account_toml(mailbox.server, "alice", "wrong-password", name="bad")
    daemon = start_daemon(mailbox, tmp_path, daemons, accounts=good + "\n" + bad)
    wait_for(lambda: "good/INBOX: watching for new mail (IDLE)" in daemon.text(), 10)

    mailbox.append("substack-post.eml")
    wait_for(lambda: len(notes_in(mailbox.archive)) == 1, 5)
    wait_for(lambda: "login as 'alice' refused" in daemon.text(), 5)

    def errors() -> dict[str, str]:
        status = json.loads(run_ingest("--config", tmp_path / "daemon.toml", "status", "--json").stdout)
        return {a["account"]: a["last_error"] for a in status["accounts"]}

    wait_for(lambda: {"good", "bad"} <= errors().keys(), 5)  # each poll records its account when it ends
    assert "login as 'alice' refused" in errors()["bad"]
    assert errors()["good"] == ""
    assert "wrong-password" not in daemon.text()
    # logged once per backoff step, not in a tight loop
    assert daemon.text().count("login as 'alice' refused") < 10
    assert daemon.stop()[0] == 0


@pytest.fixture
def own_server() -> Iterator[DovecotServer]:
    """A Dovecot of this test's own, which it may stop and restart."""
    with DovecotServer.start() as server:
        yield server


def test_server_restart_under_a_running_daemon(
    own_server: DovecotServer, tmp_path: Path, daemons: list[Daemon]
) -> None:
    user, password = own_server.new_user()
    archive = tmp_path / "archive"
    mailbox = Mailbox(own_server, user, password, tmp_path / "x.toml", archive)
    daemon = start_daemon(mailbox, tmp_path, daemons, interval="3s")
    wait_for(lambda: "test/INBOX: watching for new mail (IDLE)" in daemon.text(), 10)
    mailbox.append("substack-post.eml")
    wait_for(lambda: len(notes_in(archive)) == 1, 5)
    wait_for(lambda: "test: 1 filed" in daemon.text(), 5)  # the poll is over: the server drops only IDLE

    own_server.stop()
    time.sleep(1.5)  # the daemon notices: IDLE connection lost, polls fail
    own_server.restart()
    mailbox.append("text-only-newsletter.eml")

    wait_for(lambda: len(notes_in(archive)) == 2, 30)
    time.sleep(1.0)
    assert len(notes_in(archive)) == 2  # nothing twice
    assert daemon.stop()[0] == 0
    assert "connection lost while waiting for new mail" in daemon.text()


@pytest.mark.parametrize("command", ["search", "fetch", "wait"])
def test_a_dropped_connection_is_named_whatever_the_command(
    own_server: DovecotServer, tmp_path: Path, command: str
) -> None:
    """Whichever command meets the dead socket, the error says the connection was lost (no traceback)."""
    user, password = own_server.new_user()
    own_server.append(user, email_bytes("substack-post.eml"), password=password)
    config = write_config(tmp_path / "x.toml", tmp_path / "archive", account_toml(own_server, user, password))
    calls = {
        "search": ("searching", lambda session: session.search()),
        "fetch": ("fetching from 'INBOX'", lambda session: list(session.fetch("INBOX", 1, [1]))),
        "wait": ("waiting for new mail", lambda session: session.wait_for_mail(threading.Event())),
    }
    doing, call = calls[command]
    with ImapSession(config_mod.load(config).accounts[0]) as session:
        session.select("INBOX")
        own_server.stop()
        with pytest.raises(ConnectionLost, match=rf"^account 'test': connection lost while {re.escape(doing)} \("):
            call(session)


def test_each_kind_of_source_failure_has_its_own_class(mailbox: Mailbox) -> None:
    """Callers (the daemon's retry policy, `status`) tell failures apart by class, never by message text."""
    account = config_mod.load(mailbox.config).accounts[0]
    wrong = dataclasses.replace(account, password_command=None, password="not-the-password")
    with pytest.raises(LoginRefused, match=r"login as .* refused"), ImapSession(wrong):
        pass
    missing = "the server has no folder 'Nope'; its folders: 'INBOX'"
    with ImapSession(account) as session, pytest.raises(FolderMissing, match=missing):
        session.select("Nope")
    with socket.socket() as holder:  # a port that is bound but never listened on: nothing answers there
        holder.bind(("127.0.0.1", 0))
        closed = dataclasses.replace(account, port=holder.getsockname()[1])
        with pytest.raises(ConnectError, match="cannot reach"), ImapSession(closed):
            pass


def test_uidvalidity_change_files_nothing_twice(mailbox: Mailbox) -> None:
    mailbox.append("substack-post.eml")
    mailbox.append("text-only-newsletter.eml")
    assert json.loads(run_ingest("--config", mailbox.config, "--json").stdout)["filed"] == 2
    before = _uidvalidity(mailbox)
    mailbox.server.doveadm("mailbox", "update", "-u", mailbox.user, "--uid-validity", str(before + 1000), "INBOX")
    assert _uidvalidity(mailbox) == before + 1000

    summary = json.loads(run_ingest("--config", mailbox.config, "--json").stdout)

    assert (summary["filed"], summary["duplicates"]) == (0, 2)
    assert len(notes_in(mailbox.archive)) == 2


def _uidvalidity(mailbox: Mailbox) -> int:
    client = mailbox.server.client(mailbox.user)
    try:
        return int(client.select_folder("INBOX", readonly=True)[b"UIDVALIDITY"])
    finally:
        client.logout()


def _ledger_filed(archive: Path) -> int:
    db = sqlite3.connect(archive / ".ingest" / "ledger.sqlite3")
    try:
        return int(db.execute("SELECT count(*) FROM messages WHERE outcome = 'filed'").fetchone()[0])
    finally:
        db.close()


N_BACKFILL = 300


@pytest.fixture
def big_mailbox(mailbox: Mailbox) -> Mailbox:
    names = ["substack-post.eml", "text-only-newsletter.eml", "chinese-newsletter.eml", "mailchimp-spamscope-13.eml"]
    mailbox.server.append_many(mailbox.user, [(unique(names[n % 4], n), None) for n in range(N_BACKFILL)])
    return mailbox


def test_kill_9_mid_backfill_then_rerun_files_each_message_exactly_once(big_mailbox: Mailbox) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "ingester", "--config", str(big_mailbox.config), "--since", "2000-01-01"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    wait_for(lambda: len(notes_in(big_mailbox.archive)) >= 40, 60, step=0.01)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert len(notes_in(big_mailbox.archive)) < N_BACKFILL  # it really was killed mid-way

    result = run_ingest("--config", big_mailbox.config, "--since", "2000-01-01", "--json")

    assert result.returncode == 0, result.stderr
    assert len(notes_in(big_mailbox.archive)) == N_BACKFILL
    assert _ledger_filed(big_mailbox.archive) == N_BACKFILL
    again = json.loads(run_ingest("--config", big_mailbox.config, "--since", "2000-01-01", "--json").stdout)
    assert (again["filed"], again["duplicates"]) == (0, N_BACKFILL)


def test_sigterm_mid_backfill_exits_143_quickly_and_a_rerun_completes(big_mailbox: Mailbox) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "ingester", "--config", str(big_mailbox.config), "--since", "2000-01-01"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    wait_for(lambda: len(notes_in(big_mailbox.archive)) >= 40, 60, step=0.01)
    start = time.monotonic()
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=10)
    took = time.monotonic() - start

    assert proc.returncode == 143, err  # 128 + SIGTERM: scripts can tell a stopped run from a finished one
    assert took < 5
    assert out.splitlines()[-1].startswith("Stopped early: ")
    assert len(notes_in(big_mailbox.archive)) < N_BACKFILL

    result = run_ingest("--config", big_mailbox.config, "--json")  # incremental: continues from the mark
    assert result.returncode == 0, result.stderr
    assert len(notes_in(big_mailbox.archive)) == N_BACKFILL
    assert _ledger_filed(big_mailbox.archive) == N_BACKFILL


def test_sighup_reloads_the_config(mailbox: Mailbox, tmp_path: Path, daemons: list[Daemon]) -> None:
    daemon = start_daemon(mailbox, tmp_path, daemons, idle=False, interval="1h")
    wait_for(lambda: "daemon started" in daemon.text(), 10)
    config = tmp_path / "daemon.toml"
    config.write_text(config.read_text().replace('interval = "1h"', 'interval = "2s"'))

    daemon.proc.send_signal(signal.SIGHUP)
    wait_for(lambda: "config reloaded" in daemon.text(), 5)
    mailbox.append("substack-post.eml")

    wait_for(lambda: len(notes_in(mailbox.archive)) == 1, 8)
    assert daemon.stop(signal.SIGINT)[0] == 130  # Ctrl-C: stopped cleanly, and the shell can tell (SIGTERM: 0)
    assert "daemon stopped" in daemon.text()
