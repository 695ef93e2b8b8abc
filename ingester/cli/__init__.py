"""The `ingest` command line: parse options, call the pipeline, print results. No business logic.

`common` (exit codes, errors, global options, signals, the run report), `terminal` (progress,
Markdown; the rich importer), `run` (import, daemon, status, explain, clean-url), `drafts` (reviewing
notes), `review` (the interactive review), `settings` (config path|show|init), `records` (log), `audit`
(privacy check of the notes), `fill` (drafts filled by a language model). The group itself, below, is
the default command: an IMAP run.
"""

from __future__ import annotations

import os
import time
from datetime import datetime

import click

from ingester import __version__, runs
from ingester.cli import accounts, audit, drafts, fill, records, review, run, settings
from ingester.cli.common import (
    EXIT_CODES_HELP,
    IngestGroup,
    all_option,
    check_group_options,
    global_options,
    globals_of,
    jobs_option,
    load_config,
    report,
    setup_logging,
    stop_on_signal,
)
from ingester.cli.retry import retry_command
from ingester.cli.terminal import progress_bar


@click.group(
    cls=IngestGroup,
    invoke_without_command=True,
    epilog=EXIT_CODES_HELP,
    context_settings={"help_option_names": ["-h", "--help"]},
)
@click.option(
    "--since",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    metavar="YYYY-MM-DD",
    help="Backfill: messages received on or after this date (IMAP SINCE).",
)
@all_option
@jobs_option
@global_options()
@click.version_option(__version__, prog_name="ingest")
@click.pass_context
def cli(ctx: click.Context, since: datetime | None, all_messages: bool, jobs: int) -> None:
    """Turn the newsletters in your IMAP mailbox into clean Markdown notes.

    Without a subcommand, read the configured IMAP account(s) and file every newsletter not filed
    yet: with --since, all messages received since that date; without it, what arrived since the
    last run (everything, the first time). Nothing on the server is changed.

    \b
    Examples:
        ingest --since 2025-01-01            # one-off backfill
        ingest --since 2025-01-01 --json     # same, summary as JSON
        ingest import ~/Takeout/news.mbox    # from local files instead
        ingest -q                            # from cron: prints nothing unless something is wrong

    Global options (--config, --json, -v, -q) work before or after any command; -h is --help.
    """
    opts = globals_of(ctx)
    setup_logging(opts.verbose, opts.quiet)
    check_group_options(ctx, ("since", "all_messages", "jobs", "as_json"))
    if ctx.invoked_subcommand is None:
        config = load_config(ctx)
        started = time.monotonic()
        with stop_on_signal() as stop, progress_bar(not (opts.as_json or opts.quiet)) as progress:
            summary = runs.run_imap(config, since.date() if since else None, all_messages, stop, jobs, progress)
        report(summary, opts.as_json, stop, started)


for command in (
    run.import_,
    run.daemon_command,
    run.status_command,
    run.explain_command,
    run.clean_url_command,
    drafts.drafts,
    review.review,
    drafts.rerender,
    fill.fill_command,
    settings.config_group,
    records.log_command,
    audit.audit_command,
    retry_command,
    accounts.folders_command,
):
    cli.add_command(command)


def main() -> None:
    """Console-script entry point."""
    os.umask(0o077)  # notes, ledger, raw messages: readable by the user only
    cli(prog_name="ingest")
