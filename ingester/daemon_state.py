"""What a running `ingest daemon` is doing, for `ingest status`: `<archive>/.ingest/daemon.json`.

The daemon rewrites the file atomically whenever something changes (a poll ends, a watcher connects,
loses its connection or stops) and removes it when it stops cleanly. A daemon killed with `kill -9`
leaves it behind, so a reader never trusts it blindly: the pid must still exist and be the same process
(its start time, from /proc, as the daemon recorded it), otherwise the daemon is reported not running.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ingester.errors import IngesterError
from ingester.store.files import write_atomic

logger = logging.getLogger(__name__)

FILE = "daemon.json"


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def process_start(pid: int) -> str:
    """When process `pid` started, in clock ticks since boot (/proc/PID/stat, field 22); "" where /proc
    is not there (the pid alone is then checked)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="ascii", errors="replace")
    except OSError:
        return ""
    fields = stat.rsplit(")", 1)[-1].split()  # the command name, in parentheses, may hold spaces
    return fields[19] if len(fields) > 19 else ""


def alive(pid: int, started: str) -> bool:
    """Whether `pid` is a process of this user that started at `started` (when known)."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: the pid was reused
        return False
    return not started or process_start(pid) in ("", started)


class DaemonState:
    """The running daemon's side: one JSON document, rewritten on each change (thread-safe)."""

    def __init__(self, state_dir: Path) -> None:
        self.path = state_dir / FILE
        self.lock = threading.Lock()
        self.removed = False
        pid = os.getpid()
        self.data: dict[str, Any] = {
            "pid": pid,
            "since": now_iso(),
            "process_start": process_start(pid),
            "accounts": {},
            "watchers": {},
        }

    def account(self, name: str, **fields: str) -> None:
        with self.lock:
            self.data["accounts"].setdefault(name, {}).update(fields)
            self._write()

    def watcher(self, account: str, folder: str, state: str, detail: str = "") -> None:
        """A watcher's state ("waiting for the first poll", "connecting", "idling", "reconnecting",
        "paused", "stopped") and why; written only when it changes."""
        key = f"{account}/{folder}"
        with self.lock:
            current = self.data["watchers"].get(key, {})
            if current.get("state") == state and current.get("detail") == detail:
                return
            self.data["watchers"][key] = {
                "account": account,
                "folder": folder,
                "state": state,
                "detail": detail,
                "since": now_iso(),
            }
            self._write()

    def forget_watchers(self) -> None:
        with self.lock:
            self.data["watchers"] = {}
            self._write()

    def write(self) -> None:
        with self.lock:
            self._write()

    def _write(self) -> None:
        """Never fatal: a full disk must not stop a watcher or a poll (`status` shows the last state).
        Nothing once removed: a watcher or a reload still ending must not bring back a stopped daemon."""
        if self.removed:
            return
        try:
            write_atomic(self.path, json.dumps(self.data, indent=2, ensure_ascii=False).encode())
        except (IngesterError, OSError) as exc:
            logger.debug("daemon state not written: %s", exc)

    def remove(self) -> None:
        with self.lock:
            self.removed = True
            self.path.unlink(missing_ok=True)


def read(state_dir: Path) -> dict[str, Any]:
    """What `ingest status` says of the daemon: `running` (and its state), or not, and whether a file
    left by one that did not stop cleanly was found (`stale_pid`)."""
    try:
        data = json.loads((state_dir / FILE).read_text(encoding="utf-8"))
        pid = int(data["pid"])
    except FileNotFoundError:
        return {"running": False}
    except (OSError, ValueError, KeyError, TypeError):
        return {"running": False, "unreadable": str(state_dir / FILE)}
    if not alive(pid, str(data.get("process_start", ""))):
        return {"running": False, "stale_pid": pid, "stale_since": data.get("since", "")}
    return {
        "running": True,
        "pid": pid,
        "since": data.get("since", ""),
        "accounts": data.get("accounts", {}),
        "watchers": list(data.get("watchers", {}).values()),
    }


def reload_running(state_dir: Path) -> int | None:
    """Ask the daemon running on this archive, if any, to reload (SIGHUP: it re-reads its config and polls
    every account at once); its pid, or None when none runs (or it is not ours to signal)."""
    found = read(state_dir)
    if not found["running"]:
        return None
    try:
        os.kill(int(found["pid"]), signal.SIGHUP)
    except OSError:  # it stopped meanwhile
        return None
    return int(found["pid"])
