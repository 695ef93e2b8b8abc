"""Newsletter HTML → the article: email chrome, pixels and layout tables removed, every link cleaned. Pure.

The public face of the cleaning package. `clean_html` runs the steps below in this order; each step
is a function of one module: `dom` (parse and index; the one module importing BeautifulSoup), `header`
(what the post says about itself), `prune` (what goes, by class and phrase), `rows` (chrome by shape:
icon rows, navigation bars, marked ads, the platform's badge), `ends` (chrome by structure at the ends:
the footer, the view-online line), `tail` (a link bar ending the mail), `anchors` (link cleaning),
`layout` (tables, captions, tweets), `styled` (headings from bold or large lines), `hygiene` (markup
that would make broken Markdown); `events` writes the article out for `convert`.
"""

from __future__ import annotations

import gc
import html as htmllib
from collections.abc import Callable
from dataclasses import dataclass, field, fields

from ingester.chrome import CHROME_CLASSES, CONFIRM_HINT, SUBSTACK_CHROME_CLASSES
from ingester.clean.anchors import clean_links, clean_written_urls, written_counts
from ingester.clean.dom import index, live, parse, teardown
from ingester.clean.ends import Styles, drop_footer, drop_view_online
from ingester.clean.events import Event, article_events
from ingester.clean.header import PostHeader, read_header
from ingester.clean.hygiene import tidy
from ingester.clean.layout import flatten_layout_tables, quote_tweets
from ingester.clean.prune import drop_chrome, drop_engagement, drop_hidden, drop_pixels, drop_polls
from ingester.clean.rows import drop_ads, drop_nav, drop_platform_badges, drop_rows, drop_sponsored, icon_rows
from ingester.clean.styled import demote, promote
from ingester.clean.tail import drop_link_bar, drop_subscription_lines
from ingester.clean.tally import Tally
from ingester.clean.votes import drop_votes, vote_rows
from ingester.links import CleanedUrl, LinkContext

__all__ = ["CleanedHtml", "Event", "LinkCounts", "PostHeader", "clean_html", "confirm_link", "text_counts"]

Resolver = Callable[[str], "str | None"]
VOID_TAGS = frozenset(
    {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}
)


@dataclass(frozen=True)
class LinkCounts:
    """What link cleaning did in one message (written to the note's front matter).

    :ivar pixels_removed: tracking images and beacons dropped
    :ivar links_cleaned: links and image sources whose URL changed when cleaned
    :ivar wrappers_decoded: redirect wrappers replaced by their destination, offline
    :ivar opaque_links: opaque click-tracking wrappers kept (their destination is only on the sender's server)
    :ivar links_dropped: unsubscribe, preference, confirm and action links removed
    :ivar personal_links: links holding the reader's identity, a credential or an id shared with unsubscribe
    :ivar links_unlinked: of those, links made text only (and opaque ones under `[links] personal = "unlink"`)
    :ivar reader_redacted: the reader's address or name replaced in the text (`compose`)
    """

    pixels_removed: int = 0
    links_cleaned: int = 0
    wrappers_decoded: int = 0
    opaque_links: int = 0
    links_dropped: int = 0
    personal_links: int = 0
    links_unlinked: int = 0
    reader_redacted: int = 0


@dataclass(frozen=True)
class CleanedHtml:
    """The article, what the HTML said about the post, and what cleaning removed.

    :ivar events: the article as start/end/text events (see `events.Event`)
    :ivar header: the post's own title, subtitle, byline and links (`header.PostHeader`)
    :ivar counts: what link cleaning did
    :ivar removed: one line per removed block, for `ingest explain`
    :ivar refused: one line per removal the content-loss guard refused (`tally.MAX_REMOVAL_SHARE`)
    :ivar document_size: characters of text in the whole document, as parsed (single-spaced)
    """

    events: tuple[Event, ...] = ()
    header: PostHeader = field(default_factory=PostHeader)
    counts: LinkCounts = field(default_factory=LinkCounts)
    removed: tuple[str, ...] = ()
    links: tuple[CleanedUrl, ...] = ()  # every distinct link's cleaning, for `ingest explain`
    refused: tuple[str, ...] = ()
    document_size: int = 0

    @property
    def text_size(self) -> int:
        """Characters of text in the article, counted as `document_size` counts them."""
        texts = " ".join([event[1] for event in self.events if event[0] == "text"])  # no word spans two events
        return len(" ".join(texts.split()))

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


