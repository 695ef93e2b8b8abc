"""Newsletter HTML → article HTML: chrome, pixels and layout tables removed, every link cleaned. Pure.

The only module that imports BeautifulSoup. It also reads what only the HTML knows: the post title
and its link (Substack's `h1.post-title a`), the subtitle, the byline and a "view in browser" link.
Gmail forwards prefix class names with `m_<digits>`, so classes are matched by suffix.
"""

from __future__ import annotations

import functools
import html as htmllib
import re
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field

from bs4 import BeautifulSoup, CData, Comment, MarkupResemblesLocatorWarning, NavigableString, ParserRejectedMarkup, Tag
from bs4.element import PreformattedString

from ingester.chrome import (
    CHROME_CLASSES,
    CHROME_TEXT,
    CONFIRM_HINT,
    ENGAGEMENT_TEXT,
    GENERIC_LINK_TEXT,
    HIDDEN_HINTS,
    HIDDEN_STYLE,
    SUBSCRIBE_BUTTON,
    SUBSTACK_CHROME_CLASSES,
    TWEET_COUNTS,
    VIEW_ONLINE,
)
from ingester.links import DROPPED_KINDS, CleanedUrl, LinkContext, clean, clean_url, is_tracker_image

Resolver = Callable[[str], "str | None"]
ROOTS = frozenset({"body", "html", "[document]"})  # where climbing from a tag towards a block stops

DROP_TAGS = frozenset({"script", "style", "head", "title", "meta", "link", "noscript", "iframe", "object", "embed",
                       "form", "input", "button", "select", "textarea", "svg", "template", "base"})
URL_BREAKERS = re.compile(r"[\s()<>\[\]\"`\\]")
GMAIL_CLASS_PREFIX = re.compile(r"^m_-?\d+")
GMAIL_PROXY = re.compile(r"https?://ci\d+\.googleusercontent\.com/(?:proxy|meips)/", re.I)
BACKGROUND_URL = re.compile(r"url\(\s*['\"]?([^'\")]+)", re.I)
BLOCKS = ("p", "div", "td", "tr", "table", "li", "ul", "center", "section", "footer", "span")
MAX_DEPTH = 200  # elements nested deeper are unwrapped (real newsletters stay far below ~60)
MAX_CHROME_LINE = 200  # characters: a short line mentioning unsubscribe is a chrome line, whatever its link says
MAX_CHROME_BLOCK = 400  # characters: mid-email, a block longer than this is article text, not a chrome line
MAX_FOOTER_BLOCK = 2000  # characters: a footer (address, copyright, why-you-get-this) is rarely longer
MAX_FOOTER_SHARE = 0.5  # a "footer" holding most of the email's text is the email (image-only mails)
MAX_TEXT_AFTER_FOOTER = 200  # characters after a block for it to count as the end of the email


# The cleaned article as an HTML parser reports it: ("start", tag, ((attr, value), …)), ("end", tag),
# ("text", characters). Plain data, so `convert` turns it into Markdown without parsing HTML again.
Event = tuple
ByClass = dict[str, list[tuple[int, Tag]]]
TEXT_TYPES = (NavigableString, CData)  # the strings `get_text()` counts
VOID_TAGS = frozenset({"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source",
                       "track", "wbr"})


