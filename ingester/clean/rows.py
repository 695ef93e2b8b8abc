"""Blocks that are chrome by their shape, wherever they sit: rows of icon-only links (social profiles,
share buttons), link-dense navigation bars at the top, and blocks marked as ads or sponsored. Pure.

A row of icons is a block of MIN_LINKS or more links, each only an image or one short word, with
nothing else but separators, whose links go to different sites or show small images (a share row
wraps them all through one click tracker). A navigation bar is such a block of short text links at
the top of the mail. An ad is a block whose class, id or aria-label names it so (`ad`, `ads`,
`sponsor…`, `advert…`) and that holds a link or an image: the name is a hint, the block must still be
small (MAX_AD of the mail). A sponsored block is one that a label line opens ("Sponsored", "Anzeige",
"En partenariat avec …") and whose shape agrees: small, self-contained, its links to one other site
(`drop_sponsored`). Every removal goes through the content-loss guard.
"""

from __future__ import annotations

import re
from collections import Counter
from functools import lru_cache

from ingester.chrome import AD_LABEL, MAX_AD_LABEL
from ingester.clean.dom import ROOTS, NavigableString, Tag, bare_class, gone, live
from ingester.clean.ends import first_string
from ingester.clean.prune import declared_sizes
from ingester.clean.tally import Tally
from ingester.clean.votes import ASKS, caption_of, drop_captions
from ingester.clean.walks import first_tag, only_links, row_of, short_text, tags_of, text_of
from ingester.links import LinkContext
from ingester.links.sites import site
from ingester.links.url import split

MIN_LINKS = 3
MAX_WORD = 14  # characters of an icon link's one word ("Instagram", "LinkedIn")
MAX_NAV_LINK = 25  # characters of a navigation link's text
MAX_NAV_WORDS = 3
MAX_NAV_TEXT = 150  # characters of a whole navigation bar
MAX_LABEL_WORDS = 6  # a label a removed row leaves behind ("Follow Dark Reading:")
MAX_TEXT_BEFORE_NAV = 200  # characters of text before a navigation bar at the top
MAX_ICON_PX = 64  # an icon is at most this wide or high
MAX_CLIMB = 16  # ancestors looked at above a link for its row (Mailchimp nests a share row 14 deep)
MAX_ROW_TEXT = 200  # characters of a whole row of icons (their words and separators)
MAX_AD = 0.25  # an ad block holds at most this share of the mail's text
MAX_AD_TEXT = 1500
MIN_AD_TEXT = 20  # characters besides its label: an ad says something
WEB = re.compile(r"(?:https?:)?//", re.I)
SEPARATORS = re.compile(r"[\s|·•\-–—/,:;.]*")
AD_NAME = re.compile(r"(?:^|[-_])(?:ads?|advert\w*|sponsor\w*|promoted)(?:$|[-_])", re.I)
AD_BLOCKS = frozenset({"div", "table", "tbody", "tr", "td", "section", "aside", "center", "p", "li", "ul"})
UNIT_BLOCKS = frozenset({"table", "tr", "td", "th", "div", "section", "aside", "article", "center"})
LABEL_LINES = frozenset({"p", "td", "th", "li", "div", "center", "section", "h1", "h2", "h3", "h4", "h5", "h6"})
ROW_BLOCKS = frozenset({"p", "div", "td", "tr", "table", "tbody", "ul", "li", "center", "section", "nav", "span"})
A, IMG, A_OR_IMG, H123 = frozenset({"a"}), frozenset({"img"}), frozenset({"a", "img"}), frozenset({"h1", "h2", "h3"})
SKIPPED_SIBLINGS = frozenset({"br", "wbr"})  # between a label's block and the ad: neither content nor a separator


def _icon(anchor: Tag) -> tuple[bool, bool]:
    """(is the link an icon: an image or one short word, does it show a small image)."""
    text = text_of(anchor)
    images = tags_of(anchor, IMG, limit=2)
    if images and len(text) <= 2:
        sizes = [declared_sizes(img) for img in images]
        return True, all(s and max(s) <= MAX_ICON_PX for s in sizes)
    return bool(text) and " " not in text and len(text) <= MAX_WORD and not text[:1].isdigit(), False


def _site(anchor: Tag, counts: Tally, context: LinkContext) -> str:
    """The site a link leads to: its destination unwrapped offline (a click tracker's own host says
    nothing), then its registrable domain ("bbc.co.uk", not "co.uk")."""
    href = str(anchor.get("href", "")).strip()
    u = split(counts.peek(href, context).url if href else "")
    return site(u.host) if u is not None else ""


