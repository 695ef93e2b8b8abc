"""What every command shares: exit codes, errors as one line, logging, the global options (accepted on
the group and on every command), signals, and the report of a run. Commands live in `run`, `drafts`,
`records` and `settings`; the group in `__init__`.
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, TypeVar

import click

from ingester import config as config_mod
from ingester.cli.terminal import echo, to_json
from ingester.config.password import allow_password_commands, stop_password_commands
from ingester.errors import EXIT_INTERNAL, IngesterError
from ingester.pipeline import RunSummary

EXIT_SOME_FAILED = 3
EXIT_SIGNAL: dict[int, int] = {
    signal.SIGINT: 130,
    signal.SIGTERM: 143,
}  # 128 + the signal's number, as shells report it
EXIT_CODES_HELP = f"""\b
Exit codes:
  0   done (nothing failed)
  1   runtime error: server unreachable, TLS or login failure, archive not writable
  2   usage or configuration error
  3   finished, but some messages failed (recorded; retried on the next run)
  {EXIT_INTERNAL}  unexpected error (a bug): rerun with -v and report the traceback
  130 stopped early by Ctrl-C (SIGINT); 143 by SIGTERM (run the same command again to continue)"""
# Exceptions click handles itself (usage errors, --help, Ctrl-C at a prompt): never a bug of ours.
CLICK_FLOW = (click.exceptions.ClickException, click.exceptions.Exit, click.exceptions.Abort)


class IngestGroup(click.Group):
    """Turns our errors into one `Error: …` line and the right exit code (traceback only with -v); an
    unexpected exception (a bug) is one line too, with its own exit code."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except CLICK_FLOW:
            raise
        except BrokenPipeError as exc:  # `ingest log | head`: the reader has gone; not an error
            _silence_stdout()
            raise click.exceptions.Exit(0) from exc
        except KeyboardInterrupt as exc:  # Ctrl-C outside a run (a run stops cleanly, see stop_on_signal)
            click.echo(err=True)
            raise click.exceptions.Exit(EXIT_SIGNAL[signal.SIGINT]) from exc
        except IngesterError as exc:
            _debug_traceback()
            raise _click_error(str(exc), exc.exit_code) from exc
        except Exception as exc:
            _debug_traceback()
            raise _click_error(
                f"unexpected {type(exc).__name__}: {exc} (a bug in the ingester; rerun with -v "
                "for the traceback and report it)",
                EXIT_INTERNAL,
            ) from exc


def _silence_stdout() -> None:
    """Point stdout at /dev/null, so the interpreter's last flush into a closed pipe says nothing."""
    with contextlib.suppress(OSError, ValueError, io.UnsupportedOperation):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())


def _click_error(message: str, code: int) -> click.ClickException:
    error = click.ClickException(message)
    error.exit_code = code  # type: ignore[misc]  # click exits with the instance's code
    return error


def _debug_traceback() -> None:
    if logging.getLogger().isEnabledFor(logging.DEBUG):
        logging.getLogger(__name__).debug("traceback", exc_info=True)


def setup_logging(verbose: int, quiet: bool) -> None:
    level = logging.DEBUG if verbose else logging.ERROR if quiet else logging.WARNING
    logging.basicConfig(level=level, format="%(levelname)s: %(message)s", stream=sys.stderr, force=True)
    if verbose < 2:  # imapclient logs every command at DEBUG; only with -vv
        logging.getLogger("imapclient").setLevel(max(level, logging.INFO))


# --- Global options: --config, --json, -v, -q on the group and on every command ----------------------------------


@dataclass(frozen=True)
class Globals:
    """The global options, wherever they were given (group or command)."""

    config_path: str | None = None
    as_json: bool = False
    verbose: int = 0
    quiet: bool = False


def globals_of(ctx: click.Context) -> Globals:
    obj = ctx.find_root().ensure_object(dict)
    return Globals(obj.get("config_path"), obj.get("as_json", False), obj.get("verbose", 0), obj.get("quiet", False))


def _remember(ctx: click.Context, param: click.Parameter, value: Any) -> Any:
    """Store a global option given here in the root context (group and command both count)."""
    if not value:
        return value
    obj = ctx.find_root().ensure_object(dict)
    name = param.name or ""
    obj[name] = obj.get(name, 0) + value if name == "verbose" else value
    if name in ("verbose", "quiet"):
        setup_logging(obj.get("verbose", 0), obj.get("quiet", False))
    return value


