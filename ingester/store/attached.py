"""Files saved beside a note (`[archive] attachments`): written, recorded, moved with the note.

A note `2025-01-03-some-title.md` keeps its files in `2025-01-03-some-title.files/`. What to save and under
which name was decided before (`parts`, in a worker); here the filing process writes it, without ever
following or replacing anything: a name already holding other bytes (a person's file, another note's) is
passed over for `name-2.ext`…, a name holding the very same bytes is this file already (a run that
stopped before its ledger row), and a folder that is a link or no folder makes the note take its next name
(`-2`…), as a taken note name does. Each file is written as notes are (`files.link_new`: a private temp
file, fsynced, hard-linked to its name), so it is user-only and never executable.

The ledger's `attached` table (migration 8) records each file written, by message, with its hash, before
the message counts as filed: discarding a note moves exactly those files with it (and reopening moves them
back), while anything a person put beside them, or a saved file a person changed, stays where it is.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import stat
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol
from urllib.parse import quote

from ingester.errors import ArchiveError
from ingester.store import files
from ingester.store.ledger import Ledger

logger = logging.getLogger(__name__)

FOLDER_SUFFIX = ".files"


class Part(Protocol):
    """What the worker decided about one file (`parts.Saved`)."""

    @property
    def name(self) -> str: ...
    @property
    def data(self) -> bytes: ...
    @property
    def link(self) -> str: ...


@dataclass(frozen=True)
class Written:
    """A file saved beside a note: where it is, and the hash of what was written."""

    path: Path
    sha256: str


def folder_of(note: Path) -> Path:
    """The folder of a note's files: its path without `.md`, plus `.files`."""
    return note.with_name(note.stem + FOLDER_SUFFIX)


def link_to(note: Path, name: str) -> str:
    """The link a note holds to one of its files (as `parts.link_to` writes it)."""
    return quote(f"{note.stem}{FOLDER_SUFFIX}/{name}", safe="/")


def write_note(path: Path, text: str, message_id_line: str | None, parts: Sequence[Part]) -> tuple[Path, list[Written]]:
    """`files.write_note` for a note with files: the note at `path` or its next free name, its files beside it,
    its links to them rewritten when a name had to change. The files are written first, then the note; a note
    that could not be written takes back the files this call created."""
    files.ensure_dir(path.parent)
    for target in files.note_names(path, message_id_line or text):
        folder = folder_of(target)
        if folder.is_symlink() or (os.path.lexists(folder) and not folder.is_dir()):
            continue  # not a folder of ours to write into: the note takes another name
        names = choose_names(folder, parts)
        data = relink(text, parts, target, names).encode("utf-8")
        if os.path.lexists(target):
            if files.is_this_note(target, message_id_line, data):
                return target, save(folder, parts, names)[0]  # a run that stopped before its ledger row
            continue
        written, created = save(folder, parts, names)
        try:
            if files.link_new(target, data):
                return target, written
        except BaseException:
            remove_created(folder, created)
            raise
        remove_created(folder, created)
    raise files.no_free_name(path)


def relink(text: str, parts: Sequence[Part], note: Path, names: Sequence[str]) -> str:
    """The note's text with each link to a file pointing at the name it is saved under beside `note`."""
    for part, name in zip(parts, names, strict=True):
        new = link_to(note, name)
        if new != part.link:
            text = text.replace(f"]({part.link})", f"]({new})")
    return text


def choose_names(folder: Path, parts: Sequence[Part]) -> list[str]:
    """The name each part is saved under in `folder`: its own name, unless that holds other bytes (or is a
    link, or no file): then `name-2.ext`, `name-3.ext`… Reads only."""
    taken: set[str] = set()
    names = []
    for part in parts:
        stem, dot, ext = part.name.rpartition(".") if "." in part.name.lstrip(".") else (part.name, "", "")
        candidate, n = part.name, 1
        while candidate.casefold() in taken or not _free_or_same(folder / candidate, part.data):
            n += 1
            candidate = f"{stem}-{n}{dot}{ext}"
        names.append(candidate)
        taken.add(candidate.casefold())
    return names


