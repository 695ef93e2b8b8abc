"""`ingest review`: the drafts one at a time, a compact header and the first screenful of each, decided
with one key (and undone with another). Keys in, lines out; the work is done by `store.notes`."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

import click

from ingester.cli.common import global_options, say
from ingester.cli.drafts import DONE, _edit
from ingester.cli.listing import Archive
from ingester.cli.terminal import echo, markdown_lines, open_url, page, size
from ingester.errors import ArchiveError
from ingester.store import notes
from ingester.store.notes import NoteFile

__all__ = ["review"]

# Keys are case-sensitive: A and D decide a whole publication.
KEYS = {
    "a": "accept",
    "d": "discard",
    "e": "edit",
    "s": "skip",
    "v": "view",
    "o": "open",
    "u": "undo",
    "A": "accept all",
    "D": "discard all",
    "?": "help",
    "q": "quit",
}
PROMPT = "[a]ccept [d]iscard [e]dit [s]kip [v]iew [o]pen [u]ndo [?] [q]uit? "
HELP = """\
  a  accept (status: reviewed)          d  discard (moved to .discarded/)
  e  edit in $VISUAL/$EDITOR            s  skip (stays a draft)
  v  the whole note in $PAGER           o  open the original in $BROWSER (or print it)
  A  accept every draft of this publication (asks first)
  D  discard every draft of this publication (asks first)
  u  undo the last decision             ?  these keys
  q  quit (Ctrl-C and Ctrl-D too)"""
HEADER_LINES = 6  # position and id line, title, publication line, URL, counts, rule


@dataclass
class Session:
    """What the review has done: the counts it reports and the decisions `u` can undo."""

    counts: Counter[str] = field(default_factory=Counter)
    decisions: list[tuple[int, list[str], str]] = field(default_factory=list)  # (queue index, paths, status)


@click.command("review")
@click.option("--publication", default="", metavar="TEXT", help="Publication name (or id) contains TEXT.")
@click.option(
    "--since",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    metavar="YYYY-MM-DD",
    help="Drafts dated on or after this day.",
)
@click.option("--tag", "tags", multiple=True, metavar="TAG", help="Drafts with this tag (repeat: with all of them).")
@click.option("--search", default="", metavar="TEXT", help="TEXT in the title or body (any case).")
@click.option("--oldest/--newest", default=True, help="Oldest first (default) or newest first.")
@global_options(as_json=False)
@click.pass_context
def review(
    ctx: click.Context, publication: str, since: datetime | None, tags: tuple[str, ...], search: str, oldest: bool
) -> None:
    """Go through the drafts one at a time: a compact header, the first screenful, then one key decides.

    \b
    a accept, d discard, e edit (then decide), s skip, v the whole note in $PAGER (less -R),
    o open the original in $BROWSER (printed when there is none), A/D accept/discard every draft of
    this publication (after a count and a confirmation), u undo the last decision, ? the keys,
    q quit (Ctrl-C and Ctrl-D too). Keys are read straight from the terminal, so it works over SSH.
    The filters are those of `ingest drafts list`. The ledger is locked only while a decision is
    written (waiting up to 10 s for a running ingest); a decision that cannot be written is reported
    and the review goes on.

    \b
    Examples:
        ingest review
        ingest review --publication 'field notes' --newest
        ingest review --tag newsletter/substack --since 2025-01-01
        ssh home ingest review --config ~/vault.toml
    """
    arch = Archive.load(ctx)
    chosen = notes.select(arch.notes, "draft", publication, since.date() if since else None, tags, search)
    queue = notes.oldest_first(chosen) if oldest else chosen
    if not queue:
        filtered = publication or since or tags or search
        say(f"No drafts {'match' if filtered else 'to review'} in {arch.config.archive_shown}.")
        return
    session = Session()
    index = 0
    while index < len(queue):
        action = _review_one(arch, queue[index], f"[{index + 1}/{len(queue)}]", session, index)
        if action == "quit":
            break
        if action == "undo":
            index = session.decisions.pop()[0] if session.decisions else index
            continue
        index += 1
    left = len(notes.select(notes.scan(arch.config.archive_path, notes.filed_notes(arch.config.state_dir))))
    counts = session.counts
    failed = f", {counts['failed']} not saved" if counts["failed"] else ""
    click.echo(
        f"Reviewed: {counts['accepted']} accepted, {counts['discarded']} discarded, "
        f"{counts['skipped']} skipped{failed}; {left} {'draft' if left == 1 else 'drafts'} left."
    )


def _review_one(arch: Archive, note: NoteFile, position: str, session: Session, index: int) -> str:
    """Show one draft and act on keys until it is decided; returns the last action."""
    shown = True
    while True:
        try:
            note = notes.reread(arch.config.archive_path, note)
        except ArchiveError:
            return "gone"
        if note.status != "draft" or note.discarded:
            return "gone"  # decided elsewhere meanwhile
        if shown:
            click.echo(f"{position} ", nl=False)
            _show(arch, note)
        shown = False
        action = _read_key()
        click.echo(action)
        if action in ("accept", "discard", "accept all", "discard all"):
            group = [note] if " " not in action else _same_publication(arch, note)
            if not group:
                continue
            status = "reviewed" if action.startswith("accept") else "discarded"
            decided = _decide(arch, group, status, session)
            if decided:
                session.decisions.append((index, decided, status))
            return action if decided or len(group) == 1 else "skip"
        if action == "undo":
            if not session.decisions:
                click.echo("Nothing to undo.")
                continue
            _undo(arch, session)
            return "undo"
        if action == "edit":
            try:
                click.echo(f"{_edit(note):<10} {arch.short(note)}  {arch.path(note)}\n")
            except click.ClickException as exc:  # the editor failed: say so, show the note again
                click.echo(f"Error: {exc.format_message()}\n", err=True)
            shown = True
        elif action == "view":
            page("\n".join([*_header(arch, note), *markdown_lines(note.body)]))
            shown = True
        elif action == "open":
            url = note.field("url")
            used = open_url(url) if url else ""
            click.echo(f"opened in {used}: {url}" if used else f"URL: {url or '(none)'}")
        elif action == "help":
            click.echo(HELP)
        elif action == "skip":
            session.counts["skipped"] += 1
            click.echo()
            return action
        elif action == "quit":
            return action


def _same_publication(arch: Archive, note: NoteFile) -> list[NoteFile]:
    """Every draft of this note's publication (by its id when it has one), after a count and a yes."""
    key = note.field("publication_id") or note.publication
    drafts = notes.select(notes.scan(arch.config.archive_path, notes.filed_notes(arch.config.state_dir)))
    group = [n for n in drafts if (n.field("publication_id") or n.publication) == key]
    name = note.publication or key or "(no publication)"
    echo(f"{len(group)} {'draft' if len(group) == 1 else 'drafts'} of {name}. Sure? [y/N] ", nl=False)
    answer = _getchar()
    click.echo(answer if answer.isprintable() else "")
    return group if answer in ("y", "Y") else []


