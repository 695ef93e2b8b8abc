"""Markup that would turn into broken Markdown, tidied before conversion: emphasis CommonMark cannot
close (empty, nested, across a line break or a block), images glued into a link's text, alt text
that would break the image's Markdown (or is HTML code), headings made of images.

html2text writes `<b>` as `**`, `<em>` as `_` and `<s>` as `~~` wherever the tags are. An empty
`<strong>` gives a literal `****`; a bold run across `<br>` ends in a `**` after a hard break, which
cannot close; `<b>x <b>y</b> z</b>` gives `**x**y** z**`. Each emphasis element is therefore split
into runs of inline content between line breaks and blocks, nested emphasis of the same kind is
unwrapped, and emphasis with nothing visible inside is unwrapped.

CommonMark opens a delimiter run only when it is left-flanking and closes one only when it is
right-flanking: `**` between a letter and a punctuation mark (`word**.**`, `(**6`, `❤️**, x`) is
printed as typed. So runs of the same emphasis that touch in the line or are separated only by blanks
(through wrappers that write nothing, `<span><b>to </b></span><span><b>x</b></span>`) become one run,
a run with no letter or digit in it loses its marks, and punctuation at a run's edge goes outside it
when the character beyond that edge would stop the marker from flanking.
"""

from __future__ import annotations

import re
import unicodedata

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
# Alt text that is HTML code: it starts with a tag, or it holds a style, class or id attribute
ALT_CODE = re.compile(r"</?[A-Za-z][A-Za-z0-9]*[\s/>]")
ATTRIBUTE = re.compile(r"\b(?:style|class|id)=[\"']")
TAG = re.compile(r"</?[A-Za-z][A-Za-z0-9]*(?:[\s/][^<>]*)?>")  # a tag in alt text that is words
HEADINGS = frozenset({"h1", "h2", "h3", "h4", "h5", "h6"})
MARKED = frozenset({"a", "img", "code"})  # elements whose Markdown starts with punctuation
# Elements that write nothing of their own in Markdown: emphasis on both sides of one is one run
WRAPPERS = frozenset({"span", "font", "small", "big", "mark", "abbr"})


def tidy(tags: list[Tag], by_name: dict[str, list[Tag]]) -> None:
    """Emphasis, linked images and alt text, tidied in place (see the module's doc). `tags`: every
    tag in document order (`dom.Index.tags`)."""
    for tag in tags:  # in document order: a run takes in every neighbour run after it
        if tag.name in KIND and tag.parent is not None and not gone(tag):
            _join_next(tag)
    # innermost first: a nested emphasis is unwrapped before its outer one is split
    for tag in reversed(tags):
        if tag.name not in KIND or tag.parent is None or gone(tag):
            continue
        if not _says(tag) or any(KIND.get(parent.name) == KIND[tag.name] for parent in tag.parents):
            tag.unwrap()
            continue
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
    for tag in tags:  # those `styled` made too
        if tag.name in HEADINGS and tag.parent is not None and not gone(tag):
            _images_out_of_heading(tag)


def tidy_one(tag: Tag) -> None:
    """One emphasis made after `tidy`'s list of tags was taken (a heading in a table cell turned bold)."""
    if not _says(tag):
        tag.unwrap()
        return
    _trim(tag)
    _punctuation_outside(tag)


def safe_alt(alt: str) -> str:
    """Alt text on one line, without the characters that end or mark up an image's Markdown; none where the
    alt is HTML code (an editor's markup pasted in, `<h2 style="…"><span …>`): that describes no image."""
    if ALT_CODE.match(alt.lstrip()) or ATTRIBUTE.search(alt):
        return ""
    text = " ".join(ALT_UNSAFE.sub(" ", TAG.sub(" ", alt)).split())  # "für <br/> Heimwerker": the words stay
    return text[:MAX_ALT].rstrip() + "…" if len(text) > MAX_ALT else text


def _shows(tag: Tag) -> bool:
    """Text other than spaces inside (an image needs no emphasis: `**![](…)**` only adds markers)."""
    return bool(INVISIBLE.sub("", tag.get_text()))


