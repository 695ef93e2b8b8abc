"""Disk full: telling it from other write errors, and naming the file system that is full.

A write to the archive fails for want of space as `OSError` ENOSPC or EDQUOT (a note, a raw copy, a
folder), or inside SQLite as SQLITE_FULL, or, when SQLite cannot grow its shared-memory index, as an
I/O error on a file system with next to nothing left. Each becomes `DiskFull`, saying where.
"""

from __future__ import annotations

import errno
import os
import sqlite3
from pathlib import Path

from ingester.errors import DiskFull

ERRNOS = frozenset((errno.ENOSPC, errno.EDQUOT))
NEARLY_FULL = 1024 * 1024  # bytes free under which an SQLite I/O error is taken for a full disk


def is_full(exc: BaseException, path: Path) -> bool:
    """Whether `exc` (or an error it was raised from) is a write refused for want of space under `path`."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, DiskFull):
            return True
        if isinstance(seen, OSError) and seen.errno in ERRNOS:
            return True
        if isinstance(seen, sqlite3.Error):
            name = getattr(seen, "sqlite_errorname", "")
            if name == "SQLITE_FULL" or (name.startswith("SQLITE_IOERR") and free_bytes(path) < NEARLY_FULL):
                return True
        seen = seen.__cause__
    return False


def free_bytes(path: Path) -> int:
    """Bytes an unprivileged user may still write on the file system holding `path` (a large number if unknown)."""
    for candidate in (path, *path.parents):
        try:
            info = os.statvfs(candidate)
        except OSError:
            continue
        return info.f_bavail * info.f_frsize
    return 2**63


def no_space(path: Path) -> DiskFull:
    """The error for a full file system under `path`: "no space left on /srv (/dev/sdb1)"."""
    return DiskFull(f"no space left on {where(path)}")


def where(path: Path) -> str:
    """The mount point holding `path`, with its device when the system says (Linux: /proc/self/mounts)."""
    point = Path(os.path.abspath(path))
    while not point.exists() or not os.path.ismount(point):
        if point.parent == point:
            break
        point = point.parent
    try:
        mounts = Path("/proc/self/mounts").read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        mounts = []
    devices = [line.split()[0] for line in mounts if len(line.split()) > 1 and _unescape(line.split()[1]) == str(point)]
    return f"{point} ({devices[-1]})" if devices else str(point)


def _unescape(field: str) -> str:
    """A mount point as /proc/self/mounts writes it (space, tab, newline, backslash as octal escapes)."""
    for code in ("\\040", "\\011", "\\012", "\\134"):
        field = field.replace(code, chr(int(code[1:], 8)))
    return field
