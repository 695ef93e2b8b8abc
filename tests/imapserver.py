"""A throwaway Dovecot IMAP server for tests (background: /work/shared/reference/imap-testing.md).

    with DovecotServer.start() as server:
        user, password = server.new_user()          # fresh, empty mailbox
        uid = server.append(user, raw_message_bytes)
        client = server.client(user, password)      # logged-in IMAPClient

It runs from its own temp dir on 127.0.0.1: plain IMAP on `port`, implicit TLS on `imaps_port`
with a self-signed cert (`ca_file`). Users: `alice` / `alice-secret` (passwd-file) and any
`t-<anything>` / `test` (static passdb; each gets its own empty Maildir).
"""

from __future__ import annotations

import contextlib
import grp
import os
import pwd
import random
import re
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import time
import uuid
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from types import TracebackType

import imapclient

_PORT_RANGE = (20000, 32767)  # below Linux's ephemeral range: outgoing connections never take them
_PORT_TRIES = 5
_READY_TIMEOUT = 10.0
_APPENDUID_RE = re.compile(rb"APPENDUID \d+ (\d+)")

_CONFIG = """\
base_dir = {d}/run
state_dir = {d}/state
log_path = {d}/dovecot.log
info_log_path = {d}/dovecot.log
instance_name = dovecot-test-{name}
protocols = imap
listen = 127.0.0.1
ssl = yes
ssl_cert = <{d}/cert.pem
ssl_key = <{d}/key.pem
disable_plaintext_auth = no
auth_mechanisms = plain login
# fast wrong-password tests: no 2 s delay, no growing per-IP penalty
auth_failure_delay = 0
service anvil {{
  unix_listener anvil-auth-penalty {{
    mode = 0
  }}
}}
# parallel test connections per user from one IP (default 10)
mail_max_userip_connections = 1000
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {d}/users
}}
userdb {{
  driver = passwd-file
  args = username_format=%u {d}/users
  default_fields = uid={owner} gid={group} home={d}/home/%u
}}
# any user t-<anything> logs in with password "test" and gets a fresh, empty mailbox
passdb {{
  driver = static
  args = password=test
  username_filter = t-*
}}
userdb {{
  driver = static
  args = uid={owner} gid={group} home={d}/home/%u
}}
mail_location = maildir:~/Maildir
mail_fsync = never
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {imaps_port}
    ssl = yes
  }}
}}
"""

# Non-root: Dovecot can neither fchown its login sockets to the stock users nor chroot, so
# everything runs as the invoking user (repeated `service X {}` sections are merged).
_NON_ROOT_CONFIG = """\
default_internal_user = {owner}
default_internal_group = {group}
default_login_user = {owner}
service imap-login {{
  chroot =
}}
service anvil {{
  chroot =
}}
"""


def _find_binary(name: str, fallback: str) -> str:
    """Path of a Dovecot binary (/usr/sbin is not on a non-root PATH)."""
    found = shutil.which(name) or (fallback if os.path.exists(fallback) else None)
    if found is None:
        raise RuntimeError("dovecot not installed: apt-get install dovecot-imapd")
    return found


def _pick_ports() -> tuple[int, int]:
    """Two distinct random ports that refuse connections on 127.0.0.1 right now."""
    ports: list[int] = []
    while len(ports) < 2:
        port = random.randint(*_PORT_RANGE)  # noqa: S311 - any free port will do
        with socket.socket() as s:
            s.settimeout(0.2)
            if port not in ports and s.connect_ex(("127.0.0.1", port)) != 0:
                ports.append(port)
    return ports[0], ports[1]


def _proc_stat(pid: int) -> tuple[str, int] | None:
    """(state, ppid) of a process from /proc/<pid>/stat, or None if it is gone."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return None
    fields = raw[raw.rindex(")") + 2 :].split()  # comm may contain spaces and ")"
    return fields[0], int(fields[1])


def _alive(pid: int) -> bool:
    """True if pid runs. Zombies count as dead: PID 1 may reap them late, or never."""
    stat = _proc_stat(pid)
    return stat is not None and stat[0] != "Z"


def _kill_tree(pid_file: Path) -> None:
    """SIGKILL the master named in pid_file and its direct children; wait until they're dead."""
    try:
        master = int(pid_file.read_text().strip())
    except (FileNotFoundError, ValueError):
        return
    # SIGTERM takes ~2.5 s (the master waits for its children); SIGKILL frees the ports at once.
    # SIGSTOP first so the master can't fork while we collect its children, and killing only
    # the master would leave imap, log and stats running for up to ~1.3 s.
    pids = [master]
    if _alive(master):
        os.kill(master, signal.SIGSTOP)
        pids += [int(p) for p in os.listdir("/proc") if p.isdigit() and (_proc_stat(int(p)) or ("", 0))[1] == master]
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + 5.0
    while any(_alive(p) for p in pids) and time.monotonic() < deadline:
        time.sleep(0.005)
    # Dovecot refuses to start while kill(pid, 0) succeeds for the pid in master.pid, which
    # it does for our (possibly never reaped) zombie master: drop the file.
    pid_file.unlink(missing_ok=True)


