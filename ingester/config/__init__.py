"""Find, read and validate the TOML configuration into frozen dataclasses.

Lookup order: `--config PATH`, else `$INGEST_CONFIG`, else `config/ingester.toml` (relative to the
working directory). No file at the default place means the defaults: an archive in `./archive` and
no account, which is enough for `ingest import`. Every problem in the file is collected and reported
at once, naming section and key (`ConfigError`, exit code 2).
"""

from __future__ import annotations

import logging
import os
import stat
import tomllib
from pathlib import Path
from typing import Any

from ingester.config.model import (
    DEFAULT_PATH,
    ENV_VAR,
    LANGUAGES,
    Account,
    Config,
    Limits,
    Rule,
)
from ingester.config.read import is_loopback, parse_duration, unknown
from ingester.config.sections import SECTIONS
from ingester.errors import ConfigError

__all__ = [
    "DEFAULT_PATH",
    "ENV_VAR",
    "LANGUAGES",
    "Account",
    "Config",
    "Limits",
    "Rule",
    "is_loopback",
    "load",
    "locate",
    "parse",
    "parse_duration",
]

logger = logging.getLogger(__name__)


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


def parse(data: dict[str, Any], source_file: Path | None = None) -> Config:
    """Validate a parsed TOML document; every problem of every section is collected before raising."""
    problems: list[str] = []
    unknown(data, set(SECTIONS), "top level", problems)
    values: dict[str, Any] = {}
    for section in SECTIONS.values():
        values.update(section(data, problems))
    if problems:
        where = f" in {source_file}" if source_file else ""
        raise ConfigError(f"invalid configuration{where}:", problems)
    return Config(**values, source_file=source_file)


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