@dataclass(frozen=True)
class CleanedHtml:
    """The article and what the HTML said about the post.

    :ivar events: the article as start/end/text events (see `Event`)
    :ivar title: the post title shown in the email (Substack `h1.post-title`), or ""
    :ivar title_url: the cleaned href of the title link, or ""
    :ivar view_online_url: the cleaned "view in browser" link, or ""
    :ivar pixels_removed: tracking images and beacons dropped
    :ivar links_cleaned: links and image sources whose URL changed when cleaned
    :ivar wrappers_decoded: redirect wrappers replaced by their destination, offline
    :ivar opaque_links: opaque click-tracking wrappers kept (their destination is only on the sender's server)
    :ivar links_dropped: unsubscribe, preference, confirm and action links removed
    """

    events: tuple[Event, ...] = ()
    title: str = ""
    subtitle: str = ""
    author: str = ""
    title_url: str = ""
    view_online_url: str = ""
    pixels_removed: int = 0
    links_cleaned: int = 0
    wrappers_decoded: int = 0
    opaque_links: int = 0
    links_dropped: int = 0
    removed: tuple[str, ...] = ()

    @property
    def html(self) -> str:
        """The article written out as HTML (for tests and reading); conversion uses `events`."""
        parts = []
        for kind, name, *attrs in self.events:
            if kind == "text":
                parts.append(htmllib.escape(name, quote=False))
            elif kind == "start":
                parts.append(f"<{name}" + "".join(f' {k}="{htmllib.escape(v)}"' for k, v in attrs[0]) + ">")
            elif name not in VOID_TAGS:
                parts.append(f"</{name}>")
        return "".join(parts)


@dataclass
class _Counts:
    pixels_removed: int = 0
    links_cleaned: int = 0
    wrappers_decoded: int = 0
    opaque_links: int = 0
    links_dropped: int = 0
    seen: dict[str, CleanedUrl] = field(default_factory=dict)
    removed: list[str] = field(default_factory=list)
    document_size: int = 0

    def drop(self, tag: Tag, why: str) -> None:
        """Remove a tag and say what went, for `ingest explain`."""
        text = " ".join(tag.get_text(" ").split())
        self.removed.append(f"{why}: {text[:70] + '…' if len(text) > 70 else text!r}" if text else why)
        tag.decompose()

    def cleaned(self, url: str, context: LinkContext) -> CleanedUrl:
        """Clean once per distinct URL (a newsletter repeats its links) and count what changed."""
        result = self.seen.get(url) or clean(url, context)
        self.seen[url] = result
        self.links_cleaned += result.changed
        self.wrappers_decoded += len(result.decoded)
        return result


def clean_html(html: str, platform: str = "newsletter", context: LinkContext | None = None,
               resolve: Resolver | None = None) -> CleanedHtml:
    """Strip the email around the article and clean every URL.

    `resolve` (opt-in, see `resolve.py`) is asked for the target of opaque wrappers; it is never
    given unsubscribe, preference, confirm or action links.
    """
    context = context or LinkContext()
    counts = _Counts()
    soup = _parse(html)
    unwanted = [node for node in soup.descendants if node.name in DROP_TAGS or type(node) is Comment]
    for node in unwanted:
        if not _gone(node):  # not inside something removed already
            node.decompose()
    _limit_depth(soup)
    # One walk over the tree; every later step picks from this list instead of searching again
    # (bs4 searches are whole-tree walks, and a newsletter has thousands of tags).
    tags: list[Tag] = []
    by_name: dict[str, list[Tag]] = {}  # tag name → tags in document order
    by_class: ByClass = {}  # class name (Gmail prefix removed) → (position, tag) in document order
    strings = []
    engagement: list[NavigableString] = []  # "participate in polls", "copy this link to others"
    for node in soup.descendants:
        if isinstance(node, Tag):
            for name in dict.fromkeys(map(_bare_class, node.get("class") or ())):
                by_class.setdefault(name, []).append((len(tags), node))
            tags.append(node)
            by_name.setdefault(node.name, []).append(node)
        elif type(node) in TEXT_TYPES and (text := node.strip()):
            strings.append(len(text))
            if ENGAGEMENT_TEXT.search(text):
                engagement.append(node)
    counts.document_size = sum(strings) + max(0, len(strings) - 1)  # len(soup.get_text(" ", strip=True))
    title_tag = _first(by_class, "post-title", "h1")
    title_link = title_tag.find("a", href=True) if title_tag else None
    meta = _first(by_class, "post-meta")
    anchors = by_name.get("a", [])
    view_online = _view_online_link(anchors)
    found = {
        "title": _text(title_tag),
        "title_url": clean_url(str(title_link["href"]), context) if title_link else "",
        "subtitle": _text(_first(by_class, "subtitle", "h3")),
        "author": _byline(meta),
        "view_online_url": clean_url(view_online, context) if view_online else "",
    }
    if title_tag:
        title_tag.decompose()
    _drop_pixels(by_name.get("img", []), counts, context)  # before hidden blocks go: a hidden pixel still counts as one
    _drop_hidden(tags, counts)
    chrome_classes = CHROME_CLASSES + (SUBSTACK_CHROME_CLASSES if platform == "substack" else ())
    _drop_chrome(anchors, by_class, counts, chrome_classes)
    _drop_engagement(engagement, counts)
    if platform == "beehiiv":
        _drop_polls(by_name.get("ul", []) + by_name.get("ol", []), counts)
    _quote_tweets(by_class)
    _clean_links(anchors, counts, context, resolve)
    for caption in _live(by_name.get("figcaption", [])):
        caption.name = "p"  # its own paragraph, not glued to the image
    _flatten_layout_tables(by_name)
    return CleanedHtml(
        events=_article_events(soup, by_class), pixels_removed=counts.pixels_removed,
        links_cleaned=counts.links_cleaned, wrappers_decoded=counts.wrappers_decoded,
        opaque_links=counts.opaque_links, links_dropped=counts.links_dropped, removed=tuple(counts.removed), **found,
    )


