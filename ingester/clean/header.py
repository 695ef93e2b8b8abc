"""What the post says about itself in its HTML: the title shown in the email and its link (Substack's
`h1.post-title a`), the subtitle, the byline, and the "view in browser" link. `metadata` decides
between these and what the headers say.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ingester.chrome import VIEW_ONLINE
from ingester.clean.dom import Index, Tag, first
from ingester.clean.walks import text_of
from ingester.links import LinkContext, clean_url


@dataclass(frozen=True)
class PostHeader:
    """The post's own header, read from the HTML before anything is removed.

    :ivar title: the post title shown in the email (Substack `h1.post-title`), or ""
    :ivar title_url: the cleaned href of the title link, or ""
    :ivar subtitle: Substack's `h3.subtitle`, or ""
    :ivar author: the byline of a post-meta row (Substack, Ghost) or a "By <name>" line before the article, or ""
    :ivar view_online_url: the cleaned "view in browser" link, or ""
    """

    title: str = ""
    subtitle: str = ""
    author: str = ""
    title_url: str = ""
    view_online_url: str = ""


def read_header(ix: Index, context: LinkContext, subject: str = "") -> PostHeader:
    """The post header; the title element then goes (the note shows the title on its own)."""
    title_tag = first(ix.by_class, "post-title", "h1")
    title_link = title_tag.find("a", href=True) if title_tag else None
    view_online = _view_online_link(ix.by_name.get("a", []), context, subject)
    header = PostHeader(
        title=text_of(title_tag),
        title_url=clean_url(str(title_link["href"]), context) if isinstance(title_link, Tag) else "",
        subtitle=text_of(first(ix.by_class, "subtitle", "h3")),
        author=_byline(first(ix.by_class, "post-meta")) or _top_byline(ix),
        view_online_url=clean_url(view_online, context) if view_online else "",
    )
    if title_tag:
        title_tag.decompose()
    return header


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


def _top_byline(ix: Index) -> str:
    """The writer a line of its own names before the article starts ("By Charlotte Jee • 06.25.24", "Von Anna
    Schmidt"): the mail's strings are read in order until the first long one (the article) or TOP_STRINGS."""
    root = ix.soup.body or ix.soup
    texts = (" ".join(string.split()) for string in root.strings)
    for count, text in enumerate(t for t in texts if t):
        if count >= TOP_STRINGS or len(text.split()) > ARTICLE_WORDS:
            break
        if (match := BYLINE.fullmatch(text)) and not NOT_A_NAME.search(match.group(1)):
            return match.group(1)
    return ""


TOP_STRINGS = 30  # strings with text
ARTICLE_WORDS = 25  # a string this long is the article (or its intro): a byline comes before it
# "By" in the languages of our mail, then one to four capitalised words, then at most a date or a place after a
# separator; alone in its string
BYLINE = re.compile(
    r"(?i:by|von|par|por|di|door)[ \t]+([A-ZÀ-ÖØ-Þ][\w'’.-]*(?:[ \t]+[A-ZÀ-ÖØ-Þ][\w'’.-]*){0,3})"
    r"(?:[ \t]*[•·|,–—][ \t]*[^•·|,–—]{0,40})?"
)
DATE_LIKE = re.compile(
    r"^(?:[A-Z][a-z]{2,8}\.? \d{1,2}(?:, \d{4})?|\d{1,2} [A-Z][a-z]{2,8}\.?(?: \d{4})?|\d{4}-\d{2}-\d{2})$"
)
DATE_TAIL = re.compile(r"(?<!\s)\s+(?:[A-Z][a-z]{2,8}\.? \d{1,2}(?:, \d{4})?|\d{1,2} [A-Z][a-z]{2,8}\.?(?: \d{4})?)$")
NOT_A_NAME = re.compile(r"\b(?:share|like|comment|restack|view|online|browser|subscribe|min read|read)\b|^\d", re.I)


def _view_online_link(anchors: list[Tag], context: LinkContext, subject: str) -> str:
    """The href of the email's "view in browser" link, as written ("" when there is none): marked as
    such, saying so, or (whatever it says) one of the mail's first links that leads to this issue's own
    web page (`_web_copy`)."""
    anchors = [a for a in anchors if a.has_attr("href")]
    link = next((a for a in anchors if "view-online-link" in (a.get("class") or ())), None)
    if link is None:
        link = next((a for a in anchors if VIEW_ONLINE.search(" ".join(a.get_text(" ").split()))), None)
    if link is None:
        link = next((a for a in anchors[:FIRST_LINKS] if _web_copy(a, context, subject)), None)
    return str(link["href"]) if link is not None else ""


FIRST_LINKS = 5  # links at the top of a mail that may be its "view on the web" link
WORDS = re.compile(r"[^\W_]+")
FILE_SUFFIX = re.compile(r"\.(?:s?html?|php|aspx?)$", re.I)
MIN_SLUG_WORDS = 3  # "issue 154" alone could name anything


def _web_copy(anchor: Tag, context: LinkContext, subject: str) -> bool:
    """The link leads to this issue on the web: the last part of its address (tracking wrappers undone)
    is the subject as a slug, word for word (`…/sre-weekly-issue-154/` for "SRE Weekly Issue #154")."""
    words = WORDS.findall(subject.lower())
    if len(words) < MIN_SLUG_WORDS:
        return False
    path = clean_url(str(anchor["href"]), context).split("?", 1)[0].split("#", 1)[0].rstrip("/")
    slug = FILE_SUFFIX.sub("", path.rsplit("/", 1)[-1])
    return "://" not in slug and WORDS.findall(slug.lower()) == words
