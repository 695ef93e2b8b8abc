"""The reviewer's commands: `ingest drafts list|show|edit|accept|discard|reopen`, `ingest rerender`
(`ingest review` is in `review`). Options in, lines out; the work is done by `store.notes` and `rerender`.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from datetime import datetime

import click

from ingester.cli.common import EXIT_SOME_FAILED, check_group_options, global_options, globals_of, say, timing
from ingester.cli.listing import Archive, as_json, complete_ids, table, terminal_columns
from ingester.cli.terminal import echo, print_markdown, printable, progress_bar, to_json
from ingester.rerender import rerender as rerender_notes
from ingester.store import notes
from ingester.store.notes import NoteFile

__all__ = ["Archive", "NoteFile", "drafts", "rerender"]

DONE = {"reviewed": "accepted", "discarded": "discarded", "draft": "reopened"}


class DraftsGroup(click.Group):
    """`ingest drafts [OPTIONS]` is `ingest drafts list [OPTIONS]`."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if not args or (args[0].startswith("-") and args[0] not in self.get_help_option_names(ctx)):
            args = ["list", *args]
        return super().parse_args(ctx, args)


@click.group(cls=DraftsGroup)
@click.pass_context
def drafts(ctx: click.Context) -> None:
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
    check_group_options(ctx, ("as_json",))


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
@click.option("--limit", "-n", type=click.IntRange(0), metavar="N", help="At most N notes (the newest).")
@click.option("--wide", "-w", is_flag=True, help="Whole titles and publications, however wide the terminal.")
@global_options()
@click.pass_context
def list_(
    ctx: click.Context,
    status: str,
    publication: str,
    since: datetime | None,
    tags: tuple[str, ...],
    search: str,
    limit: int | None,
    wide: bool,
) -> None:
    """List notes, newest first: id, date, publication, title, words.

    Reads the note files only (never the ledger), so it works while an ingest is running. The table
    fits the terminal ($COLUMNS), long titles cut with …; --wide shows them whole.

    \b
    Examples:
        ingest drafts list
        ingest drafts list --status reviewed --since 2025-01-01
        ingest drafts list --publication 'field notes' --search 'small models'
        ingest drafts list --status all --json | jq '.[].path'
        ingest drafts -n 10                           # the ten newest drafts
        ingest drafts --wide | less -S                # whole titles, scrolled sideways
    """
    arch = Archive.load(ctx)
    shown = notes.select(arch.notes, status, publication, since.date() if since else None, tags, search)
    shown = shown[:limit] if limit is not None else shown
    if globals_of(ctx).as_json:
        click.echo(to_json([as_json(arch, note) for note in shown]))
    elif not shown:
        filtered = publication or since or tags or search
        where = arch.config.archive_shown
        click.echo(f"No drafts in {where}." if status == "draft" and not filtered else f"No notes match in {where}.")
    else:
        for line in table(arch, shown, status == "all", terminal_columns(), wide):
            click.echo(line)


@drafts.command("show")
@click.argument("ref", metavar="ID", shell_complete=complete_ids)
@click.option("--raw", is_flag=True, help="Print the file as it is (front matter and Markdown).")
@global_options()
@click.pass_context
def show(ctx: click.Context, ref: str, raw: bool) -> None:
    """Show a note: its front matter summarised, then the Markdown rendered for the terminal.

    \b
    Examples:
        ingest drafts show c2f51ed
        ingest drafts show c2f51ed --raw > copy.md
        ingest drafts show c2f51ed --json | jq -r .body
    """
    arch = Archive.load(ctx)
    note = arch.find([ref])[0]
    if globals_of(ctx).as_json:
        click.echo(to_json({**as_json(arch, note), "body": note.body}))
    elif raw:
        click.echo(printable(note.text), nl=False)
    else:
        _show(arch, note)


@drafts.command("edit")
@click.argument("ref", metavar="ID", shell_complete=complete_ids)
@global_options(as_json=False)
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
    say(f"{_edit(note):<10} {arch.short(note)}  {arch.path(note)}")


@drafts.command("accept")
@click.argument("refs", nargs=-1, required=True, metavar="ID...", shell_complete=complete_ids)
@global_options()
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
@click.argument("refs", nargs=-1, required=True, metavar="ID...", shell_complete=complete_ids)
@global_options()
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
    check_group_options(ctx, ("as_json",))
    _set_status(ctx, refs, "discarded")