def _gone(tag: Tag) -> bool:
    """Removed by an earlier step. (bs4's own `decomposed` property searches the subtree of every
    live tag — `tag.x` means `tag.find("x")` for unknown attributes — which made cleaning quadratic.)"""
    return bool(tag.__dict__.get("_decomposed"))


def _quote_tweets(by_class: ByClass) -> None:
    """An embedded tweet or post (Substack's static tweets) becomes a quote of its text with its link."""
    for _, tweet in by_class.get("tweet", ()):
        if _gone(tweet):
            continue
        outer = tweet.find_parent("a", href=True)  # Substack wraps the whole tweet in its link
        hrefs = [clean_url(str(a["href"])) for a in ([outer] if outer else []) + tweet.find_all("a", href=True)]
        href = next((h for h in hrefs if re.search(r"//(?:www\.)?(?:twitter|x)\.com/[^/]+/status/", h)), "")
        if outer is not None:
            outer.unwrap()
        for img in tweet.find_all("img"):
            img.decompose()  # avatars and badges
        texts = [t for t in tweet.stripped_strings if not TWEET_COUNTS.fullmatch(t)]
        quote = tweet.wrap(BeautifulSoup("", "html.parser").new_tag("blockquote"))
        tweet.replace_with(*[BeautifulSoup(f"<p>{htmllib.escape(t)}</p>", "html.parser").p for t in texts])
        if href:
            source = BeautifulSoup("", "html.parser").new_tag("a", href=href)
            source.string = href
            para = BeautifulSoup("", "html.parser").new_tag("p")
            para.append(source)
            quote.append(para)


def _live(tags: list[Tag]) -> list[Tag]:
    """The tags not removed by an earlier step."""
    return [t for t in tags if not _gone(t)]


def _limit_depth(soup: BeautifulSoup) -> None:
    """Below MAX_DEPTH, keep only text: an element nested deeper is replaced by its text.

    Pathological mail nests tens of thousands of elements; every later step is then bounded.
    Each replaced subtree is walked once, so this is linear.
    """
    stack: list[tuple[Tag, int]] = [(soup, 0)]
    while stack:
        tag, depth = stack.pop()
        for child in list(tag.contents):
            if not isinstance(child, Tag):
                continue
            if depth + 1 >= MAX_DEPTH:
                child.replace_with(NavigableString(child.get_text(" ")))
            else:
                stack.append((child, depth + 1))


