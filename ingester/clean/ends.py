"""The email around the article, found by structure: what sits after the article at the end of the
mail (the footer), and the view-online line before it. Pure.

The footer is read backwards from the last text of the mail. It grows over text that is fine print
(smaller than the mail's usual text and at most SMALL_PX, or a light grey the article does not use),
over the unsubscribe link and its line (a link `links` classifies as unsubscribe, preferences or
view-online, or one that carries the identity of the List-Unsubscribe URL) and over short lines a
chrome phrase names (`chrome.CHROME_TEXT`, `chrome.FOOTER_LINE`: a hint, in the languages we know)
and over the sender's postal address by its shape (`address_shaped`: above a footer line, or ending a
mail sent to a list); short strings (labels, link texts, separators) are passed over. It stops at the
first other text: the article's end. Everything from the first footer text on goes, through the content-loss guard. No
wording is needed: small grey print or the unsubscribe link's identity finds a footer in any language.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from functools import lru_cache

from ingester.chrome import CHROME_TEXT, FOOTER_LINE, VIEW_ONLINE
from ingester.clean.dom import ROOTS, NavigableString, PageElement, Tag, gone
from ingester.clean.prune import smallest_block
from ingester.clean.tally import MAX_REMOVAL_SHARE, Tally
from ingester.clean.walks import span, stripped_within
from ingester.identity import opaque_values, unsubscribe_ids
from ingester.links import DROPPED_KINDS, LinkContext
from ingester.links.url import split

SMALL_PX = 11.0  # fine print is at most this large, and smaller than the mail's usual text
BASE_PX = 16.0  # what a browser shows when nothing says otherwise
FONT_SIZES = {"1": 10.0, "2": 13.0, "3": 16.0, "4": 18.0, "5": 24.0, "6": 32.0, "7": 48.0}  # <font size=N>
MIN_GREY, MAX_GREY, MAX_TINT = 128, 220, 40  # a light grey: no brighter than #dcdcdc, channels within 40
SHORT = 40  # characters: labels, link texts and separators the footer walk passes over
MAX_HINTED = 300  # characters: a longer string is no chrome line, whatever phrase it holds
MAX_LINE = 300  # characters of the line around an unsubscribe link that go with it
MAX_FOOTER = 3000  # characters: a footer is never longer
MAX_HEAD = 300  # characters of text before a view-online line at the top
MAX_ADDRESS = 120  # characters of a postal address line
ADDRESS_PROPER = 0.6  # share of an address line's words that are capitalised or numbers
# A postcode by its shape: 4-5 digits (ZIP+4), UK and Canadian letter-digit codes, Japan's 3-4 digits
POSTCODE = re.compile(
    r"(?<!\d)(?<!\d[.,])\d{4,5}(?:-\d{4})?(?!\d|[.,]\d|%)|"
    r"\b[A-Z]{1,2}\d[A-Z\d]? ?\d[A-Z]{2}\b|\b[A-Z]\d[A-Z] ?\d[A-Z]\d\b|\b\d{3}-\d{4}\b"
)
SENTENCE = re.compile(r"[.!?:]\s+[a-z]|[!?]")  # a sentence ends and another starts: prose, not an address
STOPS = frozenset({"h1", "h2", "h3", "blockquote", "pre"})  # the article's own blocks: the footer walk stops there
LINE_BLOCKS = frozenset({"p", "td", "li", "div", "th", "center", "section", "footer"})
RUN_BREAKS = LINE_BLOCKS | {"table", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "blockquote", "pre"}
SIZE = re.compile(r"(?:^|;)\s*font-size\s*:\s*([\d.]+)\s*(px|pt|em|rem|%)?", re.I)
COLOUR = re.compile(r"(?:^|;)\s*color\s*:\s*([^;!]+)", re.I)
GREY_NAMES = {"gray": 128, "grey": 128, "darkgray": 169, "darkgrey": 169, "silver": 192, "lightgray": 211}
GREY_NAMES |= {"lightgrey": 211, "gainsboro": 220}


@dataclass(frozen=True)
class Style:
    """What a text looks like: its font size in px (None: unknown) and its colour ("" unknown)."""

    size: float | None = None
    colour: str = ""


@dataclass
class Styles:
    """Each tag's effective style (inherited from its ancestors' inline styles), computed once per tag."""

    known: dict[int, Style] = field(default_factory=dict)

    def of(self, tag: Tag) -> Style:
        chain: list[Tag] = []
        node: Tag | None = tag
        while node is not None and id(node) not in self.known:
            chain.append(node)
            node = node.parent
        style = self.known[id(node)] if node is not None else Style()
        for tag_ in reversed(chain):
            style = _own(tag_, style)
            self.known[id(tag_)] = style
        return style


def _own(tag: Tag, inherited: Style) -> Style:
    """`inherited` changed by the tag's own inline style, `<font>` or `<small>` (a link's colour is its own)."""
    size, colour = inherited.size, inherited.colour
    css = str(tag.get("style", "")) if tag.attrs else ""
    if not css and tag.name != "small" and tag.name != "font":
        return inherited  # most tags: nothing of their own
    if tag.name == "small":
        size = (size or BASE_PX) * 0.83
    elif tag.name == "font":
        size = FONT_SIZES.get(str(tag.get("size", "")).strip(), size)
        colour = _colour(str(tag.get("color", ""))) or colour
    if css:
        declared, declared_colour = _declared(css)
        if declared is not None:
            value, unit = declared
            if value > 0:  # font-size:0 wrappers (an Outlook spacing trick) show nothing of their own
                parent = size or BASE_PX
                size = {
                    "pt": value * 4 / 3,
                    "em": parent * value,
                    "rem": BASE_PX * value,
                    "%": parent * value / 100,
                }.get(unit, value)
        if tag.name != "a" and declared_colour:
            colour = declared_colour
    return Style(size, colour)


@lru_cache(maxsize=4096)  # a mail repeats a few inline styles on thousands of tags
def _declared(css: str) -> tuple[tuple[float, str] | None, str]:
    """An inline style's font size (value, unit) and colour (`_colour`; "" if none or unreadable)."""
    size = SIZE.search(css)
    colour = COLOUR.search(css)
    return (
        (float(size.group(1)), (size.group(2) or "px").lower()) if size is not None else None,
        _colour(colour.group(1)) if colour is not None else "",
    )


