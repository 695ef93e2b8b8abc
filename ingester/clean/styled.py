"""Headings from styling: most newsletters have no `<h1>`–`<h6>`; their section titles are short bold
or large-font lines alone in their block, or the bold first line of a table cell. When a document
has no heading element at all, those lines become `<h2>`, so the note's sections and outline follow
the issue's own structure. Pure.

A line is a heading by its form only: short, all of it bold or large, alone in its block (or first
in its cell, before a line break and more text), not a sentence or a lead-in (no final `.`, `,`,
`;`), not a link (a linked title is an item of a list, not a section), not a web address, and its
text appears once (a bold "github.com" under every item is a label, not a section). Fewer than two
such lines: nothing changes (one bold line is emphasis, not structure).
"""

from __future__ import annotations

import re

from ingester.chrome import CHROME_TEXT, VIEW_ONLINE
from ingester.clean.dom import NavigableString, PageElement, Tag, gone, new_tag

HEADING_TAGS = frozenset({"h1", "h2", "h3", "h4", "h5", "h6"})
LINES = frozenset({"p", "div", "td", "th"})  # the blocks a styled heading sits alone in
INNER_BLOCKS = frozenset(
    {"p", "div", "td", "th", "tr", "table", "ul", "ol", "li", "blockquote", "pre", "hr", "img", *HEADING_TAGS}
)
MAX_CHARS = 80
MAX_WORDS = 12
MIN_HEADINGS = 3
MIN_SECTION = 100  # characters of text after a heading before the next one (a sign-off heads nothing)
MAX_CLIMB = 6  # parents above the line whose style still counts (a bold `<td>` around a `<p>`)
BOLD_STYLE = re.compile(r"font-weight\s*:\s*(?:bold|bolder|[6-9]00)\b", re.I)
FONT_SIZE = re.compile(r"font-size\s*:\s*(\d+(?:\.\d+)?)\s*(px|pt|em|rem)\b", re.I)
LARGE = {"px": 18.0, "pt": 14.0, "em": 1.3, "rem": 1.3}
WEB_ADDRESS = re.compile(r"^(?:https?://|www\.)\S+$|^[\w-]+(?:\.[\w-]+)+/?$", re.I)
NOT_A_TITLE_END = (".", ",", ";", "…")


def promote(tags: list[Tag]) -> int:
    """Turn styled heading lines into `<h2>` when the document has no heading element; how many."""
    live = [tag for tag in tags if not gone(tag) and tag.parent is not None]
    if any(tag.name in HEADING_TAGS for tag in live):
        return 0
    found: list[tuple[Tag, Tag | None]] = []  # (block, its bold first line or None for the whole block)
    for block in live:
        if block.name in LINES and not any(isinstance(d, Tag) and d.name in INNER_BLOCKS for d in block.descendants):
            line = _whole(block) or _first_line(block)
            if line is not None:
                found.append((block, None if line is block else line))
    texts = [_text(line or block) for block, line in found]
    found = [hit for hit, text in zip(found, texts, strict=True) if texts.count(text) == 1]
    starts = {id(block) for block, _ in found}
    found = [(block, line) for block, line in found if _heads_a_section(line or block, starts)]
    if len(found) < MIN_HEADINGS:
        return 0
    for block, line in found:
        for bold in (line or block).find_all(("b", "strong")):
            bold.unwrap()  # a heading is bold already: `## **x**` would put the markers into the outline
        heading = new_tag("h2")
        if line is None:
            for child in list(block.contents):
                heading.append(child.extract())
            block.append(heading)
        else:
            after = line.next_sibling
            line.insert_before(heading)
            heading.append(line.extract())
            if isinstance(after, Tag) and after.name == "br":
                after.decompose()
    return len(found)


def _heads_a_section(line: Tag, starts: set[int]) -> bool:
    """Some text follows before the next heading: a sign-off or a last line heads nothing."""
    size = 0
    last: PageElement = line
    while isinstance(last, Tag) and last.contents:
        last = last.contents[-1]
    for node in last.next_elements:
        if isinstance(node, Tag) and id(node) in starts:
            return False
        if isinstance(node, NavigableString):
            size += len(node.strip())
            if size >= MIN_SECTION:
                return True
    return False


def _whole(block: Tag) -> Tag | None:
    """The block itself, when all of it is one short styled title."""
    return block if _is_title(block, block) else None


def _first_line(block: Tag) -> Tag | None:
    """A bold or large first element followed by a line break and more text: the cell's title."""
    first = next((c for c in block.children if not (isinstance(c, NavigableString) and not c.strip())), None)
    if not isinstance(first, Tag) or first.name == "br":
        return None
    after = first.next_sibling
    while isinstance(after, NavigableString) and not after.strip():
        after = after.next_sibling
    if not (isinstance(after, Tag) and after.name == "br") or len(_text(block)) <= len(_text(first)):
        return None
    return first if _is_title(first, block) else None


def _is_title(line: Tag, block: Tag) -> bool:
    text = _text(line)
    if not text or len(text) > MAX_CHARS or len(text.split()) > MAX_WORDS or text.endswith(NOT_A_TITLE_END):
        return False
    if not any(c.isalpha() for c in text) or WEB_ADDRESS.match(text) or CHROME_TEXT.search(text):
        return False
    if VIEW_ONLINE.search(text) or _holds_link_or_break(line) or _in_link(block):
        return False
    strings = [s for s in line.descendants if isinstance(s, NavigableString) and s.strip()]
    return bool(strings) and all(_styled(s, block) for s in strings)


def _holds_link_or_break(line: Tag) -> bool:
    """`line.find(("a", "br")) is not None`, without bs4's search machinery (a tenth of the time)."""
    return any(isinstance(node, Tag) and node.name in ("a", "br") for node in line.descendants)


def _in_link(tag: Tag) -> bool:
    return any(parent.name == "a" for parent in tag.parents)


def _styled(string: NavigableString, block: Tag) -> bool:
    """Bold or large: the string's own tags up to the block, or the block's nearest parents."""
    tag = string.parent
    climbed = 0
    while tag is not None and tag.name not in ("body", "[document]"):
        if _bold_or_large(tag):
            return True
        if tag is block or climbed:
            climbed += 1
            if climbed > MAX_CLIMB:
                return False
        tag = tag.parent
    return False


def _bold_or_large(tag: Tag) -> bool:
    if tag.name in ("b", "strong"):
        return True
    if tag.name == "font" and str(tag.get("size", "")).strip() in ("5", "6", "7", "+2", "+3", "+4"):
        return True
    style = str(tag.get("style", ""))
    if not style:
        return False
    if BOLD_STYLE.search(style):
        return True
    size = FONT_SIZE.search(style)
    return size is not None and float(size.group(1)) >= LARGE[size.group(2).lower()]


def _text(tag: Tag) -> str:
    return " ".join(tag.get_text(" ").split())