def confirm_link(html: str) -> str:
    """The href of the first link that looks like a confirmation link, exactly as the sender wrote it."""
    soup = _parse(html)
    anchors = [a for a in soup.find_all("a", href=True) if str(a["href"]).lower().startswith(("http://", "https://"))]
    for anchor in anchors:
        if CONFIRM_HINT.search(anchor.get_text(" ")):
            return str(anchor["href"])
    return next((str(a["href"]) for a in anchors if CONFIRM_HINT.search(str(a["href"]))), "")


def _parse(html: str) -> BeautifulSoup:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", MarkupResemblesLocatorWarning)
        try:
            return BeautifulSoup(html, "html.parser")
        except ParserRejectedMarkup:
            # html.parser gives up on some broken marked sections ("<![en="): show them as text
            return BeautifulSoup(re.sub(r"<!(?!--)", "&lt;!", html), "html.parser")


DATE_LIKE = re.compile(r"^(?:[A-Z][a-z]{2,8}\.? \d{1,2}(?:, \d{4})?|\d{1,2} [A-Z][a-z]{2,8}\.?(?: \d{4})?|\d{4}-\d{2}-\d{2})$")


def _byline(meta: Tag | None) -> str:
    """The author in a post-meta row (Substack, Ghost): the first piece of text that is not a date,
    a button or a link such as "View online"; "By X" gives X, "X • 6 Feb 2025" gives X."""
    if meta is None:
        return ""
    for text in meta.stripped_strings:
        for piece in re.split(r"\s*[•·|–—]\s*", " ".join(text.split())):
            piece = re.sub(r"^(?:by|von|par|作者[:：]?)(?:\s+|$)", "", piece, flags=re.I)
            piece = DATE_TAIL.sub("", piece).strip(" ,")
            if piece and not DATE_LIKE.match(piece) and not NOT_A_NAME.search(piece) and len(piece) <= 80:
                return piece
    return ""


DATE_TAIL = re.compile(r"\s+(?:[A-Z][a-z]{2,8}\.? \d{1,2}(?:, \d{4})?|\d{1,2} [A-Z][a-z]{2,8}\.?(?: \d{4})?)$")
NOT_A_NAME = re.compile(r"\b(?:share|like|comment|restack|view|online|browser|subscribe|min read|read)\b|^\d", re.I)


def _article_events(soup: BeautifulSoup, by_class: ByClass) -> tuple[Event, ...]:
    """The article: Substack's `.body.markup` blocks (the post and its postscript), else the whole body."""
    is_body = _has_classes("body", "markup")
    blocks = [tag for _, tag in by_class.get("body", ()) if not _gone(tag) and is_body(tag)
              and not tag.find_parent(is_body)]
    events: list[Event] = []
    for i, block in enumerate(blocks or [soup.body or soup]):
        if i:
            events.append(("text", "\n"))
        _events(block, events)
    return tuple(events)


def _events(root: Tag, out: list[Event]) -> None:
    """The contents of `root` as start/end/text events, in document order: what an HTML parser
    would report for `root.decode_contents()`, without writing the HTML out and parsing it again."""
    open_tags: list[Tag] = [root]
    for node in root.descendants:
        while node.parent is not open_tags[-1]:
            out.append(("end", open_tags.pop().name))
        if isinstance(node, Tag):
            out.append(("start", node.name, tuple((k, " ".join(v) if isinstance(v, list) else v)
                                                   for k, v in node.attrs.items())))
            open_tags.append(node)
        elif not isinstance(node, PreformattedString):  # comments, doctypes, CDATA: nothing to show
            out.append(("text", str(node)))
    while len(open_tags) > 1:
        out.append(("end", open_tags.pop().name))


def _has_classes(*wanted: str) -> Callable[[Tag], bool]:
    def matches(tag: Tag) -> bool:
        have = tag.get("class")
        if not have:
            return False
        have = [_bare_class(c) for c in have]
        return all(w in have for w in wanted)

    return matches


@functools.lru_cache(maxsize=4096)
def _bare_class(name: str) -> str:
    """The class name without a Gmail forward's `m_<digits>` prefix."""
    return GMAIL_CLASS_PREFIX.sub("", name)


