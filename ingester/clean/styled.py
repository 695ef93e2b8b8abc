"""Headings from styling: most newsletters have no `<h1>`–`<h6>`; their section titles are short bold
or large-font lines alone in their block, or the bold first line of a table cell. When a document
has no heading element at all, those lines become `<h2>`, so the note's sections and outline follow
the issue's own structure. Pure.

A line is a heading by its form only: short, all of it bold or large, alone in its block (or first
in its cell, before a line break and more text), not a sentence or a lead-in (no final `.`, `,`,
`;`; no sentence of MIN_LEAD_IN_WORDS or more ending in `:`, which opens the list or paragraph after
it), not a link (a linked title is an item of a list, not a section), not a web address, and its
text appears once (a bold "github.com" under every item is a label, not a section). Bold or large
means unlike the mail's own text (`Usual`): a line as large as most of the mail's text is a paragraph,
whatever its size (a Kit mail writes every paragraph at 18px), and bold counts only when most of the
text is not. Fewer than MIN_HEADINGS such lines: nothing changes (one bold line is emphasis, not
structure).
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

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
FONT_WEIGHT = re.compile(r"font-weight\s*:\s*(\w+)", re.I)
NORMAL_WEIGHTS = frozenset({"normal", "lighter", "100", "200", "300", "400", "500"})
BOLD_STYLE = re.compile(r"font-weight\s*:\s*(?:bold|bolder|[6-9]00)\b", re.I)
FONT_SIZE = re.compile(r"font-size\s*:\s*(\d+(?:\.\d+)?)\s*(px|pt|em|rem)\b", re.I)
LARGE = {"px": 18.0, "pt": 14.0, "em": 1.3, "rem": 1.3}
PX = {"px": 1.0, "pt": 4 / 3, "em": 16.0, "rem": 16.0}  # CSS pixels per unit (an em of the default 16px font)
DEFAULT_PX = 16.0  # a browser's text size where the mail sets none
LARGER = 1.1  # a large line is at least this much larger than the mail's usual text
MIN_LEAD_IN_WORDS = 4  # words of a line ending in ":" that make it a sentence leading into what follows
SMALLER = 0.9  # a heading element written at most this share of the mail's usual text size is a label, no heading
# A byline: "By" and one to three capitalised names, then perhaps a separator and more ("By Charlotte Jee • 06.25.24")
NAME = r"[A-ZÀ-ÖØ-Þ][\w.'’-]*"
BYLINE = re.compile(rf"(?i:by|von|par|door|por|di) {NAME}(?: (?:{NAME}|and|und|et|&))?(?: {NAME})?(?: ?[•·|,–—-] .*)?")
WEB_ADDRESS = re.compile(r"^(?:https?://|www\.)\S+$|^[\w-]+(?:\.[\w-]+)+/?$", re.I)
NOT_A_TITLE_END = (".", ",", ";", "…")


@dataclass(frozen=True)
class Usual:
    """The style of most of the mail's text (by characters): its font size in CSS pixels, and whether it is bold."""

    px: float = DEFAULT_PX
    bold: bool = False


def usual_style(tags: list[Tag]) -> Usual:
    """The font size and weight most of the text of `tags` (a mail's live tags) is written in."""
    sizes: Counter[float] = Counter()
    bold = 0
    total = 0
    memo: dict[int, tuple[float, bool]] = {}
    for tag in tags:
        for child in tag.contents:
            if type(child) is NavigableString and (size := len(child.strip())):
                px, heavy = _style_of(tag, memo)
                sizes[px] += size
                bold += size if heavy else 0
                total += size
    if not total:
        return Usual()
    return Usual(sizes.most_common(1)[0][0], bold * 2 > total)


