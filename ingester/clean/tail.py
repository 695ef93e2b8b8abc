"""What ends a mail once its footer has gone, found by structure: a link bar or site menu after the
article's last paragraph (short link-only lines, link-dense: a dealer's "LIST A MACHINE / FAQ", a web
page's column menus after its postal address), and the lines about the reader's subscription that stood
right above the footer ("Subscribe and read past issues here", "add us to your address book"). Pure.
`rows.drop_platform_badges` takes the sending platform's badge; this module takes the bar and those lines,
each with whatever follows it.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from ingester.chrome import SUBSCRIPTION_HINT
from ingester.clean.dom import ROOTS, NavigableString, PageElement, Tag
from ingester.clean.ends import (
    LINE_BLOCKS,
    _line_of,
    _link_of,
    _stopped,
    _words,
    drop_from,
)
from ingester.clean.rows import _main_site, _site
from ingester.clean.tally import Tally
from ingester.clean.walks import stripped_within
from ingester.links import LinkContext
from ingester.links.url import split

MAX_TAIL_STRINGS = 100  # strings read back from the end of the mail: a bar or the lines above a footer are fewer


def tail_strings(root: Tag, most: int = MAX_TAIL_STRINGS) -> list[NavigableString]:
    """The last `most` non-blank strings of `root`, in document order, read back from its end (not the
    whole mail: these steps look at its tail only)."""
    node: PageElement = root
    while isinstance(node, Tag) and node.contents:
        node = node.contents[-1]
    found: list[NavigableString] = []
    current: PageElement | None = node
    while current is not None and current is not root and len(found) < most:
        if type(current) is NavigableString and current.strip():
            found.append(current)
        current = current.previous_element
    found.reverse()
    return found


MAX_BAR_LINE = 40  # characters of one line of a link bar or site menu (an entry, a label, a separator)
MAX_BAR_WORDS = 5
MIN_BAR_LINKS = 3
BAR_TITLES = frozenset({"h4", "h5", "h6"})  # a minor heading right above a link bar is its title
MIN_FILLER_REPEATS = 5  # one word written this many times over is filler ("word word word …")


def link_bar_start(strings: list[NavigableString]) -> int | None:
    """Index of the first link of a link bar or site menu ending the mail, walking back from its last
    string; None when the mail does not end with one. The walk passes over short lines only (at most
    MAX_BAR_LINE characters and MAX_BAR_WORDS words: a menu entry, a column label such as "RESOURCES", a
    separator) and over filler (a line repeating one already passed, one word written over and over); it
    stops at the first longer line, or at the article's own blocks (`STOPS`): the article's end. What it
    passed is a bar when it holds MIN_BAR_LINKS links or more and their text outweighs the labels' (link-
    dense): "LIST A MACHINE / SOLD LATELY / IN STOCK NOW / FAQ", a web page's footer menus. Short
    text above the first link is no part of it (a sign-off), unless it is a heading: the bar's title ("What
    did you think of this post?" over vote links)."""
    passed: set[str] = set()
    links: set[int] = set()
    link_chars = label_chars = 0
    first_link: int | None = None
    for i in range(len(strings) - 1, -1, -1):
        string = strings[i]
        text = " ".join(string.split())
        if _stopped(string):
            break
        words = text.split()
        if text in passed or (len(words) >= MIN_FILLER_REPEATS and len(set(words)) == 1):
            continue  # filler: says nothing the tail has not said
        passed.add(text)
        if len(text) > MAX_BAR_LINE or len(words) > MAX_BAR_WORDS or not _short_line(string):
            break
        link = _link_of(string)
        if link is None:
            label_chars += len(text)
            continue
        link_chars += len(text)
        links.add(id(link))
        first_link = i
    if first_link is None or len(links) < MIN_BAR_LINKS or link_chars < label_chars:
        return None
    while first_link > 0 and any(p.name in BAR_TITLES for p in strings[first_link - 1].parents):
        first_link -= 1
    return first_link


def _short_line(node: PageElement) -> bool:
    """The block `node` is on is one short line (or there is none: text right inside the body)."""
    for parent in node.parents:
        if parent.name in ROOTS:
            return True
        if parent.name in LINE_BLOCKS:
            text = stripped_within(parent, MAX_BAR_LINE)
            return text is not None and len(text.split()) <= MAX_BAR_WORDS
    return True


def drop_link_bar(root: Tag, counts: Tally) -> bool:
    """A link bar or site menu ending the mail (`link_bar_start`) goes: the outermost block its first link
    begins, and all that follows (an image after it too: a platform's badge). True when it went."""
    strings = tail_strings(root)
    start = link_bar_start(strings)
    if start is None:
        return False
    return drop_from(strings[start], counts, "link bar ending the mail")


MAX_SUBSCRIPTION_LINES = 3  # lines about the reader's subscription that end a mail, at most
MAX_SUBSCRIPTION_LINE = 300  # characters of one such line
SUBSCRIBE_PATH = re.compile(r"subscri|sign-?up|/join\b", re.I)


def subscription_start(
    strings: list[NavigableString], counts: Tally, context: LinkContext, own: Callable[[], str]
) -> int | None:
    """Index of the first string of the lines about the reader's subscription that end the mail (what stood
    right above its footer, now gone), walking back line by line; None when the mail's last line is
    something else. Such a line is one short block (at most MAX_SUBSCRIPTION_LINE characters) that links
    to the mail's own subscribe page (the path of its cleaned URL, on the `own()` site: a sign-up page of another
    site is an ad, not the reader's subscription) or speaks of the reader's subscription or of where the
    mail lands ("Subscribe and read past issues here", "You're currently a free subscriber to …", "add
    us to your address book": `chrome.SUBSCRIPTION_HINT`, a hint in the languages we know). At most
    MAX_SUBSCRIPTION_LINES lines; the article's own blocks (`STOPS`) stop the walk."""
    start: int | None = None
    i, lines = len(strings) - 1, 0
    while i >= 0 and lines < MAX_SUBSCRIPTION_LINES:
        string = strings[i]
        line = None if _stopped(string) else _line_of(string, MAX_SUBSCRIPTION_LINE)
        if line is None:
            break
        first = i
        while first > 0 and any(p is line for p in strings[first - 1].parents):
            first -= 1
        if not SUBSCRIPTION_HINT.search(_words(line)) and not any(
            SUBSCRIBE_PATH.search(_path(counts.peek(str(a["href"]), context).url))
            and _site(a, counts, context) == own()
            for a in line.find_all("a", href=True)
        ):
            break
        start, i, lines = first, first - 1, lines + 1
    return start


def _path(url: str) -> str:
    """The path of a URL ("" when it has none to read)."""
    u = split(url.strip())
    return u.path if u is not None else ""


def drop_subscription_lines(root: Tag, anchors: list[Tag], counts: Tally, context: LinkContext) -> None:
    """The lines about the reader's subscription ending the mail (`subscription_start`) go."""
    strings = tail_strings(root)
    own: list[str] = []  # the mail's own site, worked out only when a line asks (it reads every link)

    def own_site() -> str:
        if not own:
            own.append(_main_site(anchors, counts, context))
        return own[0]

    start = subscription_start(strings, counts, context, own_site)
    if start is not None:
        drop_from(strings[start], counts, "subscription lines ending the mail")