def _first(by_class: ByClass, classes: str, name: str | None = None) -> Tag | None:
    """First live tag (optionally of one name) with all the given classes, Gmail `m_<digits>` prefixes allowed."""
    first, *_ = wanted = classes.split()
    has = _has_classes(*wanted)
    return next((t for _, t in by_class.get(first, ()) if not _gone(t) and (name is None or t.name == name) and has(t)),
                None)


def _text(tag: Tag | None) -> str:
    return " ".join(tag.get_text(" ").split()) if tag else ""


def _view_online_link(anchors: list[Tag]) -> str:
    anchors = [a for a in anchors if a.has_attr("href")]
    link = next((a for a in anchors if "view-online-link" in (a.get("class") or ())), None)
    if link is None:
        link = next((a for a in anchors if VIEW_ONLINE.search(" ".join(a.get_text(" ").split()))), None)
    return str(link["href"]) if link is not None else ""


def _drop_hidden(tags: list[Tag], counts: _Counts) -> None:
    """Hidden blocks (preheaders) go; so do tracking beacons in `background` attributes and styles."""
    for tag in tags:
        attrs = tag.attrs
        if not attrs or _gone(tag):
            continue
        style = str(attrs.get("style", ""))
        if "url(" in style and any(is_tracker_image(url) for url in BACKGROUND_URL.findall(style)):
            del attrs["style"]
            counts.pixels_removed += 1
        if "background" in attrs:
            counts.pixels_removed += is_tracker_image(str(attrs.pop("background")))
        if "hidden" in attrs or _hides(style):
            counts.drop(tag, "hidden text (preheader)")


def _hides(style: str) -> bool:
    """Whether an inline style hides its element (the substring test spares the regex most styles)."""
    low = style.lower()
    return any(hint in low for hint in HIDDEN_HINTS) and bool(HIDDEN_STYLE.search(style))


def _drop_chrome(anchors: list[Tag], by_class: ByClass, counts: _Counts, classes: tuple[str, ...]) -> None:
    wanted = set(classes)
    marked = dict(sorted(hit for name in wanted for hit in by_class.get(name, ())))
    for tag in marked.values():  # document order: an outer chrome block goes before its inner ones are looked at
        if not _gone(tag):
            hit = next(c for c in map(_bare_class, tag.get("class") or ()) if c in wanted)
            counts.drop(tag, f"email chrome .{hit}")
    for anchor in anchors:
        if _gone(anchor):
            continue
        text = " ".join(anchor.get_text(" ").split())
        if SUBSCRIBE_BUTTON.fullmatch(text):
            counts.drop(_alone_in(anchor), "subscribe button")  # with Substack's `.button-wrapper`
        elif CHROME_TEXT.search(text) or VIEW_ONLINE.search(text) or _in_chrome_line(anchor):
            counts.drop(_smallest_block(anchor, counts.document_size), "unsubscribe/view-online line")


def _drop_engagement(strings: list[NavigableString], counts: _Counts) -> None:
    """Polls (a click on an answer is a vote) and referral blocks (the link carries the reader's own
    code): the block around the marker text goes, up to its question heading, never an article part."""
    for node in strings:
        if _gone(node):
            continue
        best = None
        for parent in node.parents:
            if parent.name in ROOTS or _gone(parent):
                break
            if len(parent.get_text(" ", strip=True)) > MAX_CHROME_BLOCK:
                break
            headings = [h for h in parent.descendants if isinstance(h, Tag) and h.name in HEADINGS]
            if any(not h.get_text(strip=True).endswith(("?", "？")) for h in headings):
                break
            best = parent
        if best is None:
            continue
        question = best.find_previous_sibling()
        if "poll" in node.lower() and question is not None and _is_question(question):
            counts.drop(question, "poll question")  # beehiiv puts it in the row before the answers
        counts.drop(best, "poll or referral block")


