"""The notes on disk, for the person reviewing them: read, list, find by id, change status.

Front matter a person may have edited by hand is read with `frontmatter.load`. Writes stay
byte-exact line edits: a status change rewrites the `status:` line, adds or
rewrites `reviewed_at:`, and keeps every other byte of the file. Reading and listing touch files
only and never take the ledger lock, so they work while the daemon runs; anything that changes a note
runs under the lock (`open_ledger`), so it never races an ingest.

A note's id is the sha256 of its Message-ID, or of its path under its root when the message had
none (the root is the archive, or `<archive>/.discarded/` once discarded, so discarding and reopening
keep the id). Listings show its first 7 hex digits (more when two notes share them); any prefix of
at least 4 digits names the note.

A note is *ours* when the ledger filed it: a filed row names its path and its message (the Message-ID
in its front matter, or a content key when the message had none). Any other Markdown file in the vault
(a person's own, a copy of a note) is never listed, reviewed, re-rendered, moved or changed.

A note is *touched* when its file no longer hashes to the `note_sha256` the ledger kept when it
was filed (edited content, changed status): nothing automatic ever replaces a touched note.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from ingester import frontmatter
from ingester.errors import ArchiveError, UsageError
from ingester.frontmatter import yaml_value
from ingester.markdown import word_count
from ingester.store import attached, files
from ingester.store.ledger import Ledger, Record

logger = logging.getLogger(__name__)

DISCARDED = ".discarded"
STATUSES = ("draft", "reviewed", "discarded")
SHORT_ID = 7
MIN_ID = 4
LOCK_WAIT_SECONDS = 10.0  # a daemon poll is short: wait for it rather than fail the reviewer's command
GONE = "no longer a note (moved, deleted, or its front matter removed)"


@dataclass(frozen=True)
class NoteFile:
    """One note as it is on disk now.

    :ivar path: the file
    :ivar relative: its path relative to the archive, POSIX form (`.discarded/…` once discarded)
    :ivar id: full sha256 hex of its Message-ID, or of its path under its root (see `short_ids`)
    :ivar meta: the front matter, as parsed
    :ivar text: the whole file
    """

    path: Path
    relative: str
    id: str
    meta: dict[str, Any]
    text: str

    @property
    def body(self) -> str:
        return frontmatter.split(self.text)[1].lstrip("\r\n")

    @property
    def status(self) -> str:
        return self.field("status")

    @property
    def title(self) -> str:
        return self.field("title")

    @property
    def publication(self) -> str:
        return self.field("publication")

    @property
    def message_id(self) -> str:
        return self.field("message_id")

    @property
    def tags(self) -> list[str]:
        tags = self.meta.get("tags") or []
        return [str(t) for t in tags] if isinstance(tags, list) else [str(tags)]

    @property
    def date(self) -> datetime | None:
        """The note's date (in the sender's time zone), whatever form a person left it in."""
        value = self.meta.get("date")
        if isinstance(value, datetime):
            return value
        if isinstance(value, date):
            return datetime(value.year, value.month, value.day)
        try:
            return datetime.fromisoformat(str(value)) if value else None
        except ValueError:
            return None

    @property
    def words(self) -> int:
        """The article's words, as the note's `words:` says when it was filed (the template's labels are
        not words of the article); the whole body's for a note without it."""
        value = self.meta.get("words")
        if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
            return value
        return word_count(self.body)

    @property
    def sha256(self) -> str:
        return files.note_sha256(self.text)

    @property
    def discarded(self) -> bool:
        return self.relative.startswith(DISCARDED + "/")

    def field(self, key: str) -> str:
        """A front-matter value as text ("" when missing)."""
        value = self.meta.get(key)
        return "" if value is None else str(value)


# --- Reading ------------------------------------------------------------------------------------------------------