F = TypeVar("F", bound=Callable[..., Any])


def global_options(as_json: bool = True) -> Callable[[F], F]:
    """--config, -v, -q (and --json where the command prints results) on a command; read them with
    `globals_of`. A command without JSON output has no --json, so the group refuses it for it."""

    def decorate(func: F) -> F:
        options = [
            click.option(
                "--config",
                "config_path",
                type=click.Path(dir_okay=False),
                expose_value=False,
                callback=_remember,
                help=f"Config file (default: ${config_mod.ENV_VAR}, else {config_mod.default_path_text()}).",
            ),
            click.option(
                "-v",
                "--verbose",
                count=True,
                expose_value=False,
                callback=_remember,
                help="Debug logging and tracebacks (-vv: also the IMAP library's debug log).",
            ),
            click.option(
                "-q", "--quiet", is_flag=True, expose_value=False, callback=_remember, help="Nothing but errors."
            ),
        ]
        if as_json:
            options.append(
                click.option(
                    "--json",
                    "as_json",
                    is_flag=True,
                    expose_value=False,
                    callback=_remember,
                    help="Print the result as JSON (fields: see the README).",
                )
            )
        for option in reversed(options):
            func = option(func)
        return func

    return decorate


FLAGS = {"since": "--since", "all_messages": "--all", "jobs": "--jobs", "as_json": "--json"}


def check_group_options(ctx: click.Context, names: tuple[str, ...]) -> None:
    """Options of the group given before a command: handed on to a command that has an option of that
    name, an error naming the commands that have it otherwise (never silently ignored)."""
    group = ctx.command
    if ctx.invoked_subcommand is None or not isinstance(group, click.Group):
        return
    sub = group.get_command(ctx, ctx.invoked_subcommand)
    if sub is None:
        return  # click reports the unknown command
    handed: dict[str, Any] = {}
    for name in names:
        if ctx.get_parameter_source(name) not in (
            click.core.ParameterSource.COMMANDLINE,
            click.core.ParameterSource.ENVIRONMENT,
        ) and not (name == "as_json" and globals_of(ctx).as_json):
            continue
        if not _has_option(sub, name, deep=name == "as_json"):
            flag = FLAGS[name]
            owners = ", ".join(f"`{path}`" for path in _owners(group, ctx.command_path, name))
            raise click.UsageError(
                f"`{ctx.command_path} {ctx.invoked_subcommand}` has no {flag} option; {flag} works with {owners}"
            )
        if name != "as_json":
            handed[name] = ctx.params[name]
    if handed:
        ctx.default_map = {ctx.invoked_subcommand: handed}


def _has_option(command: click.Command, name: str, deep: bool) -> bool:
    """Whether `command` takes the option; `deep`: or one of its subcommands (which checks again)."""
    if deep and isinstance(command, click.Group):
        return any(_has_option(sub, name, deep) for sub in command.commands.values())
    return any(p.name == name for p in command.params)


def _owners(command: click.Command, path: str, name: str) -> list[str]:
    found = [path] if any(p.name == name for p in command.params) else []
    if isinstance(command, click.Group):
        for sub_name, sub in sorted(command.commands.items()):
            found += _owners(sub, f"{path} {sub_name}", name)
    return found


def load_config(ctx: click.Context) -> config_mod.Config:
    """The configuration named by --config (group or command), else its defaults."""
    return config_mod.load(globals_of(ctx).config_path)


def say(text: str = "", nl: bool = True, err: bool = False) -> None:
    """A line of chatter (what was done, counts): not printed with -q."""
    if not globals_of(click.get_current_context()).quiet:
        click.echo(text, nl=nl, err=err)


