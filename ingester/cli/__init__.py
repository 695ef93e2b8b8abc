"""The `ingest` command line: parse options, call the pipeline, print results. No business logic.

Exit codes: 0 done; 1 runtime error (server unreachable, TLS, login, archive); 2 usage or config
error; 3 the run finished but some messages failed (each is recorded with its error).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import click

from ingester import __version__, links, pipeline
from ingester import config as config_mod
from ingester.errors import IngesterError
from ingester.source import RawMessage
from ingester.state import Ledger

EXIT_SOME_FAILED = 3
EXIT_CODES_HELP = """\b
Exit codes:
  0  done (nothing failed)
  1  runtime error: server unreachable, TLS or login failure, archive not writable
  2  usage or configuration error
  3  finished, but some messages failed (recorded; retried on the next run)"""


class IngestGroup(click.Group):
    """Turns our errors into one `Error: …` line and the right exit code (traceback only with -v)."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except IngesterError as exc:
            if logging.getLogger().isEnabledFor(logging.DEBUG):
                logging.getLogger(__name__).debug("traceback", exc_info=True)
            error = click.ClickException(str(exc))
            error.exit_code = exc.exit_code
            raise error from None


def _setup_logging(verbose: int, quiet: bool) -> None:
    level = logging.DEBUG if verbose else logging.ERROR if quiet else logging.WARNING
    logging.basicConfig(level=level, format="%(levelname)s: %(message)s", stream=sys.stderr, force=True)
    if verbose < 2:  # imapclient logs every command at DEBUG; only with -vv
        logging.getLogger("imapclient").setLevel(max(level, logging.INFO))


def _load_config(ctx: click.Context) -> config_mod.Config:
    return config_mod.load(ctx.obj["config_path"])


def _report(summary: pipeline.RunSummary, as_json: bool) -> None:
    """Print what a run did and exit with the code that says how it went."""
    if as_json:
        click.echo(json.dumps(summary.as_dict(), ensure_ascii=False, indent=2))
    elif summary.errors and not summary.seen:
        pass  # nothing was read: the error lines below say it all
    else:
        for note in summary.notes:
            click.echo(f"filed   {note}")
        for failure in summary.failures:
            click.echo(f"failed  {failure['source']}: {failure['error']}")
        for item in summary.needs_action:
            link = f" → {item['link']}" if item["link"] else ""
            click.echo(f"action  {item['reason']}: {item['subject']!r}{link}")
        counts = (f"{summary.filed} filed, {summary.skipped} skipped, {summary.duplicates} duplicates, "
                  f"{summary.failed} failed")
        if summary.stopped:
            click.echo(f"Stopped early: {counts}. Run the same command again to continue.")
        elif summary.filed == 0 and summary.failed == 0 and not summary.errors:
            click.echo(f"Nothing new: {counts}.")
        else:
            click.echo(f"Done: {counts}.")
    for error in summary.errors:
        click.echo(f"Error: {error}", err=True)
    if summary.errors:
        sys.exit(1)
    if summary.failed:
        sys.exit(EXIT_SOME_FAILED)


@contextlib.contextmanager
def _stop_on_signal() -> Iterator[threading.Event]:
    """SIGTERM/SIGINT finish the message in hand and end the run cleanly (exit 0, rerun continues)."""
    stop = threading.Event()

    def handler(signum: int, frame: object) -> None:
        if stop.is_set():  # a second signal: stop now
            raise KeyboardInterrupt
        stop.set()

    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield stop
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


