"""What every command shares: exit codes, errors as one line, logging, common options, progress and
signals, and the report of a run. Commands live in `run` and `drafts`; the group in `__init__`.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import signal
import sys
import threading
from collections.abc import Iterator
from typing import Any

import click

from ingester import config as config_mod
from ingester.errors import EXIT_INTERNAL, IngesterError
from ingester.pipeline import RunSummary

EXIT_SOME_FAILED = 3
EXIT_CODES_HELP = f"""\b
Exit codes:
  0   done (nothing failed)
  1   runtime error: server unreachable, TLS or login failure, archive not writable
  2   usage or configuration error
  3   finished, but some messages failed (recorded; retried on the next run)
  {EXIT_INTERNAL}  unexpected error (a bug): rerun with -v and report the traceback"""
# Exceptions click handles itself (usage errors, --help, Ctrl-C at a prompt): never a bug of ours.
CLICK_FLOW = (click.exceptions.ClickException, click.exceptions.Exit, click.exceptions.Abort)


class IngestGroup(click.Group):
    """Turns our errors into one `Error: …` line and the right exit code (traceback only with -v); an
    unexpected exception (a bug) is one line too, with its own exit code."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except CLICK_FLOW:
            raise
        except IngesterError as exc:
            _debug_traceback()
            raise _click_error(str(exc), exc.exit_code) from exc
        except Exception as exc:
            _debug_traceback()
            raise _click_error(
                f"unexpected {type(exc).__name__}: {exc} (a bug in the ingester; rerun with -v "
                "for the traceback and report it)",
                EXIT_INTERNAL,
            ) from exc


def _click_error(message: str, code: int) -> click.ClickException:
    error = click.ClickException(message)
    error.exit_code = code  # type: ignore[misc]  # click exits with the instance's code
    return error


def _debug_traceback() -> None:
    if logging.getLogger().isEnabledFor(logging.DEBUG):
        logging.getLogger(__name__).debug("traceback", exc_info=True)


def setup_logging(verbose: int, quiet: bool) -> None:
    level = logging.DEBUG if verbose else logging.ERROR if quiet else logging.WARNING
    logging.basicConfig(level=level, format="%(levelname)s: %(message)s", stream=sys.stderr, force=True)
    if verbose < 2:  # imapclient logs every command at DEBUG; only with -vv
        logging.getLogger("imapclient").setLevel(max(level, logging.INFO))


def load_config(ctx: click.Context) -> config_mod.Config:
    """The configuration named by the group's --config (or its defaults)."""
    return config_mod.load(ctx.find_root().obj["config_path"])


def report(summary: RunSummary, as_json: bool) -> None:
    """Print what a run did and exit with the code that says how it went."""
    if as_json:
        click.echo(json.dumps(summary.as_dict(), ensure_ascii=False, indent=2))
    elif summary.errors and not summary.seen:
        pass  # nothing was read: the error lines below say it all
    else:
        for note in summary.notes:
            click.echo(f"filed   {note}")
        for note in summary.partial:
            click.echo(f"partial {note}: the note may miss part of the article ('ingest explain' says why)")
        for failure in summary.failures:
            click.echo(f"failed  {failure['source']}: {failure['error']}")
        for item in summary.needs_action:
            link = f" → {item['link']}" if item["link"] else ""
            click.echo(f"action  {item['reason']}: {item['subject']!r}{link}")
        counts = (
            f"{summary.filed} filed, {summary.skipped} skipped, {summary.duplicates} duplicates, "
            f"{summary.failed} failed" + (f", {len(summary.partial)} partial" if summary.partial else "")
        )
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
def stop_on_signal() -> Iterator[threading.Event]:
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


json_option = click.option("--json", "as_json", is_flag=True, help="Print the run summary as one JSON object.")
jobs_option = click.option(
    "--jobs",
    "-j",
    type=click.IntRange(1, 64),
    default=os.cpu_count() or 1,
    show_default="number of cores",
    help="Worker processes converting messages.",
)
all_option = click.option(
    "--all", "all_messages", is_flag=True, help="File every message, not only those that look like newsletters."
)