def icon_rows(anchors: list[Tag], counts: Tally, context: LinkContext) -> list[Tag]:
    """The rows of icon-only links (found before images lose their sizes), outermost first."""
    rows: dict[int, Tag] = {}
    icons: dict[int, tuple[bool, bool]] = {}
    looked: set[int] = set()

    def icon(anchor: Tag) -> tuple[bool, bool]:
        if id(anchor) not in icons:
            icons[id(anchor)] = _icon(anchor)
        return icons[id(anchor)]

    for anchor in live(anchors):
        if not icon(anchor)[0]:
            continue
        found = row_of(anchor, ROW_BLOCKS, looked, MAX_CLIMB, MAX_ROW_TEXT, MIN_LINKS)
        if found is None:
            continue
        node, links = found
        marks = [icon(a) for a in links]
        if all(i for i, _ in marks) and only_links(node, links, SEPARATORS):
            distinct = len({_site(a, counts, context) for a in links}) >= MIN_LINKS
            # the images shown are small: a captioned share row ("[f] Share [t] Tweet") too
            images = [small for a, (_, small) in zip(links, marks, strict=True) if first_tag(a, IMG)]
            if distinct or (len(images) >= MIN_LINKS and all(images)):
                rows[id(node)] = _outermost(node)
    return list(rows.values())


def _outermost(tag: Tag) -> Tag:
    """The outermost block around `tag` holding the same text (its row's wrappers)."""
    best, text = tag, text_of(tag)
    for parent in tag.parents:
        if parent.name in ROOTS or text_of(parent) != text or first_tag(parent, IMG) is not first_tag(best, IMG):
            break
        best = parent
    return best


def drop_rows(rows: list[Tag], counts: Tally) -> None:
    """The rows, each with the question or label line right above it ("Did you like it?", "Follow us:"), and
    the label its block is left holding alone (`_left_label`)."""
    for row in rows:
        if not gone(row) and not any(gone(p) for p in row.parents):
            captions = caption_of(row, ASKS)
            holder = row.parent
            if counts.drop(row, "row of icon links (social or share)"):
                drop_captions(captions, counts)
                label = _left_label(holder)
                if label is not None:
                    counts.drop(label, "label of a removed row")


def _left_label(holder: Tag | None) -> Tag | None:
    """The block that held a removed row, when all it holds now is one short label of it: no link and no image,
    at most MAX_LABEL_WORDS words, ending in ":" or "?" or written in capitals ("Follow Dark Reading:" in the
    table its icons shared). Widened to the outermost block holding that text alone."""
    if holder is None or gone(holder) or holder.name in ROOTS:
        return None
    text = short_text(holder, MAX_NAV_TEXT)
    if not text or len(text.split()) > MAX_LABEL_WORDS or first_tag(holder, A_OR_IMG) is not None:
        return None
    if not (text.endswith((":", "?", "：", "？")) or (text.upper() == text and any(c.isalpha() for c in text))):
        return None
    block = holder
    while block.parent is not None and block.parent.name not in ROOTS and text_of(block.parent) == text:
        if first_tag(block.parent, A_OR_IMG) is not None:
            break
        block = block.parent
    return block


def drop_nav(anchors: list[Tag], counts: Tally) -> None:
    """A bar of MIN_LINKS or more short text links with nothing else, near the top: site navigation. The bar
    of the first link with text is looked at (a logo linked above the bar is no item of it)."""
    first = next((a for a in anchors if not gone(a) and text_of(a)), None)
    if first is None:
        return
    before = 0
    for string in first.find_all_previous(string=True):
        before += len(string.strip()) if isinstance(string, NavigableString) else 0
        if before > MAX_TEXT_BEFORE_NAV:
            return
    node: Tag | None = first.parent  # only the first link's bar is looked at
    for _ in range(MAX_CLIMB):
        if node is None or node.name in ROOTS:
            break
        if node.name in ROW_BLOCKS:
            text = short_text(node, MAX_NAV_TEXT)
            if text is None:
                return  # too much text for a bar, and so for any block around it
            links = tags_of(node, A, href=True)
            if len(links) >= MIN_LINKS:
                if all(_nav_link(a) for a in links) and only_links(node, links, SEPARATORS):
                    counts.drop(_outermost(node), "navigation bar")
                return
        node = node.parent


def _nav_link(anchor: Tag) -> bool:
    text = text_of(anchor)
    return 0 < len(text) <= MAX_NAV_LINK and len(text.split()) <= MAX_NAV_WORDS


