"""`ingest rerender`: make untouched drafts again from the raw messages the ledger keeps (after the
converter improved). A note a person touched (edited, given another status) is never replaced.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from ingester import message, metadata
from ingester.compose import Settings, make_note
from ingester.config import Config
from ingester.errors import ArchiveError
from ingester.message import RawMessage
from ingester.parts import Saved
from ingester.recall import recall
from ingester.store import attached, files
from ingester.store import notes as notes_on_disk
from ingester.store import raw as raw_copies
from ingester.store.ledger import Ledger, Record
from ingester.store.notes import NoteFile


@dataclass(frozen=True)
class Rerendered:
    """What `rerender` did with one note: `rerendered`, `unchanged`, `skipped` or `failed`, and why."""

    note: NoteFile
    outcome: str
    reason: str = ""


def rerender(config: Config, ledger: Ledger, notes: Iterable[NoteFile]) -> Iterator[Rerendered]:
    """Re-render each untouched draft from its raw message; skip (saying why) every other note."""
    settings = Settings.of(config)
    for listed in notes:
        try:
            note = notes_on_disk.reread(config.archive_path, listed)  # under the lock: a save since the listing counts
        except ArchiveError as exc:
            yield Rerendered(listed, "skipped", str(exc).removeprefix(f"{listed.relative}: "))
            continue
        record = notes_on_disk.ledger_record(ledger, note)
        reason = skip_reason(note, record)
        if reason or record is None:
            yield Rerendered(note, "skipped", reason)
            continue
        raw = raw_copies.read(ledger.state_dir, record.content_hash)
        if raw is None:
            yield Rerendered(note, "skipped", "the raw message is not kept in the ledger")
            continue
        try:
            letter = message.judge_forward(message.parse(raw), config.readers)
            # the note's date stands in for the IMAP INTERNALDATE, used when the message has no Date header
            made = make_note(
                RawMessage(raw, record.source, internaldate=note.date),
                letter,
                settings,
                # the memory as it stands (the other issues filed) of its publication, a forward's original's too
                remembered=recall(ledger, raw, metadata.publication_key(letter)),
            )
        except Exception as exc:  # noqa: BLE001 - one message's failure, reported with the others
            yield Rerendered(note, "failed", f"{type(exc).__name__}: {exc}".splitlines()[0][:300])
            continue
        if made.fields.publication_id:  # notes filed before memory existed leave their blocks now
            ledger.remember_blocks(made.fields.publication_id, record.key, made.blocks)
        try:
            text, written, created = _with_files(note, made.text, made.saved)
        except ArchiveError as exc:
            yield Rerendered(note, "failed", str(exc))
            continue
        if text == note.text:
            attached.record(ledger, record.key, config.archive_path, written)
            yield Rerendered(note, "unchanged")
            continue
        if not files.replace_if_unchanged(note.path, text.encode("utf-8"), note.sha256):
            attached.remove_created(attached.folder_of(note.path), created)
            yield Rerendered(note, "skipped", "edited while it was re-rendered")
            continue
        attached.record(ledger, record.key, config.archive_path, written)
        ledger.set_note(record.key, note.relative, files.note_sha256(text))
        yield Rerendered(note, "rerendered")


def _with_files(note: NoteFile, text: str, saved: tuple[Saved, ...]) -> tuple[str, list[attached.Written], list[Path]]:
    """The note's new text linking its files where they are saved beside it (each saved now if missing: a
    file already there with the same bytes is kept), the files, and those this call created."""
    if not saved:
        return text, [], []
    folder = attached.folder_of(note.path)
    names = attached.choose_names(folder, saved)
    written, created = attached.save(folder, saved, names)
    return attached.relink(text, saved, note.path, names), written, created


def skip_reason(note: NoteFile, record: Record | None) -> str:
    """Why `note` must not be replaced automatically, or "" when it is an untouched draft."""
    if note.status != "draft" or note.discarded:
        return f"its status is {note.status or '(none)'}, not draft"
    if record is None:
        return "its message is not in the ledger"
    if not record.note_sha256:
        return "the ledger has no hash of it as filed (filed by an older version)"
    if record.note_sha256 != note.sha256:
        return "edited since it was filed"
    return ""
