"""One validator per top-level section of the file: each reads its table, appends every problem it finds
and returns the `Config` fields it sets."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from ingester import tags as tag_rules
from ingester.config.accounts import accounts
from ingester.config.model import FILENAMES, LANGUAGES, LIMIT_KEYS, PERSONAL_POLICIES, Limits, Rule
from ingester.config.read import is_loopback, parse_duration, string, string_list, table, unknown
from ingester.fill.settings import KEYS as FILL_KEYS
from ingester.fill.settings import FillSettings

Section = Callable[[dict[str, Any], list[str]], dict[str, Any]]


def _limits(data: dict[str, Any], problems: list[str]) -> dict[str, Any]:
    raw = table(data, "limits", problems)
    unknown(raw, LIMIT_KEYS, "[limits]", problems)
    for key, value in raw.items():
        if key in LIMIT_KEYS and (isinstance(value, bool) or not isinstance(value, int) or value <= 0):
            problems.append(f"[limits] {key}: must be a positive whole number, not {value!r}")
    return {"limits": Limits(**{k: v for k, v in raw.items() if k in LIMIT_KEYS and isinstance(v, int)})}


def _archive(data: dict[str, Any], problems: list[str]) -> dict[str, Any]:
    archive = table(data, "archive", problems)
    unknown(archive, {"path", "language", "template", "filename", "attachments"}, "[archive]", problems)
    path = string(archive, "path", "[archive]", problems, default="archive")
    language = string(archive, "language", "[archive]", problems, default="zh")
    if language not in LANGUAGES:
        problems.append(f"[archive] language: must be one of {', '.join(map(repr, LANGUAGES))}, not {language!r}")
    template = string(archive, "template", "[archive]", problems, default="")
    filename = string(archive, "filename", "[archive]", problems, default=FILENAMES[0])
    if filename not in FILENAMES:
        problems.append(f"[archive] filename: must be one of {', '.join(map(repr, FILENAMES))}, not {filename!r}")
    attachments = archive.get("attachments", False)
    if not isinstance(attachments, bool):
        problems.append(f"[archive] attachments: must be true or false, not {attachments!r}")
    return {
        "filename": filename,
        "attachments": attachments is True,
        "archive_path": Path(path).expanduser(),
        "language": language,
        "template": Path(template).expanduser() if template else None,
    }


def _newsletters(data: dict[str, Any], problems: list[str]) -> dict[str, Any]:
    newsletters = table(data, "newsletters", problems)
    unknown(newsletters, {"allow_senders", "forwarders"}, "[newsletters]", problems)
    allow = string_list(newsletters, "allow_senders", "[newsletters]", problems, default=[])
    forwarders = string_list(newsletters, "forwarders", "[newsletters]", problems, default=[])
    return {"allow_senders": tuple(s.lower() for s in allow), "forwarders": tuple(s.lower() for s in forwarders)}


def _links(data: dict[str, Any], problems: list[str]) -> dict[str, Any]:
    links = table(data, "links", problems)
    unknown(links, {"resolve_opaque", "resolve_hosts", "resolve_timeout", "personal"}, "[links]", problems)
    personal = string(links, "personal", "[links]", problems, default="keep")
    if personal not in PERSONAL_POLICIES:
        problems.append(f'[links] personal: must be "keep" or "unlink", not {personal!r}')
    resolve_opaque = links.get("resolve_opaque", False)
    if not isinstance(resolve_opaque, bool):
        problems.append("[links] resolve_opaque: must be true or false")
    resolve_hosts = string_list(links, "resolve_hosts", "[links]", problems, default=[])
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
        "personal_links": personal if personal in PERSONAL_POLICIES else "keep",
    }


def _privacy(data: dict[str, Any], problems: list[str]) -> dict[str, Any]:
    privacy = table(data, "privacy", problems)
    unknown(privacy, {"identities", "redact_names"}, "[privacy]", problems)
    identities = string_list(privacy, "identities", "[privacy]", problems, default=[])
    problems.extend(
        f"[privacy] identities: {identity!r} is too short to look for (3 characters at least)"
        for identity in identities
        if len(identity.strip()) < 3
    )
    redact_names = privacy.get("redact_names", False)
    if not isinstance(redact_names, bool):
        problems.append("[privacy] redact_names: must be true or false")
    return {"identities": tuple(i.strip() for i in identities), "redact_names": redact_names is True}


def _daemon(data: dict[str, Any], problems: list[str]) -> dict[str, Any]:
    daemon = table(data, "daemon", problems)
    unknown(daemon, {"interval"}, "[daemon]", problems)
    interval = parse_duration(string(daemon, "interval", "[daemon]", problems, default="15m"))
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


def _fill(data: dict[str, Any], problems: list[str]) -> dict[str, Any]:
    raw = table(data, "fill", problems)
    unknown(raw, FILL_KEYS, "[fill]", problems)
    texts = {k: string(raw, k, "[fill]", problems) for k in ("endpoint", "model", "api_key_env", "api_key_command")}
    language = string(raw, "language", "[fill]", problems)
    prompt = string(raw, "prompt", "[fill]", problems)
    flags = {k: raw.get(k, False) for k in ("auto", "allow_remote")}
    for key, value in flags.items():
        if not isinstance(value, bool):
            problems.append(f"[fill] {key}: must be true or false")
    numbers: dict[str, Any] = {"timeout": 120.0, "max_input_chars": 20_000, "jobs": 1}
    for key, (low, high) in {"timeout": (1, 3600), "max_input_chars": (500, 2_000_000), "jobs": (1, 16)}.items():
        value = raw.get(key, numbers[key])
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not low <= value <= high:
            problems.append(f"[fill] {key}: must be a number from {low} to {high}, not {value!r}")
        elif key != "timeout" and not isinstance(value, int):
            problems.append(f"[fill] {key}: must be a whole number, not {value!r}")
        else:
            numbers[key] = value
    endpoint = texts["endpoint"].strip().rstrip("/")
    if endpoint:
        host = urlsplit(endpoint).hostname or ""
        if not re.match(r"https?://", endpoint, re.I) or not host:
            problems.append(
                f"[fill] endpoint: must be an http(s) base URL such as http://127.0.0.1:8080/v1, not {endpoint!r}"
            )
        elif not is_loopback(host) and flags["allow_remote"] is not True:
            problems.append(
                f"[fill] endpoint: {host} is not this machine, and filling sends it the text of your newsletters; "
                "set allow_remote = true to allow it, or use a local server (llama.cpp, Ollama) on 127.0.0.1"
            )
        if not texts["model"].strip():
            problems.append('[fill] model: missing; name the model the server should use, e.g. model = "qwen2.5:7b"')
    if texts["api_key_env"] and texts["api_key_command"]:
        problems.append("[fill] api_key_env, api_key_command: set one of them, not both")
    settings = FillSettings(
        endpoint=endpoint,
        model=texts["model"].strip(),
        api_key_env=texts["api_key_env"],
        api_key_command=texts["api_key_command"],
        language=language.strip(),
        auto=flags["auto"] is True,
        timeout=float(numbers["timeout"]),
        max_input_chars=int(numbers["max_input_chars"]),
        allow_remote=flags["allow_remote"] is True,
        prompt=Path(prompt).expanduser() if prompt else None,
        jobs=int(numbers["jobs"]),
    )
    return {"fill": settings}


# Each top-level key of the file and its validator, in the order problems are reported.
SECTIONS: dict[str, Section] = {
    "limits": _limits,
    "archive": _archive,
    "newsletters": _newsletters,
    "links": _links,
    "privacy": _privacy,
    "daemon": _daemon,
    "fill": _fill,
    "rules": _rules,
    "accounts": accounts,
}


RULE_KEYS = {"sender", "publication", "tags", "category", "skip", "folder"}


def _rule(index: int, raw: Any, problems: list[str]) -> Rule | None:
    where = f"[[rules]] #{index + 1}"
    if not isinstance(raw, dict):
        problems.append(f"{where}: must be a table")
        return None
    before = len(problems)
    unknown(raw, RULE_KEYS, where, problems)
    sender = string(raw, "sender", where, problems)
    publication = string(raw, "publication", where, problems)
    if not sender and not publication:
        problems.append(f"{where}: set sender or publication (or both) to say which newsletters it applies to")
    tags = string_list(raw, "tags", where, problems, default=[])
    for tag in tags:
        if not tag_rules.is_valid(tag):
            better = tag_rules.suggest(tag)
            hint = f', e.g. "{better}"' if better else ""
            problems.append(f"{where} tags: {tag!r} is not a tag every vault reads ({tag_rules.RULE}){hint}")
    category = string(raw, "category", where, problems)
    skip = raw.get("skip", False)
    if not isinstance(skip, bool):
        problems.append(f"{where} skip: must be true or false")
    folder = string(raw, "folder", where, problems)
    if folder and (Path(folder).is_absolute() or ".." in Path(folder).parts):
        problems.append(f"{where} folder: must be a relative folder inside the archive, not {folder!r}")
    elif folder and ("\x00" in folder or any(len(p.encode()) > 100 for p in Path(folder).parts)):
        problems.append(f"{where} folder: no NUL characters, and each part at most 100 bytes")
    if len(problems) > before:
        return None
    return Rule(
        sender=sender, publication=publication, tags=tuple(tags), category=category, skip=skip is True, folder=folder
    )
