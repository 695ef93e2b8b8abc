"""Bounded work per message: no regular expression of the package, and no stage, is superlinear on text a
sender controls.

Every compiled pattern found in the package's modules is run on long runs of the characters and
fragments that make Markdown, HTML, URLs and mail special ("[a](", "<https://", "?a=", "&#", …). A
linear pattern takes well under a millisecond on 20,000 characters; a quadratic one takes seconds
(a 200 KB message stalled the daemon for 34 s on two of them). Then whole messages of 1 MB made of the
same fragments go through the message → note work with a time limit.
"""

from __future__ import annotations

import importlib
import json
import os
import pkgutil
import re
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

import ingester
from ingester import compose
from ingester.config import Config, Limits
from ingester.errors import MessageTooSlow
from ingester.message import RawMessage
from ingester.pipeline import Pipeline, RunSummary
from ingester.store.ledger import Ledger
from ingester.workers import Workers, time_limit
from tests import workload
from tests.conftest import email_bytes, run_ingest

SIZE = 10_000  # characters per adversarial input of one pattern
LIMIT = 0.5  # seconds: a linear pattern needs a hundredth of this, a quadratic one several times it
# Patterns that only ever read the rule files we ship (never mail): not part of the attack surface.
RULE_DATA_ONLY = {"ingester.links.formats._HOST_PART", "ingester.links.formats._TOP_LEVEL_BAR"}
# fmt: off
UNITS = [
    "[a](",
    "[",
    "](",
    "![a](",
    "[a]",
    "]: ",
    "<",
    "<a",
    "<a ",
    "</",
    "<!--",
    "-->",
    "<https://",
    "&#",
    "&",
    "&a",
    "http://",
    "https://a",
    "https://a/",
    "?a=",
    "&a=",
    "=",
    "#",
    "# ",
    " #",
    " ",
    "\t",
    "\n",
    "\n\n",
    "*",
    "**",
    "_",
    "__",
    "`",
    "```",
    "~",
    "|",
    " | ",
    "-",
    "--",
    "---",
    ".",
    "a.",
    ". ",
    "@",
    "a@",
    "%",
    "%2",
    "\\",
    "\\\n",
    "1",
    "1.",
    "12:",
    "a",
    "aa ",
    "a ",
    "!",
    "(",
    ")",
    "()",
    "]",
    ":",
    "/",
    "//",
    "m_1",
    "\r\n",
    "\u00ad",
    "\u200b",
    "\\[a\\](",
    "\\[",
    "= ",
    "-3",
    "*a",
    "a*",
    "=?",
    "?=",
    "=?utf-8?q?",
    "From: ",
    "---------- ",
    "> ",
    ">",
    "‍",
    "。",
    "\\[a\\](",  # escaped brackets, as the notes write the text of a plain-text message
    "\\[",
]
# fmt: on


def package_patterns() -> Iterator[tuple[str, re.Pattern[str] | re.Pattern[bytes]]]:
    """Every compiled pattern at the top level of every module of the package, once (under the module that
    defines it first in import order)."""
    seen: set[int] = set()
    for info in pkgutil.walk_packages(ingester.__path__, "ingester."):
        if info.name == "ingester.__main__":
            continue  # importing it runs the command line
        module = importlib.import_module(info.name)
        for name, value in vars(module).items():
            qualified = f"{info.name}.{name}"
            if isinstance(value, re.Pattern) and id(value) not in seen and qualified not in RULE_DATA_ONLY:
                seen.add(id(value))
                yield qualified, value


PATTERNS = dict(package_patterns())


def adversarial(unit: str, size: int = SIZE) -> list[str]:
    """The unit repeated, then the same with an ending that breaks the pattern's hope of a match."""
    run = unit * (size // len(unit))
    return [run, run + "\x00", "x" + run]


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(PATTERNS))
def test_no_pattern_is_superlinear(name: str) -> None:
    pattern = PATTERNS[name]
    slow = []
    for unit in UNITS:
        for text in adversarial(unit):
            subject: str | bytes = (
                text.encode("utf-8", "surrogateescape") if isinstance(pattern.pattern, bytes) else text
            )
            started = time.process_time()  # CPU time: the pattern's work, whatever else the machine does
            pattern.search(subject)  # type: ignore[arg-type]
            for _ in pattern.finditer(subject):  # type: ignore[arg-type]
                pass
            pattern.fullmatch(subject)  # type: ignore[arg-type]
            spent = time.process_time() - started
            if spent > LIMIT:
                slow.append((unit, round(spent, 2)))
                break
    assert slow == [], f"{name} = {pattern.pattern!r}"


def test_the_patterns_are_found() -> None:
    assert "ingester.markdown.NON_WEB_LINK" in PATTERNS and len(PATTERNS) > 50


MESSAGE_LIMIT = 10.0  # CPU seconds for 1 MB (at most 5 here): real newsletters of 100 KB take well under a second