def _colour(value: str) -> str:
    """A colour as "#rrggbb" (named greys too); "" when it cannot be read."""
    value = value.strip().lower()
    if value in GREY_NAMES:
        return "#" + f"{GREY_NAMES[value]:02x}" * 3
    if re.fullmatch(r"#[0-9a-f]{3}", value):
        return "#" + "".join(c * 2 for c in value[1:])
    if re.fullmatch(r"#[0-9a-f]{6}", value):
        return value
    if match := re.fullmatch(r"rgba?\(\s*(\d+)\s*,\s*(\d+)\s*,\s*(\d+)\s*(?:,[^)]*)?\)", value):
        return "#" + "".join(f"{min(255, int(c)):02x}" for c in match.groups())
    return value if re.fullmatch(r"[a-z]+", value) else ""


def is_grey(colour: str) -> bool:
    """A light grey (the colour of fine print): low saturation, between #808080 and #dcdcdc."""
    if not re.fullmatch(r"#[0-9a-f]{6}", colour):
        return False
    rgb = [int(colour[i : i + 2], 16) for i in (1, 3, 5)]
    return max(rgb) - min(rgb) <= MAX_TINT and MIN_GREY <= max(rgb) <= MAX_GREY


@dataclass(frozen=True)
class Usual:
    """The mail's usual text: the size and colour most of its characters have."""

    size: float | None
    colour: str

    def fine_print(self, style: Style) -> bool:
        """Smaller than the usual text (and small), or grey where the usual text is not."""
        small = style.size is not None and style.size <= SMALL_PX and style.size < (self.size or BASE_PX)
        grey = is_grey(style.colour) and style.colour != self.colour and not is_grey(self.colour)
        return small or grey


