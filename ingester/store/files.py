"""Files in the archive: where a note goes, and writing it atomically without overwriting anything.

Layout: `<archive>/YYYY/MM/YYYY-MM-DD-<slug>.md`. A write goes to a temp file in the target
folder, is fsynced, then hard-linked to its name (`os.link` fails if the name exists, so nothing
is ever replaced) and the folder is fsynced. A name already taken by another note gets `-2`, `-3`… up to
`-999`, then a short hash of the message's identity (`-3f2a9c1e`, longer if that is taken too);
a name already holding this very message (a crash after the write, before the ledger commit) is
reused, so a rerun never files the same message twice: the same Message-ID or, for a message without
one, the very same text (its identity is its content, never its path, subject or day).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import tempfile
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

from ingester.errors import ArchiveError
from ingester.store import space

PRIVATE_DIR = 0o700


def ensure_dir(path: Path) -> None:
    """Create a folder (and parents) readable by the user only."""
    if path.is_dir():  # the usual case: one stat, not one per parent
        return
    missing = [p for p in (path, *path.parents) if not p.exists()]
    try:
        for folder in reversed(missing):  # top down, so each new folder gets the private mode
            folder.mkdir(mode=PRIVATE_DIR, exist_ok=True)
    except OSError as exc:
        if exc.errno in space.ERRNOS:
            raise space.no_space(path) from exc
        raise ArchiveError(
            f"cannot create folder {path}: {exc.strerror}; check the [archive] path and permissions"
        ) from exc


WINDOWS_DEVICES = re.compile(r"(?:con|prn|aux|nul|com[0-9¹²³]|lpt[0-9¹²³])(?:\..*)?", re.I)


def safe_folder(folder: str) -> Path:
    """A configured sub-folder as a relative path that stays inside the archive, portable to Windows."""
    parts = []
    for part in Path(folder).parts:
        part = re.sub(r'[\x00-\x1f<>:"|?*\\]', "-", part).strip(" .")
        if not part or part.startswith(".") or part in ("..", "/"):
            continue
        if WINDOWS_DEVICES.fullmatch(part):  # "LPT1.txt" is LPT1 to Windows: the suffix goes before the dot
            stem, dot, rest = part.partition(".")
            part = f"{stem}-folder{dot}{rest}"
        parts.append(part.encode("utf-8")[:100].decode("utf-8", "ignore"))
    return Path(*parts) if parts else Path()


def note_path(root: Path, date: datetime | None, stem: str) -> Path:
    """Where a note of this date and file name (`render.file_stem`) belongs (undated mail goes to `undated/`)."""
    if date is None:
        return root / "undated" / f"{stem}.md"
    return root / f"{date:%Y}" / f"{date:%m}" / f"{stem}.md"


def write_note(path: Path, text: str, message_id_line: str | None) -> Path:
    """Write `text` at `path` or the next free `-N` name; return where it went.

    `message_id_line` is the note's `message_id:` front-matter line: an existing file that holds
    it already is this note, and is returned instead of writing a second copy. Without one (no
    Message-ID), only a file holding exactly `text` is this note.
    """
    ensure_dir(path.parent)
    data = text.encode("utf-8")
    for target in note_names(path, message_id_line or text):
        if target.exists():
            if is_this_note(target, message_id_line, data):
                return target
            continue
        if link_new(target, data):
            return target
    raise no_free_name(path)


NUMBERED = 999  # `path`, `-2` … `-999`; then names from the message's identity


def note_names(path: Path, identity: str) -> Iterator[Path]:
    """The names a note meant for `path` may take, in order: `path`, then `-2` … `-999`, then the hash of
    `identity` (the note's `message_id:` line, or its text without one): its first 8 hex digits, 16, all 64,
    then those with `-2`, `-3`…. Always the same names for the same message, so a rerun finds its note; two
    messages part only at the names of their hashes, which differ."""
    sep = " " if " " in path.stem else "-"  # "A title 2.md", "2025-01-27-a-title-2.md"
    yield path
    for n in range(2, NUMBERED + 1):
        yield path.with_name(f"{path.stem}{sep}{n}{path.suffix}")
    digest = hashlib.sha256(identity.encode("utf-8")).hexdigest()
    for length in (8, 16, 64):
        yield path.with_name(f"{path.stem}{sep}{digest[:length]}{path.suffix}")
    for n in range(2, NUMBERED + 1):  # only files that are not notes of ours could take all the names above
        yield path.with_name(f"{path.stem}{sep}{digest}{sep}{n}{path.suffix}")


def no_free_name(path: Path) -> ArchiveError:
    """Every name `note_names` gives is a file that is not this note: none of them can be notes of ours."""
    return ArchiveError(
        f"no free name for note {path.name} in {path.parent}: the numbered and hashed names are all taken by "
        "other files; move files that are not notes out of that folder"
    )


def is_this_note(target: Path, message_id_line: str | None, data: bytes) -> bool:
    """The existing file `target` is this note already: it holds its `message_id:` line, or (a message
    without one) exactly `data`."""
    return _holds(target, message_id_line) if message_id_line else _same(target, data)


def _holds(path: Path, line: str) -> bool:
    try:
        with path.open(encoding="utf-8", errors="replace") as f:
            head = f.read(1024 * 1024)  # past the longest front matter ingest writes (headers cut, thrice)
    except OSError:
        return False
    return f"\n{line}\n" in head.split("\n---\n", 1)[0] + "\n"


def _same(path: Path, data: bytes) -> bool:
    try:
        return path.stat().st_size == len(data) and path.read_bytes() == data
    except OSError:
        return False


def link_new(target: Path, data: bytes, what: str = "note") -> bool:
    """Durably create `target` with `data` (user-only, never executable); False if the name is taken."""
    with _durable_temp(target.parent, data, f"cannot write {what} {target}") as tmp:
        try:
            os.link(tmp, target)  # unlike a rename, never replaces an existing note
        except FileExistsError:
            return False
        fsync_dir(target.parent)
    return True


def write_atomic(path: Path, data: bytes) -> None:
    """Replace `path` with `data` durably: temp file in the same folder, fsync, rename, fsync the folder.

    For files the program owns (raw messages) and for a person's own status changes; new notes use
    `write_note`, which never replaces anything.
    """
    with _durable_temp(path.parent, data, f"cannot write {path}") as tmp:
        os.replace(tmp, path)
        fsync_dir(path.parent)


def replace_if_unchanged(path: Path, data: bytes, expected_sha256: str) -> bool:
    """Compare and swap: replace `path` with `data` (as `write_atomic`) only if the file still hashes to
    `expected_sha256`, checked once the new text is on disk, right before the rename; False, and the file
    left as it is, when a person saved it meanwhile."""
    with _durable_temp(path.parent, data, f"cannot write {path}") as tmp:
        try:
            current = hashlib.sha256(path.read_bytes()).hexdigest()
        except OSError:
            return False
        if current != expected_sha256:
            return False
        os.replace(tmp, path)
        fsync_dir(path.parent)
    return True


@contextlib.contextmanager
def _durable_temp(folder: Path, data: bytes, what: str) -> Iterator[str]:
    """A user-only temp file in `folder` holding `data`, fsynced; removed afterwards if still there.

    Hidden and not `*.md`: a temp file left by a crash never looks like a note.
    """
    tmp = ""
    try:
        fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".partial", dir=folder)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        yield tmp  # mkstemp made it 0600: user-only
    except OSError as exc:
        if exc.errno in space.ERRNOS:  # nothing is left behind: the temp file goes below
            raise space.no_space(folder) from exc
        raise ArchiveError(f"{what}: {exc.strerror}") from exc
    finally:
        if tmp:
            with contextlib.suppress(OSError):
                os.unlink(tmp)


def note_sha256(text: str) -> str:
    """The hash the ledger keeps of a note as filed, to tell later whether a person changed it."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def fsync_dir(path: Path) -> None:
    """Make a rename or link in `path` durable."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
