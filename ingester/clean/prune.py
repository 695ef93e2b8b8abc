"""What cleaning removes from the email around the article: tracking pixels and beacons, hidden
blocks (preheaders), chrome (view-online and unsubscribe lines, subscribe buttons, footers), polls
and referral blocks. Each removal is counted and described for `ingest explain`.
"""

from __future__ import annotations

import math
import re
from functools import lru_cache

from ingester.chrome import (
    CHROME_TEXT,
    GENERIC_LINK_TEXT,
    HIDDEN_HINTS,
    HIDDEN_STYLE,
    SUBSCRIBE_BUTTON,
    VIEW_ONLINE,
)
from ingester.clean.dom import ROOTS, ByClass, NavigableString, PageElement, Tag, bare_class, gone, live
from ingester.clean.tally import Tally
from ingester.clean.votes import ASKS, caption_of, drop_captions
from ingester.clean.walks import outermost, short_text, span, strings_of, stripped_within, text_of
from ingester.links import LinkContext, is_tracker_image
from ingester.markdown import safe_url

GMAIL_PROXY = re.compile(r"https?://ci\d+\.googleusercontent\.com/(?:proxy|meips)/", re.I)
BACKGROUND_URL = re.compile(r"url\(\s*['\"]?([^'\")]+)", re.I)
BLOCKS = ("p", "div", "td", "tr", "table", "li", "ul", "center", "section", "footer", "span")
HEADINGS = ("h1", "h2", "h3", "h4", "h5", "h6")
ARTICLE_TAGS = frozenset({*HEADINGS, "blockquote", "ul", "ol"})
MAX_CHROME_LINE = 200  # characters: a short line mentioning unsubscribe is a chrome line, whatever its link says
MAX_LEAD_IN_WORDS = 8  # a question beside a chrome link that only leads to it
MIN_SENTENCE_WORDS = 3  # words beside a subscribe link that make it a word of a sentence, not a button
WORD = re.compile(r"\w{2,}")
INLINE = frozenset({"a", "strong", "b", "em", "i", "u", "span", "font", "small", "big", "mark", "sup", "sub"})
MAX_CHROME_BLOCK = 400  # characters: mid-email, a block longer than this is article text, not a chrome line
MAX_FOOTER_BLOCK = 2000  # characters: a footer (address, copyright, why-you-get-this) is rarely longer
MAX_FOOTER_SHARE = 0.5  # a "footer" holding most of the email's text is the email (image-only mails)
MAX_TEXT_AFTER_FOOTER = 200  # characters after a block for it to count as the end of the email


def drop_hidden(tags: list[Tag], counts: Tally) -> None:
    """Hidden blocks (preheaders) go; so do tracking beacons in `background` attributes and styles."""
    for tag in tags:
        if gone(tag) or not tag.attrs:  # gone first: a removed tag has no `attrs`, and `tag.attrs` would search it
            continue
        attrs = tag.attrs
        style = str(attrs.get("style", ""))
        if "url(" in style and any(is_tracker_image(url) for url in BACKGROUND_URL.findall(style)):
            del attrs["style"]
            counts.pixels_removed += 1
        if "background" in attrs:
            counts.pixels_removed += is_tracker_image(str(attrs.pop("background")))
        if "hidden" in attrs or hides(style):
            counts.drop_hidden(tag)


@lru_cache(maxsize=4096)  # bounded: a daemon reads mail for months
def hides(style: str) -> bool:
    """Whether an inline style hides its element (the substring test spares the regex most styles; a
    newsletter repeats a few styles on thousands of tags, so each is looked at once)."""
    low = style.lower()
    return any(hint in low for hint in HIDDEN_HINTS) and bool(HIDDEN_STYLE.search(style))


def drop_chrome(anchors: list[Tag], by_class: ByClass, counts: Tally, classes: tuple[str, ...]) -> None:
    wanted = set(classes)
    marked = dict(sorted(hit for name in wanted for hit in by_class.get(name, ())))
    for tag in marked.values():  # document order: an outer chrome block goes before its inner ones are looked at
        if not gone(tag):
            hit = next(c for c in map(bare_class, tag.get("class") or ()) if c in wanted)
            counts.drop(tag, f"email chrome .{hit}")
    lines: dict[int, bool] = {}  # id of a line block: whether it reads as a chrome line (forgotten when a tag goes)
    for anchor in anchors:
        if gone(anchor):
            continue
        text = text_of(anchor)
        if SUBSCRIBE_BUTTON.fullmatch(text):
            button = outermost(anchor)  # with Substack's `.button-wrapper`
            sentence = _sentence_of(button, text)
            if sentence is None:
                captions = caption_of(button, ASKS)  # "Was this newsletter forwarded to you…?" over it
                if counts.drop(button, "subscribe button", anchor):
                    drop_captions(captions, counts)
                lines.clear()
            elif CHROME_TEXT.search(sentence):  # "If you were forwarded this newsletter, [subscribe here]."
                line = smallest_block(anchor, counts.document_size)
                captions = caption_of(line, ASKS)
                if counts.drop(line, "subscribe line", anchor):
                    drop_captions(captions, counts)
                lines.clear()
            # else a word of the article's sentence: "…if you don't already, subscribe now to get a copy"
        elif CHROME_TEXT.search(text) or VIEW_ONLINE.search(text) or _in_chrome_line(anchor, text, lines):
            counts.drop(smallest_block(anchor, counts.document_size), "unsubscribe/view-online line", anchor)
            lines.clear()


