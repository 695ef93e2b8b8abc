"""Tests for tests/imapserver.py: the throwaway Dovecot behaves as the IMAP tests rely on."""

from __future__ import annotations

import re
import socket
import ssl
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import imapclient
import pytest
from imapclient.exceptions import LoginError

try:  # tests/ may or may not become a package
    from tests.imapserver import DovecotServer, _alive
except ImportError:
    from imapserver import DovecotServer, _alive

MSG = b"From: news@example.com\r\nSubject: Issue 1\r\n\r\nHello,\r\nworld.\r\n"
MSG2 = b"From: news@example.com\r\nSubject: Issue 2\r\n\r\nSecond.\r\n"


@pytest.fixture(scope="module")
def server() -> Iterator[DovecotServer]:
    """One server for this module's tests (the lifecycle test starts its own)."""
    with DovecotServer.start() as s:
        yield s


def _refused(port: int) -> bool:
    """True if nothing listens on 127.0.0.1:port."""
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
    except ConnectionRefusedError:
        return True
    return False


def _master_and_children(run_dir: Path) -> list[int]:
    """The master pid from run/master.pid plus its direct children."""
    master = int((run_dir / "master.pid").read_text())
    children = [int(p.name) for p in Path("/proc").iterdir() if p.name.isdigit() and _proc_ppid(int(p.name)) == master]
    return [master, *children]