def _says(tag: Tag) -> bool:
    """A letter or digit inside: `**.**` or `**❤️**` only adds markers (which seldom flank: `ISBN**.**`)."""
    return _says_text(tag.get_text())


def _punctuation(char: str) -> bool:
    """A punctuation mark or symbol as CommonMark's flanking rules read it (Unicode P* and S*)."""
    return unicodedata.category(char)[0] in "PS"


def _stops_flanking(beyond: str) -> bool:
    """Whether a marker between punctuation inside and `beyond` outside is no delimiter: only a line's
    edge, a blank or another punctuation mark beyond lets it flank."""
    return bool(beyond) and not beyond.isspace() and not _punctuation(beyond)


def _breaks_inside(tag: Tag) -> bool:
    return any(isinstance(node, Tag) and node.name in BREAKS for node in tag.descendants)


def _join_next(tag: Tag) -> None:
    """`<b>mi</b><b>nutes</b>` is one bold run (html2text would write `**mi****nutes**`), and so are
    `<span><b>by </b></span> <span><b><a>x</a></b></span><span><b>.</b></span>`: the runs touch in the
    line, or only blanks and elements that write nothing lie between them (the blanks go inside the run)."""
    while _shows(tag) and (found := _next_run(tag)) is not None:
        after, gap = found
        for node in gap:
            tag.append(node.extract())
        for child in list(after.contents):
            tag.append(child.extract())
        after.decompose()
    tag.smooth()  # "mi" + "nutes": one string, as html2text must see it


def _blank(node: PageElement) -> bool:
    """A string that shows nothing (or a comment), or a wrapper holding only such (one emptied by a join)."""
    if isinstance(node, Tag):
        return node.name in WRAPPERS and all(_blank(child) for child in node.contents)
    return type(node) is not NavigableString or not INVISIBLE.sub("", node)


def _next_run(tag: Tag) -> tuple[Tag, list[PageElement]] | None:
    """The emphasis of `tag`'s kind next in the line, showing text, with only blanks and WRAPPERS before it;
    and the blanks in between."""
    node: PageElement = tag
    gap: list[PageElement] = []
    while True:
        after = node.next_sibling
        while after is not None and _blank(after):
            gap.append(after)
            after = after.next_sibling
        if after is None:
            parent = node.parent
            if parent is None or parent.name not in WRAPPERS:
                return None
            node = parent
            continue
        while isinstance(after, Tag) and after.name in WRAPPERS:
            inside = after.contents
            gap.extend(child for child in inside[: next((i for i, c in enumerate(inside) if not _blank(c)), 0)])
            after = next((child for child in inside if not _blank(child)), None)
        if isinstance(after, Tag) and KIND.get(str(after.name)) == KIND[str(tag.name)] and _shows(after):
            return after, gap
        return None


