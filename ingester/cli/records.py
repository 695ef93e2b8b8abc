"""`ingest log`: what the ledger recorded about each message, newest first, so a person sees which
sender was skipped and why (and which to add to `allow_senders`)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import click

from ingester.cli.common import global_options, globals_of, load_config
from ingester.cli.listing import _width, fit, terminal_columns
from ingester.cli.terminal import echo, one_line, to_json
from ingester.store.ledger import Ledger

MAX_SENDER, MAX_SUBJECT = 32, 50
MIN_SENDER, MIN_SUBJECT = 12, 16  # narrower than this, the line is no use: the terminal wraps instead
MIN_DETAIL = 40  # the note, reason or error (and the source after it) gets this much before sender and subject


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
@click.option(
    "--wide", "-w", is_flag=True, help="Whole senders, subjects, reasons and sources, however wide the terminal."
)
@global_options()
@click.pass_context
def log_command(ctx: click.Context, outcomes: tuple[str, ...], since: datetime | None, limit: int, wide: bool) -> None:
    """Show the latest outcomes the ledger recorded: one line per message, newest first.

    Each line: when it was recorded, the outcome, the sender, the subject, then the note (filed), the
    reason (skipped) or the error (failed), and where the message came from. The flags combine
    (--skipped --failed); without any, every outcome. Duplicates are not listed: a message seen again
    keeps its first record. The lines fit the terminal ($COLUMNS), long fields cut with …; output to a
    file or pipe is cut only in senders and subjects (at 32 and 50 columns); --wide cuts nothing.

    \b
    Examples:
        ingest log --skipped                      # which senders were not taken, and why
        ingest log --failed -n 10
        ingest log --failed --wide | less -S      # whole errors and sources, scrolled sideways
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
    for line in table(rows, None if wide else terminal_columns(), wide):
        echo(line)


def table(rows: list[dict[str, Any]], columns: int | None, wide: bool = False) -> list[str]:
    """One line per row: when, outcome, sender, subject, then the detail and [source]. Sender and subject are
    cut with … to 32 and 50 columns (not with `wide`); to fit `columns` the end of the line is cut, once the
    subject, then the sender, have given way (down to 16 and 12) to leave it MIN_DETAIL."""
    senders = [one_line(row["sender"]) or "-" for row in rows]
    subjects = [one_line(row["subject"]) or "-" for row in rows]
    sender = min(max(map(_width, senders), default=1), 10**6 if wide else MAX_SENDER)
    subject = min(max(map(_width, subjects), default=1), 10**6 if wide else MAX_SUBJECT)
    if columns is not None:
        fixed = 16 + 2 + 7 + 2 + 2 + 2  # when, outcome and the spaces between the columns
        over = fixed + sender + subject + MIN_DETAIL - columns
        subject = max(min(MIN_SUBJECT, subject), subject - max(over, 0))
        over = fixed + sender + subject + MIN_DETAIL - columns
        sender = max(min(MIN_SENDER, sender), sender - max(over, 0))
    lines = []
    for row, who, what in zip(rows, senders, subjects, strict=True):
        when = row["recorded_at"][:16].replace("T", " ")
        head = f"{when}  {row['outcome']:<7}  {fit(who, sender)}  {fit(what, subject)}  "
        line = f"{head}{one_line(row['detail'])}  [{one_line(row['source'])}]"
        if columns is not None and _width(line) > columns:  # (at least 10 columns of it: else the terminal wraps)
            line = fit(line, max(columns, _width(head) + 10))
        lines.append(line.rstrip())
    return lines