def drop_ads(tags: list[Tag], counts: Tally) -> None:
    """Blocks marked as ads by class, id or aria-label (holding a link or an image: the ad itself); and
    an item a marked badge labels (`_badged_item`)."""
    limit = min(MAX_AD_TEXT, MAX_AD * counts.document_size)
    for tag in tags:
        if gone(tag) or not tag.attrs:
            continue
        attrs = tag.attrs
        if "class" not in attrs and "id" not in attrs and "aria-label" not in attrs:
            continue  # nothing that could name an ad (most tags: styles and sizes only)
        names = [*map(bare_class, attrs.get("class") or ()), str(attrs.get("id", ""))]
        names += str(attrs.get("aria-label", "")).split()
        if not any(map(_ad_name, names)):
            continue
        if first_tag(tag, A_OR_IMG) is None:  # a badge ("Mux <span class=tag-sponsor>sponsor</span>")
            item = _badged_item(tag, limit)
            if item is not None:
                counts.drop(item, "ad item (marked badge)")
        elif tag.name in AD_BLOCKS and len(text_of(tag)) <= limit:
            counts.drop(tag, "ad block (marked)")


@lru_cache(maxsize=4096)  # a mail repeats a few class names on thousands of tags
def _ad_name(name: str) -> bool:
    """A class (its Gmail prefix removed), id or aria-label word that names an ad (`AD_NAME`)."""
    return AD_NAME.search(name) is not None


MAX_BADGED_LINKS = 3  # an ad item links its offer (and perhaps its logo and a button); more is a list


def _badged_item(badge: Tag, limit: float) -> Tag | None:
    """The item a marked badge labels: the badge is a short word on a short line of its own (a byline,
    never inside a sentence), and the item is the nearest block around that line holding a link, small
    (`limit`) and with at most MAX_BADGED_LINKS links (one offer, not the list the offers are in)."""
    text = text_of(badge)
    if not text or len(text) > MAX_WORD:
        return None
    line: Tag | None = badge.parent
    while line is not None and line.name not in UNIT_BLOCKS | {"p", "li"}:
        line = line.parent
    if line is None or line.name in ROOTS or short_text(line, MAX_AD_LABEL) is None:
        return None
    for item in line.parents:
        if item.name in ROOTS:
            return None
        if item.name in AD_BLOCKS and first_tag(item, A, href=True) is not None:
            if len(tags_of(item, A, href=True, limit=MAX_BADGED_LINKS + 1)) > MAX_BADGED_LINKS:
                return None
            return item if short_text(item, int(limit)) is not None else None
    return None


def drop_sponsored(labels: list[NavigableString], anchors: list[Tag], counts: Tally, context: LinkContext) -> None:
    """A block that a label line opens ("Sponsored", "Anzeige", "Presented by Acme": `chrome.AD_LABEL`, a
    hint) goes when its shape agrees that it is one ad: the smallest table, cell or section that holds the
    label as its first text, a link and some text (MIN_AD_TEXT) besides it is small (MAX_AD of the mail,
    MAX_AD_TEXT at most), holds at most one heading, and its links go to one site, which is not the mail's
    own (the site most of its links go to) unless the links are opaque click trackers (their destination
    is not known offline) or the label is bare (an ad word naming no one, "ANZEIGE": the sender's own
    offer is an ad too when the sender says so). When the label's block holds the label alone, the ad is
    the blocks after it, up to a rule or a spacer (`_ad_run`). A label inside a sentence or beside other
    text ("Mux sponsor") is no label line; a label whose block does not fit stays with its block: an ad
    kept is better than an article lost."""
    limit = min(MAX_AD_TEXT, MAX_AD * counts.document_size)
    own: list[str] = []  # the mail's own site, worked out once, when first needed
    for label in labels:
        line = None if gone(label) else _label_line(label)
        if line is None:
            continue
        unit = _ad_unit(label, line, limit)
        blocks = [unit] if unit is not None else _ad_run(line, limit)
        if not blocks or any(gone(parent) for parent in blocks[0].parents):
            continue
        links = [a for block in blocks for a in _links_besides(block, line)]
        hrefs = [str(a["href"]).strip() for a in links]
        sites = {_site(a, counts, context) for a in links}
        if len(sites) != 1:
            continue
        if not _bare(text_of(line)) and not all(counts.peek(href, context).kind == "opaque" for href in hrefs):
            if not own:
                own.append(_main_site(anchors, counts, context))
            if sites == {own[0]}:
                continue  # the publication's own links under a label naming a partner: its own block, not an ad
        if unit is not None:
            counts.drop(_outermost(unit), "sponsored block (labelled, self-contained)")
            continue
        for block in blocks:
            counts.drop(block, "sponsored block (a label line, then the blocks up to a rule)")


def _bare(text: str) -> bool:
    """The label line is an ad word alone ("ANZEIGE", "Sponsored"): it names no sponsor."""
    found = AD_LABEL.fullmatch(text)
    return found is not None and not any(c.isalnum() for c in text[found.end("label") :])


