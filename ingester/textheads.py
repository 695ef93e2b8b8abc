"""Section headings of a plain-text mail, found by its structure. Pure.

A text/plain newsletter has no tags, but its sections show: a short line underlined with `===` or `---`
(setext: about as long as the line; any rule under a line marked "** ", as Mailchimp writes them), a block of
one or two ALL-CAPS lines alone between blank lines ("TO GET SOURCE CODE", "***NEW WORK***"), or a short line
alone between blank lines before a paragraph, the same shape again and again through the mail. One caps block
or one short line proves nothing (a shout, a sign-off), so those two kinds count only when the mail has
several (MIN_CAPS, MIN_SHORT).
Never a heading: a line with a URL, a list item or a numbered line, a header-like "Name: value" line, a
salutation or a line ending like a sentence or an opening (",", ".", ":", ";").
"""

from __future__ import annotations

import re
from collections.abc import Callable
from itertools import pairwise

from ingester.chrome import GREETING

MAX_HEADING = 100  # characters of a heading (two caps lines joined)
MAX_SHORT = 60  # characters of a short heading line in mixed case
MIN_CAPS = 2  # caps blocks a mail needs before they count as headings
MIN_SHORT = 3  # short lines before a paragraph a mail needs before they count as headings
MIN_PARAGRAPH = 100  # characters of the paragraph a short heading opens (or two lines of it)
SETEXT = re.compile(r"(?:=+|-+)")
# A heading marked the way a text part writes it (Mailchimp: "** Title" over a full-width rule): the marker
# is markup, and the rule under such a line need not match its length.
MARKED = re.compile(r"(?:(?<!\*)\*\*|(?<!#)#{1,6}|(?<!=)={2,})\s+(?=\S)")  # a run's first mark only: linear
NOT_A_HEADING = re.compile(
    r"https?://|www\.|@|^\s*(?:[-*+•>]\s|\(?\d+[.)]\s|\d+\s*$|[a-z][.)]\s)|^[\w-]+:\s|[,.:;。、，：；]\s*$", re.I
)
LETTERS = re.compile(r"[^\W\d_]")


def find_headings(lines: list[str]) -> dict[int, tuple[int, str]]:
    """The headings among `lines` (stripped, in order): the index of each heading's first line, mapped to
    the index after its last line (an underline or a second caps line included) and its text."""
    found = _setext(lines)
    for kind, least in ((_caps_blocks(lines), MIN_CAPS), (_short_lines(lines), MIN_SHORT)):
        fresh = {i: v for i, v in kind.items() if not any(a <= i < b for a, (b, _) in found.items())}
        if len(fresh) >= least:
            found.update(fresh)
    return dict(sorted(found.items()))


def _blank(lines: list[str], i: int) -> bool:
    return i < 0 or i >= len(lines) or not lines[i]


def _may_head(text: str) -> bool:
    return bool(LETTERS.search(text)) and not NOT_A_HEADING.search(text) and not GREETING.match(text)


def _setext(lines: list[str]) -> dict[int, tuple[int, str]]:
    """A short line with a line of `=` or `-` right under it (at least three, and not much shorter)."""
    found = {}
    for i in range(len(lines) - 1):
        line, under = lines[i], lines[i + 1]
        marked = MARKED.match(line)
        text = line[marked.end() :] if marked else line
        if (
            line
            and _blank(lines, i - 1)
            and len(text) <= MAX_HEADING
            and SETEXT.fullmatch(under)
            and (marked or abs(len(under) - len(line)) <= max(3, len(line) // 4))  # underlines it, no longer rule
            and _may_head(text.rstrip(".:!?" if marked else ":"))  # marked: the marker says it, not the end
        ):
            found[i] = (i + 2, text)
    return found


def _blocks(lines: list[str]) -> list[tuple[int, int]]:
    """The blocks of non-blank lines, as (first, after last)."""
    out, i = [], 0
    while i < len(lines):
        if lines[i]:
            j = i
            while j < len(lines) and lines[j]:
                j += 1
            out.append((i, j))
            i = j
        else:
            i += 1
    return out


def _caps_blocks(lines: list[str]) -> dict[int, tuple[int, str]]:
    """Blocks of one or two lines whose letters are all capitals (decoration such as `***` aside), followed
    by more text."""
    found = {}
    blocks = _blocks(lines)
    for (i, j), after in pairwise(blocks):
        text = " ".join(lines[i:j]).strip("*_=~#- ")
        upper = sum(c.isupper() for c in text)  # letters of a script with case, most of the letters
        caps = upper >= 3 and 2 * upper > len(LETTERS.findall(text)) and not any(c.islower() for c in text)
        if j - i <= 2 and len(text) <= MAX_HEADING and caps and _may_head(text) and after:
            found[i] = (j, text)
    return found


def _short_lines(lines: list[str]) -> dict[int, tuple[int, str]]:
    """One short line alone (a block of its own, starting with a capital or a digit) right before a
    paragraph of MIN_PARAGRAPH characters or two lines and more."""
    found = {}
    blocks = _blocks(lines)
    for (i, j), (k, m) in pairwise(blocks):
        text = lines[i]
        paragraph = m - k >= 2 or len(lines[k]) >= MIN_PARAGRAPH
        if j - i == 1 and len(text) <= MAX_SHORT and text[:1].isupper() and paragraph and _may_head(text):
            found[i] = (j, text)
    return found


def with_headings(lines: list[str], headings: dict[int, tuple[int, str]], escape: Callable[[str], str]) -> list[str]:
    """`lines` with each heading written as a Markdown heading ("## " and its text, `escape`d) in place of
    the lines it spans."""
    out, i = [], 0
    while i < len(lines):
        if i in headings:
            end, text = headings[i]
            out.append("## " + escape(" ".join(text.split())))
            i = end
        else:
            out.append(lines[i])
            i += 1
    return out
