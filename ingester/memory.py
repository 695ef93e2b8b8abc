"""Memory across issues: chrome-shaped blocks a publication repeats at the head or tail of its issues are chrome. Pure.

A block is a paragraph of the note's Markdown (blank-line separated). Its fingerprint is a hash of its
normalised text: links and images replaced by their text, Markdown marks and punctuation dropped,
every run of digits one `#` (dates, issue numbers, counts), case folded, whitespace collapsed. So
"Issue #431 · 3 March" and "Issue #432 · 10 March" look alike, and a tracking link's changing URL
does not make a block look new.

Each filed issue leaves the fingerprints of its first and last HEAD_BLOCKS blocks in the ledger
(`signature`); the pipeline hands the next issue of the same publication the fingerprints seen in at
least MIN_ISSUES earlier distinct issues (`Memory`), and `forget` removes the runs of such blocks
contiguous from the start or from the end of the article.

Repetition alone does not make chrome: a conference repeats its call for papers, a weekly its standing
section, issue after issue, and that text is the article. So a block is taken by memory only when it
is also shaped like chrome (`removable`): images, a row of links of a few words each, or a line of a
few words (a masthead, a date, a label or heading, a button, a credit, an address): at most MAX_WORDS
words, each Chinese or Japanese character counted as one (they are written without spaces). A
paragraph of sentences, a list item and anything indented under one (the inside of a list) are never
taken by memory alone, however often they repeat; each run stops at the first block that is not
removable, so it never starts or ends inside a list and never reaches past prose into the article.
A heading is never left without its text: one that would introduce the kept text stays with it, and a
tail run that would take every block under a kept section heading (one without a link: not an item's
title or a button) starts at the run's next such heading (or takes nothing). A block in the middle is
never touched, however often it repeats; and nothing is removed when the runs together hold more than
MAX_SHARE of the article's text (the content-loss guard: memory never takes most of a note). The writer's
sign-off ends a tail run (`sign_off`): a dash before a name, or a name alone after the last paragraph, is
the author's, however often it repeats.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from ingester.markdown import link_text

HEAD_BLOCKS = 20  # blocks at each end of an issue that are remembered (and may be removed)
MIN_ISSUES = 2  # earlier distinct issues a block must have been seen in, at the same end
MAX_SHARE = 0.5  # of the article's text: runs larger than this are refused (see `clean.tally.MAX_REMOVAL_SHARE`)
MAX_WORDS = 12  # a removable line of text has at most this many words ("Thanks to our sponsor!", an address)
MAX_SIGN_OFF_WORDS = 6  # a sign-off block: a closing word or two and the writer's name ("Cheers, — Shane")

BLOCK_GAP = re.compile(r"\n[ \t]*\n")
URL = re.compile(r"\b(?:https?://|mailto:|www\.)\S+", re.I)
DIGITS = re.compile(r"\d+")
NOT_WORD = re.compile(r"[^\w#]+")  # punctuation and Markdown marks ("*", "_", "\\", "[", "|", "#" of headings…)
# Month and weekday names are part of a date too ("3 March" and "10 April" are the same line of chrome).
DATE_WORD = re.compile(
    r"\b(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sept?(?:ember)?"
    r"|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?|(?:mon|tues?|wed(?:nes)?|thu(?:rs)?|fri|sat(?:ur)?|sun)(?:day)?)\b"
)
IMAGE_SOURCE = re.compile(r"!\[[^\]]*\]\(\s*<?([^\s)>?#]+)")
# a Markdown heading, or a short bold line alone (once images and escapes are set aside)
HEADING = re.compile(r"#{1,6}\s.*|_?\*\*[^*]{1,80}\*\*_?|\*?__[^_]{1,80}__\*?")
LIST_OR_INDENTED = re.compile(r"(?:[ \t]|(?:[-*+]|\d{1,9}[.)])(?:[ \t]|$))")  # a list item, or inside one (or code)
CJK = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"  # kana and Han: written without spaces
# a word; in Chinese or Japanese, each character (a run of them is a whole sentence, not one word)
WORD = re.compile(rf"[{CJK}]|[^\W_{CJK}]+(?:['’][^\W_{CJK}]+)*")
LINK = re.compile(r"!?\[(?:[^\[\]]|\[[^\[\]]*\])*\]\([^)]*\)")  # an image or link, an image inside a link too
# a dash or two, then the name ending the line ("—Charlotte", "— Shane", "-- Maren")
DASHED_NAME = re.compile(r"(?:^|[,.!] )[—–-]{1,2} ?([^\W\d_][\w.'’-]*(?: [^\W\d_][\w.'’-]*){0,2})$")

Blocks = tuple[tuple[str, str], ...]  # ("head" | "tail", fingerprint) of one issue


@dataclass(frozen=True)
class Memory:
    """What the ledger knows about one publication's issues, handed to `compose` with each message.

    :ivar publication_id: the publication it is about (applied only to a note of that publication)
    :ivar head: fingerprint → earlier distinct issues that had it among their first blocks (≥ MIN_ISSUES)
    :ivar tail: the same for their last blocks
    """

    publication_id: str = ""
    head: Mapping[str, int] = field(default_factory=dict)
    tail: Mapping[str, int] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return bool(self.head or self.tail)


@dataclass(frozen=True)
class Forgotten:
    """What `forget` did: the Markdown left, one line per removed block and per refusal (for `ingest explain`)."""

    markdown: str
    removed: tuple[str, ...] = ()
    refused: tuple[str, ...] = ()


def normalise(block: str) -> str:
    """The block's text as compared across issues (see the module's docstring)."""
    text = URL.sub(" ", link_text(block)).casefold()
    text = DIGITS.sub("#", DATE_WORD.sub("#", NOT_WORD.sub(" ", text.replace("\\", ""))))
    text = " ".join(text.replace("_", " ").split())
    # a block of images only (a logo, a banner) is known by where they come from (their URLs without query)
    return text or " ".join(f"image {src}" for src in IMAGE_SOURCE.findall(block))


def fingerprint(block: str) -> str:
    """A short hash of the normalised block ("" for a block with no text: it is neither kept nor matched)."""
    text = normalise(block)
    return hashlib.blake2b(text.encode("utf-8"), digest_size=8).hexdigest() if text else ""


def blocks(markdown: str) -> list[str]:
    """The Markdown's paragraphs (blank-line separated), without the blank lines."""
    return [part for part in BLOCK_GAP.split(markdown.strip("\n")) if part.strip()]


