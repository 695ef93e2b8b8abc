"""Find, read and validate the TOML configuration into frozen dataclasses.

Lookup order: `--config PATH`, else `$INGEST_CONFIG`, else `$XDG_CONFIG_HOME/ingester/config.toml`
(`~/.config/ingester/config.toml` when the variable is unset), as desktop tools do. Relative paths in
a file (archive, template, ca_file) are relative to that file's folder, so the same file means the
same archive from any working directory. No file at the default place means the defaults: an archive
in `./archive` and no account, which is enough for `ingest import`. Every problem in the file is
collected and reported at once, naming section and key (`ConfigError`, exit code 2).
"""

from __future__ import annotations

import copy
import logging
import os
import stat
import tomllib
from importlib import resources
from pathlib import Path
from typing import Any

from ingester.config.model import (
    ENV_VAR,
    LANGUAGES,
    OLD_DEFAULT_PATH,
    Account,
    Config,
    Limits,
    Rule,
)
from ingester.config.read import is_loopback, parse_duration, unknown
from ingester.config.sections import SECTIONS
from ingester.errors import ConfigError

__all__ = [
    "ENV_VAR",
    "LANGUAGES",
    "Account",
    "Config",
    "Limits",
    "Rule",
    "default_path",
    "default_path_text",
    "example_text",
    "is_loopback",
    "load",
    "locate",
    "parse",
    "parse_duration",
]

logger = logging.getLogger(__name__)


# Keys that hold paths, per section ("accounts" is a list of tables): relative ones are anchored at the
# config file's folder before validation, so checks (ca_file exists) and values agree.
PATH_KEYS = {"archive": ("path", "template"), "accounts": ("ca_file",), "fill": ("prompt",)}


def default_path() -> Path:
    """`$XDG_CONFIG_HOME/ingester/config.toml`, `~/.config/ingester/config.toml` without it (XDG base
    directory specification: a relative $XDG_CONFIG_HOME is ignored)."""
    base = os.environ.get("XDG_CONFIG_HOME", "")
    root = Path(base) if base and Path(base).is_absolute() else Path.home() / ".config"
    return root / "ingester" / "config.toml"


def default_path_text() -> str:
    return "$XDG_CONFIG_HOME/ingester/config.toml, i.e. ~/.config/ingester/config.toml"


def example_text() -> str:
    """The annotated example configuration (package data, so an installed wheel has it)."""
    return resources.files(__package__).joinpath("example.toml").read_text(encoding="utf-8")


def locate(path: str | os.PathLike[str] | None) -> Path | None:
    """The config file to read: `path`, else `$INGEST_CONFIG`, else the default file if it exists."""
    if path:
        return Path(path).expanduser()
    env = os.environ.get(ENV_VAR)
    if env:
        return Path(env).expanduser()
    default = default_path()
    return default if default.is_file() else None


def load(path: str | os.PathLike[str] | None = None) -> Config:
    """Read and validate the configuration; raise `ConfigError` listing every problem."""
    file = locate(path)
    if file is None:
        if OLD_DEFAULT_PATH.is_file():
            logger.warning(
                "%s is no longer read by default: move it to %s or pass --config %s",
                OLD_DEFAULT_PATH,
                default_path(),
                OLD_DEFAULT_PATH,
            )
        return Config()
    if not file.is_file():
        how = f"--config {file}" if path else f"${ENV_VAR}={file}"
        raise ConfigError(
            f"config file {file} not found (from {how}); "
            "`ingest config init` writes an annotated one at the default place; or point to an existing file"
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
    """Validate a parsed TOML document; every problem of every section is collected before raising.

    Relative paths are relative to `source_file`'s folder (the working directory without a file).
    """
    if source_file is not None:
        data = anchor_paths(data, source_file.absolute().parent)
    problems: list[str] = []
    unknown(data, set(SECTIONS), "top level", problems)
    values: dict[str, Any] = {}
    for section in SECTIONS.values():
        values.update(section(data, problems))
    if problems:
        where = f" in {source_file}" if source_file else ""
        raise ConfigError(f"invalid configuration{where}:", problems)
    return Config(**values, source_file=source_file)


def anchor_paths(data: dict[str, Any], base: Path) -> dict[str, Any]:
    """A copy of `data` with every relative path value (see PATH_KEYS) joined to `base`; `~` paths and
    values of the wrong type are left for the validators to judge."""
    data = copy.deepcopy(data)
    for section, keys in PATH_KEYS.items():
        value = data.get(section)
        tables = value if isinstance(value, list) else [value]
        for table in tables:
            if not isinstance(table, dict):
                continue
            for key in keys:
                text = table.get(key)
                if isinstance(text, str) and text and not text.startswith("~") and not Path(text).is_absolute():
                    table[key] = os.path.normpath(base / text)
    return data


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
