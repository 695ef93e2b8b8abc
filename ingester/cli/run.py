"""The commands that read mail or look at one message: `import`, `daemon`, `status`, `explain`,
`clean-url` (the default command, an IMAP run, is the group itself in `__init__`)."""

from __future__ import annotations

import json
import signal
import sys
import time
from pathlib import Path

import click

from ingester import links, message, metadata, runs
from ingester.cli import accounts
from ingester.cli.common import (
    EXIT_CODES_HELP,
    EXIT_SIGNAL,
    all_option,
    global_options,
    globals_of,
    jobs_option,
    load_config,
    report,
    stop_on_signal,
)
from ingester.cli.terminal import echo, progress_bar, to_json
from ingester.config import Config
from ingester.errors import ArchiveError, SourceError
from ingester.explain import explain, explain_json
from ingester.memory import Memory
from ingester.message import RawMessage
from ingester.recall import recall
from ingester.source import local_messages
from ingester.store.ledger import GIVEN_UP, Ledger


@click.command("import", epilog=EXIT_CODES_HELP)
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@all_option
@jobs_option
@global_options()
@click.pass_context
def import_(ctx: click.Context, paths: tuple[Path, ...], all_messages: bool, jobs: int) -> None:
    """File the newsletters found in local files: mbox, Maildir, .eml, or folders of .eml.

    Same pipeline and archive as an IMAP run; a message already filed (same Message-ID) is
    never filed twice.

    \b
    Examples:
        ingest import ~/Takeout/newsletters.mbox
        ingest import ~/Mail/Newsletters/          # a Maildir or a folder of .eml files
        ingest import issue.eml --json
    """
    opts = globals_of(ctx)
    config = load_config(ctx)
    started = time.monotonic()
    with stop_on_signal() as stop, progress_bar(not (opts.as_json or opts.quiet)) as progress:
        summary = runs.run_local(config, list(paths), all_messages, stop, jobs, progress)
    report(summary, opts.as_json, stop, started)


@click.command("daemon")
@global_options(as_json=False)
@click.pass_context
def daemon_command(ctx: click.Context) -> None:
    """Keep running: file new newsletters as they arrive, from every configured account.

    Polls each account every `[daemon] interval` (default 15m) and, where the server supports
    it and `idle = true` (the default), holds an IMAP IDLE connection per folder so a new issue
    is filed within seconds. Network faults are retried with backoff. SIGTERM/SIGINT stop it
    cleanly (exit code 0 after SIGTERM, as a service manager expects; 130 after Ctrl-C); SIGHUP reloads
    the config. One ingest per archive at a time.

    \b
    Examples:
        ingest daemon
        ingest daemon -v --config ~/.config/ingester/config.toml
        systemctl --user enable --now ingester     # config/ingester.service
    """
    from ingester.scheduler import run_daemon  # APScheduler is only needed here

    stopped_by = run_daemon(load_config(ctx), globals_of(ctx).config_path)
    if stopped_by == signal.SIGINT:
        ctx.exit(EXIT_SIGNAL[signal.SIGINT])


@click.command("status")
@click.option("--limit", "-n", type=click.IntRange(0), metavar="N", help="At most N failures (the latest).")
@click.option(
    "--reset",
    "reset_name",
    metavar="ACCOUNT",
    help="Forget ACCOUNT's refused logins (after fixing its password), so the next poll or run logs in.",
)
@global_options()
@click.pass_context
def status_command(ctx: click.Context, limit: int | None, reset_name: str | None) -> None:
    """Show whether a daemon runs, each account's login state, per folder what the ledger knows, and
    the messages that failed.

    The daemon line gives its pid and start; a daemon that was killed is reported not running (its
    pid is checked, never trusted). Each account is ok, waiting after a refused login (until when), or
    stopped after a few refusals: providers lock accounts after a few wrong passwords, so the ingester
    stops trying until the login settings change or you reset it. With a daemon, each watched
    folder's watcher: idling, reconnecting (with backoff), paused or stopped, and why. Reads the ledger
    without locking it, so it works while `ingest daemon` runs.

    \b
    Examples:
        ingest status
        ingest status --json | jq '.daemon, .logins'
        ingest status -n 5                          # only the 5 latest failures
        ingest status --reset work                  # after fixing the password of account "work"
    """
    config = load_config(ctx)
    if reset_name is not None:
        accounts.reset(ctx, config, reset_name)
        return
    with Ledger(config.state_dir, readonly=True) as ledger:
        status = ledger.status()
    status.update(accounts.status_of(config))
    if limit is not None:
        status["failures"] = status["failures"][len(status["failures"]) - limit :] if limit else []
    if globals_of(ctx).as_json:
        click.echo(to_json({"archive": str(config.archive_shown), **status}))
        return
    totals = status["totals"]
    click.echo(
        f"archive: {config.archive_shown}  ({totals['filed']} filed, {totals['skipped']} skipped, "
        f"{totals['failed']} failed"
        + (f", {totals['partial']} partial" if totals["partial"] else "")
        + (f", {totals['fill_failed']} fills failed" if totals["fill_failed"] else "")
        + ")"
    )
    for line in accounts.status_lines(status):
        echo(line)
    for account in status["accounts"]:
        line = f"account {account['account']}: last success {account['last_success'] or 'never'}"
        if account["last_error"]:
            line += f"; last error {account['last_error_at']}: {account['last_error']}"
        echo(line)
    for folder in status["folders"]:
        echo(
            f"  {folder['account']}/{folder['folder']}: last poll {folder['last_poll']}, "
            f"{folder['filed']} filed, {folder['skipped']} skipped, {folder['failed']} failed, "
            f"high-water UID {folder['high_water_uid']} (UIDVALIDITY {folder['uidvalidity']})"
        )
    for failure in status["failures"]:
        when = failure["retry_after"]
        echo(
            f"failed  {failure['source']}: {failure['error']} (tries: {failure['attempts']}, "
            + ("given up: fails every time; `ingest retry` tries it again" if when == GIVEN_UP else "")
            + ((f"next try after {when}" if when else "next run") if when != GIVEN_UP else "")
            + ")"
        )
    for failure in status["fill_failures"]:
        click.echo(
            f"fill failed  {failure['note']}: {failure['error']} ({failure['at']}, tries: {failure['attempts']})"
        )


