"""How the reviewer's commands see the archive: the notes with their short ids, and the table and JSON
object a note is listed as."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import click
from click.shell_completion import CompletionItem

from ingester.cli.common import load_config
from ingester.cli.terminal import one_line
from ingester.config import Config
from ingester.errors import IngesterError
from ingester.store import notes
from ingester.store.notes import NoteFile

MAX_PUBLICATION, MAX_TITLE = 24, 60


@dataclass(frozen=True)
class Archive:
    """The configured archive and every note in it, with the ids listings show."""

    config: Config
    notes: list[NoteFile]
    ids: dict[str, str]

    @classmethod
    def load(cls, ctx: click.Context) -> Archive:
        config = load_config(ctx)
        found = notes.scan(config.archive_path, notes.filed_notes(config.state_dir))
        return cls(config, found, notes.short_ids(found))

    def find(self, refs: Iterable[str]) -> list[NoteFile]:
        """The notes named (each once, in order); every ref is checked before anything changes."""
        found = [notes.find(self.config.archive_path, self.notes, ref) for ref in refs]
        return list({note.id + note.relative: note for note in found}.values())

    def short(self, note: NoteFile) -> str:
        return self.ids.get(note.id) or note.id[: notes.SHORT_ID]

    def path(self, note: NoteFile | str) -> str:
        relative = note if isinstance(note, str) else note.relative
        return str(self.config.archive_path / relative)


def complete_ids(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[CompletionItem]:
    """Shell completion of note ids (`eval "$(_INGEST_COMPLETE=bash_source ingest)"`), titles as help."""
    try:
        arch = Archive.load(ctx)
    except (IngesterError, OSError):
        return []  # no archive, no config: nothing to offer, never an error in the middle of typing
    shown = [n for n in arch.notes if arch.short(n).startswith(incomplete)]
    return [CompletionItem(arch.short(n), help=one_line(n.title)) for n in shown]


def as_json(arch: Archive, note: NoteFile) -> dict[str, Any]:
    when = note.date
    return {
        "id": arch.short(note),
        "path": arch.path(note),
        "title": note.title,
        "status": note.status,
        "date": when.isoformat() if when else "",
        "publication": note.publication,
        "author": note.field("author"),
        "url": note.field("url"),
        "tags": note.tags,
        "words": note.words,
        "reviewed_at": note.field("reviewed_at"),
    }


def table(arch: Archive, shown: list[NoteFile], with_status: bool) -> list[str]:
    header = ["ID", "DATE", *(["STATUS"] if with_status else []), "PUBLICATION", "TITLE", "WORDS"]
    rows = [
        [
            arch.short(n),
            f"{n.date:%Y-%m-%d}" if n.date else "-",
            *([one_line(n.status)] if with_status else []),
            one_line(n.publication) or "-",
            one_line(n.title) or "-",
            str(n.words),
        ]
        for n in shown
    ]
    caps = [None] * (len(header) - 3) + [MAX_PUBLICATION, MAX_TITLE, None]
    widths = [min(max(_width(r[i]) for r in [header, *rows]), cap or 999) for i, cap in enumerate(caps)]
    lines = []
    for row in [header, *rows]:
        cells = [fit(cell, width) for cell, width in zip(row[:-1], widths[:-1], strict=True)]
        lines.append("  ".join([*cells, row[-1].rjust(widths[-1])]))
    return lines


def _width(text: str) -> int:
    """Terminal columns: East Asian wide characters take two."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 0 if unicodedata.combining(c) else 1 for c in text)


def fit(text: str, width: int) -> str:
    """`text` cut (with …) or padded to exactly `width` columns."""
    if _width(text) > width:
        while _width(text) > width - 1:
            text = text[:-1]
        text += "…"
    return text + " " * (width - _width(text))
