"""`ingest config path|show|init`: which file is read, what it amounts to, and a first annotated one."""

from __future__ import annotations

import dataclasses
import json
import os
from pathlib import Path
from typing import Any

import click

from ingester import config as config_mod
from ingester.cli.common import check_group_options, global_options, globals_of, load_config, say
from ingester.errors import ConfigError


@click.group("config")
@click.pass_context
def config_group(ctx: click.Context) -> None:
    """Where the configuration is, what it says, and a first one to edit.

    The file read is --config PATH, else $INGEST_CONFIG, else $XDG_CONFIG_HOME/ingester/config.toml
    (~/.config/ingester/config.toml). Relative paths in it are relative to its folder.

    \b
    Examples:
        ingest config path
        ingest config init && ${EDITOR:-vi} "$(ingest config path)"
        ingest config show --json | jq .archive_path
    """
    check_group_options(ctx, ("as_json",))


def _origin(config_path: str | None) -> str:
    if config_path:
        return "--config"
    if os.environ.get(config_mod.ENV_VAR):
        return f"${config_mod.ENV_VAR}"
    return "default"


def _target(config_path: str | None) -> Path:
    """The file `path` names and `init` writes: the one that would be read, found or not."""
    return config_mod.locate(config_path) or config_mod.default_path()


@config_group.command("path")
@global_options()
@click.pass_context
def path_command(ctx: click.Context) -> None:
    """Print the config file that is read (named even when it does not exist yet).

    \b
    Examples:
        ingest config path
        INGEST_CONFIG=~/vault.toml ingest config path --json
    """
    opts = globals_of(ctx)
    target = _target(opts.config_path).absolute()
    found = target.is_file()
    if opts.as_json:
        data = {"path": str(target), "exists": found, "from": _origin(opts.config_path)}
        click.echo(json.dumps(data, ensure_ascii=False, indent=2))
        return
    click.echo(target)
    if not found:
        say("(no file there: the defaults apply; `ingest config init` writes an annotated one)", err=True)


@config_group.command("show")
@global_options()
@click.pass_context
def show_command(ctx: click.Context) -> None:
    """Print the configuration in effect, defaults included, paths made absolute, secrets hidden.

    \b
    Examples:
        ingest config show
        ingest --config ~/vault.toml config show --json | jq '.accounts[].host'
    """
    config = load_config(ctx)
    data = _plain(dataclasses.asdict(config))
    data["archive_path"] = str(config.archive_shown)
    if globals_of(ctx).as_json:
        click.echo(json.dumps(data, ensure_ascii=False, indent=2))
        return
    click.echo(f"# {data.pop('source_file') or 'no config file: the defaults'}")
    for key, value in data.items():
        click.echo(f"{key} = {json.dumps(value, ensure_ascii=False)}")


def _plain(value: Any, key: str = "") -> Any:
    """JSON-ready: paths as strings, tuples as lists, a literal password as "(hidden)"."""
    if isinstance(value, dict):
        return {k: _plain(v, k) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if key == "password" and value:
        return "(hidden)"
    return str(value) if isinstance(value, Path) else value


@config_group.command("init")
@global_options(as_json=False)
@click.pass_context
def init_command(ctx: click.Context) -> None:
    """Write the annotated example configuration where it will be read; never over an existing file.

    \b
    Examples:
        ingest config init
        ingest config init --config ~/vault.toml
    """
    target = _target(globals_of(ctx).config_path)
    try:
        target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        with target.open("x", encoding="utf-8") as file:  # "x": fails if the file exists
            file.write(config_mod.example_text())
    except FileExistsError as exc:
        raise ConfigError(f"{target} exists; not overwritten (edit it, or remove it first)") from exc
    except OSError as exc:
        raise ConfigError(f"cannot write {target}: {exc.strerror}") from exc
    target.chmod(0o600)  # it will hold account details
    say(f"wrote {target.absolute()}: set [archive] path and your [[accounts]], then run `ingest config show`")
