"""Rows a reader answers with a click, and the lines that ask. Pure.

A vote row is MIN_LINKS or more short links with nothing else but separators, which are one URL with each
link's own label filled in (`?score=4` under "4", `subject=… Score: 4` under "4", `answer=yes` under "Yes"):
the answer travels in the link, whatever the sender, platform or language, and a click answers for the reader.

A row's caption is the few short lines right above it that only ask or explain: a question, a line ending in
":" or "!", a scale that names the answers ("1 = Didn't enjoy it // 5 = Loved it"). They go with the row
(`drop_captions`): a question left over a removed row of share icons ("Did you like this newsletter?") or
of answers asks nothing. A caption holds no link or image and at most MAX_CAPTION_WORDS words; a line that
reads as a sentence of the article (ending with "." or no mark at all) stops the climb.
"""

from __future__ import annotations

import re
from urllib.parse import unquote

from ingester.clean.dom import ROOTS, TEXT_TYPES, PageElement, Tag, gone, live
from ingester.clean.tally import Tally
from ingester.clean.walks import first_tag, only_links, outermost, row_of, tags_of, text_of

MIN_LINKS = 3
MAX_ANSWER = 20  # characters of one answer's label
MAX_ANSWER_WORDS = 3
MAX_ROW_TEXT = 200  # characters of a whole row
MAX_CLIMB = 12
MAX_CAPTION_LINES = 3
MAX_CAPTION_WORDS = 15
ROW_BLOCKS = frozenset({"p", "div", "td", "tr", "table", "tbody", "ul", "ol", "li", "center", "section", "span"})
ROW_BLOCKS |= frozenset({"h1", "h2", "h3", "h4", "h5", "h6"})
LINE_BLOCKS = ROW_BLOCKS - {"span"} | frozenset({"th", "blockquote"})
A, A_OR_IMG = frozenset({"a"}), frozenset({"a", "img"})
SEPARATORS = re.compile(r"[\s|·•\-–—/,:;.…]*")
ASKS = ("?", "？", ":", "：")  # how a caption of a row of icons ends
ANNOUNCES = ("!", "！")  # … and also of a row of answers ("Click one below and tell me!")
WORD = re.compile(r"\w+")
INVISIBLE = " \t\n\r\f\v\u00a0\u034f\u200b\u200c\u200d\u2060\ufeff"  # a string of these shows nothing


def vote_rows(anchors: list[Tag]) -> list[Tag]:
    """The rows of answer links, outermost block first (found before links are rewritten)."""
    rows: dict[int, Tag] = {}
    looked: set[int] = set()
    for anchor in live(anchors):
        if not _answer(anchor):
            continue
        found = row_of(anchor, ROW_BLOCKS, looked, MAX_CLIMB, MAX_ROW_TEXT, MIN_LINKS)
        if found is not None:
            node, links = found
            if all(_answer(a) for a in links) and only_links(node, links, SEPARATORS) and _one_url(links):
                rows[id(node)] = outermost(node)
    return list(rows.values())


def drop_votes(rows: list[Tag], counts: Tally) -> None:
    for row in rows:
        if gone(row):
            continue
        answers = {w.casefold() for a in tags_of(row, A, href=True) for w in WORD.findall(text_of(a))}
        captions = caption_of(row, ASKS + ANNOUNCES, answers)
        if counts.drop(row, "row of answer links (a click votes)"):
            drop_captions(captions, counts)


def caption_of(row: Tag, endings: tuple[str, ...], answers: frozenset[str] | set[str] = frozenset()) -> list[Tag]:
    """The lines right above `row` that ask or explain it (nearest first): each ends with one of `endings`
    or names one of the `answers` as a word."""
    found: list[Tag] = []
    node: PageElement = row
    for _ in range(MAX_CAPTION_LINES):
        string = _previous_text(node)
        if string is None:
            break
        line = _line_of(string)
        if line is None or any(p is line for p in node.parents):
            break  # the row's own block: nothing stands above it on a line of its own
        text = text_of(line)
        if first_tag(line, A_OR_IMG) is not None or len(text.split()) > MAX_CAPTION_WORDS:
            break
        if not (text.endswith(endings) or answers & {w.casefold() for w in WORD.findall(text)}):
            break
        found.append(line)
        node = line
    return found


def drop_captions(captions: list[Tag], counts: Tally) -> None:
    for line in captions:
        if not gone(line):
            counts.drop(line, "caption of a removed row")


def _answer(anchor: Tag) -> bool:
    """A short label that its own URL holds (most links' labels are not in their URLs: looked at no further)."""
    text = text_of(anchor)
    if not (0 < len(text) <= MAX_ANSWER and len(text.split()) <= MAX_ANSWER_WORDS):
        return False
    return text.casefold() in unquote(str(anchor.get("href") or "")).casefold()


def _one_url(links: list[Tag]) -> bool:
    """Whether the links' URLs are one URL with each link's label filled in where they differ."""
    hrefs = [unquote(str(a.get("href", ""))).casefold() for a in links]
    if len(set(hrefs)) < len(hrefs):
        return False
    start = _common_start(hrefs)
    shapes = set()
    for href, link in zip(hrefs, links, strict=True):
        label = text_of(link).casefold()
        at = href.find(label, max(0, start - len(label) + 1))
        if at < 0 or at > start:  # the label must cover the first place the URLs differ
            return False
        shapes.add(href[:at] + "\0" + href[at + len(label) :])
    return len(shapes) == 1


def _common_start(texts: list[str]) -> int:
    """How many characters all `texts` share at their start (those of the first and last in sort order)."""
    first, last = min(texts), max(texts)
    size = 0
    while size < min(len(first), len(last)) and first[size] == last[size]:
        size += 1
    return size


def _previous_text(node: PageElement) -> PageElement | None:
    """The nearest non-blank string before `node` in document order (none inside it)."""
    here = node.previous_element
    while here is not None:
        if here.__class__ in TEXT_TYPES and here.strip(INVISIBLE):
            return here
        here = here.previous_element
    return None


def _line_of(string: PageElement) -> Tag | None:
    """The block `string` is written in (its nearest block ancestor), widened to the outermost block that holds
    nothing else: its line."""
    block = next((p for p in string.parents if p.name in LINE_BLOCKS or p.name in ROOTS), None)
    return None if block is None or block.name in ROOTS else outermost(block)
