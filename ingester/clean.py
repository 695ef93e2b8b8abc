"""Newsletter HTML → article HTML: chrome, pixels and layout tables removed, every link cleaned. Pure.

The only module that imports BeautifulSoup. It also reads what only the HTML knows: the post title
and its link (Substack's `h1.post-title a`), the subtitle, the byline and a "view in browser" link.
Gmail forwards prefix class names with `m_<digits>`, so classes are matched by suffix.
"""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass

from bs4 import BeautifulSoup, Comment, MarkupResemblesLocatorWarning, Tag

from ingester.links import clean_url

DROP_TAGS = ("script", "style", "head", "title", "meta", "link", "noscript", "iframe", "object", "embed",
             "form", "input", "button", "select", "textarea", "svg", "template", "base")
# Email chrome by class name: any platform, and Substack's own (Omnivore's preParse list).
CHROME_CLASSES = ("preheader", "footer", "email-footer")
SUBSTACK_CHROME_CLASSES = ("preamble", "meta-author-wrap", "post-meta", "post-cta", "container-border",
                           "email-ufi-2-top", "email-ufi-2-bottom", "subscription-widget-wrap", "header")
HIDDEN_STYLE = re.compile(
    r"display\s*:\s*none|visibility\s*:\s*hidden|max-height\s*:\s*0(?:px)?\s*(?:;|$)|mso-hide\s*:\s*all", re.I
)
CHROME_TEXT = re.compile(
    r"unsubscribe|abmelden|abbestellen|se d[ée]sinscrire|manage (?:your )?(?:subscription|preferences)|"
    r"update (?:your )?(?:subscription )?preferences|email preferences|view (?:this )?(?:email|newsletter|post|it)? ?"
    r"(?:in|on) (?:your|a|the)? ?(?:browser|web)|view (?:this email )?online|read (?:this )?(?:post )?online|"
    r"im browser (?:ansehen|anzeigen|öffnen)|you (?:are )?receiv(?:ed|ing) this|forwarded this email|"
    r"退订|取消订阅|在浏览器中(?:查看|打开|阅读)|网页版",
    re.I,
)
VIEW_ONLINE = re.compile(
    r"(?:view|read|open).{0,40}(?:in (?:your|a|the) browser|online|on the web)|im browser|在浏览器中|网页版", re.I
)
BLOCKS = ("p", "div", "td", "tr", "table", "li", "ul", "center", "section", "footer", "span")
TRACKER_IMAGE = re.compile(r"/track/open|/open\.php|/o/[^/]+/|/e/o/|/open/|pixel|beacon|/wf/open|\.gif\?", re.I)
MAX_CHROME_BLOCK = 400  # characters: a block longer than this is article text, not a footer line


@dataclass(frozen=True)
class CleanedHtml:
    """The article HTML and what the HTML said about the post.

    :ivar title: the post title shown in the email (Substack `h1.post-title`), or ""
    :ivar title_url: the cleaned href of the title link, or ""
    :ivar view_online_url: the cleaned "view in browser" link, or ""
    :ivar pixels_removed: tracking images dropped
    :ivar links_cleaned: links whose URL changed when cleaned
    """

    html: str
    title: str = ""
    subtitle: str = ""
    author: str = ""
    title_url: str = ""
    view_online_url: str = ""
    pixels_removed: int = 0
    links_cleaned: int = 0


