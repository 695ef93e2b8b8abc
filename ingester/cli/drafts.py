"""The reviewer's commands: `ingest drafts list|show|edit|accept|discard|reopen`, `ingest review`,
`ingest rerender`. Options in, lines out; the work is done by `store.notes` and `rerender`.
"""

from __future__ import annotations

import json
import unicodedata
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import click

from ingester import config as config_mod
from ingester.cli.common import EXIT_SOME_FAILED
from ingester.cli.terminal import print_markdown
from ingester.config import Config
from ingester.errors import ArchiveError
from ingester.rerender import rerender as rerender_notes
from ingester.store import notes
from ingester.store.notes import NoteFile

DONE = {"reviewed": "accepted", "discarded": "discarded", "draft": "reopened"}
KEYS = {"a": "accept", "d": "discard", "e": "edit", "s": "skip", "q": "quit"}
PROMPT = "[a]ccept  [d]iscard  [e]dit  [s]kip  [q]uit? "
MAX_PUBLICATION, MAX_TITLE = 24, 60


@dataclass(frozen=True)
class Archive:
    """The configured archive and every note in it, with the ids listings show."""

    config: Config
    notes: list[NoteFile]
    ids: dict[str, str]

    @classmethod
    def load(cls, ctx: click.Context) -> Archive:
        config = config_mod.load(ctx.find_root().obj["config_path"])
        found = notes.scan(config.archive_path)
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