def signature(markdown: str) -> Blocks:
    """The fingerprints of this issue's first and last HEAD_BLOCKS blocks, to remember once it is filed."""
    parts = blocks(markdown)  # only the ends count: a long issue has hundreds of blocks between
    # the ends of a short issue overlap: each block is fingerprinted once (normalising it is the cost)
    ends = parts if len(parts) <= 2 * HEAD_BLOCKS else parts[:HEAD_BLOCKS] + parts[-HEAD_BLOCKS:]
    prints = list(map(fingerprint, ends))
    head = dict.fromkeys(p for p in prints[:HEAD_BLOCKS] if p)
    tail = dict.fromkeys(p for p in prints[-HEAD_BLOCKS:] if p)
    return (*(("head", p) for p in head), *(("tail", p) for p in tail))


def removable(block: str) -> bool:
    """Whether the block is shaped like chrome (see the module): images, links of a few words each, or a
    short line; never a list item, the inside of one, or a paragraph of sentences."""
    if LIST_OR_INDENTED.match(block):
        return False
    if WORD.search(LINK.sub(" ", block.replace("\\", " "))):
        return _short(link_text(block))
    return all(_short(link_text(link)) for link in LINK.findall(block))  # a logo, a row of buttons or icons


def _short(text: str) -> bool:
    """A line of a few words (a sentence of prose has more; a date line, a label, a credit have fewer)."""
    return len(WORD.findall(text)) <= MAX_WORDS


def forget(markdown: str, memory: Memory) -> Forgotten:
    """Remove the chrome-shaped blocks the publication repeated at the head or tail of earlier issues (see
    the module)."""
    parts = blocks(markdown)
    if not memory or not parts:
        return Forgotten(markdown)
    prints = [fingerprint(part) for part in parts]
    start = 0
    while start < min(len(parts), HEAD_BLOCKS) and prints[start] in memory.head and removable(parts[start]):
        start += 1
    while start and _heading(parts[start - 1]):
        start -= 1  # a heading over the kept text stays with it
    end = len(parts)
    while (
        end > max(start, len(parts) - HEAD_BLOCKS)
        and prints[end - 1] in memory.tail
        and removable(parts[end - 1])
        and not sign_off(parts, end - 1)
    ):
        end -= 1
    if start < end < len(parts) and _section(parts[end - 1]):  # the run is all a kept heading has under it
        end = next((i for i in range(end + 1, len(parts)) if _section(parts[i])), len(parts))
    gone = [
        (i, memory.head[prints[i]] if i < start else memory.tail[prints[i]])
        for i in (*range(start), *range(end, len(parts)))
    ]
    if not gone:
        return Forgotten(markdown)
    total = sum(len(normalise(part)) for part in parts)
    removed = sum(len(normalise(parts[i])) for i, _ in gone)
    if removed > MAX_SHARE * total:
        why = f"repeated blocks at the head or tail refused, they would remove {removed / total:.0%} of the text"
        return Forgotten(markdown, refused=(f"{why} ({len(gone)} blocks)",))
    lines = tuple(_described(f"repeated in {issues} earlier issues", parts[i]) for i, issues in gone)
    return Forgotten("\n\n".join(parts[start:end]) + "\n", lines)


def sign_off(parts: list[str], i: int) -> bool:
    """Block `i` is the writer's sign-off, theirs however often it repeats: a dash before a name ("—Charlotte",
    "Cheers, — Shane": its last line, in a block of at most MAX_SIGN_OFF_WORDS words), or a name alone (one or
    two capitalised words, no link) right after a paragraph of sentences."""
    block = parts[i]
    if LINK.search(block):
        return False
    text = " ".join(block.replace("\\", " ").replace("*", " ").replace("_", " ").split())
    words = WORD.findall(text)
    if not words or len(words) > MAX_SIGN_OFF_WORDS:
        return False
    last = block.replace("\\", "").strip().splitlines()[-1]
    dashed = DASHED_NAME.search(" ".join(last.replace("*", " ").replace("_", " ").split()))
    if dashed is not None and _names(dashed.group(1)):
        return True
    return i > 0 and len(words) <= 2 and text == " ".join(words) and _names(text) and not removable(parts[i - 1])


def _names(text: str) -> bool:
    """One to three words, each a capitalised name ("Charlotte", "Jean-Luc", "T.")."""
    names = text.split()
    return 0 < len(names) <= 3 and all(name[0].isupper() and not any(c.isdigit() for c in name) for name in names)


def _heading(block: str) -> bool:
    return bool(HEADING.fullmatch(" ".join(link_text(block).replace("\\", " ").split())))


def _section(block: str) -> bool:
    """A heading that introduces the section under it: no link in it (a heading that holds a link is an item's
    title or a button, pointing elsewhere)."""
    return _heading(block) and not LINK.search(block)


def _described(why: str, block: str) -> str:
    text = " ".join(link_text(block).replace("\\\n", "\n").split()) or normalise(block)  # an image's source
    return f"{why}: {text[:70] + '…' if len(text) > 70 else text!r}"