@contextlib.contextmanager
def _progress(enabled: bool) -> Iterator[Callable[[int, int], None] | None]:
    """A progress bar on stderr (messages done, rate, ETA) for runs longer than a few seconds.

    Only on a terminal, never with --json or -q; it appears after PROGRESS_AFTER seconds so quick
    runs print nothing but their result.
    """
    if not enabled or not sys.stderr.isatty():
        yield None
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    state = {"done": 0, "total": 0, "bar": None, "task": None}
    started = time.monotonic()
    bar = Progress(TextColumn("filing"), BarColumn(), MofNCompleteColumn(),
                   TextColumn("{task.fields[rate]:>6.1f} msg/s"), TimeRemainingColumn(), transient=True)

    def update(advance: int, more: int) -> None:
        state["done"] += advance
        state["total"] += more
        elapsed = time.monotonic() - started
        if state["task"] is None and elapsed >= PROGRESS_AFTER:
            bar.start()
            state["task"] = bar.add_task("filing", total=state["total"] or None, rate=0.0)
        if state["task"] is not None:
            bar.update(state["task"], completed=state["done"], total=max(state["total"], state["done"]) or None,
                       rate=state["done"] / elapsed)

    try:
        yield update
    finally:
        if state["task"] is not None:
            bar.stop()


PROGRESS_AFTER = 2.0  # seconds


json_option = click.option("--json", "as_json", is_flag=True, help="Print the run summary as one JSON object.")
jobs_option = click.option("--jobs", "-j", type=click.IntRange(1, 64), default=os.cpu_count() or 1,
                           show_default="number of cores", help="Worker processes converting messages.")
all_option = click.option("--all", "all_messages", is_flag=True,
                          help="File every message, not only those that look like newsletters.")


@click.group(cls=IngestGroup, invoke_without_command=True, epilog=EXIT_CODES_HELP)
@click.option("--since", type=click.DateTime(formats=["%Y-%m-%d"]), metavar="YYYY-MM-DD",
              help="Backfill: messages received on or after this date (IMAP SINCE).")
@json_option
@all_option
@jobs_option
@click.option("--config", "config_path", type=click.Path(dir_okay=False), envvar=config_mod.ENV_VAR,
              help=f"Config file (default: ${config_mod.ENV_VAR}, else config/ingester.toml).")
@click.option("-v", "--verbose", count=True, help="Debug logging and tracebacks (-vv: also the IMAP library's own debug log).")
@click.option("-q", "--quiet", is_flag=True, help="Only errors.")
@click.version_option(__version__, prog_name="ingest")
@click.pass_context
def cli(ctx: click.Context, since: datetime | None, as_json: bool, all_messages: bool, jobs: int,
        config_path: str | None, verbose: int, quiet: bool) -> None:
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
    _setup_logging(verbose, quiet)
    ctx.ensure_object(dict)
    ctx.obj["config_path"] = config_path
    ctx.obj["quiet"] = quiet
    if ctx.invoked_subcommand is None:
        config = _load_config(ctx)
        with _stop_on_signal() as stop, _progress(not (as_json or quiet)) as progress:
            summary = pipeline.run_imap(config, since.date() if since else None, all_messages, stop, jobs, progress)
        _report(summary, as_json)


@cli.command("import", epilog=EXIT_CODES_HELP)
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@json_option
@all_option
@jobs_option
@click.pass_context
def import_(ctx: click.Context, paths: tuple[Path, ...], as_json: bool, all_messages: bool, jobs: int) -> None:
    """File the newsletters found in local files: mbox, Maildir, .eml, or folders of .eml.

    Same pipeline and archive as an IMAP run; a message already filed (same Message-ID) is
    never filed twice.

    \b
    Examples:
        ingest import ~/Takeout/newsletters.mbox
        ingest import ~/Mail/Newsletters/          # a Maildir or a folder of .eml files
        ingest import issue.eml --json
    """
    with _stop_on_signal() as stop, _progress(not (as_json or ctx.obj["quiet"])) as progress:
        summary = pipeline.run_local(_load_config(ctx), list(paths), all_messages, stop, jobs, progress)
    _report(summary, as_json)