@click.command("explain")
@click.argument("message_file", type=click.Path(exists=True, path_type=Path))
@click.option(
    "--index",
    "-i",
    "indexes",
    type=click.IntRange(1),
    multiple=True,
    metavar="N",
    help="Only the Nth message of an mbox, Maildir or folder (repeatable; default: every message).",
)
@click.option("--limit", "-n", type=click.IntRange(0), metavar="N", help="At most N messages.")
@global_options()
@click.pass_context
def explain_command(ctx: click.Context, message_file: Path, indexes: tuple[int, ...], limit: int | None) -> None:
    """Show every decision for each message of a file, without filing anything.

    Newsletter or not and why, platform, each metadata field and where it came from, what was
    cleaned and which email chrome was removed (blocks earlier issues of the publication in this
    archive repeated at their head or tail too: "repeated in N earlier issues"). An mbox, a Maildir
    or a folder of .eml files is explained message by message (their `message:` lines number them for --index).

    \b
    Examples:
        ingest explain issue.eml
        ingest explain ~/Takeout/news.mbox --index 3
        ingest explain ~/Takeout/news.mbox -n 5 --json | jq '.[].newsletter'
    """
    config = load_config(ctx)
    chosen: list[RawMessage] = []
    for number, raw in enumerate(local_messages(message_file), start=1):
        if limit is not None and len(chosen) >= limit:
            break
        if not indexes or number in indexes:
            chosen.append(raw)
    if not chosen:
        raise SourceError(f"{message_file}: no message" + (" at the index given" if indexes else ""))
    memories = remembered(config, chosen)
    if globals_of(ctx).as_json:
        found = [explain_json(config, raw, memory) for raw, memory in zip(chosen, memories, strict=True)]
        click.echo(to_json(found))
        return
    for number, (raw, memory) in enumerate(zip(chosen, memories, strict=True)):
        if number:
            click.echo()
        for line in explain(config, raw, memory):
            echo(line)


def remembered(config: Config, chosen: list[RawMessage]) -> list[Memory]:
    """What the archive's ledger remembers of each message's publication (nothing when there is no ledger)."""
    try:
        with Ledger(config.state_dir, readonly=True) as ledger:
            return [recall(ledger, raw.raw, publication_of(config, raw.raw)) for raw in chosen]
    except ArchiveError:
        return [Memory() for _ in chosen]


def publication_of(config: Config, raw: bytes) -> str:
    """The message's publication as its note will have it (a forward's is its original sender's)."""
    return metadata.publication_key(message.judge_forward(message.parse(raw), config.readers))


@click.command("clean-url")
@click.argument("urls", nargs=-1)
@click.option("--explain", is_flag=True, help="Show each step: wrappers decoded, parameters removed and by which rule.")
@global_options()
@click.pass_context
def clean_url_command(ctx: click.Context, urls: tuple[str, ...], explain: bool) -> None:
    """Print each URL cleaned, one per line (reads URLs from stdin when none is given).

    Offline: wrappers are decoded from the link itself, never requested.

    \b
    Examples:
        ingest clean-url 'https://example.substack.com/p/slug?utm_source=post-email-title&r=2x'
        ingest clean-url --explain 'https://www.google.com/url?q=https://example.com/&sa=D'
        grep -o 'https://[^ ]*' note.md | ingest clean-url
        ingest clean-url --json 'https://example.com/?utm_source=x'
    """
    source = urls or (line.strip() for line in sys.stdin if line.strip())
    if globals_of(ctx).as_json:
        found = [{"url": url, "clean": links.clean_url(url)} for url in source]
        click.echo(json.dumps(found, ensure_ascii=False, indent=2))
        return
    for url in source:
        click.echo(links.explain(url) if explain else links.clean_url(url))