def _drop_polls(lists: list[Tag], counts: _Counts) -> None:
    """A beehiiv poll without its "participate in polls" line: a question heading, then a list whose
    every item is only a tracked link (`/ss/c/`, one per answer: a click is a vote)."""
    for listing in _live(lists):
        items = [li for li in listing.children if isinstance(li, Tag) and li.name == "li"]
        links = [li.find("a", href=True) for li in items]
        if len(items) < 2 or not all(a is not None and "/ss/c/" in str(a["href"])
                                     and _text(a) == _text(li) for a, li in zip(links, items)):
            continue
        block = _alone_in(listing)
        question = block.find_previous_sibling()
        if question is not None and _is_question(question):
            counts.drop(question, "poll question")
            counts.drop(block, "poll or referral block")


def _is_question(block: Tag) -> bool:
    """A short block that is a heading asking something ("How was today's issue?")."""
    text = block.get_text(" ", strip=True)
    return len(text) <= 200 and text.endswith(("?", "？")) and any(
        isinstance(h, Tag) and h.name in HEADINGS for h in [block, *block.descendants])


def _alone_in(tag: Tag) -> Tag:
    """The outermost block around `tag` that holds nothing but it (the wrappers of a button or list)."""
    best, text = tag, _text(tag)
    for parent in tag.parents:
        if parent.name in ROOTS or _text(parent) != text:
            break
        best = parent
    return best


def _in_chrome_line(anchor: Tag) -> bool:
    """The link's own line says it: "Update your email preferences or unsubscribe [here]"."""
    if not GENERIC_LINK_TEXT.fullmatch(" ".join(anchor.get_text(" ").split())):
        return False
    line = anchor.parent
    while line is not None and line.name not in ("p", "td", "li", "div"):
        line = line.parent
    if line is None:
        return False
    text = " ".join(line.get_text(" ").split())
    return len(text) <= MAX_CHROME_LINE and bool(CHROME_TEXT.search(text))


def _smallest_block(tag: Tag, document_size: int) -> Tag:
    """The outermost ancestor block that still reads like one chrome line, or like the footer.

    Mid-email, climbing stops at a block with much text or with a link that is not chrome itself, so
    an unsubscribe link never takes an article paragraph with it. Near the end (little text after the
    block), the whole footer goes: address, copyright, "why you get this", social icons.
    """
    best, best_text = tag, tag.get_text(" ", strip=True)
    for parent in tag.parents:
        if not isinstance(parent, Tag) or parent.name in ROOTS:
            break
        if parent.name in BLOCKS:
            trailing = _text_after(parent) < MAX_TEXT_AFTER_FOOTER
            text = parent.get_text(" ", strip=True)
            size = len(text)
            if size > (MAX_FOOTER_BLOCK if trailing else MAX_CHROME_BLOCK) or size > document_size * MAX_FOOTER_SHARE:
                break
            if _has_article(parent) or (not trailing and _has_content_link(parent, tag)):
                break
            # mid-email, text beside the chrome line that is no chrome itself stays: "#400 — Feb 18, 2022"
            beside = text.replace(best_text, " ", 1)
            if not trailing and beside.strip() and not (CHROME_TEXT.search(beside) or VIEW_ONLINE.search(beside)):
                break
            best, best_text = parent, text
    return best


def _has_article(block: Tag) -> bool:
    """Headings, several real paragraphs, or one long sentence run: this block is (or holds) the article."""
    paragraphs = 0
    for node in block.descendants:  # one walk (bs4's find/find_all each walk the block again, slowly)
        if isinstance(node, Tag):
            if node.name in ARTICLE_TAGS:
                return True
            if node.name == "p" and len(node.get_text(strip=True)) >= 40 and not CHROME_TEXT.search(node.get_text(" ")):
                paragraphs += 1
                if paragraphs >= 3:
                    return True
        elif len(node) > 200 and not CHROME_TEXT.search(node):
            return True
    return False


HEADINGS = ("h1", "h2", "h3", "h4", "h5", "h6")
ARTICLE_TAGS = frozenset({*HEADINGS, "blockquote", "ul", "ol"})