class DraftsGroup(click.Group):
    """`ingest drafts [OPTIONS]` is `ingest drafts list [OPTIONS]`."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if not args or (args[0].startswith("-") and args[0] not in self.get_help_option_names(ctx)):
            args = ["list", *args]
        return super().parse_args(ctx, args)


@click.group(cls=DraftsGroup)
def drafts() -> None:
    """Review the notes in the archive: list, show, edit, then accept, discard or reopen them.

    `ingest drafts` alone is `ingest drafts list`. A note is named by the id that listings show (any
    prefix of 4 or more digits) or by its path. Listing and showing read the files only, so they work
    while an ingest runs; accept, discard and reopen wait for it (up to 10 s) and change the
    `status:` line (adding `reviewed_at:`), keeping every other byte of the note.

    \b
    Examples:
        ingest drafts                                # the drafts, newest first
        ingest drafts show c2f51ed
        ingest drafts accept c2f51ed 7c8e7e4
        ingest drafts discard archive/2025/01/2025-01-27-the-quiet-year-of-small-models.md
    """


@drafts.command("list")
@click.option(
    "--status",
    type=click.Choice([*notes.STATUSES, "all"]),
    default="draft",
    show_default=True,
    help="Notes with this status.",
)
@click.option("--publication", default="", metavar="TEXT", help="Publication name (or id) contains TEXT.")
@click.option(
    "--since", type=click.DateTime(formats=["%Y-%m-%d"]), metavar="YYYY-MM-DD", help="Notes dated on or after this day."
)
@click.option("--tag", "tags", multiple=True, metavar="TAG", help="Notes with this tag (repeat: with all of them).")
@click.option("--search", default="", metavar="TEXT", help="TEXT in the title or body (any case).")
@click.option("--json", "as_json", is_flag=True, help="A JSON array of objects instead of the table.")
@click.pass_context
def list_(
    ctx: click.Context,
    status: str,
    publication: str,
    since: datetime | None,
    tags: tuple[str, ...],
    search: str,
    as_json: bool,
) -> None:
    """List notes, newest first: id, date, publication, title, words.

    Reads the note files only (never the ledger), so it works while an ingest is running.

    \b
    Examples:
        ingest drafts list
        ingest drafts list --status reviewed --since 2025-01-01
        ingest drafts list --publication 'field notes' --search 'small models'
        ingest drafts list --status all --json | jq '.[].path'
    """
    arch = Archive.load(ctx)
    shown = notes.select(arch.notes, status, publication, since.date() if since else None, tags, search)
    if as_json:
        click.echo(json.dumps([_as_json(arch, note) for note in shown], ensure_ascii=False, indent=2))
    elif not shown:
        filtered = publication or since or tags or search
        click.echo("No drafts." if status == "draft" and not filtered else "No notes match.")
    else:
        for line in _table(arch, shown, with_status=status == "all"):
            click.echo(line)


@drafts.command("show")
@click.argument("ref", metavar="ID")
@click.option("--raw", is_flag=True, help="Print the file as it is (front matter and Markdown).")
@click.pass_context
def show(ctx: click.Context, ref: str, raw: bool) -> None:
    """Show a note: its front matter summarised, then the Markdown rendered for the terminal.

    \b
    Examples:
        ingest drafts show c2f51ed
        ingest drafts show c2f51ed --raw > copy.md
    """
    arch = Archive.load(ctx)
    note = arch.find([ref])[0]
    if raw:
        click.echo(note.text, nl=False)
    else:
        _show(arch, note)


@drafts.command("edit")
@click.argument("ref", metavar="ID")
@click.pass_context
def edit(ctx: click.Context, ref: str) -> None:
    """Open a note in $VISUAL (else $EDITOR).

    An edited note is yours: `ingest rerender` and later runs never replace it.

    \b
    Examples:
        ingest drafts edit c2f51ed
        EDITOR=nano ingest drafts edit archive/2025/01/2025-01-27-the-quiet-year-of-small-models.md
    """
    arch = Archive.load(ctx)
    note = arch.find([ref])[0]
    click.echo(f"{_edit(note):<10} {arch.short(note)}  {arch.path(note)}")


@drafts.command("accept")
@click.argument("refs", nargs=-1, required=True, metavar="ID...")
@click.pass_context
def accept(ctx: click.Context, refs: tuple[str, ...]) -> None:
    """Mark notes as reviewed (status: reviewed, reviewed_at: now).

    \b
    Examples:
        ingest drafts accept c2f51ed
        ingest drafts accept c2f51ed 7c8e7e4 3a84b58
    """
    _set_status(ctx, refs, "reviewed")


@drafts.command("discard")
@click.argument("refs", nargs=-1, required=True, metavar="ID...")
@click.pass_context
def discard(ctx: click.Context, refs: tuple[str, ...]) -> None:
    """Discard notes: status discarded, moved to <archive>/.discarded/ (same sub-path).

    The ledger keeps their messages as filed, so no later run files them again; `ingest drafts list
    --status discarded` still lists them and `ingest drafts reopen` brings them back.

    \b
    Examples:
        ingest drafts discard c2f51ed
        ingest drafts discard archive/2025/01/2025-01-27-the-quiet-year-of-small-models.md
    """
    _set_status(ctx, refs, "discarded")


@drafts.command("reopen")
@click.argument("refs", nargs=-1, required=True, metavar="ID...")
@click.pass_context
def reopen(ctx: click.Context, refs: tuple[str, ...]) -> None:
    """Make notes drafts again (a discarded note moves back into the archive).

    \b
    Examples:
        ingest drafts reopen c2f51ed
    """
    _set_status(ctx, refs, "draft")


def _set_status(ctx: click.Context, refs: tuple[str, ...], status: str) -> None:
    arch = Archive.load(ctx)
    chosen = arch.find(refs)  # every id is checked before any note changes
    with notes.open_ledger(arch.config.state_dir) as ledger:
        for note in chosen:
            moved_to = notes.set_status(ledger, arch.config.archive_path, note, status)
            if moved_to is None:
                click.echo(f"{'unchanged':<10} {arch.short(note)}  {arch.path(note)} (already {status})")
            else:
                click.echo(f"{DONE[status]:<10} {arch.short(note)}  {arch.path(moved_to)}")


@click.command("review")
@click.pass_context
def review(ctx: click.Context) -> None:
    """Go through the drafts, oldest first: each is shown, then one key decides.

    a accept, d discard, e edit (then decide), s skip, q quit (Ctrl-C and Ctrl-D quit too). Keys are
    read straight from the terminal, so it works over SSH. The ledger is locked only while a decision
    is written (waiting up to 10 s for a running ingest); a decision that cannot be written is
    reported and the review goes on.

    \b
    Examples:
        ingest review
        ssh home ingest --config ~/.config/ingest.toml review
    """
    arch = Archive.load(ctx)
    queue = notes.oldest_first(notes.select(arch.notes))
    if not queue:
        click.echo("No drafts to review.")
        return
    counts: Counter[str] = Counter()
    for number, note in enumerate(queue, start=1):
        if _review_one(arch, note, f"[{number}/{len(queue)}]", counts) == "quit":
            break
    left = len(notes.select(notes.scan(arch.config.archive_path)))
    failed = f", {counts['failed']} not saved" if counts["failed"] else ""
    click.echo(
        f"Reviewed: {counts['accepted']} accepted, {counts['discarded']} discarded, "
        f"{counts['skipped']} skipped{failed}; {left} {'draft' if left == 1 else 'drafts'} left."
    )


def _review_one(arch: Archive, note: NoteFile, position: str, counts: Counter[str]) -> str:
    """Show one draft and act on keys until it is decided; returns the last action."""
    while True:
        try:
            note = notes.reread(arch.config.archive_path, note)
        except ArchiveError:
            return "gone"
        if note.status != "draft" or note.discarded:
            return "gone"  # decided elsewhere meanwhile
        click.echo(f"{position} ", nl=False)
        _show(arch, note)
        action = _read_key()
        click.echo(action)
        if action in ("accept", "discard"):
            status = "reviewed" if action == "accept" else "discarded"
            try:
                with notes.open_ledger(arch.config.state_dir) as ledger:
                    moved_to = notes.set_status(ledger, arch.config.archive_path, note, status)
            except ArchiveError as exc:  # e.g. an ingest holds the archive: say so, keep reviewing
                click.echo(f"Error: {exc}\n", err=True)
                counts["failed"] += 1
                return "failed"
            counts[DONE[status]] += 1
            click.echo(f"{DONE[status]:<10} {arch.short(note)}  {arch.path(moved_to or note)}\n")
            return action
        if action == "edit":
            try:
                click.echo(f"{_edit(note):<10} {arch.short(note)}  {arch.path(note)}\n")
            except click.ClickException as exc:  # the editor failed: say so, show the note again
                click.echo(f"Error: {exc.format_message()}\n", err=True)
            continue
        if action == "skip":
            counts["skipped"] += 1
            click.echo()
        return action


def _read_key() -> str:
    """One of KEYS' actions, from a single key press (escape sequences and pastes are ignored)."""
    click.echo(PROMPT, nl=False)
    while True:
        try:
            key = click.getchar()
        except (KeyboardInterrupt, EOFError):
            return "quit"
        except OSError as exc:
            raise click.UsageError(
                "`ingest review` reads keys from a terminal; in scripts, use `ingest drafts accept|discard ID...`"
            ) from exc
        if key == "":  # end of input
            return "quit"
        if len(key) == 1 and key.lower() in KEYS:
            return KEYS[key.lower()]
        click.echo("\a", nl=False)  # the terminal bell: not one of the keys


