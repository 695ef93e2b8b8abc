"""Find, read and validate the TOML configuration into frozen dataclasses.

Lookup order: `--config PATH`, else `$INGEST_CONFIG`, else `config/ingester.toml` (relative to the
working directory). No file at the default place means the defaults: an archive in `./archive` and
no account, which is enough for `ingest import`. Every problem in the file is collected and reported
at once, naming section and key (`ConfigError`, exit code 2).
"""

from __future__ import annotations

import fnmatch
import ipaddress
import logging
import os
import re
import shlex
import stat
import subprocess
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ingester.errors import ConfigError, SourceError

logger = logging.getLogger(__name__)

ENV_VAR = "INGEST_CONFIG"
DEFAULT_PATH = Path("config/ingester.toml")
LANGUAGES = ("zh", "en")
SECURITY_MODES = ("tls", "starttls", "plain")
DEFAULT_PORTS = {"tls": 993, "starttls": 143, "plain": 143}
PASSWORD_KEYS = ("password_command", "password_env", "password")


@dataclass(frozen=True)
class Account:
    """One IMAP account: where it is, how to log in, which folders to read."""

    name: str
    host: str
    username: str
    port: int = 993
    security: str = "tls"
    folders: tuple[str, ...] = ("INBOX",)
    password_command: str | None = field(default=None, repr=False)
    password_env: str | None = None
    password: str | None = field(default=None, repr=False)
    ca_file: Path | None = None
    allow_insecure: bool = False
    idle: bool = True

    def resolve_password(self) -> str:
        """The password, from the command, the environment or the file (in that order of preference)."""
        if self.password_command:
            try:
                result = subprocess.run(  # noqa: S602 - the user's own command line, like msmtp's passwordeval
                    self.password_command, shell=True, capture_output=True, text=True, timeout=60
                )
            except subprocess.TimeoutExpired as exc:
                raise SourceError(
                    f"account {self.name!r}: password_command took longer than 60 s; check it by running it in a shell"
                ) from exc
            if result.returncode != 0:
                # Never echo the command's output: it may hold the secret or part of it.
                raise SourceError(
                    f"account {self.name!r}: password_command exited with status {result.returncode}; "
                    "run it in a shell to see why"
                )
            # the trailing newline `pass` and friends print, nothing else: spaces may be part of it
            return re.sub(r"\r?\n\Z", "", result.stdout)
        if self.password_env:
            value = os.environ.get(self.password_env)
            if value is None:
                raise SourceError(
                    f"account {self.name!r}: environment variable {self.password_env} is not set; "
                    "export it or use password_command"
                )
            return value
        return self.password or ""


@dataclass(frozen=True)
class Limits:
    """Bounds on untrusted input, so any message finishes in bounded time and memory."""

    message_bytes: int = 25_000_000  # larger messages are skipped (IMAP: not even fetched)
    html_bytes: int = 2_000_000  # HTML beyond this is cut (a note says so)
    parts: int = 200  # MIME parts looked at per message
    header_chars: int = 16_000  # longer header values are cut before decoding


LIMIT_KEYS = {"message_bytes", "html_bytes", "parts", "header_chars"}


@dataclass(frozen=True)
class Rule:
    """Per-sender or per-publication choices: extra tags, a category, skipping, a target folder."""

    sender: str = ""  # shell-style pattern on the sender address, e.g. "*@substack.com"
    publication: str = ""  # shell-style pattern on the publication name or List-Id, case-insensitive
    tags: tuple[str, ...] = ()
    category: str = ""
    skip: bool = False
    folder: str = ""  # a sub-folder of the archive for these notes

    def matches(self, sender: str, publications: tuple[str, ...]) -> bool:
        if self.sender and not fnmatch.fnmatchcase(sender.lower(), self.sender.lower()):
            return False
        return not self.publication or any(
            fnmatch.fnmatchcase(p.lower(), self.publication.lower()) for p in publications if p
        )