def report(summary: RunSummary, as_json: bool, stop: Stop | None = None, started: float | None = None) -> None:
    """Print what a run did and exit with the code that says how it went.

    With -q: nothing when all went well; failed messages and errors on stderr.
    """
    quiet = globals_of(click.get_current_context()).quiet
    elapsed = time.monotonic() - started if started is not None else None
    _not_mail(summary)
    if as_json:
        data = summary.as_dict()
        if elapsed is not None:
            data["elapsed_seconds"] = round(elapsed, 3)
        click.echo(to_json(data))
    elif quiet:
        for failure in summary.failures:
            echo(f"failed  {failure['source']}: {failure['error']}", err=True)
    elif summary.errors and not summary.seen:
        pass  # nothing was read: the error lines below say it all
    else:
        for note in summary.notes:
            echo(f"filed   {shown(note)}")
        for note in summary.partial:
            echo(f"partial {shown(note)}: the note may miss part of the article ('ingest explain' says why)")
        for failure in summary.failures:
            echo(f"failed  {failure['source']}: {failure['error']}")
        for item in summary.needs_action:
            link = f" → {item['link']}" if item["link"] else ""
            echo(f"action  {item['reason']}: {item['subject']!r}{link}")
        counts = (
            f"{summary.filed} filed, {summary.skipped} skipped, {summary.duplicates} duplicates, "
            f"{summary.failed} failed" + (f", {len(summary.partial)} partial" if summary.partial else "")
        )
        if summary.repeated:  # blocks earlier issues of the same publication had at their head or tail
            counts += f", {summary.repeated} repeated blocks removed"
        counts += timing(summary.seen, elapsed)
        if summary.stopped or (stop is not None and stop.is_set()):
            click.echo(f"Stopped early: {counts}. Run the same command again to continue.")
        elif summary.filed == 0 and summary.failed == 0 and not summary.errors:
            click.echo(f"Nothing new: {counts}.")
        else:
            click.echo(f"Done: {counts}.")
    for error in summary.errors:
        click.echo(f"Error: {error}", err=True)
    if summary.errors:
        sys.exit(1)
    if stop is not None and stop.signum:
        sys.exit(EXIT_SIGNAL[stop.signum])
    if summary.failed:
        sys.exit(EXIT_SOME_FAILED)


def shown(path: str) -> str:
    """A path as a person reads it: relative to the working directory when it is inside it."""
    absolute = os.path.abspath(path)
    here = os.getcwd()
    return os.path.relpath(absolute, here) if absolute.startswith(here + os.sep) else path


def _not_mail(summary: RunSummary) -> None:
    """Files given to `import` that are no email at all: named on stderr (never recorded); when nothing
    else was found, a usage error, before any summary."""
    if not summary.not_mail:
        return
    count = len(summary.not_mail)
    named = ", ".join(summary.not_mail[:3]) + (f" and {count - 3} more" if count > 3 else "")
    if not summary.seen and not summary.errors:
        click.echo(
            f"Error: no email message found: {count} {'file is' if count == 1 else 'files are'} not mail "
            f"({named}); give an mbox, a Maildir, .eml files or a folder of them",
            err=True,
        )
        sys.exit(2)
    click.echo(f"Not mail, ignored: {named}", err=True)


def timing(count: int, elapsed: float | None, unit: str = "msg") -> str:
    """ " in 12.3 s, 45.6 msg/s" for the end of a summary line ("" without a clock)."""
    if elapsed is None:
        return ""
    rate = f", {count / elapsed:.1f} {unit}/s" if count and elapsed > 0 else ""
    return f" in {elapsed:.1f} s{rate}"


class Stop(threading.Event):
    """Set by SIGINT or SIGTERM; remembers which, for the exit code."""

    signum: int = 0


@contextlib.contextmanager
def stop_on_signal() -> Iterator[Stop]:
    """SIGTERM/SIGINT finish the message in hand and end the run cleanly (rerun continues); the exit
    code then says which signal stopped it (130, 143)."""
    stop = Stop()

    def handler(signum: int, frame: object) -> None:
        if stop.is_set():  # a second signal: stop now
            raise KeyboardInterrupt
        stop.signum = signum
        stop.set()
        stop_password_commands()

    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield stop
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)
        allow_password_commands()


jobs_option = click.option(
    "--jobs",
    "-j",
    type=click.IntRange(1, 64),
    default=os.cpu_count() or 1,
    show_default="number of cores",
    help="Worker processes converting messages.",
)
all_option = click.option(
    "--all", "all_messages", is_flag=True, help="File every message, not only those that look like newsletters."
)