def _free_or_same(path: Path, data: bytes) -> bool:
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return True
    except OSError:
        return False
    return stat.S_ISREG(info.st_mode) and info.st_size == len(data) and path.read_bytes() == data


def save(folder: Path, parts: Sequence[Part], names: Sequence[str]) -> tuple[list[Written], list[Path]]:
    """Write each part under its chosen name (`choose_names`); (every file, the ones this call created)."""
    if folder.is_symlink() or (os.path.lexists(folder) and not folder.is_dir()):
        raise ArchiveError(f"{folder} is not a folder ingest made: its files are not saved there")
    written: list[Written] = []
    created: list[Path] = []
    made_folder = not os.path.lexists(folder)
    files.ensure_dir(folder)
    if made_folder:
        created.append(folder)
    try:
        for part, name in zip(parts, names, strict=True):
            path = folder / name
            if path.parent != folder or name in ("", ".", "..") or "\x00" in name:  # a name is never a path
                raise ArchiveError(f"{name!r} is no file name: nothing of this message is saved")
            if not os.path.lexists(path):
                if not files.link_new(path, part.data, "file"):
                    raise ArchiveError(f"{path} appeared while it was written; run again to file the message")
                created.append(path)
            elif not _free_or_same(path, part.data):
                raise ArchiveError(f"{path} changed while it was written; run again to file the message")
            written.append(Written(path, hashlib.sha256(part.data).hexdigest()))
    except BaseException:
        remove_created(folder, created)
        raise
    return written, created


def remove_created(folder: Path, created: Iterable[Path]) -> None:
    """Take back what this run created for a note it could not write (files first, then the folder if empty)."""
    for path in sorted(created, key=lambda p: p == folder):
        with contextlib.suppress(OSError):
            path.rmdir() if path == folder else path.unlink()


def record(ledger: Ledger, key: str, root: Path, written: Iterable[Written]) -> None:
    """Remember the files saved for message `key` (paths relative to the archive `root`)."""
    rows = [(key, w.path.relative_to(root).as_posix(), w.sha256) for w in written]
    if rows:
        with ledger.transaction() as db:
            db.executemany("INSERT OR REPLACE INTO attached VALUES (?, ?, ?)", rows)


def recorded(ledger: Ledger, key: str) -> list[tuple[str, str]]:
    """(path relative to the archive, sha256) of every file saved for message `key`."""
    with ledger.transaction() as db:
        return [(str(p), str(h)) for p, h in db.execute("SELECT path, sha256 FROM attached WHERE key = ?", (key,))]


def move(ledger: Ledger, root: Path, key: str, source: str, target: str) -> list[str]:
    """Move the files saved for message `key` along with its note, from under the archive path `source` to
    under `target` (both relative to `root`: `2025/01` and `.discarded/2025/01`); the files left where they
    are, with why: a person changed one, or a file is already at its new place."""
    moves, left = [], []
    for relative, sha256 in recorded(ledger, key):
        path = root / relative
        if not relative.startswith(f"{source}/") or not os.path.lexists(path):
            continue
        new = f"{target}/{relative.removeprefix(source + '/')}"
        if _sha256(path) != sha256:
            left.append(f"{relative}: changed since it was saved, left where it is")
            continue
        files.ensure_dir((root / new).parent)
        try:
            os.link(path, root / new, follow_symlinks=False)  # never replaces: a file there stays as it is
        except FileExistsError:
            left.append(f"{relative}: {new} is taken, left where it is")
            continue
        except OSError as exc:
            raise ArchiveError(f"cannot move {relative} to {new}: {exc.strerror}") from exc
        path.unlink()
        moves.append((relative, new, path.parent))
    with ledger.transaction() as db:
        db.executemany("UPDATE attached SET path = ? WHERE key = ? AND path = ?", [(n, key, o) for o, n, _ in moves])
    for folder in {parent for _, _, parent in moves}:
        files.fsync_dir(folder)
        with contextlib.suppress(OSError):
            folder.rmdir()  # only when nothing else is in it
    for line in left:
        logger.warning("%s", line)
    return left


def _sha256(path: Path) -> str:
    """The hash of a regular file's bytes; "" for a link or anything else."""
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest() if stat.S_ISREG(os.lstat(path).st_mode) else ""
    except OSError:
        return ""
