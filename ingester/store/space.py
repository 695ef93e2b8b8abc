"""Disk full: telling it from other write errors, and naming the file system that is full.

A write to the archive fails for want of space as `OSError` ENOSPC or EDQUOT (a note, a raw copy, a
folder, a lock file: no block or no inode left, or the user's quota used up), or inside SQLite as
SQLITE_FULL, or, when SQLite cannot grow its shared-memory index or create its files, as an I/O error or
"unable to open database file" on a file system with next to nothing left. Each becomes `DiskFull`, saying
where.
"""

from __future__ import annotations

import errno
import os
import sqlite3
from pathlib import Path

from ingester.errors import DiskFull

ERRNOS = frozenset((errno.ENOSPC, errno.EDQUOT))
NEARLY_FULL = 1024 * 1024  # bytes free under which an SQLite I/O error is taken for a full disk
# SQLite's errors that may mean no room: an I/O error (its shared-memory index cannot grow), or a file it
# cannot create (no inode left for the ledger, its -wal or its -shm). They mean no room only on a full disk.
UNSURE = ("SQLITE_IOERR", "SQLITE_CANTOPEN")


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
            if name == "SQLITE_FULL" or (name.startswith(UNSURE) and nearly_full(path)):
                return True
        seen = seen.__cause__
    return False


def nearly_full(path: Path) -> bool:
    """Whether the file system holding `path` has next to no bytes, or no file (inode) left, to give."""
    info = _statvfs(path)
    if info is None:
        return False
    out_of_inodes = info.f_files > 0 and info.f_favail == 0  # (btrfs and others have no inode count: f_files 0)
    return info.f_bavail * info.f_frsize < NEARLY_FULL or out_of_inodes


def _statvfs(path: Path) -> os.statvfs_result | None:
    """The file system figures of `path`, or of its nearest existing parent (None if none answers)."""
    for candidate in (path, *path.parents):
        try:
            return os.statvfs(candidate)
        except OSError:
            continue
    return None


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