def _style_of(tag: Tag, memo: dict[int, tuple[float, bool]]) -> tuple[float, bool]:
    """(font size in px, bold) of the text right inside `tag`: its own style, else its parent's."""
    chain: list[Tag] = []
    node: Tag | None = tag
    found = (DEFAULT_PX, False)
    while node is not None and node.name not in ("body", "[document]"):
        if id(node) in memo:
            found = memo[id(node)]
            break
        chain.append(node)
        node = node.parent
    for link in reversed(chain):
        px, heavy = found
        style = str(link.get("style", "")) if link.attrs else ""
        size = _font_size(style) if style else None
        if size is not None and size[0] > 0:  # a zero size hides stray spaces between inline blocks: no text size
            px = size[0] * PX[size[1]]
        heavy = heavy or link.name in ("b", "strong") or bool(style and BOLD_STYLE.search(style))
        found = memo[id(link)] = (px, heavy)
    return found


def promote(tags: list[Tag]) -> int:
    """Turn styled heading lines into `<h2>` when the document has no heading element; how many."""
    live = [tag for tag in tags if not gone(tag) and tag.parent is not None]
    if any(tag.name in HEADING_TAGS for tag in live):
        return 0
    usual = usual_style(live)
    found: list[tuple[Tag, Tag | None]] = []  # (block, its bold first line or None for the whole block)
    for block in live:
        if block.name in LINES and not any(isinstance(d, Tag) and d.name in INNER_BLOCKS for d in block.descendants):
            line = _whole(block, usual) or _first_line(block, usual)
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


def _whole(block: Tag, usual: Usual) -> Tag | None:
    """The block itself, when all of it is one short styled title."""
    return block if _is_title(block, block, usual) else None


def _first_line(block: Tag, usual: Usual) -> Tag | None:
    """A bold or large first element followed by a line break and more text: the cell's title."""
    first = next((c for c in block.children if not (isinstance(c, NavigableString) and not c.strip())), None)
    if not isinstance(first, Tag) or first.name == "br":
        return None
    after = first.next_sibling
    while isinstance(after, NavigableString) and not after.strip():
        after = after.next_sibling
    if not (isinstance(after, Tag) and after.name == "br") or len(_text(block)) <= len(_text(first)):
        return None
    return first if _is_title(first, block, usual) else None


def _is_title(line: Tag, block: Tag, usual: Usual) -> bool:
    text = _text(line)
    if not text or len(text) > MAX_CHARS or len(text.split()) > MAX_WORDS or text.endswith(NOT_A_TITLE_END):
        return False
    if text.endswith(":") and len(text.split()) >= MIN_LEAD_IN_WORDS:
        return False  # a sentence leading into the list or paragraph after it
    if BYLINE.fullmatch(text):
        return False
    if not any(c.isalpha() for c in text) or WEB_ADDRESS.match(text) or CHROME_TEXT.search(text):
        return False
    if VIEW_ONLINE.search(text) or _holds_link_or_break(line) or _in_link(block):
        return False
    strings = [s for s in line.descendants if isinstance(s, NavigableString) and s.strip()]
    return bool(strings) and all(_styled(s, block, usual) for s in strings)


def _holds_link_or_break(line: Tag) -> bool:
    """`line.find(("a", "br")) is not None`, without bs4's search machinery (a tenth of the time)."""
    return any(isinstance(node, Tag) and node.name in ("a", "br") for node in line.descendants)


def _in_link(tag: Tag) -> bool:
    return any(parent.name == "a" for parent in tag.parents)


def _styled(string: NavigableString, block: Tag, usual: Usual) -> bool:
    """Bold or large: the string's own tags up to the block, or the block's nearest parents."""
    tag = string.parent
    climbed = 0
    while tag is not None and tag.name not in ("body", "[document]"):
        if _bold_or_large(tag, usual):
            return True
        if tag is block or climbed:
            climbed += 1
            if climbed > MAX_CLIMB:
                return False
        tag = tag.parent
    return False