def _text_after(block: Tag) -> int:
    """How much text follows the block in the document (counting stops once it is clearly a lot)."""
    last: Tag | NavigableString = block
    while isinstance(last, Tag) and last.contents:
        last = last.contents[-1]
    total = 0
    for node in last.next_elements:
        if isinstance(node, NavigableString):
            total += len(node.strip())
            if total >= MAX_TEXT_AFTER_FOOTER:
                break
    return total


def _has_content_link(block: Tag, chrome: Tag) -> bool:
    """A link in the block, other than the chrome link `chrome` itself, whose text is not chrome."""
    for anchor in block.descendants:
        if not isinstance(anchor, Tag) or anchor.name != "a" or anchor is chrome:
            continue
        text = anchor.get_text(" ", strip=True)
        if text and not CHROME_TEXT.search(text) and not VIEW_ONLINE.search(text):
            return True
    return False


def _drop_pixels(images: list[Tag], counts: _Counts, context: LinkContext) -> None:
    """Tracking images go (known tracker URL, 0-2 px, hidden); real images keep clean URLs.
    (Beacons in styles and `background` attributes go in `_drop_hidden`, the walk over every tag.)"""
    for img in _live(images):
        src = _unproxied(str(img.get("src", "")).strip())
        if not re.match(r"(?:https?:)?//", src, re.I):
            img.decompose()  # cid: (a part of the message), data:, javascript:: nothing a note may load
            continue
        if not src or is_tracker_image(src) or _is_tiny(img) or _is_hidden(img):
            img.decompose()
            counts.pixels_removed += bool(src)
            continue
        img["src"] = markdown_safe_url(counts.cleaned(src, context).url)
        for attr in ("srcset", "data-src", "width", "height", "style"):
            img.attrs.pop(attr, None)


def _unproxied(src: str) -> str:
    """Gmail forwards rewrite images to ci<N>.googleusercontent.com/proxy/…#<original URL>: keep the original."""
    if GMAIL_PROXY.match(src) and "#" in src:
        original = src.split("#", 1)[1]
        if original.startswith(("http://", "https://")):
            return original
    return src


def _is_tiny(img: Tag) -> bool:
    sizes = [str(img.get("width", "")), str(img.get("height", ""))]
    style = str(img.get("style", ""))
    sizes += re.findall(r"(?:^|;|\s)(?:max-)?(?:width|height)\s*:\s*(\d+)(?:px)?\s*(?:!important)?\s*(?:;|$)", style, re.I)
    return any(re.fullmatch(r"\s*[012](?:px)?\s*", s) for s in sizes if s)


def _is_hidden(img: Tag) -> bool:
    return _hides(str(img.get("style", ""))) or img.has_attr("hidden")


def _clean_links(anchors: list[Tag], counts: _Counts, context: LinkContext, resolve: Resolver | None) -> None:
    for anchor in anchors:
        if _gone(anchor):
            continue
        href = str(anchor.get("href", "")).strip()
        if not anchor.get_text(strip=True) and not any(isinstance(t, Tag) and t.name == "img" for t in anchor.descendants):
            anchor.decompose()  # empty links render as `[](url)`
            continue
        if not href or href.startswith("#") or not re.match(r"(?:https?:)?//", href, re.I):
            if href.lower().startswith("mailto:") and CHROME_TEXT.search(href):
                counts.links_dropped += 1
                counts.drop(_smallest_block(anchor, counts.document_size), "unsubscribe mailto link")
            elif href.lower().startswith(("mailto:", "tel:")):
                anchor.attrs = {"href": markdown_safe_url(href)}
            elif href.startswith("#") and (mark := _footnote_mark(anchor)) is not None:
                if mark:
                    anchor.string = f"[{mark}]"  # a reference: "土路[1]", not "土路1"
                    anchor.unwrap()
                else:
                    anchor.decompose()  # the definition's "↩" back to the text: nowhere to go in a note
            else:
                anchor.unwrap()  # javascript:, data:, cid:, relative: nothing a note can open
            continue
        result = counts.cleaned(href, context)
        if result.kind in DROPPED_KINDS:
            counts.links_dropped += 1
            counts.drop(_smallest_block(anchor, counts.document_size), f"{result.kind} link")
            continue
        url = result.url
        if result.kind == "opaque" and resolve is not None and (target := resolve(url)):
            resolved = clean(target, context)
            if resolved.kind not in DROPPED_KINDS and resolved.kind != "opaque":
                url = resolved.url
        if url == result.url and result.kind == "opaque":
            counts.opaque_links += 1
        anchor.attrs = {"href": markdown_safe_url(url)}


