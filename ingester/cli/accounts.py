"""Accounts and the daemon, as a person checks them: `ingest folders ACCOUNT`, and the parts of `ingest
status` that say whether a daemon runs, each account's login state (`--reset`) and each watcher's."""

from __future__ import annotations

from typing import Any

import click

from ingester import daemon_state, logins
from ingester.cli.common import global_options, globals_of, load_config
from ingester.cli.terminal import echo, to_json
from ingester.config import Account, Config
from ingester.errors import LoginRefused, SourceError, UsageError
from ingester.source import ImapSession


def find_account(config: Config, name: str | None) -> Account:
    """The account named `name`, or the only one when no name is given; a one-line error otherwise."""
    names = ", ".join(a.name for a in config.accounts) or "none"
    if name is None:
        if len(config.accounts) == 1:
            return config.accounts[0]
        raise UsageError(f"name the account: the config has {names}")
    for account in config.accounts:
        if account.name == name:
            return account
    raise UsageError(f"no account {name!r} in the config (accounts: {names})")


@click.command("folders")
@click.argument("account_name", metavar="[ACCOUNT]", required=False)
@global_options()
@click.pass_context
def folders_command(ctx: click.Context, account_name: str | None) -> None:
    """List the folders on an account's server, marking the configured and watched ones.

    Connects and logs in (a login the server refused before is not retried while the account waits or
    is stopped: see `ingest status`). Configured folders the server does not have are listed as
    missing: copy the exact name into `folders` in the config. ACCOUNT may be left out when the config
    has one account.

    \b
    Examples:
        ingest folders                      # the only account
        ingest folders work
        ingest folders work --json | jq -r '.folders[] | select(.configured) | .name'
    """
    config = load_config(ctx)
    account = find_account(config, account_name)
    if blocked := logins.blocked(config.state_dir, account):
        raise SourceError(blocked)
    try:
        with ImapSession(account) as session:
            found = session.folders()
    except LoginRefused as exc:
        raise LoginRefused(logins.refused(config.state_dir, account, str(exc))[0]) from exc
    logins.accepted(config.state_dir, account)
    configured = set(account.folders)
    listed = [
        {
            "name": name,
            "selectable": selectable,
            "configured": name in configured,
            "watched": name in configured and account.idle and selectable,
        }
        for name, selectable in found
    ]
    missing = [f for f in account.folders if f not in {name for name, _ in found}]
    if globals_of(ctx).as_json:
        click.echo(to_json({"account": account.name, "host": account.host, "folders": listed, "missing": missing}))
        return
    echo(f"Folders of account {account.name!r} on {account.host} (* configured):")
    width = max((len(name) for name, _ in found), default=0)
    for folder in listed:
        marks = []
        if folder["watched"]:
            marks.append("watched (IDLE)")
        elif folder["configured"]:
            marks.append("polled")
        if not folder["selectable"]:
            marks.append("holds no mail (a parent only)")
        star = "*" if folder["configured"] else " "
        echo(f"{star} {folder['name']:<{width}}  {', '.join(marks)}".rstrip())
    for name in missing:
        echo(f"! {name!r} is configured but the server has no such folder: fix `folders` in the config")


def reset(ctx: click.Context, config: Config, name: str) -> None:
    """`ingest status --reset ACCOUNT`: forget the account's refused logins, so the next try logs in."""
    known = {a.name for a in config.accounts} | {s.account for s in logins.every(config.state_dir, ())}
    if name not in known:
        raise UsageError(f"no account {name!r} in the config (accounts: {', '.join(sorted(known)) or 'none'})")
    was = logins.reset(config.state_dir, name) if (config.state_dir / "ledger.sqlite3").exists() else None
    # a daemon on this archive would wait for its next poll (hours apart, maybe): it reloads and polls now
    pid = daemon_state.reload_running(config.state_dir) if was is not None else None
    if globals_of(ctx).as_json:
        click.echo(to_json({"reset": name, "was": was.as_dict() if was else None, "daemon_reloaded": pid}))
    elif was is None:
        echo(f"account {name!r}: no refused login recorded; nothing to reset")
    else:
        then = f"the running daemon (pid {pid}) reloads and logs in again now" if pid else "the next run logs in again"
        echo(f"account {name!r}: {was.refusals} refused login(s) forgotten; {then}")


def status_of(config: Config) -> dict[str, Any]:
    """The daemon (running or not) and each account's login state, for `ingest status` (and --json)."""
    return {
        "daemon": daemon_state.read(config.state_dir),
        "logins": [state.as_dict() for state in logins.every(config.state_dir, config.accounts)],
    }


def status_lines(found: dict[str, Any]) -> list[str]:
    """The lines `ingest status` prints for `status_of`."""
    daemon = found["daemon"]
    lines = []
    if daemon["running"]:
        lines.append(f"daemon: running (pid {daemon['pid']}, since {_when(daemon['since'])})")
    elif "stale_pid" in daemon:
        lines.append(
            f"daemon: not running (pid {daemon['stale_pid']}, started {_when(daemon['stale_since'])}, "
            "did not stop cleanly: its state file is out of date)"
        )
    else:
        lines.append("daemon: not running")
    polls = daemon.get("accounts", {})
    for state in found["logins"]:
        name = state["account"]
        line = logins.LoginState(**state).describe()
        poll = polls.get(name, {})
        if poll.get("next_poll"):
            line += f"; next poll {_when(poll['next_poll'])}"
        if poll.get("error") and state["state"] == "ok":
            line += f"; current error: {poll['error']}"
        lines.append(line)
    for watcher in daemon.get("watchers", []):
        detail = f": {watcher['detail']}" if watcher["detail"] else ""
        lines.append(
            f"  watcher {watcher['account']}/{watcher['folder']}: {watcher['state']} since "
            f"{_when(watcher['since'])}{detail}"
        )
    return lines


def _when(iso: str) -> str:
    return iso.replace("T", " ").replace("+00:00", " UTC") if iso else "?"
