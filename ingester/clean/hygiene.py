"""Markup that would turn into broken Markdown, tidied before conversion: emphasis CommonMark cannot
close (empty, nested, across a line break or a block), images glued into a link's text, alt text
that would break the image's Markdown.

html2text writes `<b>` as `**`, `<em>` as `_` and `<s>` as `~~` wherever the tags are. An empty
`<strong>` gives a literal `****`; a bold run across `<br>` ends in a `**` after a hard break, which
cannot close; `<b>x <b>y</b> z</b>` gives `**x**y** z**`. Each emphasis element is therefore split
into runs of inline content between line breaks and blocks, nested emphasis of the same kind is
unwrapped, and emphasis with nothing visible inside is unwrapped.
"""

from __future__ import annotations

import re

from ingester.clean.dom import NavigableString, PageElement, Tag, gone, live, new_tag

KIND = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "italic",  # html2text: <u> is `_` too
    "s": "strike",
    "strike": "strike",
    "del": "strike",
}
BREAKS = frozenset(
    {
        *("p", "div", "td", "th", "tr", "table", "tbody", "thead", "tfoot", "li", "ul", "ol", "dl", "dt", "dd"),
        *("h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "center", "section", "article", "header", "footer"),
        *("figure", "figcaption", "pre", "hr", "br", "main", "aside", "nav", "address"),
    }
)
INVISIBLE = re.compile(r"[\s\u200b-\u200f\u00ad\u034f\u2060\ufeff]+")
ALT_UNSAFE = re.compile(r"[\[\]*_~`<>\\|]+")
MAX_ALT = 120
PUNCTUATION = "".join(chr(c) for c in range(0x21, 0x7F) if not chr(c).isalnum()) + "«»“”‘’„…–—·•¡¿"


def tidy(tags: list[Tag], by_name: dict[str, list[Tag]]) -> None:
    """Emphasis, linked images and alt text, tidied in place (see the module's doc). `tags`: every
    tag in document order (`dom.Index.tags`)."""
    # innermost first: a nested emphasis is unwrapped before its outer one is split
    for tag in reversed(tags):
        if tag.name not in KIND or tag.parent is None or gone(tag):
            continue
        if not _shows(tag) or any(KIND.get(parent.name) == KIND[tag.name] for parent in tag.parents):
            tag.unwrap()
            continue
        _join_next(tag)
        _italic_outside(tag)
        if _breaks_inside(tag) or _holds_other_emphasis(tag):
            _split(tag)
        else:
            _trim(tag)
            _punctuation_outside(tag)
    for anchor in live(by_name.get("a", [])):
        if anchor.parent is not None:
            _unglue_images(anchor)
    for img in live(by_name.get("img", [])):
        if img.parent is not None and img.has_attr("alt"):
            img["alt"] = safe_alt(str(img["alt"]))


def safe_alt(alt: str) -> str:
    """Alt text on one line, without the characters that end or mark up an image's Markdown."""
    text = " ".join(ALT_UNSAFE.sub(" ", alt).split())
    return text[:MAX_ALT].rstrip() + "…" if len(text) > MAX_ALT else text


def _shows(tag: Tag) -> bool:
    """Text other than spaces inside (an image needs no emphasis: `**![](…)**` only adds markers)."""
    return bool(INVISIBLE.sub("", tag.get_text()))


def _breaks_inside(tag: Tag) -> bool:
    return any(isinstance(node, Tag) and node.name in BREAKS for node in tag.descendants)


def _join_next(tag: Tag) -> None:
    """`<b>mi</b><b>nutes</b>` is one bold run (html2text would write `**mi****nutes**`)."""
    after = tag.next_sibling
    while isinstance(after, Tag) and KIND.get(str(after.name)) == KIND[str(tag.name)]:
        for child in list(after.contents):
            tag.append(child.extract())
        after.decompose()
        after = tag.next_sibling
    tag.smooth()  # "mi" + "nutes": one string, as html2text must see it


def _italic_outside(tag: Tag) -> None:
    """`<b><i>x</i></b>` → `<i><b>x</b></i>`: after a word, html2text writes `word** _x_**` for the
    first (a space it adds before `_`, which leaves `**` unable to open) and `word _**x**_` for the second."""
    inside = [node for node in tag.contents if not (isinstance(node, NavigableString) and not node.strip())]
    if len(inside) != 1 or not isinstance(inside[0], Tag):
        return
    if KIND[str(tag.name)] == "bold" and KIND.get(str(inside[0].name)) == "italic":
        tag.name, inside[0].name = inside[0].name, tag.name


def _trim(tag: Tag) -> None:
    """Spaces at the edges of an emphasis go outside it: `** x**` and `**x **` cannot open or close."""
    for before in (True, False):
        strings = [node for node in tag.descendants if type(node) is NavigableString]
        moved = False
        for node in strings if before else reversed(strings):
            text = str(node)
            kept = text.lstrip() if before else text.rstrip()
            if kept != text:
                moved = True
                if kept:
                    node.replace_with(NavigableString(kept))
                else:
                    node.extract()
            if kept:
                break
        after = tag.next_sibling
        if moved and before and not _char_before(tag).isspace():
            tag.insert_before(NavigableString(" "))
        elif moved and not before and not (isinstance(after, NavigableString) and after[:1].isspace()):
            tag.insert_after(NavigableString(" "))


def _punctuation_outside(tag: Tag) -> None:
    """`word<b>. More</b>` → `word.<b> More</b>`: CommonMark does not open `**` between a letter and a
    punctuation mark (`word**. More**` stays literal), so leading punctuation after a letter goes outside."""
    first = next((node for node in tag.descendants if type(node) is NavigableString and node.strip()), None)
    if first is None or not _char_before(tag).isalnum():
        return
    text = str(first)
    kept = text.lstrip(PUNCTUATION)
    if kept != text and kept.strip():
        first.replace_with(NavigableString(kept))
        tag.insert_before(NavigableString(text[: len(text) - len(kept)]))
        _trim(tag)


def _char_before(tag: Tag) -> str:
    """The character just before `tag` in its line ("" at the start of a block or after a break)."""
    node: PageElement = tag
    while True:
        before = node.previous_sibling
        if before is None:
            parent = node.parent
            if parent is None or parent.name in BREAKS or parent.name in ("body", "[document]"):
                return ""
            node = parent
            continue
        if isinstance(before, Tag) and before.name in BREAKS:
            return ""
        text = before.get_text() if isinstance(before, Tag) else str(before)
        if text:
            return text[-1]
        node = before


def _split(tag: Tag) -> None:
    """`<b>one<br>two<p>three</p></b>` → `<b>one</b><br><b>two</b><p><b>three</b></p>`."""
    name = str(tag.name)
    _wrap_runs(tag, name)
    tag.unwrap()


def _holds_other_emphasis(tag: Tag) -> bool:
    """Another kind of emphasis beside other text: html2text loses the space before it (`_de**-10%**_`)."""
    if KIND[str(tag.name)] == "bold":
        return False  # `**x _y_ z**` comes out right
    inner = [child for child in tag.children if isinstance(child, Tag) and child.name in KIND]
    return bool(inner) and any(_shows(child) for child in inner) and len(tag.contents) > 1


def _wrap_runs(container: Tag, name: str) -> None:
    run: list[PageElement] = []
    for child in list(container.children):
        if isinstance(child, Tag) and child.name in KIND and container.name == name:
            _wrap(run, name)  # `<i>de <b>x</b> y</i>` → `<i>de</i> <i><b>x</b></i> <i>y</i>`
            run = []
            _wrap([child], name)
        elif isinstance(child, Tag) and (child.name in BREAKS or _breaks_inside(child)):
            _wrap(run, name)
            run = []
            if child.name != "br":
                _wrap_runs(child, name)
        else:
            run.append(child)
    _wrap(run, name)


def _wrap(run: list[PageElement], name: str) -> None:
    """Wrap the consecutive siblings `run` in a new `name` element, if some text in them shows."""
    shows = any(
        (isinstance(node, NavigableString) and INVISIBLE.sub("", str(node))) or (isinstance(node, Tag) and _shows(node))
        for node in run
    )
    if not shows:
        return
    wrapper = new_tag(name)
    run[0].insert_before(wrapper)
    for node in run:
        wrapper.append(node.extract())
    _trim(wrapper)
    _punctuation_outside(wrapper)


def _unglue_images(anchor: Tag) -> None:
    """A link holding an image and text: the image goes before the link, the link keeps its text
    (`![logo](…)[Read more](…)`, not `[![logo](…)Read more](…)`)."""
    images = anchor.find_all("img")
    if not images or not INVISIBLE.sub("", anchor.get_text()):
        return
    for img in images:
        anchor.insert_before(img.extract())