def _proc_ppid(pid: int) -> int | None:
    """Parent pid of pid (4th field of /proc/<pid>/stat), or None if it is gone."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return None
    return int(raw[raw.rindex(")") + 2 :].split()[1])


def test_plain_login_gives_fresh_empty_mailbox(server: DovecotServer) -> None:
    user, password = server.new_user()
    assert re.fullmatch(r"t-[0-9a-f]{12}", user) and password == "test"
    assert server.new_user()[0] != user
    c = server.client(user, password)
    try:
        assert c.welcome.startswith(b"* OK") and b"Dovecot" in c.welcome
        assert not isinstance(c.socket(), ssl.SSLSocket)
        assert c.socket().getpeername() == (server.host, server.port)
        assert c._imap.debug == 0
        assert c.select_folder("INBOX")[b"EXISTS"] == 0
    finally:
        c.logout()
    alice = server.client("alice", "alice-secret")  # the fixed passwd-file user
    alice.logout()


def test_tls_login_trusts_ca_file(server: DovecotServer) -> None:
    c = server.client("alice", "alice-secret", tls=True)
    try:
        sock = c.socket()
        assert isinstance(sock, ssl.SSLSocket)
        assert sock.getpeername() == (server.host, server.imaps_port)
        assert ("IP Address", "127.0.0.1") in sock.getpeercert()["subjectAltName"]
        c.noop()
    finally:
        c.logout()
    # STARTTLS by host name on the plain port: the cert's DNS:localhost SAN must match too.
    ctx = ssl.create_default_context(cafile=server.ca_file)
    ctx.hostname_checks_common_name = False  # else CN=localhost is used when no DNS SAN exists
    c = imapclient.IMAPClient("localhost", port=server.port, ssl=False, timeout=10)
    try:
        c.starttls(ctx)
        c.login(*server.new_user())
        assert isinstance(c.socket(), ssl.SSLSocket)
    finally:
        c.logout()


def test_tls_without_ca_is_rejected(server: DovecotServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)  # would make the default context trust it
    with pytest.raises(ssl.SSLCertVerificationError):
        imapclient.IMAPClient(
            server.host, port=server.imaps_port, ssl=True, ssl_context=ssl.create_default_context(), timeout=10
        )


def test_wrong_credentials_raise_login_error(server: DovecotServer) -> None:
    bad = [("alice", "wrong"), ("t-wrongpass", "nottest"), ("bob", "test")]  # bob: not a t- user

    def attempt(user: str, password: str) -> str:
        try:
            server.client(user, password).logout()
        except LoginError:
            return "LoginError"
        return "logged in"

    # Each failure takes 0.5 s (Dovecot's floor): run them concurrently.
    with ThreadPoolExecutor(len(bad)) as pool:
        assert list(pool.map(attempt, *zip(*bad, strict=True))) == ["LoginError"] * len(bad)


def test_append_uids_flags_internaldate_and_body(server: DovecotServer) -> None:
    user, _ = server.new_user()
    assert server.flags(user) == {}
    when = datetime(2024, 3, 12, 23, 30, tzinfo=timezone(timedelta(hours=-5)))
    later = datetime(2024, 3, 15, 12, 0, tzinfo=UTC)
    first = server.append(user, MSG, flags=(b"\\Flagged", b"$Newsletter"), msg_time=when)
    rest = server.append_many(user, [(MSG2, None), (MSG, later)])
    assert [first, *rest] == [1, 2, 3]
    flags = server.flags(user)
    assert set(flags) == {1, 2, 3}
    assert sorted(flags[1]) == [b"$Newsletter", b"\\Flagged"]
    assert flags[2] == flags[3] == ()

    c = server.client(user)
    try:
        c.normalise_times = False  # keep the server's offset: compare instants, not wall times
        c.select_folder("INBOX", readonly=True)
        data = c.fetch([1, 2, 3], ["INTERNALDATE", "BODY.PEEK[]"])
    finally:
        c.logout()
    assert data[1][b"INTERNALDATE"] == when  # 13-Mar-2024 04:30:00 +0000, same instant
    assert data[3][b"INTERNALDATE"] == later
    assert data[2][b"INTERNALDATE"] > later  # no msg_time: the server's clock (now)
    assert [data[u][b"BODY[]"] for u in (1, 2, 3)] == [MSG, MSG2, MSG]  # CRLF intact

    # A missing folder is created; its UIDs start at 1 and INBOX is untouched.
    assert server.append(user, MSG2, folder="Newsletters", flags=(b"\\Seen",)) == 1
    assert server.flags(user, "Newsletters") == {1: (b"\\Seen",)}
    assert len(server.flags(user)) == 3


def test_doveadm_changes_uidvalidity(server: DovecotServer) -> None:
    user, _ = server.new_user()
    server.append(user, MSG)
    server.doveadm("mailbox", "update", "-u", user, "--uid-validity", "12345", "INBOX")
    c = server.client(user)
    try:
        assert c.select_folder("INBOX")[b"UIDVALIDITY"] == 12345
    finally:
        c.logout()


def test_stop_restart_keep_mail_and_close_cleans_up() -> None:
    s = DovecotServer.start()
    try:
        user, _ = s.new_user()
        assert s.append_many(user, [(MSG, None), (MSG2, None)], flags=(b"\\Seen",)) == [1, 2]
        c = s.client(user)  # stays connected: its imap process must die with the server
        uidvalidity = c.select_folder("INBOX")[b"UIDVALIDITY"]
        ports = (s.port, s.imaps_port)
        old = _master_and_children(s.dir / "run")
        assert len(old) > 1  # the master has children (imap, auth, log, ...) to kill too

        s.stop()
        assert not any(_alive(p) for p in old)
        with pytest.raises(imapclient.exceptions.IMAPClientAbortError):
            c.noop()
        c.shutdown()
        assert _refused(s.port) and _refused(s.imaps_port)
        assert s.dir.exists()

        s.restart()
        assert (s.port, s.imaps_port) == ports
        new = _master_and_children(s.dir / "run")
        assert new[0] not in old
        assert s.flags(user) == {1: (b"\\Seen",), 2: (b"\\Seen",)}
        c = s.client(user, tls=True)
        try:
            assert c.select_folder("INBOX")[b"UIDVALIDITY"] == uidvalidity
        finally:
            c.logout()
        assert s.append(user, MSG) == 3
    finally:
        s.close()
    assert not s.dir.exists()
    assert not any(_alive(p) for p in new)
    assert _refused(s.port) and _refused(s.imaps_port)
    s.close()  # idempotent


def test_missing_dovecot_raises(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("shutil.which", lambda name: None)
    monkeypatch.setattr("os.path.exists", lambda path: False)
    with pytest.raises(RuntimeError, match="apt-get install dovecot-imapd"):
        DovecotServer.start()