def _bold_or_large(tag: Tag, usual: Usual) -> bool:
    """Bold (unless most of the mail is) or large (and larger than most of the mail's text)."""
    if tag.name in ("b", "strong"):
        return not usual.bold
    if tag.name == "font" and str(tag.get("size", "")).strip() in ("5", "6", "7", "+2", "+3", "+4"):
        return True
    style = str(tag.get("style", ""))
    if not style:
        return False
    if BOLD_STYLE.search(style):
        return not usual.bold
    size = _font_size(style)
    if size is None:
        return False
    value, unit = size
    return value >= LARGE[unit] and value * PX[unit] >= LARGER * usual.px


def _font_size(style: str) -> tuple[float, str] | None:
    """The style's font size and its unit: the last declaration, as CSS reads it ("font-size:1em;font-size:2em")."""
    sizes = FONT_SIZE.findall(style)
    return (float(sizes[-1][0]), sizes[-1][1].lower()) if sizes else None


def _text(tag: Tag) -> str:
    return " ".join(tag.get_text(" ").split())


def demote(tags: list[Tag]) -> int:
    """Heading elements that head nothing become paragraphs; how many. A byline ("By Charlotte Jee • 06.25.24"),
    a kicker (a short line ending in ":" right above a heading of the same or a higher rank: "New Blog Post:"
    over the post's title), and a line set apart neither by size nor by weight (written smaller than most of
    the mail's text, SMALLER, and not bold: a tagline, a tag under an item) are no sections of the article."""
    headings = [tag for tag in tags if tag.name in HEADING_TAGS and not gone(tag) and tag.parent is not None]
    if not headings:
        return 0
    usual: list[Usual] = []  # worked out when first needed
    memo: dict[int, tuple[float, bool]] = {}
    demoted = 0
    for heading in headings:
        text = _text(heading)
        if not text:
            continue
        if not (BYLINE.fullmatch(text) or _kicker(heading, text)):
            if not usual:
                usual.append(usual_style([t for t in tags if not gone(t) and t.parent is not None]))
            strings = [s for s in heading.descendants if _visible(s) and s.parent is not None]
            sizes = [_style_of(s.parent, memo)[0] for s in strings if s.parent is not None]
            if not sizes or max(sizes) > SMALLER * usual[0].px or _mostly_bold(strings, heading):
                continue
        heading.name = "p"
        demoted += 1
    return demoted


def _mostly_bold(strings: list[PageElement], heading: Tag) -> bool:
    """Most of the heading's text is bold: each string takes the weight its nearest tag declares (`b`, `strong`,
    a `font-weight`), else the heading's own default, bold."""
    bold = total = 0
    for string in strings:
        size = len(string.strip()) if isinstance(string, NavigableString) else 0
        total += size
        for tag in string.parents:
            weight = _weight(tag)
            if weight is not None or tag is heading:
                bold += size if weight is not False else 0
                break
    return bold * 2 > total


def _weight(tag: Tag) -> bool | None:
    """True for a bold tag, False for one that sets a normal weight, None for one that says nothing."""
    if tag.name in ("b", "strong"):
        return True
    style = str(tag.get("style", "")) if tag.attrs else ""
    declared = FONT_WEIGHT.findall(style) if "weight" in style else []
    return None if not declared else declared[-1].lower() not in NORMAL_WEIGHTS


def _visible(node: PageElement) -> bool:
    return type(node) is NavigableString and bool(node.strip()) and node.parent is not None


def _kicker(heading: Tag, text: str) -> bool:
    """A short line ending in ":" whose next text is a title (a heading with words) of the same or a higher rank
    (h2 over h1); a label over numbered headings ("LES OPPORTUNITÉS :" over "1", "2") heads them."""
    if not text.endswith(":") or len(text.split()) >= MIN_LEAD_IN_WORDS:
        return False
    last: PageElement = heading
    while isinstance(last, Tag) and last.contents:
        last = last.contents[-1]
    for node in last.next_elements:
        if _visible(node):
            above = next((p for p in node.parents if p.name in HEADING_TAGS), None)
            return above is not None and above.name <= heading.name and any(c.isalpha() for c in _text(above))
    return False