def drop_engagement(strings: list[NavigableString], counts: Tally) -> None:
    """Polls (a click on an answer is a vote) and referral blocks (the link carries the reader's own
    code): the block around the marker text goes, up to its question heading, never an article part."""
    for node in strings:
        if gone(node):
            continue
        best = None
        for parent in node.parents:
            if parent.name in ROOTS or gone(parent):
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


def drop_polls(lists: list[Tag], counts: Tally) -> None:
    """A beehiiv poll without its "participate in polls" line: a question heading, then a list whose
    every item is only a tracked link (`/ss/c/`, one per answer: a click is a vote)."""
    for listing in live(lists):
        items = [li for li in listing.children if isinstance(li, Tag) and li.name == "li"]
        links = [li.find("a", href=True) for li in items]
        votes = (
            isinstance(a, Tag) and "/ss/c/" in str(a["href"]) and text_of(a) == text_of(li)
            for a, li in zip(links, items, strict=True)
        )
        if len(items) < 2 or not all(votes):
            continue
        block = outermost(listing)
        question = block.find_previous_sibling()
        if question is not None and _is_question(question):
            counts.drop(question, "poll question")
            counts.drop(block, "poll or referral block")


def _is_question(block: Tag) -> bool:
    """A short block that is a heading asking something ("How was today's issue?")."""
    text = block.get_text(" ", strip=True)
    return (
        len(text) <= 200
        and text.endswith(("?", "？"))
        and any(isinstance(h, Tag) and h.name in HEADINGS for h in [block, *block.descendants])
    )


def _sentence_of(button: Tag, text: str) -> str | None:
    """The text of the line a link (with its inline wrappers) is a word of: its block holds MIN_SENTENCE_WORDS
    words besides it; None when the link is a button or an item of its own (alone in a block)."""
    block = button.parent
    if button.name not in INLINE or block is None or block.name in ROOTS:
        return None
    around = short_text(block, MAX_CHROME_LINE)
    if around is None:
        return text_of(block)
    return around if len(WORD.findall(around.replace(text, " ", 1))) >= MIN_SENTENCE_WORDS else None


def _in_chrome_line(anchor: Tag, anchor_text: str, lines: dict[int, bool]) -> bool:
    """The link's own line says it: "Update your email preferences or unsubscribe [here]" - with a
    generic link text anywhere; at the end of the mail, as the line's only link whatever its text (the
    last short line that says "unsubscribe" holds the unsubscribe link, whatever its words or URL).
    `lines` keeps what each line block says while the tree is unchanged (its links share their line)."""
    line = anchor.parent
    while line is not None and line.name not in ("p", "td", "li", "div"):
        line = line.parent
    if line is None:
        return False
    chrome = lines.get(id(line))
    if chrome is None:
        text = short_text(line, MAX_CHROME_LINE)
        chrome = lines[id(line)] = text is not None and bool(CHROME_TEXT.search(text))
    if not chrome:
        return False
    generic = bool(GENERIC_LINK_TEXT.fullmatch(anchor_text))
    return generic or (len(line.find_all("a", limit=2)) == 1 and _text_after(line) < MAX_TEXT_AFTER_FOOTER)