def clean_html(
    html: str,
    platform: str = "newsletter",
    context: LinkContext | None = None,
    resolve: Resolver | None = None,
    subject: str = "",
) -> CleanedHtml:
    """Strip the email around the article and clean every URL.

    `resolve` (opt-in, see `links.resolve`) is asked for the target of opaque wrappers; it is never
    given unsubscribe, preference, confirm or action links.
    """
    collecting = gc.isenabled()
    gc.disable()  # see `_clean`
    try:
        return _clean(html, platform, context or LinkContext(), resolve, subject)
    finally:
        if collecting:
            gc.enable()


def _clean(html: str, platform: str, context: LinkContext, resolve: Resolver | None, subject: str) -> CleanedHtml:
    """`clean_html` without the cyclic garbage collector. A tree of tens of thousands of linked nodes is
    built here, and every collection while it lives walks all of it again (a quarter of building it); taken
    apart at the end (`teardown`), it is freed by reference counting, with nothing left for the collector."""
    ix = index(html)
    tally = Tally(document_size=ix.document_size)
    header = read_header(ix, context, subject)
    rows = icon_rows(ix.named("a"), tally, context)  # before images lose their sizes
    drop_pixels(ix.named("img"), tally, context)  # before hidden blocks go: a hidden pixel still counts as one
    drop_hidden(ix.tags, tally)
    drop_chrome(
        ix.named("a"), ix.by_class, tally, CHROME_CLASSES + (SUBSTACK_CHROME_CLASSES if platform == "substack" else ())
    )
    drop_engagement(ix.engagement, tally)
    if platform == "beehiiv":
        drop_polls(ix.named("ul", "ol"), tally)
    drop_rows(rows, tally)
    drop_votes(vote_rows(ix.named("a")), tally)
    drop_nav(ix.named("a"), tally)
    root = ix.soup.body or ix.soup
    drop_ads(ix.tags, tally)
    drop_sponsored(ix.ad_labels, ix.named("a"), tally, context)
    drop_view_online(root, tally, context, header.view_online_url)
    drop_footer(root, tally, context, Styles())
    drop_platform_badges(ix.named("a"), tally, context)
    if drop_link_bar(root, tally):
        drop_footer(root, tally, context, Styles())  # the footer above a site menu: a web page's address
    drop_subscription_lines(root, ix.named("a"), tally, context)
    quote_tweets(ix.by_class)
    clean_links(ix.named("a"), tally, context, resolve)
    clean_written_urls(ix.written, tally, context)
    for caption in live(ix.named("figcaption")):
        caption.name = "p"  # its own paragraph, not glued to the image
    promote(ix.tags)  # before layout tables lose their style
    demote(ix.tags)  # after promote: its choice rests on the heading elements the sender wrote
    flatten_layout_tables(ix.by_name)
    tidy(ix.tags, ix.by_name)
    # The tally's counters, field by field of the same name (reader_redacted is counted later, by compose).
    counts = _link_counts(tally)
    cleaned = CleanedHtml(
        article_events(ix.soup, ix.by_class),
        header,
        counts,
        tuple(tally.removed),
        tuple(tally.seen.values()),
        tuple(tally.refused),
        ix.document_size,
    )
    teardown(ix.soup)
    return cleaned


def _link_counts(tally: Tally) -> LinkCounts:
    """The tally's counters, field by field of the same name (reader_redacted is counted later, by compose)."""
    return LinkCounts(**{f.name: getattr(tally, f.name) for f in fields(LinkCounts) if f.name != "reader_redacted"})


def text_counts(found: list[CleanedUrl], context: LinkContext) -> LinkCounts:
    """The link counts of a note made from the text part: `found` holds each URL cleaned in its text."""
    return _link_counts(written_counts(found, context))


def confirm_link(html: str) -> str:
    """The href of the first link that looks like a confirmation link, exactly as the sender wrote it."""
    soup = parse(html)
    anchors = [a for a in soup.find_all("a", href=True) if str(a["href"]).lower().startswith(("http://", "https://"))]
    for anchor in anchors:
        if CONFIRM_HINT.search(anchor.get_text(" ")):
            return str(anchor["href"])
    return next((str(a["href"]) for a in anchors if CONFIRM_HINT.search(str(a["href"]))), "")