def usual(strings: list[tuple[NavigableString, Style]]) -> Usual:
    sizes: Counter[float | None] = Counter()
    colours: Counter[str] = Counter()
    for string, style in strings:
        weight = len(string.strip())
        sizes[style.size] += weight
        colours[style.colour] += weight
    size = sizes.most_common(1)[0][0] if sizes else None
    colour = colours.most_common(1)[0][0] if colours else ""
    return Usual(size, colour)


def visible_strings(root: Tag, styles: Styles) -> list[tuple[NavigableString, Style]]:
    """The document's non-blank strings in order, each with its style."""
    found = []
    node, stop = span(root)
    while node is not stop and node is not None:  # `root.descendants`, without the generator
        if type(node) is NavigableString and node.parent is not None and node.strip():
            found.append((node, styles.of(node.parent)))
        node = node.next_element
    return found


def shares_identity(href: str, listed: tuple[str, ...]) -> bool:
    """The link carries what a List-Unsubscribe URL carries: the same host and the same path, or the
    same ids (two or more, and no value of the link that could be an id missing from the header URL):
    the footer's unsubscribe link, whatever its words. One shared id is not enough (every tracked link
    holds the reader's). An id is what `identity.unsubscribe_ids` says it is (opaque, not a word or a
    slug), as for `links.personal`: "newsletter" or "weekly-digest" in both URLs says nothing."""
    u = split(href.strip())
    if u is None:
        return False
    for url in listed:
        v = split(url)
        if v is None or v.host != u.host:
            continue
        if u.path.rstrip("/") == v.path.rstrip("/") and len(v.path.strip("/")) > 1:
            return True
        shared = unsubscribe_ids(href.strip()) & unsubscribe_ids(url)
        if len(shared) >= 2 and opaque_values(href.strip()) <= opaque_values(url):
            return True
    return False


def names_reader(href: str, context: LinkContext) -> bool:
    """The URL holds the reader's own address, in any form trackers write it (plain, %-encoded, base64,
    hashed: `identity.Reader.in_value`): a link to their subscription, not to an article."""
    return context.reader is not None and context.reader.in_value(href) == "address"


def chrome_link(anchor: Tag, counts: Tally, context: LinkContext, last: bool = False) -> bool:
    """An unsubscribe, preferences or view-online link, by its URL (never by its words): `links` says
    so, or it carries the List-Unsubscribe URL's identity, or (the mail's `last` link) it holds the
    reader's address (an article link may carry it too, but not after the footer). Each URL is cleaned
    once per message (`Tally.peek`), however many passes look at it."""
    href = str(anchor.get("href", "")).strip()
    if not re.match(r"(?:https?:)?//", href, re.I):
        return False
    if shares_identity(href, context.unsubscribe_urls) or (last and names_reader(href, context)):
        return True
    kind = counts.peek(href, context).kind  # not counted: the link may not reach the note
    return kind in DROPPED_KINDS or kind == "view-online"


def _link_of(node: PageElement) -> Tag | None:
    """The link `node` is the text of (a link may wrap a whole table: a button with its caption)."""
    for parent in node.parents:
        if parent.name == "a":
            return parent
        if parent.name in ROOTS:
            return None
    return None


def _line_of(node: PageElement, limit: int = MAX_LINE) -> Tag | None:
    """The nearest block around `node` if it is one short line, else None."""
    for parent in node.parents:
        if parent.name in ROOTS:
            return None
        if parent.name in LINE_BLOCKS:
            return parent if stripped_within(parent, limit) is not None else None
    return None