def _label_line(label: NavigableString) -> Tag | None:
    """The line block around `label` when that whole line is an ad label, else None."""
    for parent in label.parents:
        if parent.name in ROOTS:
            return None
        if parent.name in LABEL_LINES:
            text = short_text(parent, MAX_AD_LABEL)
            return parent if text and AD_LABEL.fullmatch(text) else None
    return None


def _ad_unit(label: NavigableString, line: Tag, limit: float) -> Tag | None:
    """The smallest block above the label line that opens with the label and holds a link and some text
    besides it (an ad says something: a logo alone beside the label is half of one)."""
    for node in line.parents:
        if node.name in ROOTS:
            return None
        if node.name not in UNIT_BLOCKS:
            continue
        if short_text(node, int(limit)) is None or first_string(node) is not label:
            return None
        if len(text_of(node)) - len(text_of(line)) >= MIN_AD_TEXT and _links_besides(node, line):
            headings = tags_of(node, H123, limit=2)
            return node if len(headings) < 2 else None
    return None


def _ad_run(line: Tag, limit: float) -> list[Tag]:
    """The label's own block (the outermost around the line holding its text alone: Mailchimp puts a label
    in a text block of its own) and the blocks after it up to a separator: a rule, a spacer or a divider
    (no text, no link), or a heading (but for the ad's own title, first). Empty blocks right after the label
    are skipped. The run is no ad unless a separator ends it (running out of blocks, or past `limit`, is
    the article going on), it says something with a link (MIN_AD_TEXT) and holds at most one heading."""
    text = text_of(line)
    block = line
    while block.parent is not None and block.parent.name not in ROOTS and text_of(block.parent) == text:
        block = block.parent
    run: list[Tag] = []
    size = 0
    for sibling in block.next_siblings:
        if isinstance(sibling, NavigableString):
            if sibling.strip():
                return []  # loose text beside the label's block: a sentence, not a block of the mail's layout
            continue
        if not isinstance(sibling, Tag) or sibling.name in SKIPPED_SIBLINGS:
            continue
        said = short_text(sibling, int(limit) - size)
        if said is None:
            return []
        if _separator(sibling, said):
            if run:
                break
            continue
        if run and _opens_with_heading(sibling):
            break
        run.append(sibling)
        size += len(said) + 1
    else:
        return []
    headings = sum(len(tags_of(b, H123, limit=2)) for b in run)
    if size - len(run) < MIN_AD_TEXT or headings > 1 or not any(_links_besides(b, line) for b in run):
        return []
    return [block, *run]


def _separator(block: Tag, said: str) -> bool:
    """A rule, a spacer or a divider between the blocks of a mail: no text and no link or image in it."""
    return block.name == "hr" or (not said and first_tag(block, A_OR_IMG) is None)


def _opens_with_heading(block: Tag) -> bool:
    """The block is a heading (h1–h3) or opens with one: the next section of the mail."""
    if block.name in H123:
        return True
    heading = first_tag(block, H123)
    return heading is not None and first_string(block) is first_string(heading)


def _links_besides(block: Tag, line: Tag) -> list[Tag]:
    """The block's web links outside the label line (in-page anchors and mailto: lead nowhere else)."""
    return [
        a
        for a in tags_of(block, A, href=True)
        if WEB.match(str(a["href"]).strip()) and not any(p is line for p in a.parents)
    ]


def _main_site(anchors: list[Tag], counts: Tally, context: LinkContext) -> str:
    """The site most of the mail's links go to (its own, for a publication)."""
    sites = Counter(_site(a, counts, context) for a in anchors if not gone(a) and a.get("href"))
    return sites.most_common(1)[0][0] if sites else ""


def drop_platform_badges(anchors: list[Tag], counts: Tally, context: LinkContext) -> None:
    """The last things of the mail, image links (no text) to the sending platform's own site go: the
    ESP's referral badge ("Email marketing by …"). The platform's site is the site of the mail's List-
    Unsubscribe URLs and of the hosts that wrap its clicks, when that is not the mail's own site (the site
    most of its links go to: a publication that sends from its own domain keeps its logo). Nothing with
    text after the badge: a badge inside the mail is no badge at its end."""
    hosts = [u.host for u in map(split, context.unsubscribe_urls) if u is not None] + list(context.wrapper_hosts)
    platform = {site(host) for host in hosts} - {""}
    if not platform:
        return
    own = ""
    for anchor in reversed(live(anchors)):
        if text_of(anchor) or anchor.find("img") is None:
            return
        if any(type(s) is NavigableString and s.strip() for s in anchor.next_elements):
            return
        if _site(anchor, counts, context) not in platform:
            return
        own = own or _main_site(anchors, counts, context)
        if _site(anchor, counts, context) == own:
            return
        counts.drop(_outermost(anchor), "the sending platform's badge ending the mail")