def _decide(arch: Archive, group: list[NoteFile], status: str, session: Session) -> list[str]:
    """Give every note of `group` this status; the paths (relative) they have afterwards."""
    decided = []
    try:
        with notes.open_ledger(arch.config.state_dir) as ledger:
            for note in group:
                moved_to = notes.set_status(ledger, arch.config.archive_path, note, status)
                if moved_to is None:
                    continue
                decided.append(moved_to)
                session.counts[DONE[status]] += 1
                click.echo(f"{DONE[status]:<10} {arch.short(note)}  {arch.path(moved_to)}")
    except ArchiveError as exc:  # e.g. an ingest holds the archive: say so, keep reviewing
        click.echo(f"Error: {exc}\n", err=True)
        session.counts["failed"] += 1
    click.echo()
    return decided


def _undo(arch: Archive, session: Session) -> None:
    """Make the notes of the last decision drafts again (a discarded one comes back)."""
    _, paths, status = session.decisions[-1]
    root = arch.config.archive_path
    with notes.open_ledger(arch.config.state_dir) as ledger:
        for relative in paths:
            note = notes.read_note(root, root / relative)
            if note is None:
                continue
            moved_to = notes.set_status(ledger, root, note, "draft")
            session.counts[DONE[status]] -= 1
            click.echo(f"{'undone':<10} {arch.short(note)}  {arch.path(moved_to or note)}")
    click.echo()


def _read_key() -> str:
    """One of KEYS' actions, from a single key press; any other key is named as not one of them."""
    click.echo(PROMPT, nl=False)
    while True:
        key = _getchar()
        if key == "":  # end of input, Ctrl-C, Ctrl-D
            return "quit"
        if key in KEYS:
            return KEYS[key]
        shown = key if key.isprintable() else repr(key)
        click.echo(f"\a{shown} is not a key (? lists them) ", nl=False)


def _getchar() -> str:
    """A key press; "" at the end of input or on Ctrl-C/Ctrl-D."""
    try:
        key = click.getchar()
    except (KeyboardInterrupt, EOFError):
        return ""
    except OSError as exc:
        raise click.UsageError(
            "`ingest review` reads keys from a terminal; in scripts, use `ingest drafts accept|discard ID...`"
        ) from exc
    return "" if key in ("\x03", "\x04") else key


# --- Output -------------------------------------------------------------------------------------------------------


def _header(arch: Archive, note: NoteFile) -> list[str]:
    """The few lines a decision needs: id, date, path; title; publication and author; URL; counts."""
    when = note.date
    flags = [f"{note.field('links_cleaned') or 0} links cleaned"]
    flags += [f"{note.field(k)} {k.replace('_', ' ')}" for k in ("opaque_links",) if note.field(k) not in ("", "0")]
    fidelity = note.meta.get("fidelity")
    if fidelity:
        flags.append(f"fidelity: {fidelity if isinstance(fidelity, str) else ', '.join(map(str, fidelity))}")
    author = note.field("author")
    by = f"  by {author}" if author and author != note.publication else ""
    return [
        f"{arch.short(note)}  {when:%Y-%m-%d}  {arch.path(note)}" if when else f"{arch.short(note)}  {arch.path(note)}",
        f"  {note.title or '(no title)'}",
        f"  {note.publication or '(no publication)'}{by}",
        f"  {note.field('url') or '(no URL)'}",
        f"  {note.words} words · " + " · ".join(flags),
        "─" * min(size()[0], 80),
    ]


def _show(arch: Archive, note: NoteFile) -> None:
    """The header, then as much of the article as fits the terminal (`v` shows the whole note). The
    article starts at the note's first `###` section: what the layout puts before it is in the header."""
    header = _header(arch, note)
    start = note.body.find("\n### ")
    body = markdown_lines(note.body[start + 1 :] if start >= 0 else note.body)
    room = max(5, size()[1] - len(header) - 3)
    for line in header:
        echo(line)  # the note's own values: made printable
    for line in body[:room]:
        click.echo(line)  # rendered from printable text; the styles are rich's
    if len(body) > room:
        click.echo(f"… {len(body) - room} more lines: v shows the whole note")