@dataclass(frozen=True)
class Config:
    """The whole validated configuration."""

    archive_path: Path = Path("archive")
    language: str = "zh"
    template: Path | None = None
    accounts: tuple[Account, ...] = ()
    allow_senders: tuple[str, ...] = ()
    rules: tuple[Rule, ...] = ()
    resolve_opaque: bool = False
    resolve_hosts: tuple[str, ...] = ()
    resolve_timeout: float = 3.0
    interval: float = 900.0
    limits: Limits = Limits()
    source_file: Path | None = None

    @property
    def state_dir(self) -> Path:
        """Machine state (ledger, lock) lives beside the notes, in `<archive>/.ingest/`."""
        return self.archive_path / ".ingest"


def locate(path: str | os.PathLike[str] | None) -> Path | None:
    """The config file to read: `path`, else `$INGEST_CONFIG`, else the default file if it exists."""
    if path:
        return Path(path)
    env = os.environ.get(ENV_VAR)
    if env:
        return Path(env)
    return DEFAULT_PATH if DEFAULT_PATH.is_file() else None


def load(path: str | os.PathLike[str] | None = None) -> Config:
    """Read and validate the configuration; raise `ConfigError` listing every problem."""
    file = locate(path)
    if file is None:
        return Config()
    if not file.is_file():
        how = f"--config {file}" if path else f"${ENV_VAR}={file}"
        raise ConfigError(
            f"config file {file} not found (from {how}); "
            "copy config/ingester.example.toml there or point to an existing file"
        )
    try:
        data = tomllib.loads(file.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read config file {file}: {exc}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"config file {file} is not valid TOML: {exc}") from exc
    config = parse(data, source_file=file)
    if any(a.password for a in config.accounts):
        _warn_if_readable_by_others(file)
    return config


Section = Callable[[dict[str, Any], list[str]], dict[str, Any]]


def parse(data: dict[str, Any], source_file: Path | None = None) -> Config:
    """Validate a parsed TOML document; every problem of every section is collected before raising."""
    problems: list[str] = []
    _unknown(data, set(SECTIONS), "top level", problems)
    values: dict[str, Any] = {}
    for section in SECTIONS.values():
        values.update(section(data, problems))
    if problems:
        where = f" in {source_file}" if source_file else ""
        raise ConfigError(f"invalid configuration{where}:", problems)
    return Config(**values, source_file=source_file)


def _limits(data: dict[str, Any], problems: list[str]) -> dict[str, Any]:
    raw = _table(data, "limits", problems)
    _unknown(raw, LIMIT_KEYS, "[limits]", problems)
    for key, value in raw.items():
        if key in LIMIT_KEYS and (isinstance(value, bool) or not isinstance(value, int) or value <= 0):
            problems.append(f"[limits] {key}: must be a positive whole number, not {value!r}")
    return {"limits": Limits(**{k: v for k, v in raw.items() if k in LIMIT_KEYS and isinstance(v, int)})}


def _archive(data: dict[str, Any], problems: list[str]) -> dict[str, Any]:
    archive = _table(data, "archive", problems)
    _unknown(archive, {"path", "language", "template"}, "[archive]", problems)
    path = _string(archive, "path", "[archive]", problems, default="archive")
    language = _string(archive, "language", "[archive]", problems, default="zh")
    if language not in LANGUAGES:
        problems.append(f"[archive] language: must be one of {', '.join(map(repr, LANGUAGES))}, not {language!r}")
    template = _string(archive, "template", "[archive]", problems, default="")
    return {
        "archive_path": Path(path).expanduser(),
        "language": language,
        "template": Path(template).expanduser() if template else None,
    }


def _newsletters(data: dict[str, Any], problems: list[str]) -> dict[str, Any]:
    newsletters = _table(data, "newsletters", problems)
    _unknown(newsletters, {"allow_senders"}, "[newsletters]", problems)
    allow = _string_list(newsletters, "allow_senders", "[newsletters]", problems, default=[])
    return {"allow_senders": tuple(s.lower() for s in allow)}


