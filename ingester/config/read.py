"""Readers of TOML values that collect problems instead of raising: the validators' vocabulary."""

from __future__ import annotations

import ipaddress
import re
from typing import Any


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


def table(data: dict[str, Any], key: str, problems: list[str]) -> dict[str, Any]:
    value = data.get(key, {})
    if not isinstance(value, dict):
        problems.append(f"[{key}]: must be a table")
        return {}
    return value


def unknown(table: dict[str, Any], known: set[str], where: str, problems: list[str]) -> None:
    problems.extend(
        f"{where}: unknown key {key!r} (valid keys: {', '.join(sorted(known))})" for key in table if key not in known
    )


def string(
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


def string_list(table: dict[str, Any], key: str, where: str, problems: list[str], default: list[str]) -> list[str]:
    value = table.get(key, default)
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        problems.append(f'{where} {key}: must be a list of strings, e.g. {key} = ["..."]')
        return default
    return value
