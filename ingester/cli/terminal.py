"""What reaches the terminal: text with no control character (whatever a sender or a file put in it), the
progress bar of long runs and Markdown rendered for reading. The one module that imports rich.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import click
from rich.console import Console
from rich.markdown import Markdown
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeRemainingColumn

from ingester.markdown import images_as_text

PROGRESS_AFTER = 2.0  # seconds
# C0 and C1 controls but tab and newline: escape sequences (OSC 52 writes the clipboard), bells, CSI (0x9b).
UNPRINTABLE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")
LINE_BREAKS = re.compile("\r\n|[\n\r\x0b\x0c\x85\u2028\u2029]")
C1 = re.compile("[\x7f-\x9f]")  # what json.dumps(ensure_ascii=False) leaves raw


def printable(text: str) -> str:
    """`text` without the controls a terminal would act on; tabs and newlines kept (a note, a body)."""
    return UNPRINTABLE.sub("", LINE_BREAKS.sub("\n", text))


def one_line(text: str) -> str:
    """A field as one line of a listing: line breaks become spaces, controls go, so a value never fakes a
    line of its own."""
    return UNPRINTABLE.sub("", LINE_BREAKS.sub(" ", text))


def echo(text: str = "", nl: bool = True, err: bool = False) -> None:
    """One line to the terminal, made printable: every line of a listing, show, review, explain or log."""
    click.echo(one_line(text), nl=nl, err=err)


def to_json(data: object) -> str:
    """JSON for --json: every control escaped (json.dumps escapes C0, not C1)."""
    text = json.dumps(data, ensure_ascii=False, indent=2)
    return C1.sub(lambda m: f"\\u{ord(m.group(0)):04x}", text)


@dataclass
class _Bar:
    done: int = 0
    total: int = 0
    task: TaskID | None = None


@contextlib.contextmanager
def progress_bar(
    enabled: bool, label: str = "filing", unit: str = "msg"
) -> Iterator[Callable[[int, int], None] | None]:
    """A progress bar on stderr (items done of the total announced, rate, ETA) for runs longer than a
    few seconds.

    Only on a terminal, never with --json or -q; it appears after PROGRESS_AFTER seconds so quick
    runs print nothing but their result. The callback takes (items done, items announced).
    """
    if not enabled or not sys.stderr.isatty():
        yield None
        return
    state = _Bar()
    started = time.monotonic()
    bar = Progress(
        TextColumn(label),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[rate]:>6.1f} " + unit + "/s"),
        TimeRemainingColumn(),
        transient=True,
    )

    def update(advance: int, more: int) -> None:
        state.done += advance
        state.total += more
        elapsed = time.monotonic() - started
        if state.task is None and elapsed >= PROGRESS_AFTER:
            bar.start()
            state.task = bar.add_task(label, total=state.total or None, rate=0.0)
        if state.task is not None:
            bar.update(
                state.task, completed=state.done, total=max(state.total, state.done) or None, rate=state.done / elapsed
            )

    try:
        yield update
    finally:
        if state.task is not None:
            bar.stop()


def print_markdown(text: str) -> None:
    """Markdown rendered for the terminal (no hyperlinks: they would hide the URLs; images are named
    with their address, which rich would drop). Long lines wrap, never cut."""
    Console(highlight=False).print(Markdown(printable(images_as_text(text)), hyperlinks=False))


def size() -> tuple[int, int]:
    """(columns, lines) of the terminal, or of $COLUMNS/$LINES."""
    found = shutil.get_terminal_size()
    return found.columns, found.lines


def markdown_lines(text: str) -> list[str]:
    """Markdown rendered for this terminal as lines (styled on a terminal), wrapped at its width."""
    buffer = io.StringIO()
    console = Console(
        file=buffer, width=size()[0], highlight=False, force_terminal=sys.stdout.isatty(), color_system="standard"
    )
    console.print(Markdown(printable(images_as_text(text)), hyperlinks=False))
    return [line.rstrip() for line in buffer.getvalue().splitlines()]


def page(text: str) -> None:
    """Show `text` in $PAGER (default `less -R`, which keeps the styles); printed when there is none."""
    command = shlex.split(os.environ.get("PAGER") or "less -R")
    if not command or shutil.which(command[0]) is None:
        sys.stdout.write(text + "\n")
        sys.stdout.flush()
        return
    with contextlib.suppress(OSError):
        subprocess.run(command, input=text.encode("utf-8"), check=False)  # noqa: S603 - the user's own $PAGER


def open_url(url: str) -> str:
    """Open `url` in $BROWSER (else xdg-open/open); returns the command used, "" when there is none."""
    for entry in [*filter(None, os.environ.get("BROWSER", "").split(os.pathsep)), "xdg-open", "open"]:
        command = shlex.split(entry)
        if not command or shutil.which(command[0]) is None:
            continue
        args = [a.replace("%s", url) for a in command] if "%s" in entry else [*command, url]
        try:
            # The user's own $BROWSER; xdg-open and most browser scripts hand the URL over and exit.
            quiet = subprocess.DEVNULL
            subprocess.Popen(args, stdin=quiet, stdout=quiet, stderr=quiet).wait(timeout=10)  # noqa: S603
        except subprocess.TimeoutExpired:
            pass  # a browser that stays in the foreground: leave it running
        except OSError:
            continue
        return command[0]
    return ""