def _links(data: dict[str, Any], problems: list[str]) -> dict[str, Any]:
    links = _table(data, "links", problems)
    _unknown(links, {"resolve_opaque", "resolve_hosts", "resolve_timeout"}, "[links]", problems)
    resolve_opaque = links.get("resolve_opaque", False)
    if not isinstance(resolve_opaque, bool):
        problems.append("[links] resolve_opaque: must be true or false")
    resolve_hosts = _string_list(links, "resolve_hosts", "[links]", problems, default=[])
    if resolve_opaque is True and not resolve_hosts:
        problems.append(
            "[links] resolve_hosts: list the wrapper hosts you allow to be asked, "
            'e.g. resolve_hosts = ["*.list-manage.com"]; resolve_opaque needs an allowlist'
        )
    resolve_timeout = links.get("resolve_timeout", 3.0)
    if (
        isinstance(resolve_timeout, bool)
        or not isinstance(resolve_timeout, (int, float))
        or not 0 < resolve_timeout <= 30
    ):
        problems.append(f"[links] resolve_timeout: must be a number of seconds from 0 to 30, not {resolve_timeout!r}")
        resolve_timeout = 3.0
    return {
        "resolve_opaque": resolve_opaque is True,
        "resolve_hosts": tuple(h.lower() for h in resolve_hosts),
        "resolve_timeout": float(resolve_timeout),
    }


def _daemon(data: dict[str, Any], problems: list[str]) -> dict[str, Any]:
    daemon = _table(data, "daemon", problems)
    _unknown(daemon, {"interval"}, "[daemon]", problems)
    interval = parse_duration(_string(daemon, "interval", "[daemon]", problems, default="15m"))
    if interval is None:
        problems.append(
            f'[daemon] interval: must be a duration such as "30s", "15m" or "1h", not {daemon.get("interval")!r}'
        )
    return {"interval": interval or 900.0}


def _rules(data: dict[str, Any], problems: list[str]) -> dict[str, Any]:
    raw_rules = data.get("rules", [])
    if not isinstance(raw_rules, list):
        problems.append("[[rules]]: must be an array of tables ([[rules]] sections)")
        raw_rules = []
    rules = [_rule(i, raw, problems) for i, raw in enumerate(raw_rules)]
    return {"rules": tuple(r for r in rules if r is not None)}


def _accounts(data: dict[str, Any], problems: list[str]) -> dict[str, Any]:
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


# Each top-level key of the file and its validator, in the order problems are reported.
SECTIONS: dict[str, Section] = {
    "limits": _limits,
    "archive": _archive,
    "newsletters": _newsletters,
    "links": _links,
    "daemon": _daemon,
    "rules": _rules,
    "accounts": _accounts,
}


RULE_KEYS = {"sender", "publication", "tags", "category", "skip", "folder"}