def read_note(root: Path, path: Path) -> NoteFile | None:
    """The note at `path` in the archive `root`; None for a Markdown file without front matter."""
    try:
        text = path.read_bytes().decode("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ArchiveError(f"cannot read {path}: {getattr(exc, 'strerror', None) or exc}") from exc
    front, _ = frontmatter.split(text)
    if not front:
        return None
    try:
        meta = frontmatter.load(front)
    except frontmatter.FrontMatterError as exc:
        where = f" at line {exc.line}" if exc.line is not None else ""
        raise ArchiveError(f"{path}: the front matter is not valid YAML: {exc}{where}") from exc
    if not isinstance(meta, dict):
        return None
    relative = path.relative_to(root).as_posix()
    under_root = relative.removeprefix(DISCARDED + "/")
    message_id = meta.get("message_id")
    key = f"message-id:{message_id}" if message_id else f"path:{under_root}"
    return NoteFile(path, relative, hashlib.sha256(key.encode("utf-8")).hexdigest(), meta, text)


def note_files(root: Path) -> Iterator[Path]:
    """Every Markdown file of the archive and of its `.discarded/` (not the ledger, not hidden files)."""
    for top in (root, root / DISCARDED):
        for folder, subfolders, names in os.walk(top):
            subfolders[:] = sorted(d for d in subfolders if not d.startswith("."))
            yield from (Path(folder) / f for f in sorted(names) if f.endswith(".md") and not f.startswith("."))


def filed_notes(state_dir: Path) -> dict[str, str]:
    """{path relative to the archive: message key} of every note the ledger filed; {} before any run.

    Read without the lock, so it works while the daemon runs."""
    if not (state_dir / "ledger.sqlite3").exists():
        return {}
    with Ledger(state_dir, readonly=True) as ledger:
        return {record.detail: record.key for record in ledger.filed()}


def is_ours(note: NoteFile, filed: Mapping[str, str]) -> bool:
    """The ledger filed this very note: its path, and the message its front matter names."""
    key = filed.get(note.relative)
    if key is None:
        return False
    return key == note.message_id if note.message_id else key.startswith("sha256:")


def scan(root: Path, filed: Mapping[str, str]) -> list[NoteFile]:
    """Every note of ours in the archive (see `filed_notes`), whatever its status. A file the ledger did
    not file is not even read; a note that can't be read is logged and left out."""
    found = []
    for path in note_files(root):
        if path.relative_to(root).as_posix() not in filed:
            continue
        try:
            note = read_note(root, path)
        except ArchiveError as exc:
            logger.warning("%s", exc)
            continue
        if note is not None and is_ours(note, filed):
            found.append(note)
    return found


def _common_prefix(a: str, b: str) -> int:
    """How many leading characters two ids share."""
    n = 0
    while n < min(len(a), len(b)) and a[n] == b[n]:
        n += 1
    return n


def short_ids(notes: Iterable[NoteFile]) -> dict[str, str]:
    """{full id: the shortest prefix (at least 7 digits) that no other note shares}."""
    ids = sorted({note.id for note in notes})
    shown = {}
    for n, full in enumerate(ids):
        neighbours = ids[max(n - 1, 0) : n] + ids[n + 1 : n + 2]
        common = max((_common_prefix(full, other) for other in neighbours), default=0)
        shown[full] = full[: max(SHORT_ID, common + 1)]
    return shown


def find(root: Path, notes: list[NoteFile], ref: str) -> NoteFile:
    """The note a person named by id prefix or by path; UsageError (exit 2) naming `ref` otherwise."""
    if ref.endswith(".md") or "/" in ref:
        for candidate in (Path(ref), root / ref):
            if candidate.is_file():
                wanted = candidate.resolve()
                for note in notes:
                    if note.path.resolve() == wanted:
                        return note
                if wanted.is_relative_to(root.resolve()):
                    raise UsageError(
                        f"{ref} was not filed by ingest (the ledger has no note there): ingest never lists, "
                        "moves or changes a file it did not write"
                    )
                raise UsageError(f"{ref} is not a note in the archive ({root})")
        raise UsageError(f"no note at {ref}")
    prefix = ref.lower()
    if len(prefix) < MIN_ID or not re.fullmatch(r"[0-9a-f]+", prefix):
        raise UsageError(
            f"{ref!r} is not a note id (at least {MIN_ID} hex digits, as `ingest drafts list` "
            "shows) or the path of a note"
        )
    matches = [note for note in notes if note.id.startswith(prefix)]
    if not matches:
        raise UsageError(f"no note has the id {ref!r}; `ingest drafts list --status all` shows every id")
    if len(matches) > 1:
        raise UsageError(
            f"the id {ref!r} is ambiguous; give more digits or the path of one of these notes:",
            problems=[note.relative for note in matches],
        )
    return matches[0]


# --- Listing ------------------------------------------------------------------------------------------------------


def select(
    notes: Iterable[NoteFile],
    status: str = "draft",
    publication: str = "",
    since: date | None = None,
    tags: Iterable[str] = (),
    search: str = "",
) -> list[NoteFile]:
    """The notes that pass every filter, newest first (undated last). `status="all"` keeps any status; a
    tag is also found by its parents, as vaults do (`newsletter` finds `newsletter/substack`)."""
    tags = {t.lstrip("#").casefold() for t in tags}
    wanted = []
    for note in notes:
        when = note.date
        if status != "all" and note.status != status:
            continue
        if publication and publication.casefold() not in (
            note.publication.casefold() + "\n" + note.field("publication_id").casefold()
        ):
            continue
        if since is not None and (when is None or when.date() < since):
            continue
        if tags and not tags <= {t.casefold().rsplit("/", n)[0] for t in note.tags for n in range(t.count("/") + 1)}:
            continue
        if search and search.casefold() not in (note.title + "\n" + note.body).casefold():
            continue
        wanted.append(note)
    return sorted(wanted, key=_age)


def oldest_first(notes: Iterable[NoteFile]) -> list[NoteFile]:
    """Notes in the order a reviewer takes them (undated last)."""
    return sorted(notes, key=lambda note: _age(note, newest_first=False))


def _age(note: NoteFile, newest_first: bool = True) -> tuple[bool, float, str]:
    """Sort key: dated notes by their moment (a naive date counts as UTC), then undated, then by path."""
    when = note.date
    if when is not None and when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    moment = when.timestamp() if when is not None else 0.0
    return (when is None, -moment if newest_first else moment, note.relative)


# --- Changing -----------------------------------------------------------------------------------------------------


def with_status(text: str, status: str, when: datetime) -> str:
    """`text` with `status:` set and `reviewed_at:` set to `when`; every other byte as it was."""
    bom = frontmatter.BOM if text.startswith(frontmatter.BOM) else ""  # kept, as every other byte
    lines = text.removeprefix(bom).splitlines(keepends=True)
    end = next((n for n, line in enumerate(lines[1:], start=1) if line.rstrip("\r\n") == "---"), None)
    if not lines or lines[0].rstrip("\r\n") != "---" or end is None:
        raise ArchiveError("the note has no front matter")
    eol = lines[0][3:] or "\n"
    new = {
        "status": f"status: {yaml_value(status)}",
        "reviewed_at": f"reviewed_at: {yaml_value(when.isoformat(timespec='seconds'))}",
    }
    at = {key: next((n for n in range(1, end) if re.match(rf"{key}\s*:", lines[n])), None) for key in new}
    for key, n in at.items():
        if n is not None:
            lines[n] = new[key] + (lines[n][len(lines[n].rstrip("\r\n")) :] or eol)
    if at["status"] is None:
        lines.insert(end, new["status"] + eol)
        end += 1
    if at["reviewed_at"] is None:
        after = at["status"] + 1 if at["status"] is not None else end
        lines.insert(after, new["reviewed_at"] + eol)
    return bom + "".join(lines)


def set_status(ledger: Ledger, root: Path, note: NoteFile, status: str, when: datetime | None = None) -> str | None:
    """Give `note` this status; a discarded note goes to `.discarded/`, any other comes back.

    Returns the note's path relative to the archive afterwards, or None when it had that status
    already. Call with the ledger open: the lock keeps an ingest from running meanwhile.
    """
    note = reread(root, note)
    relative = note.relative.removeprefix(DISCARDED + "/")
    target = f"{DISCARDED}/{relative}" if status == "discarded" else relative
    if note.status == status and note.relative == target:
        return None
    destination = root / target
    if target != note.relative and destination.exists():
        raise ArchiveError(f"cannot move {note.relative} to {target}: a file is already there")
    when = when or now()
    files.write_atomic(note.path, with_status(note.text, status, when).encode("utf-8"))
    if target != note.relative:
        files.ensure_dir(destination.parent)
        try:
            os.rename(note.path, destination)
        except OSError as exc:
            raise ArchiveError(f"cannot move {note.relative} to {target}: {exc.strerror}") from exc
        files.fsync_dir(destination.parent)
        files.fsync_dir(note.path.parent)
        record = ledger_record(ledger, note)
        if record is None:
            logger.warning("%s is not in the ledger: a later run may file its message again", note.relative)
        else:  # keep the hash as filed: the note stays touched
            ledger.set_note(record.key, target, record.note_sha256)
            before, after = (attached.folder_of(Path(p)).as_posix() for p in (note.relative, target))
            attached.move(ledger, root, record.key, before, after)  # the files saved beside it go with it
    return target


def now() -> datetime:
    """The time a reviewer's decision is stamped with (local time, with its offset)."""
    return datetime.now(UTC).astimezone()


def reread(root: Path, note: NoteFile) -> NoteFile:
    """The note as it is on disk now (a person may have saved it since it was listed)."""
    current = read_note(root, note.path) if note.path.exists() else None
    if current is None:
        raise ArchiveError(f"{note.relative}: {GONE}")
    return current


def ledger_record(ledger: Ledger, note: NoteFile) -> Record | None:
    """The ledger's record of the message this note was filed from."""
    if note.message_id:
        record = ledger.get(note.message_id)
        return record if record is not None and record.outcome == "filed" else None
    return next((r for r in ledger.filed() if r.detail == note.relative), None)


@contextlib.contextmanager
def open_ledger(state_dir: Path, wait: float | None = None) -> Iterator[Ledger]:
    """The ledger with its write lock, waiting up to `wait` seconds (default LOCK_WAIT_SECONDS) for a
    run or a daemon poll in progress; a daemon that only waits for mail does not hold it."""
    with Ledger(state_dir, exclusive=False) as ledger, ledger.writing(LOCK_WAIT_SECONDS if wait is None else wait):
        yield ledger