def smallest_block(tag: Tag, document_size: int) -> Tag:
    """The outermost ancestor block that still reads like one chrome line, or like the footer.

    Mid-email, climbing stops at a block with much text or with a link that is not chrome itself, so
    an unsubscribe link never takes an article paragraph with it. Near the end (little text after the
    block), the whole footer goes: address, copyright, "why you get this", social icons.
    """
    best, best_text = tag, stripped_within(tag, math.inf) or ""
    for parent in tag.parents:
        if not isinstance(parent, Tag) or parent.name in ROOTS:
            break
        if parent.name in BLOCKS:
            trailing = _text_after(parent) < MAX_TEXT_AFTER_FOOTER
            text = stripped_within(
                parent, min(MAX_FOOTER_BLOCK if trailing else MAX_CHROME_BLOCK, document_size * MAX_FOOTER_SHARE)
            )
            if text is None:
                break
            if _has_article(parent) or (not trailing and _has_content_link(parent, tag)):
                break
            # mid-email, text beside the chrome line that is no chrome itself stays: "#400 — Feb 18, 2022"
            beside = text.replace(best_text, " ", 1)
            if (
                not trailing
                and beside.strip()
                and not (CHROME_TEXT.search(beside) or VIEW_ONLINE.search(beside) or _lead_in(beside))
            ):
                break
            best, best_text = parent, text
    return best


def _lead_in(text: str) -> bool:
    """A short question that only leads to the chrome link beside it ("Can't see this email? [View it online]",
    "Vous ne voyez pas ce message ? [Cliquez ici]"), in any language."""
    words = text.split()
    return 0 < len(words) <= MAX_LEAD_IN_WORDS and text.strip().rstrip(".:!。 ").endswith(("?", "？"))


def _has_article(block: Tag) -> bool:
    """Headings, several real paragraphs, or one long sentence run: this block is (or holds) the article."""
    paragraphs = 0
    node, stop = span(block)
    while node is not stop and node is not None:  # one walk (bs4's find/find_all each walk the block again)
        if isinstance(node, Tag):
            if node.name in ARTICLE_TAGS:
                return True
            if node.name == "p" and _real_paragraph(strings_of(node)):
                paragraphs += 1
                if paragraphs >= 3:
                    return True
        elif isinstance(node, NavigableString) and len(node) > 200 and not CHROME_TEXT.search(node):
            return True
        node = node.next_element
    return False


def _real_paragraph(strings: list[NavigableString]) -> bool:
    """At least 40 characters of text (stripped), and no chrome phrase."""
    return sum(len(s.strip()) for s in strings) >= 40 and not CHROME_TEXT.search(" ".join(strings))


def _text_after(block: Tag) -> int:
    """How much text follows the block in the document (counting stops once it is clearly a lot)."""
    last: PageElement = block
    while isinstance(last, Tag) and last.contents:
        last = last.contents[-1]
    total = 0
    node = last.next_element
    while node is not None:  # `last.next_elements`, without the generator
        if isinstance(node, NavigableString):
            total += len(node.strip())
            if total >= MAX_TEXT_AFTER_FOOTER:
                break
        node = node.next_element
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


def drop_pixels(images: list[Tag], counts: Tally, context: LinkContext) -> None:
    """Tracking images go (known tracker URL, 0-2 px, hidden); real images keep clean URLs.
    (Beacons in styles and `background` attributes go in `drop_hidden`, the walk over every tag.)"""
    for img in live(images):
        src = _unproxied(str(img.get("src", "")).strip())
        if not re.match(r"(?:https?:)?//", src, re.I):
            img.decompose()  # cid: (a part of the message), data:, javascript:: nothing a note may load
            continue
        if not src or is_tracker_image(src) or _is_tiny(img) or _is_hidden(img):
            img.decompose()
            counts.pixels_removed += bool(src)
            continue
        img["src"] = safe_url(counts.cleaned(src, context).url)
        for attr in ("srcset", "data-src", "width", "height", "style"):
            img.attrs.pop(attr, None)


def _unproxied(src: str) -> str:
    """Gmail forwards rewrite images to ci<N>.googleusercontent.com/proxy/…#<original URL>: keep the original."""
    if GMAIL_PROXY.match(src) and "#" in src:
        original = src.split("#", 1)[1]
        if original.startswith(("http://", "https://")):
            return original
    return src


def declared_sizes(img: Tag) -> list[int]:
    """An image's declared widths and heights in px: its attributes and its inline style's (max-)width/height.
    The one reading of an image's size: tracking pixels (`drop_pixels`) and icons (`rows`) both use it."""
    sizes = [str(img.get("width", "")), str(img.get("height", ""))]
    sizes += re.findall(
        r"(?:^|;|\s)(?:max-)?(?:width|height)\s*:\s*(\d+)(?:px)?\s*(?:!important)?\s*(?:;|$)",
        str(img.get("style", "")),
        re.I,
    )
    return [int(v) for s in sizes if (v := s.strip().lower().removesuffix("px").strip()).isascii() and v.isdigit()]


def _is_tiny(img: Tag) -> bool:
    return any(size <= 2 for size in declared_sizes(img))


def _is_hidden(img: Tag) -> bool:
    return hides(str(img.get("style", ""))) or img.has_attr("hidden")