def _footnote_mark(anchor: Tag) -> str | None:
    """"1" for a footnote reference (`<sup><a href="#fn:1">1</a></sup>`), "" for a footnote's link
    back to the text ("↩"), None for any other in-page link."""
    text = anchor.get_text(strip=True)
    href = str(anchor.get("href", ""))
    if BACK_MARK.fullmatch(text) and re.match(r"#fn", href, re.I):
        return ""
    if re.fullmatch(r"\[?(\d{1,3})\]?", text) and (anchor.parent is not None and anchor.parent.name == "sup"
                                                   or re.match(r"#fn|#footnote", href, re.I)):
        return text.strip("[]")
    return None


BACK_MARK = re.compile(r"[↩↑^]\ufe0e?")


def markdown_safe_url(url: str) -> str:
    """The URL with the characters that could end a Markdown link destination percent-encoded."""
    return URL_BREAKERS.sub(lambda m: f"%{ord(m.group(0)):02X}", url)


def _flatten_layout_tables(by_name: dict[str, list[Tag]]) -> None:
    """Tables that lay out the email become plain blocks; tables that hold data stay tables."""
    tables = _live(by_name.get("table", []))
    owned: dict[int, list[Tag]] = {id(t): [] for t in tables}
    not_data: set[int] = set()
    table_at: dict[int, Tag | None] = {}  # id(tag) → the nearest table that is the tag or holds it
    for tag in _live([t for name in TABLE_PARTS | NOT_IN_DATA_TABLES for t in by_name.get(name, ())]):
        owner = _table_at(tag.parent, table_at)
        if owner is None:
            continue
        if tag.name in TABLE_PARTS:
            owned[id(owner)].append(tag)
        if tag.name in NOT_IN_DATA_TABLES:
            not_data.add(id(owner))
    for table in reversed(tables):
        cells = owned[id(table)]
        if id(table) not in not_data and _is_data_table(cells):
            continue
        if (outer := _table_at(table.parent, table_at)) is not None:
            not_data.add(id(outer))
        for tag in [table, *cells]:
            tag.name = "div"
            tag.attrs = {}


def _table_at(tag: Tag | None, memo: dict[int, Tag | None]) -> Tag | None:
    """`tag` if it is a table, else its nearest table ancestor (what `find_parent` finds, without
    bs4's generic matching, and each ancestor chain walked once)."""
    chain = []
    while tag is not None and tag.name != "table" and id(tag) not in memo:
        chain.append(tag)
        tag = tag.parent
    found = memo[id(tag)] if tag is not None and id(tag) in memo else tag
    for seen in chain:
        memo[id(seen)] = found
    return found


TABLE_PARTS = frozenset({"thead", "tbody", "tfoot", "tr", "td", "th"})
# A table holding any of these (or another table) lays out the email; it does not hold data.
NOT_IN_DATA_TABLES = frozenset({"table", "img", "h1", "h2", "h3", "div", "ul", "ol", "blockquote"})


def _is_data_table(cells: list[Tag]) -> bool:
    """A grid: at least two rows with the same number (two or more) of cells."""
    rows = [c for c in cells if c.name == "tr"]
    widths = {sum(1 for c in row.children if isinstance(c, Tag) and c.name in ("td", "th")) for row in rows}
    return len(rows) >= 2 and len(widths) == 1 and widths.pop() >= 2
