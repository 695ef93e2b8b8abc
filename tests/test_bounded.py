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
import pkgutil
import re
import time
from collections.abc import Iterator

import pytest

import ingester
from ingester import compose
from ingester.config import Config

SIZE = 10_000  # characters per adversarial input of one pattern
LIMIT = 0.5  # seconds: a linear pattern needs a hundredth of this, a quadratic one several times it
# Patterns that only ever read the rule files we ship (never mail): not part of the attack surface.
RULE_DATA_ONLY = {"ingester.links.formats._HOST_PART", "ingester.links.formats._TOP_LEVEL_BAR"}
# fmt: off
UNITS = [
    "[a](", "[", "](", "![a](", "[a]", "]: ", "<", "<a", "<a ", "</", "<!--", "-->", "<https://", "&#", "&", "&a",
    "http://", "https://a", "https://a/", "?a=", "&a=", "=", "#", "# ", " #", " ", "\t", "\n", "\n\n", "*", "**",
    "_", "__", "`", "```", "~", "|", " | ", "-", "--", "---", ".", "a.", ". ", "@", "a@", "%", "%2", "\\", "\\\n",
    "1", "1.", "12:", "a", "aa ", "a ", "!", "(", ")", "()", "]", ":", "/", "//", "m_1", "\r\n", "\u00ad",
    "\u200b", "\\[a\\](", "\\[", "= ", "-3", "*a", "a*", "=?", "?=", "=?utf-8?q?", "From: ", "---------- ", "> ", ">",
    "‍", "。",
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
            is_bytes = isinstance(pattern.pattern, bytes)
            subject: str | bytes = text.encode("utf-8", "surrogateescape") if is_bytes else text
            started = time.perf_counter()
            pattern.search(subject)  # type: ignore[arg-type]
            for _ in pattern.finditer(subject):  # type: ignore[arg-type]
                pass
            pattern.fullmatch(subject)  # type: ignore[arg-type]
            spent = time.perf_counter() - started
            if spent > LIMIT:
                slow.append((unit, round(spent, 2)))
                break
    assert slow == [], f"{name} = {pattern.pattern!r}"


def test_the_patterns_are_found() -> None:
    assert "ingester.markdown.NON_WEB_LINK" in PATTERNS and len(PATTERNS) > 50


MESSAGE_LIMIT = 10.0  # seconds for 1 MB: real newsletters of 100 KB take well under a second


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
    started = time.perf_counter()
    compose.note_text(raw, "hostile", Config())
    assert time.perf_counter() - started < MESSAGE_LIMIT
