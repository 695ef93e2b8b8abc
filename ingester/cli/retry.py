"""`ingest retry`: try failed messages again, on the next run or at once (from the raw copies kept)."""

from __future__ import annotations

import time

import click

from ingester import pipeline
from ingester.cli.common import (
    EXIT_CODES_HELP,
    all_option,
    global_options,
    globals_of,
    load_config,
    report,
    say,
    stop_on_signal,
)
from ingester.cli.terminal import echo, to_json
from ingester.errors import ArchiveError
from ingester.message import RawMessage
from ingester.store import raw as raw_copies
from ingester.store import retries
from ingester.store.ledger import MAX_TRIES, Ledger


@click.command("retry", epilog=EXIT_CODES_HELP)
@click.argument("ids", nargs=-1, metavar="[ID]...")
@click.option("--all-failed", is_flag=True, help="Every message that failed, instead of IDs.")
@click.option("--now", is_flag=True, help="Try them at once, from the raw copies the archive keeps.")
@all_option
@global_options()
@click.pass_context
def retry_command(ctx: click.Context, ids: tuple[str, ...], all_failed: bool, now: bool, all_messages: bool) -> None:
    """Try failed messages again: on the next run, or at once with --now.

    A message that failed is tried again by later runs after a growing pause (1 min, 2, 4 … a day);
    after {tries} failures it is given up ("given up: fails every time" in `ingest status`) and no
    longer tried. This clears that pause, so the next run (`ingest`, `ingest import` of the same
    files, the daemon's next poll) tries it again; one more failure gives it up again. An ID is the
    message's source as `ingest log --failed` and `ingest status` show it (between [ ]), or its
    Message-ID (as `ingest explain` shows it). With --now the messages are converted and filed
    right away, as `ingest import` would, and the output is that run's summary.

    \b
    Examples:
        ingest log --failed                                  # what failed, and the source of each
        ingest retry 'imap://me/INBOX;UIDVALIDITY=1;UID=42'
        ingest retry '<issue-118@news.example.com>' --now
        ingest retry ~/Takeout/news.mbox#12 --json
        ingest retry --all-failed
    """
    if bool(ids) == all_failed:
        raise click.UsageError("give the IDs of failed messages, or --all-failed (not both)")
    opts = globals_of(ctx)
    config = load_config(ctx)
    if not (config.state_dir / "ledger.sqlite3").exists():
        raise ArchiveError(f"no ledger in {config.state_dir}: nothing was ingested into this archive yet")
    with Ledger(config.state_dir, exclusive=False) as ledger, ledger.writing():
        released = retries.release(ledger, list(ids), all_failed)
        kept = {r.key: raw_copies.read(ledger.state_dir, r.content_hash) for r in released} if now else {}
    if not released:
        say("Nothing to retry: no message failed.")
        return
    if now:
        for item in released:
            if kept[item.key] is None:
                echo(f"no raw copy of {item.source} is kept: it is tried on the next run", err=True)
        raws = [RawMessage(raw, item.source) for item in released if (raw := kept[item.key]) is not None]
        started = time.monotonic()
        with stop_on_signal() as stop:
            summary = pipeline.run(config, lambda run: run.handle_all(raws), all_messages, stop)
        report(summary, opts.as_json, stop, started)
        return
    if opts.as_json:
        click.echo(to_json([item.as_dict() for item in released]))
        return
    for item in released:
        echo(f"retry   {item.source}: {item.error} (tries: {item.attempts}, {item.was})")
    count = len(released)
    say(f"{count} {'message is' if count == 1 else 'messages are'} tried again on the next run.")


retry_command.help = (retry_command.help or "").replace("{tries}", str(MAX_TRIES))