@click.command("rerender")
@click.argument("refs", nargs=-1, metavar="[ID]...")
@click.option("--all", "all_drafts", is_flag=True, help="Every draft in the archive.")
@click.pass_context
def rerender(ctx: click.Context, refs: tuple[str, ...], all_drafts: bool) -> None:
    """Render drafts again from the raw messages kept in the ledger (after a converter improvement).

    Only untouched drafts are replaced (atomically, at the same path); a note that was edited or
    given another status since it was filed, or whose raw message is not kept, is skipped, with the
    reason. Exit code 3 if some note could not be rendered.

    \b
    Examples:
        ingest rerender --all
        ingest rerender c2f51ed 7c8e7e4
    """
    if bool(refs) == all_drafts:
        raise click.UsageError("give the IDs of the notes to re-render, or --all (not both)")
    arch = Archive.load(ctx)
    chosen = notes.select(arch.notes) if all_drafts else arch.find(refs)
    counts: Counter[str] = Counter()
    with notes.open_ledger(arch.config.state_dir) as ledger:
        for result in rerender_notes(arch.config, ledger, chosen):
            counts[result.outcome] += 1
            reason = f": {result.reason}" if result.reason else ""
            click.echo(f"{result.outcome:<10} {arch.short(result.note)}  {arch.path(result.note)}{reason}")
    click.echo(
        f"Done: {counts['rerendered']} re-rendered, {counts['unchanged']} unchanged, "
        f"{counts['skipped']} skipped, {counts['failed']} failed."
    )
    if counts["failed"]:
        ctx.exit(EXIT_SOME_FAILED)


# --- Output -------------------------------------------------------------------------------------------------------


def _show(arch: Archive, note: NoteFile) -> None:
    """The front matter in a few lines, then the body as rich Markdown."""
    when = note.date
    rows = [
        ("Title", note.title),
        ("Publication", note.publication),
        ("Author", note.field("author")),
        ("Date", when.isoformat(sep=" ", timespec="minutes") if when else ""),
        ("Status", note.status),
        ("Reviewed", note.field("reviewed_at")),
        ("URL", note.field("url")),
        ("Tags", ", ".join(note.tags)),
        ("Words", str(note.words)),
    ]
    click.echo(f"{arch.short(note)}  {arch.path(note)}")
    for name, value in rows:
        if value:
            click.echo(f"  {name + ':':<13}{value}")
    click.echo()
    print_markdown(note.body)


def _edit(note: NoteFile) -> str:
    """Open the note in the person's editor; "edited" or "unchanged"."""
    before = note.path.read_bytes()
    click.edit(filename=str(note.path))
    return "unchanged" if note.path.read_bytes() == before else "edited"


def _as_json(arch: Archive, note: NoteFile) -> dict[str, Any]:
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


def _table(arch: Archive, shown: list[NoteFile], with_status: bool) -> list[str]:
    header = ["ID", "DATE", *(["STATUS"] if with_status else []), "PUBLICATION", "TITLE", "WORDS"]
    rows = [
        [
            arch.short(n),
            f"{n.date:%Y-%m-%d}" if n.date else "-",
            *([n.status] if with_status else []),
            n.publication or "-",
            n.title or "-",
            str(n.words),
        ]
        for n in shown
    ]
    caps = [None] * (len(header) - 3) + [MAX_PUBLICATION, MAX_TITLE, None]
    widths = [min(max(_width(r[i]) for r in [header, *rows]), cap or 999) for i, cap in enumerate(caps)]
    lines = []
    for row in [header, *rows]:
        cells = [_fit(cell, width) for cell, width in zip(row[:-1], widths[:-1], strict=True)]
        lines.append("  ".join([*cells, row[-1].rjust(widths[-1])]))
    return lines


def _width(text: str) -> int:
    """Terminal columns: East Asian wide characters take two."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 0 if unicodedata.combining(c) else 1 for c in text)


def _fit(text: str, width: int) -> str:
    """`text` cut (with …) or padded to exactly `width` columns."""
    if _width(text) > width:
        while _width(text) > width - 1:
            text = text[:-1]
        text += "…"
    return text + " " * (width - _width(text))
