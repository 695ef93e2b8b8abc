"""The `ingest` command line: parse options, call the pipeline, print results. No business logic.

`common` (exit codes, errors, shared options, the run report), `terminal` (progress, Markdown; the
rich importer), `run` (import, daemon, status, explain, clean-url), `drafts` (reviewing notes),
`audit` (privacy check of the notes). The
group itself, below, is the default command: an IMAP run.
"""

from __future__ import annotations

import os
from datetime import datetime

import click

from ingester import __version__, pipeline
from ingester import config as config_mod
from ingester.cli import audit, drafts, run
from ingester.cli.common import (
    EXIT_CODES_HELP,
    IngestGroup,
    all_option,
    jobs_option,
    json_option,
    load_config,
    report,
    setup_logging,
    stop_on_signal,
)
from ingester.cli.terminal import progress_bar


@click.group(cls=IngestGroup, invoke_without_command=True, epilog=EXIT_CODES_HELP)
@click.option(
    "--since",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    metavar="YYYY-MM-DD",
    help="Backfill: messages received on or after this date (IMAP SINCE).",
)
@json_option
@all_option
@jobs_option
@click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False),
    envvar=config_mod.ENV_VAR,
    help=f"Config file (default: ${config_mod.ENV_VAR}, else config/ingester.toml).",
)
@click.option(
    "-v", "--verbose", count=True, help="Debug logging and tracebacks (-vv: also the IMAP library's own debug log)."
)
@click.option("-q", "--quiet", is_flag=True, help="Only errors.")
@click.version_option(__version__, prog_name="ingest")
@click.pass_context
def cli(
    ctx: click.Context,
    since: datetime | None,
    as_json: bool,
    all_messages: bool,
    jobs: int,
    config_path: str | None,
    verbose: int,
    quiet: bool,
) -> None:
    """Turn the newsletters in your IMAP mailbox into clean Markdown notes.

    Without a subcommand, read the configured IMAP account(s) and file every newsletter not filed
    yet: with --since, all messages received since that date; without it, what arrived since the
    last run (everything, the first time). Nothing on the server is changed.

    \b
    Examples:
        ingest --since 2025-01-01            # one-off backfill
        ingest --since 2025-01-01 --json     # same, summary as JSON
        ingest import ~/Takeout/news.mbox    # from local files instead
    """
    setup_logging(verbose, quiet)
    ctx.ensure_object(dict)
    ctx.obj["config_path"] = config_path
    ctx.obj["quiet"] = quiet
    if ctx.invoked_subcommand is None:
        config = load_config(ctx)
        with stop_on_signal() as stop, progress_bar(not (as_json or quiet)) as progress:
            summary = pipeline.run_imap(config, since.date() if since else None, all_messages, stop, jobs, progress)
        report(summary, as_json)


for command in (
    run.import_,
    run.daemon_command,
    run.status_command,
    run.explain_command,
    run.clean_url_command,
    drafts.drafts,
    drafts.review,
    drafts.rerender,
    audit.audit_command,
):
    cli.add_command(command)


def main() -> None:
    """Console-script entry point."""
    os.umask(0o077)  # notes, ledger, raw messages: readable by the user only
    cli(prog_name="ingest")