class DovecotServer:
    """A Dovecot instance in its own temp dir; create and run one with :meth:`start`."""

    host = "127.0.0.1"

    def __init__(self, dir: Path, port: int, imaps_port: int) -> None:
        """Describe a server whose files live in dir (start() writes them)."""
        self.dir = dir
        self.conf = dir / "dovecot.conf"
        self.port = port
        self.imaps_port = imaps_port
        self.ca_file = str(dir / "cert.pem")  # self-signed: the cert is its own CA
        self._dovecot = _find_binary("dovecot", "/usr/sbin/dovecot")
        self._doveadm = _find_binary("doveadm", "/usr/bin/doveadm")

    @classmethod
    def start(cls) -> DovecotServer:
        """Create dir, cert, users and config; start Dovecot and wait for its greeting."""
        _find_binary("dovecot", "/usr/sbin/dovecot")  # fail before creating anything
        d = Path(tempfile.mkdtemp(prefix="imapserver-"))
        try:
            d.chmod(0o755)  # mkdtemp gives 0700, which the mail user could not traverse
            for sub in ("run", "state", "home"):
                (d / sub).mkdir()
            if os.geteuid() == 0:  # mail processes can't run as uid 0 ("returned 0 as uid")
                owner, group = "nobody", "nogroup"
                shutil.chown(d / "home", owner, group)
            else:
                owner = pwd.getpwuid(os.geteuid()).pw_name
                group = grp.getgrgid(os.getegid()).gr_name
            subprocess.run(  # EC P-256: ~7 ms, vs ~200 ms for RSA-2048
                ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                 "ec_paramgen_curve:prime256v1", "-nodes", "-days", "7", "-subj", "/CN=localhost",
                 "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
                 "-keyout", str(d / "key.pem"), "-out", str(d / "cert.pem")],
                check=True, capture_output=True, stdin=subprocess.DEVNULL,
            )  # fmt: skip
            (d / "key.pem").chmod(0o600)
            (d / "users").write_text("alice:{PLAIN}alice-secret::::::\n")
            (d / "users").chmod(0o644)
            for attempt in range(_PORT_TRIES):
                server = cls(d, *_pick_ports())
                config = _CONFIG.format(
                    d=d, name=d.name, owner=owner, group=group, port=server.port, imaps_port=server.imaps_port
                )
                if os.geteuid() != 0:
                    config += _NON_ROOT_CONFIG.format(owner=owner, group=group)
                server.conf.write_text(config)
                try:
                    server._launch()
                    break
                except RuntimeError as exc:  # someone took a port between the check and bind
                    if "Address already in use" not in str(exc) or attempt == _PORT_TRIES - 1:
                        raise
            server._wait_ready()
            return server
        except BaseException:  # don't leak a half-started master or the temp dir
            _kill_tree(d / "run" / "master.pid")
            shutil.rmtree(d, ignore_errors=True)
            raise

    def _launch(self) -> None:
        """Run `dovecot -c conf` (it daemonizes); RuntimeError with its stderr if it fails."""
        err_path = self.dir / "start.err"
        # stderr goes to a file, not a pipe: the daemonized master keeps fd 2 open, so with
        # capture_output=True subprocess.run would wait for EOF forever. Dovecot binds before
        # daemonizing, so a port clash shows up here as a non-zero exit.
        with open(err_path, "wb") as err:
            rc = subprocess.run(
                [self._dovecot, "-c", str(self.conf)], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err
            ).returncode
        if rc != 0:
            raise RuntimeError(f"dovecot exited {rc}: {err_path.read_text(errors='replace')}")

    def _wait_ready(self) -> None:
        """Wait for `* OK` on the plain port: master, config, auth and imap-login are all up."""
        deadline = time.monotonic() + _READY_TIMEOUT
        while True:
            try:
                with socket.create_connection((self.host, self.port), timeout=1.0) as s:
                    if s.makefile("rb").readline().startswith(b"* OK"):
                        s.sendall(b"a1 LOGOUT\r\n")
                        return
            except OSError:
                pass
            if time.monotonic() > deadline:
                try:
                    log = (self.dir / "dovecot.log").read_text(errors="replace")
                except FileNotFoundError:
                    log = "(no dovecot.log)"
                tail = "\n".join(log.splitlines()[-30:])
                raise RuntimeError(
                    f"dovecot not ready on port {self.port} after {_READY_TIMEOUT:g} s; dovecot.log tail:\n{tail}"
                )
            time.sleep(0.02)

    def stop(self) -> None:
        """Fast stop (SIGKILL, ~15 ms); the temp dir and the mail are kept."""
        _kill_tree(self.dir / "run" / "master.pid")

    def restart(self) -> None:
        """Stop, then start again with the same dir, config and ports; mail survives."""
        self.stop()
        self._launch()
        self._wait_ready()

    def close(self) -> None:
        """Stop the server and delete its temp dir (idempotent)."""
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self) -> DovecotServer:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def doveadm(self, *args: str) -> subprocess.CompletedProcess[str]:
        """Run `doveadm -c conf ARGS...` (check=True, output captured as text).

        E.g. `server.doveadm("mailbox", "update", "-u", user, "--uid-validity", "12345", "INBOX")`.
        """
        return subprocess.run(
            [self._doveadm, "-c", str(self.conf), *args],
            check=True,
            capture_output=True,
            text=True,
            stdin=subprocess.DEVNULL,
        )

    @staticmethod
    def new_user() -> tuple[str, str]:
        """(user, password) of a fresh user whose mailbox is empty."""
        return f"t-{uuid.uuid4().hex[:12]}", "test"

    def client(self, user: str, password: str = "test", tls: bool = False) -> imapclient.IMAPClient:
        """A logged-in IMAPClient: plain port, or (tls=True) the IMAPS port trusting ca_file."""
        if tls:
            ctx = ssl.create_default_context(cafile=self.ca_file)
            c = imapclient.IMAPClient(self.host, port=self.imaps_port, ssl=True, ssl_context=ctx, timeout=10)
        else:
            c = imapclient.IMAPClient(self.host, port=self.port, ssl=False, timeout=10)
        c._imap.debug = 0  # imapclient forces level 5: formats every literal, 4-5x slower fetches
        try:
            c.login(user, password)
        except BaseException:
            c.shutdown()
            raise
        return c

    def append(
        self,
        user: str,
        raw: bytes,
        folder: str = "INBOX",
        flags: Sequence[bytes] = (),
        msg_time: datetime | None = None,
        password: str = "test",
    ) -> int:
        """Append one message (creating folder if missing); return its UID.

        Maildir keeps INTERNALDATE as the file mtime: msg_time's instant survives, its UTC
        offset doesn't (it reads back in the server's TZ). Naive msg_time means local time.
        """
        return self.append_many(user, [(raw, msg_time)], folder, flags, password)[0]

    def append_many(
        self,
        user: str,
        items: list[tuple[bytes, datetime | None]],
        folder: str = "INBOX",
        flags: Sequence[bytes] = (),
        password: str = "test",
    ) -> list[int]:
        """Append (raw, msg_time) items over one connection; return their UIDs in order."""
        c = self.client(user, password)
        try:
            if not c.folder_exists(folder):
                c.create_folder(folder)
            uids = []
            for raw, msg_time in items:
                resp = c.append(folder, raw, flags=flags, msg_time=msg_time)
                m = _APPENDUID_RE.search(resp)
                if m is None:
                    raise RuntimeError(f"no APPENDUID in APPEND response: {resp!r}")
                uids.append(int(m.group(1)))
            return uids
        finally:
            c.logout()

    def flags(self, user: str, folder: str = "INBOX", password: str = "test") -> dict[int, tuple[bytes, ...]]:
        """FLAGS of every message in folder by UID, via a read-only EXAMINE.

        `\\Recent` is dropped: it is per-session state (set for whichever session saw the
        message first), not a stored flag, and would make comparisons flaky.
        """
        c = self.client(user, password)
        try:
            c.select_folder(folder, readonly=True)
            uids = c.search("ALL")
            if not uids:
                return {}
            return {
                uid: tuple(f for f in data[b"FLAGS"] if f != b"\\Recent")
                for uid, data in c.fetch(uids, ["FLAGS"]).items()
            }
        finally:
            c.logout()