def _rule(index: int, raw: Any, problems: list[str]) -> Rule | None:
    where = f"[[rules]] #{index + 1}"
    if not isinstance(raw, dict):
        problems.append(f"{where}: must be a table")
        return None
    before = len(problems)
    _unknown(raw, RULE_KEYS, where, problems)
    sender = _string(raw, "sender", where, problems)
    publication = _string(raw, "publication", where, problems)
    if not sender and not publication:
        problems.append(f"{where}: set sender or publication (or both) to say which newsletters it applies to")
    tags = _string_list(raw, "tags", where, problems, default=[])
    category = _string(raw, "category", where, problems)
    skip = raw.get("skip", False)
    if not isinstance(skip, bool):
        problems.append(f"{where} skip: must be true or false")
    folder = _string(raw, "folder", where, problems)
    if folder and (Path(folder).is_absolute() or ".." in Path(folder).parts):
        problems.append(f"{where} folder: must be a relative folder inside the archive, not {folder!r}")
    elif folder and ("\x00" in folder or any(len(p.encode()) > 100 for p in Path(folder).parts)):
        problems.append(f"{where} folder: no NUL characters, and each part at most 100 bytes")
    if len(problems) > before:
        return None
    return Rule(
        sender=sender, publication=publication, tags=tuple(tags), category=category, skip=skip is True, folder=folder
    )


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
    _unknown(raw, ACCOUNT_KEYS, where, problems)
    name = _string(raw, "name", where, problems, required=True)
    host = _string(raw, "host", where, problems, required=True)
    username = _string(raw, "username", where, problems, required=True)
    security = _string(raw, "security", where, problems, default="tls")
    if security not in SECURITY_MODES:
        problems.append(f"{where} security: must be one of {', '.join(map(repr, SECURITY_MODES))}, not {security!r}")
    port = raw.get("port", DEFAULT_PORTS.get(security, 993))
    if not isinstance(port, int) or isinstance(port, bool) or not 0 < port < 65536:
        problems.append(f"{where} port: must be a number from 1 to 65535, not {port!r}")
    folders = _string_list(raw, "folders", where, problems, default=["INBOX"])
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
    secrets = {k: _string(raw, k, where, problems) for k in given}
    if secrets.get("password_command"):
        try:
            shlex.split(secrets["password_command"])
        except ValueError as exc:
            problems.append(f"{where} password_command: cannot be parsed as a command line ({exc})")
    ca_file = _string(raw, "ca_file", where, problems, default="")
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


def parse_duration(text: str) -> float | None:
    """Seconds in "90s", "15m", "1h", "1h30m" or a bare number of seconds; None when unreadable or not positive."""
    text = text.strip().lower()
    if re.fullmatch(r"\d+(?:\.\d+)?", text):
        seconds = float(text)
    elif re.fullmatch(r"(?:\d+(?:\.\d+)?[hms])+", text):
        units = {"h": 3600, "m": 60, "s": 1}
        seconds = sum(float(n) * units[u] for n, u in re.findall(r"(\d+(?:\.\d+)?)([hms])", text))
    else:
        return None
    return seconds if seconds > 0 else None


def is_loopback(host: str) -> bool:
    """True for `localhost` and loopback addresses (the only hosts plain IMAP may reach by default)."""
    if host.lower() in ("localhost", "localhost.localdomain"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _warn_if_readable_by_others(file: Path) -> None:
    mode = file.stat().st_mode
    if mode & (stat.S_IRGRP | stat.S_IROTH):
        logger.warning(
            "%s holds a password and is readable by other users; run `chmod 600 %s` or use password_command",
            file,
            file,
        )
    else:
        logger.warning("%s holds a literal password; password_command or password_env is safer", file)


def _table(data: dict[str, Any], key: str, problems: list[str]) -> dict[str, Any]:
    value = data.get(key, {})
    if not isinstance(value, dict):
        problems.append(f"[{key}]: must be a table")
        return {}
    return value


def _unknown(table: dict[str, Any], known: set[str], where: str, problems: list[str]) -> None:
    problems.extend(
        f"{where}: unknown key {key!r} (valid keys: {', '.join(sorted(known))})" for key in table if key not in known
    )


def _string(
    table: dict[str, Any], key: str, where: str, problems: list[str], default: str = "", required: bool = False
) -> str:
    if key not in table:
        if required:
            problems.append(f"{where} {key}: missing; this key is required")
        return default
    value = table[key]
    if not isinstance(value, str):
        problems.append(f"{where} {key}: must be a string, not {type(value).__name__}")
        return default
    if required and not value.strip():
        problems.append(f"{where} {key}: must not be empty")
    return value


def _string_list(table: dict[str, Any], key: str, where: str, problems: list[str], default: list[str]) -> list[str]:
    value = table.get(key, default)
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        problems.append(f'{where} {key}: must be a list of strings, e.g. {key} = ["..."]')
        return default
    return value
