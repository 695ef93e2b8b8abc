"""Conversion in worker processes, results in the order the messages came.

A generic, ordered process pool: `Workers.run` takes (message, ready result or None) pairs and yields
(message, result) in the same order, converting at most `jobs × 4` messages ahead of the consumer
(memory does not grow with the mailbox). The first few messages, and every message when `jobs` is 1,
are converted in this process: starting workers costs more than it saves on a small run. Outside the
main thread (the daemon's polls and watchers) every item goes to a worker process, so `time_limit`,
which needs the main thread's signals, bounds every item wherever it runs. A worker that dies takes
only the items it held: they get `on_error`'s result and the next items a new pool.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import threading
import time
from collections import deque
from collections.abc import Callable, Generator, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from types import FrameType
from typing import Generic, TypeVar

from ingester.errors import MessageTooSlow

Item = TypeVar("Item")
Result = TypeVar("Result")
Job = TypeVar("Job")

POOL_AFTER = 8  # messages: fewer are converted in-process (starting workers costs more than it saves)
AHEAD_PER_JOB = 4  # messages converted ahead of the consumer, per worker

# Per worker process: the task and its job, set once by the initializer.
_TASK: dict[str, object] = {}


class Workers(Generic[Item, Job, Result]):
    """Runs `task(item, job)` for each item, in `jobs` processes once there are enough items."""

    def __init__(
        self,
        task: Callable[[Item, Job], Result],
        job: Job,
        on_error: Callable[[Item, BaseException], Result],
        jobs: int = 1,
    ) -> None:
        self.task = task
        self.job = job
        self.on_error = on_error  # the result of an item whose worker process died
        self.jobs = max(1, jobs)
        self._pool: ProcessPoolExecutor | None = None
        self._owner: dict[Future[Result], ProcessPoolExecutor] = {}  # the pool of each future not yet drained

    def run(self, items: Iterable[tuple[Item, Result | None]]) -> Iterator[tuple[Item, Result]]:
        """(item, result) in input order; an item given with a result already is passed through."""
        window: deque[tuple[Item, Future[Result] | Result]] = deque()
        seen = 0
        for item, ready in items:
            seen += 1
            if ready is not None:
                window.append((item, ready))
                continue
            pool = self._pool_for(seen)
            if pool is None:
                window.append((item, self.task(item, self.job)))
                yield from self._drain(window, 0)
            else:
                window.append((item, self._submit(pool, item)))
                yield from self._drain(window, self.jobs * AHEAD_PER_JOB)
        yield from self._drain(window, 0)

    def _submit(self, pool: ProcessPoolExecutor, item: Item) -> Future[Result]:
        """The item's future; a pool found broken (a worker died since the last result) is replaced once."""
        try:
            future: Future[Result] = pool.submit(_run, item)  # type: ignore[arg-type]  # `_run` runs `task`
        except BrokenProcessPool:
            self._discard_pool()
            pool = self._new_pool()
            future = pool.submit(_run, item)  # type: ignore[arg-type]
        self._owner[future] = pool
        return future

    def close(self) -> None:
        """Stop the workers (work not started is cancelled)."""
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
        self._owner.clear()

    def _pool_for(self, seen: int) -> ProcessPoolExecutor | None:
        in_main = threading.current_thread() is threading.main_thread()
        if in_main and (self.jobs == 1 or seen <= POOL_AFTER):
            return self._pool
        return self._pool or self._new_pool()

    def _new_pool(self) -> ProcessPoolExecutor:
        # spawn: workers never inherit the daemon's threads, sockets or SQLite handle, and they
        # exit when this process dies (see `_exit_with_parent`)
        self._pool = ProcessPoolExecutor(
            self.jobs,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_init,
            initargs=(self.task, self.job, os.getpid()),
        )
        return self._pool

    def _drain(self, window: deque[tuple[Item, Future[Result] | Result]], limit: int) -> Iterator[tuple[Item, Result]]:
        while len(window) > limit:
            item, result = window.popleft()
            if not isinstance(result, Future):
                yield item, result
                continue
            owner = self._owner.pop(result, None)
            try:
                value = result.result()
            except BrokenProcessPool as exc:  # a worker died (killed, out of memory): its items failed
                if owner is self._pool:  # not a newer pool that took over meanwhile
                    self._discard_pool()
                yield item, self.on_error(item, exc)
            else:
                yield item, value

    def _discard_pool(self) -> None:
        self._owner = {f: p for f, p in self._owner.items() if p is not self._pool}
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None


@contextmanager
def time_limit(seconds: float) -> Generator[None]:
    """Raise `MessageTooSlow` in the code inside once `seconds` have passed (main thread only; elsewhere
    a no-op, which is why `Workers` sends every item to a worker process outside the main thread).

    The alarm interrupts Python code and regular expressions alike, between two steps of either.
    """
    if seconds <= 0 or threading.current_thread() is not threading.main_thread():
        yield
        return

    def expired(signum: int, frame: FrameType | None) -> None:
        raise MessageTooSlow(f"took longer than {seconds:g} s ([limits] message_seconds)")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _init(task: Callable[..., object], job: object, parent: int) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the main process decides when to stop
    # `parent` comes from the main process: a worker started after its parent died must not wait on pid 1
    threading.Thread(target=_exit_with_parent, args=(parent,), daemon=True).start()
    _TASK.update(task=task, job=job)


def _exit_with_parent(parent: int) -> None:
    """A worker whose ingest was killed (even by SIGKILL) exits too: the pool's queues never tell it."""
    while os.getppid() == parent:
        time.sleep(1.0)
    os._exit(1)


def _run(item: object) -> object:
    task: Callable[[object, object], object] = _TASK["task"]  # type: ignore[assignment]
    return task(item, _TASK["job"])