def _line_key(node: PageElement) -> tuple[str, int] | None:
    """Which line `node` is on: its block (if one short line), or the run of inline content between two
    blocks that it belongs to right inside the body ("Unsubscribe here:<br><a>…</a>" after the last table)."""
    line = _line_of(node)
    if line is not None:
        return ("block", id(line))
    top: PageElement = node
    for parent in node.parents:
        if parent.name in ROOTS:
            break
        if parent.name in LINE_BLOCKS:
            return None  # a block too long to be one line
        top = parent
    first = top
    for sibling in top.previous_siblings:
        if isinstance(sibling, Tag) and sibling.name in RUN_BREAKS:
            break
        first = sibling
    return ("run", id(first))


def _spelled_out(text: str) -> bool:
    """A link that shows its own address ("http://…"): passed over whatever its length."""
    return text.lower().startswith(("http://", "https://", "www.")) and " " not in text


def _stopped(node: PageElement) -> bool:
    return any(parent.name in STOPS for parent in node.parents)


def footer_start(strings: list[tuple[NavigableString, Style]], counts: Tally, context: LinkContext) -> int | None:
    """Index of the first string of the footer, walking back from the last one; None without a footer.
    The footer begins a line: it takes the whole line it starts in, or none of it."""
    seen = usual(strings)
    start, size, lines, stop = None, 0, set[tuple[str, int]](), -1
    last_link: Tag | None = None
    index = {id(string): i for i, (string, _) in enumerate(strings)}
    around = len(strings)
    for i in range(len(strings) - 1, -1, -1):
        string, style = strings[i]
        text = " ".join(string.split())
        size += len(text) + 1
        if size > min(MAX_FOOTER, MAX_REMOVAL_SHARE * counts.document_size):
            stop = i
            break
        link = _link_of(string)
        last_link = last_link or link
        line = _line_key(string)
        # fine print is a footer line when it says something (a short caption may be the article's)
        strong = (link is None and len(text) > SHORT and seen.fine_print(style)) or (line is not None and line in lines)
        if not strong and link is not None and chrome_link(link, counts, context, last=last_link is link):
            strong = True
            # the footer around the link, as `prune.smallest_block` sees it, goes too
            opening = first_string(smallest_block(link, counts.document_size))
            around = min(around, index.get(id(opening), i))
            if line is not None:
                lines.add(line)
        if not strong and len(text) <= MAX_HINTED:
            strong = bool(CHROME_TEXT.search(text) or FOOTER_LINE.search(text) or VIEW_ONLINE.search(text))
        if not strong and (start is not None or context.unsubscribe_urls) and address_shaped(text):
            strong = True  # the sender's postal address: above the footer, or ending a mail sent to a list
        if _stopped(string):
            stop = i
            break
        if strong:
            start = i
        elif len(text) > SHORT and not (link is not None and _spelled_out(text)):
            stop = i
            break
    if start is not None and around < start:
        start = around
    if start is not None and _mid_line(strings[start][0]):
        first = _line_start(strings, start)
        if first > stop:  # the line's beginning was walked over (short text): the footer begins there
            return first
        while start < len(strings) and _mid_line(strings[start][0]):
            start += 1  # else the footer begins with the next line: the end of the article's last line stays
    return start if start is not None and start < len(strings) else None


def address_shaped(text: str) -> bool:
    """A postal address by its shape, in any country: one short line of proper nouns and numbers (most
    words capitalised or digits, no sentence in it) holding a postcode-like token ("8001", "90803-1234",
    "NW1 6XE", "M5V 2T6", "100-0001"). Only looked at in the footer walk, above a footer line already
    found or at the very end of a mail that has a List-Unsubscribe header (its unsubscribe line may have
    gone before the walk): an address inside the article, or ending a mail without a footer, stays."""
    if len(text) > MAX_ADDRESS or SENTENCE.search(text) or not POSTCODE.search(text):
        return False
    words = [w for w in re.split(r"[\s,·|/–-]+", text) if any(c.isalnum() for c in w)]
    proper = [w for w in words if w[0].isupper() or w[0].isdigit() or not w[0].isalpha()]
    return len(words) >= 3 and len(proper) >= ADDRESS_PROPER * len(words)


