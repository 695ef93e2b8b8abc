"""`ingest log`: what the ledger recorded about each message, newest first, so a person sees which
sender was skipped and why (and which to add to `allow_senders`)."""

from __future__ import annotations

from datetime import datetime

import click

from ingester.cli.common import global_options, globals_of, load_config
from ingester.cli.listing import fit
from ingester.cli.terminal import echo, one_line, to_json
from ingester.store.ledger import Ledger

MAX_SENDER, MAX_SUBJECT = 32, 50


@click.command("log")
@click.option("--filed", "outcomes", flag_value="filed", multiple=True, help="Messages filed as notes.")
@click.option("--skipped", "outcomes", flag_value="skipped", multiple=True, help="Messages skipped, with the reason.")
@click.option("--failed", "outcomes", flag_value="failed", multiple=True, help="Messages that failed, with the error.")
@click.option(
    "--since",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    metavar="YYYY-MM-DD",
    help="Recorded on or after this day (UTC).",
)
@click.option(
    "--limit", "-n", type=click.IntRange(1), default=50, show_default=True, metavar="N", help="At most N messages."
)
@global_options()
@click.pass_context
def log_command(ctx: click.Context, outcomes: tuple[str, ...], since: datetime | None, limit: int) -> None:
    """Show the latest outcomes the ledger recorded: one line per message, newest first.

    Each line: when it was recorded, the outcome, the sender, the subject, then the note (filed), the
    reason (skipped) or the error (failed), and where the message came from. The flags combine
    (--skipped --failed); without any, every outcome. Duplicates are not listed: a message seen again
    keeps its first record.

    \b
    Examples:
        ingest log --skipped                      # which senders were not taken, and why
        ingest log --failed -n 10
        ingest log --since 2025-03-01 --json | jq -r '.[].sender' | sort | uniq -c
    """
    config = load_config(ctx)
    with Ledger(config.state_dir, readonly=True) as ledger:
        rows = ledger.log(outcomes or ("filed", "skipped", "failed"), f"{since:%Y-%m-%d}" if since else "", limit)
    if globals_of(ctx).as_json:
        click.echo(to_json(rows))
        return
    if not rows:
        click.echo(f"Nothing recorded in {config.archive_shown} matches.")
        return
    for row in rows:
        when = row["recorded_at"][:16].replace("T", " ")
        echo(
            f"{when}  {row['outcome']:<7}  {fit(one_line(row['sender']) or '-', MAX_SENDER)}  "
            f"{fit(one_line(row['subject']) or '-', MAX_SUBJECT)}  {row['detail']}  [{row['source']}]"
        )
