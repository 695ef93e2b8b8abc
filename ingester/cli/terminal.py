"""What the terminal shows besides plain lines: the progress bar of long runs and Markdown rendered for
reading. The one module that imports rich.
"""

from __future__ import annotations

import contextlib
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from rich.console import Console
from rich.markdown import Markdown
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeRemainingColumn

PROGRESS_AFTER = 2.0  # seconds


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
    """Markdown rendered for the terminal (no hyperlinks: they would hide the URLs)."""
    Console(highlight=False).print(Markdown(text, hyperlinks=False))