@drafts.command("reopen")
@click.argument("refs", nargs=-1, required=True, metavar="ID...", shell_complete=complete_ids)
@global_options()
@click.pass_context
def reopen(ctx: click.Context, refs: tuple[str, ...]) -> None:
    """Make notes drafts again (a discarded note moves back into the archive).

    \b
    Examples:
        ingest drafts reopen c2f51ed
    """
    _set_status(ctx, refs, "draft")


def _set_status(ctx: click.Context, refs: tuple[str, ...], status: str) -> None:
    """Decide each note; a line each (or a JSON array of {id, path, outcome})."""
    arch = Archive.load(ctx)
    chosen = arch.find(refs)  # every id is checked before any note changes
    done = []
    with notes.open_ledger(arch.config.state_dir) as ledger:
        for note in chosen:
            moved_to = notes.set_status(ledger, arch.config.archive_path, note, status)
            outcome = "unchanged" if moved_to is None else DONE[status]
            done.append({"id": arch.short(note), "path": arch.path(moved_to or note), "outcome": outcome})
            if globals_of(ctx).as_json:
                continue
            if moved_to is None:
                say(f"{'unchanged':<10} {arch.short(note)}  {arch.path(note)} (already {status})")
            else:
                say(f"{DONE[status]:<10} {arch.short(note)}  {arch.path(moved_to)}")
    if globals_of(ctx).as_json:
        click.echo(json.dumps(done, ensure_ascii=False, indent=2))


@click.command("rerender")
@click.argument("refs", nargs=-1, metavar="[ID]...", shell_complete=complete_ids)
@click.option("--all", "all_drafts", is_flag=True, help="Every draft in the archive.")
@global_options()
@click.pass_context
def rerender(ctx: click.Context, refs: tuple[str, ...], all_drafts: bool) -> None:
    """Render drafts again from the raw messages kept in the ledger (after a converter improvement).

    Only untouched drafts are replaced (atomically, at the same path); a note that was edited or
    given another status since it was filed, or whose raw message is not kept, is skipped, with the
    reason. Unchanged notes are listed with -v only; a terminal shows a progress bar. Exit code 3 if
    some note could not be rendered.

    \b
    Examples:
        ingest rerender --all
        ingest rerender c2f51ed 7c8e7e4
        ingest rerender --all --json | jq '.notes[] | select(.outcome == "skipped")'
    """
    if bool(refs) == all_drafts:
        raise click.UsageError("give the IDs of the notes to re-render, or --all (not both)")
    opts = globals_of(ctx)
    arch = Archive.load(ctx)
    chosen = notes.select(arch.notes) if all_drafts else arch.find(refs)
    counts: Counter[str] = Counter()
    done = []
    started = time.monotonic()
    with (
        notes.open_ledger(arch.config.state_dir) as ledger,
        progress_bar(not (opts.as_json or opts.quiet), "rendering", "notes") as progress,
    ):
        if progress is not None:
            progress(0, len(chosen))
        for result in rerender_notes(arch.config, ledger, chosen):
            counts[result.outcome] += 1
            if progress is not None:
                progress(1, 0)
            short, path = arch.short(result.note), arch.path(result.note)
            done.append({"id": short, "path": path, "outcome": result.outcome, "reason": result.reason})
            if not opts.as_json and (result.outcome != "unchanged" or opts.verbose):
                reason = f": {result.reason}" if result.reason else ""
                say(f"{result.outcome:<10} {short}  {path}{reason}")
    elapsed = time.monotonic() - started
    if opts.as_json:
        summary = {**{k: counts[k] for k in ("rerendered", "unchanged", "skipped", "failed")}, "notes": done}
        click.echo(json.dumps({**summary, "elapsed_seconds": round(elapsed, 3)}, ensure_ascii=False, indent=2))
    else:
        say(
            f"Done: {counts['rerendered']} re-rendered, {counts['unchanged']} unchanged, "
            f"{counts['skipped']} skipped, {counts['failed']} failed{timing(len(chosen), elapsed, 'notes')}."
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
    echo(f"{arch.short(note)}  {arch.path(note)}")
    for name, value in rows:
        if value:
            echo(f"  {name + ':':<13}{value}")
    click.echo()
    print_markdown(note.body)


def _edit(note: NoteFile) -> str:
    """Open the note in the person's editor; "edited" or "unchanged"."""
    before = note.path.read_bytes()
    click.edit(filename=str(note.path))
    return "unchanged" if note.path.read_bytes() == before else "edited"
