"""Tasks for `ingester.workers` tests, in a module of their own: worker processes import it by name."""

from __future__ import annotations

import os


def spin(item: int, job: str) -> str:
    """Never returns (only a time limit ends it) when `item` is negative; dies when it is 13."""
    if item == 13:
        os._exit(9)  # as the kernel's OOM killer would end it: no exception, no cleanup
    while item < 0:
        pass
    return f"{job}:{item}"


def failed(item: int, exc: BaseException) -> str:
    return f"failed:{item}:{type(exc).__name__}"
