"""Running an account's `password_command`: in its own process group, under a time limit, and killed
(with everything it started) when the run shuts down. Its output is never logged nor echoed."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import threading

from ingester.errors import SourceError

PASSWORD_SECONDS = 30.0  # a keyring prompt answered by hand fits; a hung command does not stall shutdown
_running: set[subprocess.Popen[str]] = set()
_lock = threading.Lock()
_stopping = threading.Event()


def run_password_command(account: str, command: str) -> str:
    """What `command` prints (its trailing newline removed); SourceError when it fails, hangs or is stopped."""
    if _stopping.is_set():
        raise SourceError(f"account {account!r}: password_command not run: stopped")
    process = subprocess.Popen(  # noqa: S602 - the user's own command line, like msmtp's passwordeval
        command,
        shell=True,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its own process group: killed whole, children included
    )
    with _lock:
        _running.add(process)
    try:
        try:
            stdout, _ = process.communicate(timeout=PASSWORD_SECONDS)
        except subprocess.TimeoutExpired as exc:
            _kill(process)
            raise SourceError(
                f"account {account!r}: password_command took longer than {PASSWORD_SECONDS:g} s; "
                "check it by running it in a shell"
            ) from exc
    finally:
        with _lock:
            _running.discard(process)
    if _stopping.is_set():
        raise SourceError(f"account {account!r}: password_command stopped: shutting down")
    if process.returncode != 0:
        # Never echo the command's output: it may hold the secret or part of it.
        raise SourceError(
            f"account {account!r}: password_command exited with status {process.returncode}; "
            "run it in a shell to see why"
        )
    # the trailing newline `pass` and friends print, nothing else: spaces may be part of it
    return re.sub(r"\r?\n\Z", "", stdout)


def _kill(process: subprocess.Popen[str]) -> None:
    """Kill the command's whole process group and collect it (the pipes close with the last member)."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.communicate(timeout=5)


def stop_password_commands() -> None:
    """Shutdown: kill every password command running, and run no new one (a daemon's SIGTERM)."""
    _stopping.set()
    with _lock:
        running = list(_running)
    for process in running:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, signal.SIGKILL)


def allow_password_commands() -> None:
    """After a shutdown that did not end the process (tests, a reload): commands may run again."""
    _stopping.clear()