@pytest.mark.slow
@pytest.mark.parametrize("unit", ["[a](", "![a](", "<a", "<https://", "**_`", "# ", "|", "\\\n", "&#", "?a=&b="])
@pytest.mark.parametrize("kind", ["html", "plain"])
def test_a_megabyte_of_hostile_text_is_bounded_work(unit: str, kind: str) -> None:
    body = unit * (1_000_000 // len(unit))
    if kind == "html":
        body = f"<html><body><p>{body}</p></body></html>"
    raw = (
        "From: Hostile <h@example.com>\nTo: me@example.org\nSubject: x\nList-Id: <x.example.com>\n"
        f"Message-ID: <1@example.com>\nContent-Type: text/{kind}; charset=utf-8\n\n{body}"
    ).encode()
    started = time.process_time()  # the work done, not the wall clock of a machine busy with other things
    compose.note_text(raw, "hostile", Config())
    assert time.process_time() - started < MESSAGE_LIMIT


# --- the time budget of one message, wherever it is converted ---------------------------------------------

SLOW = 1  # [limits] message_seconds in these tests: the hostile message below takes several seconds


def slow_message() -> bytes:
    """A megabyte of backslash-newline pairs: linear work, but seconds of it (see the test above)."""
    return (
        "From: Hostile <h@example.com>\nTo: me@example.org\nSubject: slow\nList-Id: <x.example.com>\n"
        "Message-ID: <slow@example.com>\nContent-Type: text/plain; charset=utf-8\n\n" + "\\\n" * 500_000
    ).encode()


def limited_config(tmp_path: Path) -> Path:
    config = tmp_path / "ingester.toml"
    config.write_text(f'[archive]\npath = "{tmp_path / "archive"}"\n[limits]\nmessage_seconds = {SLOW}\n')
    return config


@pytest.mark.slow
def test_a_message_over_its_time_budget_is_recorded_as_failed_and_the_run_goes_on(tmp_path: Path) -> None:
    mail = tmp_path / "mail"
    mail.mkdir()
    (mail / "1-slow.eml").write_bytes(slow_message())
    (mail / "2-post.eml").write_bytes(email_bytes("substack-post.eml"))
    ran = run_ingest("--config", limited_config(tmp_path), "import", "--json", mail)
    summary = json.loads(ran.stdout)
    assert (summary["filed"], summary["failed"]) == (1, 1), ran
    assert summary["failures"][0]["error"] == f"MessageTooSlow: took longer than {SLOW} s ([limits] message_seconds)"
    status = json.loads(run_ingest("--config", limited_config(tmp_path), "status", "--json").stdout)
    assert "took longer than" in json.dumps(status)


@pytest.mark.slow
def test_outside_the_main_thread_messages_are_converted_in_a_worker_and_still_bounded(tmp_path: Path) -> None:
    """The daemon polls in threads, where no alarm can be set: its messages go to a worker process."""
    config = replace(Config(archive_path=tmp_path / "archive"), limits=replace(Limits(), message_seconds=SLOW))
    messages = [
        RawMessage(slow_message(), "slow.eml"),
        RawMessage(email_bytes("substack-post.eml"), "post.eml"),
    ]
    summaries: list[RunSummary] = []

    def poll() -> None:
        with Ledger(config.state_dir) as ledger, ledger.writing():
            pipeline = Pipeline(config, ledger)
            try:
                pipeline.handle_all(messages)
            finally:
                pipeline.close()
            summaries.append(pipeline.summary)

    thread = threading.Thread(target=poll)
    thread.start()
    thread.join(timeout=120)
    assert [(s.filed, s.failed) for s in summaries] == [(1, 1)]
    assert "took longer than" in summaries[0].failures[0]["error"]


@pytest.mark.slow
def test_a_worker_that_dies_fails_its_messages_only_and_a_new_one_takes_over() -> None:
    workers = Workers(workload.spin, "ok", workload.failed, jobs=2)
    try:
        results = dict(workers.run((i, None) for i in range(40)))
    finally:
        workers.close()
    assert list(results) == list(range(40))
    assert results[13] == "failed:13:BrokenProcessPool"
    assert results[0] == "ok:0" and results[39] == "ok:39"  # before the pool, and after a new one


def test_a_time_limit_interrupts_python_code_and_regular_expressions() -> None:
    for work in (lambda: workload.spin(-1, ""), lambda: re.match(r"(a+)+$", "a" * 64 + "b")):
        started = time.perf_counter()
        with pytest.raises(MessageTooSlow, match=r"took longer than 0.2 s"), time_limit(0.2):
            work()
        assert time.perf_counter() - started < 5


# Outside the main thread every item goes to the workers (as in the daemon); these never finish.
ORPHAN_SCRIPT = """
import threading
from ingester.workers import Workers
from tests import workload
workers = Workers(workload.spin, "x", workload.failed, jobs=2)
threading.Thread(target=lambda: list(workers.run((-1, None) for _ in range(20)))).start()
"""


@pytest.mark.slow
def test_workers_exit_when_ingest_is_killed_even_right_after_starting_them(tmp_path: Path) -> None:
    marker = f"ingest-test-{os.getpid()}-{time.time_ns()}"
    env = {**os.environ, "INGEST_TEST_MARKER": marker, "PYTHONPATH": str(Path(__file__).parent.parent)}
    for delay in (0.4, 2.0):  # while the workers start (they outlive their parent's start), and after
        parent = subprocess.Popen([sys.executable, "-c", ORPHAN_SCRIPT], env=env)
        time.sleep(delay)
        parent.kill()
        parent.wait()
        deadline = time.monotonic() + 15
        while marked_processes(marker) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert marked_processes(marker) == []


def marked_processes(marker: str) -> list[int]:
    found = []
    for proc in Path("/proc").iterdir():
        try:
            if proc.name.isdigit() and marker.encode() in (proc / "environ").read_bytes():
                found.append(int(proc.name))
        except OSError:
            continue
    return found
