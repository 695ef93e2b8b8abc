"""The commands that read mail or look at one message: `import`, `daemon`, `status`, `explain`,
`clean-url` (the default command, an IMAP run, is the group itself in `__init__`)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from ingester import links, pipeline
from ingester.cli.common import (
    EXIT_CODES_HELP,
    all_option,
    jobs_option,
    json_option,
    load_config,
    report,
    stop_on_signal,
)
from ingester.cli.terminal import progress_bar
from ingester.explain import explain
from ingester.message import RawMessage
from ingester.store.ledger import Ledger


@click.command("import", epilog=EXIT_CODES_HELP)
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
    with stop_on_signal() as stop, progress_bar(not (as_json or ctx.obj["quiet"])) as progress:
        summary = pipeline.run_local(load_config(ctx), list(paths), all_messages, stop, jobs, progress)
    report(summary, as_json)


@click.command("daemon")
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
        ingest -v --config ~/.config/ingester/config.toml daemon
        systemctl --user enable --now ingester     # config/ingester.service
    """
    from ingester.scheduler import run_daemon  # APScheduler is only needed here

    run_daemon(load_config(ctx), ctx.obj["config_path"])


@click.command("status")
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
    config = load_config(ctx)
    with Ledger(config.state_dir, readonly=True) as ledger:
        status = ledger.status()
    if as_json:
        click.echo(json.dumps(status, ensure_ascii=False, indent=2))
        return
    totals = status["totals"]
    click.echo(
        f"archive: {config.archive_path}  ({totals['filed']} filed, {totals['skipped']} skipped, "
        f"{totals['failed']} failed" + (f", {totals['partial']} partial" if totals["partial"] else "") + ")"
    )
    for account in status["accounts"]:
        line = f"account {account['account']}: last success {account['last_success'] or 'never'}"
        if account["last_error"]:
            line += f"; last error {account['last_error_at']}: {account['last_error']}"
        click.echo(line)
    for folder in status["folders"]:
        click.echo(
            f"  {folder['account']}/{folder['folder']}: last poll {folder['last_poll']}, "
            f"{folder['filed']} filed, {folder['skipped']} skipped, {folder['failed']} failed, "
            f"high-water UID {folder['high_water_uid']} (UIDVALIDITY {folder['uidvalidity']})"
        )
    for failure in status["failures"]:
        click.echo(
            f"failed  {failure['source']}: {failure['error']} (tries: {failure['attempts']}, "
            f"next after {failure['retry_after'] or 'next run'})"
        )


@click.command("explain")
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
    for line in explain(load_config(ctx), raw):
        click.echo(line)


@click.command("clean-url")
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