def _italic_outside(tag: Tag) -> None:
    """`<b><i>x</i></b>` → `<i><b>x</b></i>`, and so for `<b><span><i>x</i></span></b>`: after a word,
    `word**_x_**` cannot open its `**` (a letter before it, punctuation after it), `word _**x**_` opens both."""
    if KIND[str(tag.name)] != "bold":
        return
    inner: PageElement = tag
    while isinstance(inner, Tag) and (inner is tag or inner.name in WRAPPERS):
        inside = [node for node in inner.contents if not (isinstance(node, NavigableString) and not node.strip())]
        if len(inside) != 1:
            return
        inner = inside[0]
    if isinstance(inner, Tag) and KIND.get(str(inner.name)) == "italic":
        tag.name, inner.name = inner.name, tag.name


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
    """`word<b>. More</b>` → `word.<b> More</b>` and `<b>EN LÍNEA (</b>6` → `<b>EN LÍNEA</b> (6`: a marker
    between punctuation inside and a letter (or a mark such as an emoji's variation selector) outside is
    printed as typed (`word**. More**`), so punctuation at such an edge goes outside the run (an emphasis
    that is all another one holds leaves that to the outer one: their edges are the same)."""
    parent = tag.parent
    if parent is not None and parent.name in KIND and [c for c in parent.contents if not _blank(c)] == [tag]:
        return
    for before in (True, False):
        strings = [node for node in tag.descendants if type(node) is NavigableString and node.strip()]
        if not strings or not _stops_flanking(_char_before(tag) if before else _char_after(tag)):
            continue
        edge = strings[0] if before else strings[-1]
        if any(holder.name not in KIND and holder.name not in WRAPPERS for holder in _holders(edge, tag)):
            continue  # inside a link or another element: moving it out would change what that holds
        text = str(edge).lstrip() if before else str(edge).rstrip()
        cut = 0
        while cut < len(text) and _punctuation(text[cut] if before else text[-1 - cut]):
            cut += 1
        kept = text[cut:] if before else text[: len(text) - cut]
        if cut and _says_text(kept):
            edge.replace_with(NavigableString(kept))
            if before:
                tag.insert_before(NavigableString(text[:cut]))
            else:
                tag.insert_after(NavigableString(text[len(text) - cut :]))
            _trim(tag)


def _holders(node: PageElement, tag: Tag) -> list[Tag]:
    """The elements from `node`'s parent up to `tag`, `tag` left out."""
    holders = []
    parent = node.parent
    while parent is not None and parent is not tag:
        holders.append(parent)
        parent = parent.parent
    return holders


def _says_text(text: str) -> bool:
    """A letter or digit in `text`."""
    return any(unicodedata.category(c)[0] in "LN" for c in text)


def _char_before(tag: Tag) -> str:
    """The character just before `tag` in its line ("" at the start of a block or after a break)."""
    return _char_beside(tag, after=False)


def _char_after(tag: Tag) -> str:
    """The character just after `tag` in its line ("" at the end of a block or before a break)."""
    return _char_beside(tag, after=True)


def _char_beside(tag: Tag, after: bool) -> str:
    node: PageElement = tag
    while True:
        near = node.next_sibling if after else node.previous_sibling
        if near is None:
            parent = node.parent
            if parent is None or parent.name in BREAKS or parent.name in ("body", "[document]"):
                return ""
            node = parent
            continue
        if isinstance(near, Tag) and (near.name in BREAKS or _breaks_inside(near)):
            return ""
        if after and isinstance(near, Tag) and (near.name in MARKED or near.name in KIND):
            return "["  # what its Markdown starts with: `[`, `!`, `` ` ``, `*`, `_`
        text = near.get_text() if isinstance(near, Tag) else str(near)
        if text:
            return text[0] if after else text[-1]
        node = near


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


def _images_out_of_heading(heading: Tag) -> None:
    """A heading is its text. One without any (a logo, a banner, a linked image: `### [![](…)](…)`, an outline
    entry of an image's address) is a paragraph; the images before its text (`<h1><img><br>The Download</h1>`,
    which would make the heading the image and its text a paragraph) go before it, a paragraph of their own."""
    if not _shows(heading):
        heading.name = "p"
        return
    lead: list[PageElement] = []
    for node in heading.contents:
        if not (_blank(node) or (isinstance(node, Tag) and (node.name in ("img", "br") or not _shows(node)))):
            break
        lead.append(node)
    if any(isinstance(node, Tag) and (node.name == "img" or node.find("img")) for node in lead):
        images = new_tag("p")
        heading.insert_before(images)
        for node in lead:
            if isinstance(node, Tag) and node.name == "br":
                node.extract()
            else:
                images.append(node.extract())


def _unglue_images(anchor: Tag) -> None:
    """A link holding an image and text: the image goes before the link, the link keeps its text
    (`![logo](…)[Read more](…)`, not `[![logo](…)Read more](…)`)."""
    images = anchor.find_all("img")
    if not images or not INVISIBLE.sub("", anchor.get_text()):
        return
    for img in images:
        anchor.insert_before(img.extract())