def drop_footer(root: Tag, counts: Tally, context: LinkContext, styles: Styles) -> None:
    """The footer at the end of the mail goes: its first text's outermost block, and all that follows."""
    strings = visible_strings(root, styles)
    start = footer_start(strings, counts, context)
    if start is not None:
        drop_from(strings[start][0], counts, "footer after the article")


def drop_from(first: NavigableString, counts: Tally, why: str) -> bool:
    """The outermost block that `first` begins, and all that follows it in the document, go, unless that
    is more than the content-loss guard allows. True when they went."""
    block: PageElement = first
    for parent in first.parents:
        if parent.name in ROOTS or first_string(parent) is not first:
            break
        block = parent
    doomed: list[PageElement] = [block]
    node: PageElement | None = block
    while node is not None and not (isinstance(node, Tag) and node.name in ROOTS):
        doomed += list(node.next_siblings)
        node = node.parent
    text = " ".join(" ".join(t.get_text(" ") if isinstance(t, Tag) else str(t) for t in doomed).split())
    if len(text) > counts.document_size * MAX_REMOVAL_SHARE and len(text) > 500:
        counts.refused.append(f"{why} refused, it would remove {len(text):,} characters")
        return False
    counts.removed.append(f"{why}: {text[:70] + '…' if len(text) > 70 else text!r}")
    for item in doomed:
        if isinstance(item, Tag):
            item.decompose()
        else:
            item.extract()
    return True


def _line_start(strings: list[tuple[NavigableString, Style]], index: int) -> int:
    """Index of the first string of the line that strings[index] is on."""
    while index > 0 and _mid_line(strings[index][0]):
        index -= 1
    return index


def _mid_line(string: NavigableString) -> bool:
    for parent in string.parents:
        if parent.name in ROOTS:
            return False
        if parent.name in LINE_BLOCKS:
            return first_string(parent) is not string
    return False


def first_string(tag: Tag) -> NavigableString | None:
    for node in tag.descendants:
        if type(node) is NavigableString and node.strip():
            return node
    return None


def drop_view_online(root: Tag, counts: Tally, context: LinkContext, web_copy: str = "") -> None:
    """At the top of the mail (MAX_HEAD characters of text before it), a line holding a view-online or
    unsubscribe link (by its URL: `chrome_link`) goes, with the short line around it; so does a line that
    is nothing but a link to the issue's own web page (`web_copy`, found by the header: "View on …", or
    the title linked to the post). A sentence that links the issue ("… [Read more](…)") stays."""
    before = 0
    for node in root.descendants:
        if before > MAX_HEAD:
            return
        if type(node) is NavigableString:
            before += len(node.strip())
        elif isinstance(node, Tag) and node.name == "a" and not gone(node):
            if web_copy and counts.peek(str(node.get("href", "")), context).url == web_copy:
                line = _line_of(node, 150)
                if line is not None and _words(line) == _words(node):
                    counts.drop(line, "view-online line (by its link)", node)
                    return
                if line is None and _alone(node):  # right inside the body, between blocks or line breaks
                    counts.drop(node, "view-online line (by its link)", node)
                    return
            elif chrome_link(node, counts, context):
                line = _line_of(node, 150)
                counts.drop(line if line is not None else node, "view-online line (by its link)", node)
                return


def _words(tag: Tag) -> str:
    return " ".join(tag.get_text(" ").split())


def _alone(node: Tag) -> bool:
    """Nothing but `node` on its line, outside any block: only blank text or comments between it and the
    blocks or line breaks around it (not a link inside a sentence of the body's own text)."""
    top: Tag = node
    for parent in node.parents:
        if parent.name in ROOTS:
            break
        if parent.name in LINE_BLOCKS:
            return False
        top = parent
    for siblings in (top.previous_siblings, top.next_siblings):
        for sibling in siblings:
            if isinstance(sibling, NavigableString) and (type(sibling) is not NavigableString or not sibling.strip()):
                continue  # blank text, a comment
            if not (isinstance(sibling, Tag) and sibling.name in RUN_BREAKS | {"br"}):
                return False
            break
    return True