@cli.command("daemon")
@click.pass_context
def daemon_command(ctx: click.Context) -> None:
    """Keep running: file new newsletters as they arrive, from every configured account.

    Polls each account every `[daemon] interval` (default 15m) and, where the server supports
    it and `idle = true` (the default), holds an IMAP IDLE connection per folder so a new issue
    is filed within seconds. Network faults are retried with backoff. SIGTERM/SIGINT stop it
    cleanly; SIGHUP reloads the config. One ingest per archive at a time.

    \b
    Examples:
        ingest daemon
        ingest -v daemon --config ~/.config/ingester.toml
        systemctl --user enable --now ingester     # config/ingester.service
    """
    from ingester.scheduler import run_daemon  # APScheduler is only needed here

    run_daemon(_load_config(ctx), ctx.obj["config_path"])


@cli.command("status")
@json_option
@click.pass_context
def status_command(ctx: click.Context, as_json: bool) -> None:
    """Show what the ledger knows: per account and folder, and the messages that failed.

    Reads the ledger without locking it, so it works while `ingest daemon` runs.

    \b
    Examples:
        ingest status
        ingest status --json | jq '.failures'
    """
    config = _load_config(ctx)
    with Ledger(config.state_dir, readonly=True) as ledger:
        status = ledger.status()
    if as_json:
        click.echo(json.dumps(status, ensure_ascii=False, indent=2))
        return
    totals = status["totals"]
    click.echo(f"archive: {config.archive_path}  ({totals['filed']} filed, {totals['skipped']} skipped, "
               f"{totals['failed']} failed)")
    for account in status["accounts"]:
        line = f"account {account['account']}: last success {account['last_success'] or 'never'}"
        if account["last_error"]:
            line += f"; last error {account['last_error_at']}: {account['last_error']}"
        click.echo(line)
    for folder in status["folders"]:
        click.echo(f"  {folder['account']}/{folder['folder']}: last poll {folder['last_poll']}, "
                   f"{folder['filed']} filed, {folder['skipped']} skipped, {folder['failed']} failed, "
                   f"high-water UID {folder['high_water_uid']} (UIDVALIDITY {folder['uidvalidity']})")
    for failure in status["failures"]:
        click.echo(f"failed  {failure['source']}: {failure['error']} (tries: {failure['attempts']}, "
                   f"next after {failure['retry_after'] or 'next run'})")


@cli.command("explain")
@click.argument("message_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.pass_context
def explain_command(ctx: click.Context, message_file: Path) -> None:
    """Show every decision for one message, without filing anything.

    Newsletter or not and why, platform, each metadata field and where it came from, what was
    cleaned and which email chrome was removed.

    \b
    Examples:
        ingest explain issue.eml
        ingest explain ~/Mail/cur/1700000000.M1P2.host:2,S
    """
    raw = RawMessage(raw=message_file.read_bytes(), source=str(message_file))
    for line in pipeline.explain(_load_config(ctx), raw):
        click.echo(line)


@cli.command("clean-url")
@click.argument("urls", nargs=-1)
@click.option("--explain", is_flag=True, help="Show each step: wrappers decoded, parameters removed and by which rule.")
def clean_url_command(urls: tuple[str, ...], explain: bool) -> None:
    """Print each URL cleaned, one per line (reads URLs from stdin when none is given).

    Offline: wrappers are decoded from the link itself, never requested.

    \b
    Examples:
        ingest clean-url 'https://example.substack.com/p/slug?utm_source=post-email-title&r=2x'
        ingest clean-url --explain 'https://www.google.com/url?q=https://example.com/&sa=D'
        grep -o 'https://[^ ]*' note.md | ingest clean-url
    """
    source = urls or (line.strip() for line in sys.stdin if line.strip())
    for url in source:
        click.echo(links.explain(url) if explain else links.clean_url(url))


def main() -> None:
    """Console-script entry point."""
    os.umask(0o077)  # notes, ledger, raw messages: readable by the user only
    cli(prog_name="ingest")


from ingester.cli import drafts as _drafts  # registered last: it imports this module

cli.add_command(_drafts.drafts)
cli.add_command(_drafts.review)
cli.add_command(_drafts.rerender)
