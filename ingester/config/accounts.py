"""The `[[accounts]]` section: where each mailbox is and how to log in."""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import Any

from ingester.config.model import DEFAULT_PORTS, PASSWORD_KEYS, SECURITY_MODES, Account
from ingester.config.read import is_loopback, string, string_list, unknown


def accounts(data: dict[str, Any], problems: list[str]) -> dict[str, Any]:
    raw_accounts = data.get("accounts", [])
    if not isinstance(raw_accounts, list):
        problems.append("[[accounts]]: must be an array of tables ([[accounts]] sections)")
        raw_accounts = []
    accounts = [a for a in (_account(i, raw, problems) for i, raw in enumerate(raw_accounts)) if a is not None]
    names = [a.name for a in accounts]
    problems.extend(
        f"[[accounts]] name: {name!r} is used by more than one account; names must be unique"
        for name in sorted({n for n in names if names.count(n) > 1})
    )
    return {"accounts": tuple(accounts)}


ACCOUNT_KEYS = {
    "name",
    "host",
    "port",
    "security",
    "username",
    "folders",
    "ca_file",
    "allow_insecure",
    "idle",
    *PASSWORD_KEYS,
}


def _account(index: int, raw: Any, problems: list[str]) -> Account | None:
    where = f"[[accounts]] #{index + 1}"
    if not isinstance(raw, dict):
        problems.append(f"{where}: must be a table")
        return None
    if isinstance(raw.get("name"), str):
        where = f"[[accounts]] {raw['name']!r}"
    before = len(problems)
    unknown(raw, ACCOUNT_KEYS, where, problems)
    name = string(raw, "name", where, problems, required=True)
    host = string(raw, "host", where, problems, required=True)
    username = string(raw, "username", where, problems, required=True)
    security = string(raw, "security", where, problems, default="tls")
    if security not in SECURITY_MODES:
        problems.append(f"{where} security: must be one of {', '.join(map(repr, SECURITY_MODES))}, not {security!r}")
    port = raw.get("port", DEFAULT_PORTS.get(security, 993))
    if not isinstance(port, int) or isinstance(port, bool) or not 0 < port < 65536:
        problems.append(f"{where} port: must be a number from 1 to 65535, not {port!r}")
    folders = string_list(raw, "folders", where, problems, default=["INBOX"])
    if not folders:
        problems.append(f'{where} folders: list at least one folder, e.g. folders = ["INBOX"]')
    allow_insecure = raw.get("allow_insecure", False)
    idle = raw.get("idle", True)
    for key, value in (("allow_insecure", allow_insecure), ("idle", idle)):
        if not isinstance(value, bool):
            problems.append(f"{where} {key}: must be true or false")
    given = [k for k in PASSWORD_KEYS if k in raw]
    if not given:
        problems.append(f"{where}: set one of password_command, password_env or password")
    elif len(given) > 1:
        problems.append(f"{where}: set only one of {', '.join(given)}")
    secrets = {k: string(raw, k, where, problems) for k in given}
    if secrets.get("password_command"):
        try:
            shlex.split(secrets["password_command"])
        except ValueError as exc:
            problems.append(f"{where} password_command: cannot be parsed as a command line ({exc})")
    ca_file = string(raw, "ca_file", where, problems, default="")
    if ca_file and not Path(ca_file).expanduser().is_file():
        problems.append(f"{where} ca_file: no such file {ca_file!r}")
    if security == "plain" and host and not allow_insecure and not is_loopback(host):
        problems.append(
            f'{where} security: "plain" sends the password unencrypted; it is allowed only to a loopback '
            "host (127.0.0.1, localhost) unless you also set allow_insecure = true"
        )
    if len(problems) > before:
        return None
    return Account(
        name=name,
        host=host,
        username=username,
        port=port,
        security=security,
        folders=tuple(folders),
        password_command=secrets.get("password_command"),
        password_env=secrets.get("password_env"),
        password=secrets.get("password"),
        ca_file=Path(ca_file).expanduser() if ca_file else None,
        allow_insecure=allow_insecure,
        idle=idle is True,
    )
