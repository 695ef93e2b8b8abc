"""How the reviewer's commands see the archive: the notes with their short ids, and the table and JSON
object a note is listed as."""

from __future__ import annotations

import os
import shutil
import sys
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
MIN_PUBLICATION, MIN_TITLE = 10, 16  # narrower than this, a table is no use: the terminal wraps instead


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


def terminal_columns() -> int | None:
    """The width tables fit: $COLUMNS, else the terminal's; None (no limit) when output is not a terminal."""
    value = os.environ.get("COLUMNS", "")
    if value.isdigit() and int(value) > 0:
        return int(value)
    return shutil.get_terminal_size().columns if sys.stdout.isatty() else None


def shrink(widths: list[int], columns: int | None, title: int, publication: int) -> list[int]:
    """Column widths that fit `columns` (2 spaces between columns): the title gives way first (down to
    MIN_TITLE), then the publication (down to MIN_PUBLICATION), then the title again (to 8)."""
    widths = list(widths)
    for index, least in ((title, MIN_TITLE), (publication, MIN_PUBLICATION), (title, 8)):
        over = sum(widths) + 2 * (len(widths) - 1) - (columns or 10**6)
        if over > 0:
            widths[index] = max(min(least, widths[index]), widths[index] - over)
    return widths


def table(
    arch: Archive, shown: list[NoteFile], with_status: bool, columns: int | None = None, wide: bool = False
) -> list[str]:
    """The notes as a table: titles and publications cut with … to fit `columns` (all of them with `wide`)."""
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
    caps = [None] * (len(header) - 3) + ([None, None] if wide else [MAX_PUBLICATION, MAX_TITLE]) + [None]
    widths = [min(max(_width(r[i]) for r in [header, *rows]), cap or 10**6) for i, cap in enumerate(caps)]
    if not wide:
        widths = shrink(widths, columns, len(header) - 2, len(header) - 3)
    lines = []
    for row in [header, *rows]:
        cells = [fit(cell, width) for cell, width in zip(row[:-1], widths[:-1], strict=True)]
        lines.append("  ".join([*cells, row[-1].rjust(widths[-1])]).rstrip())
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