def clean_html(html: str, platform: str = "newsletter") -> CleanedHtml:
    """Strip the email around the article and clean every URL."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", MarkupResemblesLocatorWarning)
        soup = BeautifulSoup(html, "html.parser")
    for node in soup.find_all(string=lambda s: isinstance(s, Comment)):
        node.extract()
    for tag in soup.find_all(DROP_TAGS):
        tag.decompose()
    title_tag = _by_class(soup, "post-title", "h1")
    title_link = title_tag.find("a", href=True) if title_tag else None
    subtitle_tag = _by_class(soup, "subtitle", "h3")
    meta = _by_class(soup, "post-meta")
    view_online = _view_online_link(soup)
    found = {
        "title": _text(title_tag),
        "title_url": clean_url(str(title_link["href"])) if title_link else "",
        "subtitle": _text(subtitle_tag),
        "author": _text(meta.find(["td", "a", "span"])) if meta else "",
        "view_online_url": clean_url(view_online) if view_online else "",
    }
    if title_tag:
        title_tag.decompose()
    _drop_hidden(soup)
    _drop_chrome(soup, CHROME_CLASSES + (SUBSTACK_CHROME_CLASSES if platform == "substack" else ()))
    pixels = _drop_pixels(soup)
    changed = _clean_links(soup)
    _flatten_layout_tables(soup)
    root = _by_class(soup, "body markup") or soup.body or soup
    return CleanedHtml(html=root.decode_contents() if isinstance(root, Tag) else str(root),
                       pixels_removed=pixels, links_cleaned=changed, **found)


def _by_class(soup: BeautifulSoup, classes: str, name: str | None = None) -> Tag | None:
    """First tag (optionally of one name) that has all the given classes, Gmail `m_<digits>` prefixes allowed."""
    wanted = classes.split()

    def matches(tag: Tag) -> bool:
        have = [re.sub(r"^m_\d+", "", c) for c in tag.get("class") or ()]
        return (name is None or tag.name == name) and all(w in have for w in wanted)

    return soup.find(matches)


def _text(tag: Tag | None) -> str:
    return " ".join(tag.get_text(" ").split()) if tag else ""


def _view_online_link(soup: BeautifulSoup) -> str:
    link = soup.find("a", class_=lambda c: bool(c) and "view-online-link" in c, href=True)
    if link:
        return str(link["href"])
    for anchor in soup.find_all("a", href=True):
        if VIEW_ONLINE.search(anchor.get_text(" ")):
            return str(anchor["href"])
    return ""


def _drop_hidden(soup: BeautifulSoup) -> None:
    for tag in soup.find_all(style=HIDDEN_STYLE):
        if not tag.decomposed:
            tag.decompose()
    for tag in soup.find_all(attrs={"hidden": True}):
        if not tag.decomposed:
            tag.decompose()


def _drop_chrome(soup: BeautifulSoup, classes: tuple[str, ...]) -> None:
    for name in classes:
        while (tag := _by_class(soup, name)) is not None:
            tag.decompose()
    for anchor in soup.find_all("a"):
        if anchor.decomposed:
            continue
        if CHROME_TEXT.search(anchor.get_text(" ")) or re.search(r"unsubscribe|/preferences|optout|opt-out",
                                                                  str(anchor.get("href", "")), re.I):
            _smallest_block(anchor).decompose()


def _smallest_block(tag: Tag) -> Tag:
    """The outermost ancestor block that still reads like one chrome line (short text)."""
    best = tag
    for parent in tag.parents:
        if not isinstance(parent, Tag) or parent.name in ("body", "html", "[document]"):
            break
        if parent.name in BLOCKS:
            if len(parent.get_text(" ", strip=True)) > MAX_CHROME_BLOCK:
                break
            best = parent
    return best


def _drop_pixels(soup: BeautifulSoup) -> int:
    removed = 0
    for img in soup.find_all("img"):
        src = str(img.get("src", ""))
        if not src or _is_tiny(img) or TRACKER_IMAGE.search(src):
            img.decompose()
            removed += bool(src)
        else:
            img["src"] = clean_url(src)
    return removed


def _is_tiny(img: Tag) -> bool:
    sizes = [str(img.get("width", "")), str(img.get("height", ""))]
    style = str(img.get("style", ""))
    sizes += re.findall(r"(?:^|;|\s)(?:width|height)\s*:\s*(\d+)px", style, re.I)
    return any(re.fullmatch(r"\s*[012](?:px)?\s*", s) for s in sizes if s)


def _clean_links(soup: BeautifulSoup) -> int:
    changed = 0
    for anchor in soup.find_all("a"):
        href = str(anchor.get("href", "")).strip()
        if not anchor.get_text(strip=True) and not anchor.find("img"):
            anchor.decompose()  # empty links render as `[](url)`
            continue
        if not href or href.lower().startswith(("javascript:", "data:", "vbscript:")) or href.startswith("#"):
            anchor.unwrap()
            continue
        cleaned = clean_url(href)
        changed += cleaned != href
        anchor.attrs = {"href": cleaned}
    return changed


def _flatten_layout_tables(soup: BeautifulSoup) -> None:
    """Tables that lay out the email become plain blocks; tables that hold data stay tables."""
    for table in reversed(soup.find_all("table")):
        if table.decomposed or _is_data_table(table):
            continue
        cells = [t for t in table.find_all(["thead", "tbody", "tfoot", "tr", "td", "th"])
                 if t.find_parent("table") is table]
        for tag in [table, *cells]:
            tag.name = "div"
            tag.attrs = {}


def _is_data_table(table: Tag) -> bool:
    if table.find("table") or table.find(["img", "h1", "h2", "h3", "p", "div", "ul", "ol", "blockquote"]):
        return False
    rows = [r for r in table.find_all("tr") if r.find_parent("table") is table]
    widths = {len(r.find_all(["td", "th"], recursive=False)) for r in rows}
    return len(rows) >= 2 and len(widths) == 1 and widths.pop() >= 2
