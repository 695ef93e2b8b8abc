"""`ingest fill`: options in, lines out; the work is done by `ingester.fill.run`."""

from __future__ import annotations

import json
import time
from collections import Counter

import click

from ingester.cli.common import EXIT_SOME_FAILED, global_options, globals_of, say, timing
from ingester.cli.listing import Archive, complete_ids
from ingester.cli.terminal import progress_bar
from ingester.fill.run import fill, open_client
from ingester.store import notes
from ingester.store.ledger import Ledger

OUTCOMES = ("filled", "skipped", "failed")


@click.command("fill")
@click.argument("refs", nargs=-1, metavar="[ID]...", shell_complete=complete_ids)
@click.option("--all", "all_drafts", is_flag=True, help="Every draft in the archive.")
@click.option("--force", is_flag=True, help="Fill again drafts filled already (never edited or reviewed notes).")
@global_options()
@click.pass_context
def fill_command(ctx: click.Context, refs: tuple[str, ...], all_drafts: bool, force: bool) -> None:
    """Fill drafts with the language model of [fill]: translated title, outline, topic tags, key points.

    The model gets the cleaned article only (no email headers, no address of yours, no links) and
    answers JSON of the schema in the prompt file; the answer is checked and written in the form of
    the example note, with the original article kept under its own heading. Only untouched drafts
    are filled; the status stays draft for you to accept. A failed, timed-out or invalid answer
    leaves the note as it was (exit code 3); -v says how the server was asked.

    \b
    Examples:
        ingest fill c2f51ed
        ingest fill --all
        ingest fill --all --force --json | jq '.notes[] | select(.outcome == "failed")'
    """
    if bool(refs) == all_drafts:
        raise click.UsageError("give the IDs of the notes to fill, or --all (not both)")
    opts = globals_of(ctx)
    arch = Archive.load(ctx)
    chosen = notes.select(arch.notes) if all_drafts else arch.find(refs)
    counts: Counter[str] = Counter()
    done = []
    started = time.monotonic()
    with (
        open_client(arch.config) as client,
        Ledger(arch.config.state_dir, exclusive=False) as ledger,  # fill takes the write lock per note
        progress_bar(not (opts.as_json or opts.quiet) and len(chosen) > 1, "filling", "notes") as progress,
    ):
        if progress is not None:
            progress(0, len(chosen))
        for result in fill(arch.config, ledger, chosen, client, force):
            counts[result.outcome] += 1
            if progress is not None:
                progress(1, 0)
            short, path = arch.short(result.note), arch.path(result.note)
            done.append({"id": short, "path": path, "outcome": result.outcome, "reason": result.reason})
            if not opts.as_json:
                reason = f": {result.reason}" if result.reason else ""
                say(f"{result.outcome:<8} {short}  {path}{reason}")
    elapsed = time.monotonic() - started
    if opts.as_json:
        summary = {**{k: counts[k] for k in OUTCOMES}, "filled_by": arch.config.fill.filled_by, "notes": done}
        click.echo(json.dumps({**summary, "elapsed_seconds": round(elapsed, 3)}, ensure_ascii=False, indent=2))
    else:
        say(
            f"Done: {counts['filled']} filled, {counts['skipped']} skipped, {counts['failed']} failed"
            f"{timing(len(chosen), elapsed, 'notes')}."
        )
    if counts["failed"]:
        ctx.exit(EXIT_SOME_FAILED)
