"""The HTML tree, the one module that imports BeautifulSoup: parse (every tag indexed as it is built),
the helpers the cleaning steps share, and the tree taken apart once the article is out (`teardown`).

Removed tags are `decompose`d; `gone` tells a step that an earlier one removed a tag. Gmail forwards
prefix class names with `m_<digits>`, so classes are indexed and matched without that prefix.
"""

from __future__ import annotations

import functools
import re
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from bs4 import BeautifulSoup, MarkupResemblesLocatorWarning, ParserRejectedMarkup, XMLParsedAsHTMLWarning
from bs4.element import CData, Comment, Doctype, NavigableString, PageElement, PreformattedString, Tag
from bs4.element import nonwhitespace_re as BLANK_SEPARATED  # how bs4 splits class="a b"
from lxml import etree

from ingester.chrome import AD_LABEL, ENGAGEMENT_TEXT, MAX_AD_LABEL

__all__ = ["NavigableString", "PageElement", "PreformattedString", "Tag"]  # bs4 types other cleaning modules name

ROOTS = frozenset({"body", "html", "[document]"})  # where climbing from a tag towards a block stops
DROP_TAGS = frozenset(
    {
        "script",
        "style",
        "head",
        "title",
        "meta",
        "link",
        "noscript",
        "iframe",
        "object",
        "embed",
        "form",
        "input",
        "button",
        "select",
        "textarea",
        "svg",
        "template",
        "base",
    }
)
GMAIL_CLASS_PREFIX = re.compile(r"^m_-?\d+")
LATE_VOIDS = ["embed", "source", "track", "wbr", "keygen"]  # empty in HTML 5, containers to libxml2
# Their start tags (no `<` inside, so every failed attempt stops at the next one: linear), removed before
# parsing: none of them shows anything in a note, and a digest with 455 `<wbr>` nests 455 deep otherwise.
LATE_VOID_TAG = re.compile(r"<(?:embed|source|track|wbr|keygen)\b[^<>]*>", re.I)
LATE_VOID_START = re.compile(r"<(?:embed|source|track|wbr|keygen)\b", re.I)  # one the tag pattern missed, too
MAX_DEPTH = 200  # elements nested deeper are unwrapped (real newsletters stay far below ~60)

ByClass = dict[str, list[tuple[int, Tag]]]
TEXT_TYPES = (NavigableString, CData)  # the strings `get_text()` counts
LINKS = ("parent", "previous_element", "next_element", "previous_sibling", "next_sibling")  # a node's place


@dataclass
class Index:
    """Every tag of the document, found in one walk: each step picks from here instead of searching
    again (bs4 searches are whole-tree walks, and a newsletter has thousands of tags).

    :ivar by_class: class name (Gmail prefix removed) → (position, tag) in document order
    :ivar engagement: strings that mark polls and referral blocks ("participate in polls", …)
    :ivar ad_labels: short strings that may label an ad ("Sponsored", "Anzeige": `chrome.AD_LABEL`)
    :ivar written: strings with a URL written out in them ("://")
    :ivar document_size: `len(soup.get_text(" ", strip=True))`, without building that text
    """

    soup: BeautifulSoup
    tags: list[Tag] = field(default_factory=list)
    by_name: dict[str, list[Tag]] = field(default_factory=dict)
    by_class: ByClass = field(default_factory=dict)
    engagement: list[NavigableString] = field(default_factory=list)
    ad_labels: list[NavigableString] = field(default_factory=list)
    written: list[NavigableString] = field(default_factory=list)
    document_size: int = 0

    def named(self, *names: str) -> list[Tag]:
        """The tags with these names, in document order per name."""
        return [tag for name in names for tag in self.by_name.get(name, ())]

    def add(self, tag: Tag) -> None:
        """The next tag in document order."""
        if classes := tag.attrs.get("class"):
            for name in dict.fromkeys(map(bare_class, classes)):
                self.by_class.setdefault(name, []).append((len(self.tags), tag))
        self.tags.append(tag)
        self.by_name.setdefault(tag.name, []).append(tag)

    def sort(self, string: NavigableString, text: str) -> None:
        """The next visible string (`text` stripped), kept where a later step looks for it."""
        if "://" in text:
            self.written.append(string)
        if ENGAGEMENT_TEXT.search(text):
            self.engagement.append(string)
        elif len(text) <= MAX_AD_LABEL and AD_LABEL.match(text):
            self.ad_labels.append(string)


def index(html: str) -> Index:
    """Parse `html`, drop what never shows (scripts, styles, head, comments…), cap the nesting depth,
    and index what is left."""
    soup = parse(html, DROP_TAGS, comments=False, indexed=True)
    built: Index | None = soup.__dict__.get("_index")  # indexed while it was built (`_Builder`)
    return built or walk(soup)


def walk(soup: BeautifulSoup) -> Index:
    """`index` of a tree `parse` gives without its index: one walk over every node."""
    if soup.__dict__.get("_left_out") != (DROP_TAGS, False):  # built by bs4 itself: all of it is there
        unwanted = [node for node in soup.descendants if type(node) is Comment or _named(node) in DROP_TAGS]
        for node in unwanted:
            if not gone(node):  # not inside something removed already
                node.decompose()
    limit_depth(soup)
    found = Index(soup)
    strings = []
    for node in soup.descendants:
        if isinstance(node, Tag):
            found.add(node)
        elif isinstance(node, NavigableString) and type(node) in TEXT_TYPES and (text := node.strip()):
            strings.append(len(text))
            found.sort(node, text)
    found.document_size = sum(strings) + max(0, len(strings) - 1)
    return found


def _named(node: PageElement) -> str | None:
    return node.name if isinstance(node, Tag) else None


def teardown(soup: BeautifulSoup) -> None:
    """Unlink every node of a tree no longer needed, so that reference counting frees it at once (a bs4
    tree is a web of cycles: parent, children, siblings, previous and next), not the cyclic collector."""
    node: PageElement | None = soup.contents[0] if soup.contents else None  # the soup's next_element is None
    soup.__dict__.clear()
    while node is not None:
        after = node.next_element
        node.__dict__.clear()
        node = after


def gone(tag: PageElement) -> bool:
    """Removed by an earlier step. (bs4's own `decomposed` property searches the subtree of every
    live tag — `tag.x` means `tag.find("x")` for unknown attributes — which made cleaning quadratic.)"""
    return bool(tag.__dict__.get("_decomposed"))


def live(tags: list[Tag]) -> list[Tag]:
    """The tags not removed by an earlier step."""
    return [t for t in tags if not gone(t)]


def limit_depth(soup: BeautifulSoup) -> None:
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


def parse(html: str, drop: frozenset[str] = frozenset(), comments: bool = True, indexed: bool = False) -> BeautifulSoup:
    """The document tree; never raises on broken markup. Elements named in `drop` and, unless `comments`,
    comments may be left out already (as `index` removes them: only faster); if `indexed`, the tree may
    come with its `Index` (`soup.__dict__["_index"]`), made while it was built.

    bs4's lxml tree builder (libxml2's HTML parser) first: it reads Outlook's conditional comments
    (`<!--[if mso]>…<![endif]-->`, `<![endif]-->` without its opening) as comments, where
    html.parser takes a stray `<![endif]-->` in `<head>` for the start of a marked section and
    swallows the whole document into it. html.parser only when lxml rejects the markup.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", MarkupResemblesLocatorWarning)
        warnings.simplefilter("ignore", XMLParsedAsHTMLWarning)  # XHTML mail (<?xml …?> first) is HTML to us
        late = LATE_VOID_START.search(html) is not None  # most mail has none: one scan, not two
        if late:
            html = LATE_VOID_TAG.sub("", html)
            late = LATE_VOID_START.search(html) is not None
        try:
            soup = _lxml_soup(html, drop, comments, indexed) or BeautifulSoup(html, "lxml")
        except (ParserRejectedMarkup, ValueError):
            pass
        else:
            if late:
                soup.__dict__.pop("_index", None)  # the tree changes: `index` walks it
                _empty_voids(soup)  # one the pattern missed (a `>` or `<` in an attribute's value)
            return soup
        try:
            return BeautifulSoup(html, "html.parser")
        except ParserRejectedMarkup:
            # html.parser gives up on some broken marked sections ("<![en="): show them as text
            return BeautifulSoup(re.sub(r"<!(?!--)", "&lt;!", html), "html.parser")


class _Unusual(Exception):
    """Markup the fast builder leaves to bs4's own (namespaced names, a parser error)."""


@dataclass(frozen=True, slots=True)
class _Kind:
    """What the tags of one name share (`_Builder.kind_of`)."""

    fields: dict[str, Any]
    listed: frozenset[str]
    preserves: bool
    contains: bool


class _Builder:
    """An lxml parser target that builds bs4's tree itself: the tree `BeautifulSoup(html, "lxml")` builds
    from the same parser events, node for node (tests/test_tree_builder.py compares them), in a fifth of the
    time: bs4's builder does namespace and filter bookkeeping on every event that HTML mail never needs, and
    here a tag is a copy of the fields every tag of its name shares (what `Tag.__init__` would set) plus its
    own attributes and links. With an `Index`, each tag and string is indexed as it is built."""

    SPACES = BeautifulSoup.ASCII_SPACES
    OWN = frozenset(("attrs", "contents", *LINKS))  # what each tag has of its own

    def __init__(
        self, soup: BeautifulSoup, drop: frozenset[str] = frozenset(), comments: bool = True, found: Index | None = None
    ) -> None:
        self.soup = soup
        self.drop, self.comments = drop, comments  # what `index` would remove at once is never built
        self.skipping = 0  # open elements of a dropped subtree
        self.builder = builder = soup.builder
        self.namespaces = dict(builder.DEFAULT_NSMAPS)  # type: ignore[attr-defined]
        self.open: list[Tag] = [soup]
        self.last: PageElement | None = None  # the most recent element, in document order
        self.pending: list[str] = []  # text not yet a string (bs4 joins what the parser reports in pieces)
        self.preserving: list[Tag] = []  # open <pre> and <textarea>: their blank strings stay as they are
        self.containers: list[Tag] = []  # open <script>, <style>, <template>, <rt>, <rp>: their own string classes
        self.kinds: dict[str, _Kind] = {}  # name → what its tags share
        self.attribute_dict = builder.attribute_dict_class
        self.found = found
        self.sizes: list[int] = []  # of the indexed strings, stripped
        self.deep = False  # an element nested MAX_DEPTH deep: `limit_depth` changes the tree, the index is redone

    def start(self, name: str, attrib: dict[str, str]) -> None:
        if self.skipping or name in self.drop:
            if self.pending and not self.skipping:
                self.flush(NavigableString)  # the text on either side stays two strings, as when it is removed
            self.skipping += 1
            return
        if self.pending:
            self.flush(NavigableString)
        attrs = self.attribute_dict(attrib)  # lxml's values are strings: nothing for its __setitem__ to do
        if name[:1] == "{" or (attrib and "{" in "".join(attrib)):  # bs4 reads "{uri}name" as a namespace
            raise _Unusual(name)
        kind = self.kinds.get(name) or self.kind_of(name)
        tag = self.new_tag(name, attrs, kind)
        self.open.append(tag)
        if kind.preserves:
            self.preserving.append(tag)
        if kind.contains:
            self.containers.append(tag)
        if self.found is not None:
            self.found.add(tag)
            self.deep = self.deep or len(self.open) > MAX_DEPTH

    def kind_of(self, name: str) -> _Kind:
        """What every tag of this name shares: the fields `Tag.__init__` sets alike for all of them, the
        attributes bs4 splits into lists, whether it keeps its blanks or holds its own string class."""
        builder = self.builder
        model = Tag(self.soup, builder, name, None, None, None, None, None, namespaces=self.namespaces)
        lists = builder.cdata_list_attributes or {}
        kind = self.kinds[name] = _Kind(
            {k: v for k, v in model.__dict__.items() if k not in self.OWN},
            frozenset(lists.get("*", set()) | lists.get(name.lower(), set())),
            name in builder.preserve_whitespace_tags,
            name in builder.string_containers,
        )
        return kind

    def new_tag(self, name: str, attrs: dict[str, Any], kind: _Kind | None = None) -> Tag:
        """`Tag(soup, builder, name, attrs=attrs, parent=…, previous=self.last, namespaces=…)`, in the tree."""
        kind = kind or self.kinds.get(name) or self.kind_of(name)
        if name == "meta":  # bs4 rewrites its charset: its own constructor
            tag = Tag(self.soup, self.builder, name, None, None, attrs, namespaces=self.namespaces)
            self.attach(tag, tag.__dict__)
            return tag
        listed = kind.listed
        if attrs and listed:
            for key in attrs:  # class="a b" → ["a", "b"], in place: the order stays
                if key in listed:
                    attrs[key] = self.builder.attribute_value_list_class(BLANK_SEPARATED.findall(attrs[key]))
        # `attach`, inlined: this runs for every tag
        parent = self.open[-1]
        siblings = parent.contents
        previous, before = self.last, siblings[-1] if siblings else None
        tag = Tag.__new__(Tag)
        tag.__dict__ = {
            **kind.fields,
            "attrs": attrs,
            "contents": [],
            "parent": parent,
            "previous_element": previous,
            "next_element": None,
            "previous_sibling": before,
            "next_sibling": None,
        }
        if previous is not None:
            previous.next_element = tag
        if before is not None:
            before.next_sibling = tag
        siblings.append(tag)
        self.last = tag
        return tag

    def attach(self, node: Any, fields: dict[str, Any]) -> Any:
        """`node`, with `fields` as its own, linked in as the last child of the open element (`setup`)."""
        parent = self.open[-1]
        siblings = parent.contents
        previous, before = self.last, siblings[-1] if siblings else None
        fields["parent"], fields["previous_element"], fields["next_element"] = parent, previous, None
        fields["previous_sibling"], fields["next_sibling"] = before, None
        node.__dict__ = fields
        if previous is not None:
            previous.next_element = node
        if before is not None:
            before.next_sibling = node
        siblings.append(node)
        self.last = node
        return node

    def end(self, name: str) -> None:
        if self.skipping:
            self.skipping -= 1
            return
        if self.pending:
            self.flush(NavigableString)
        tag = self.open.pop()
        if tag.name != name or len(self.open) == 0:
            raise _Unusual(name)
        if self.preserving and tag is self.preserving[-1]:
            self.preserving.pop()
        if self.containers and tag is self.containers[-1]:
            self.containers.pop()

    def data(self, text: str) -> None:
        if not self.skipping:
            self.pending.append(text)

    def comment(self, text: str) -> None:
        if self.comments:
            self.special(text, Comment)
        elif self.pending and not self.skipping:
            self.flush(NavigableString)  # the text on either side stays two strings, as when the comment is removed

    def doctype(self, name: str, pubid: str, system: str) -> None:
        self.special(Doctype._string_for_name_and_ids(name, pubid, system), Doctype)

    def pi(self, target: str, data: str) -> None:
        self.special(target + " " + data, self.builder.processing_instruction_class)  # type: ignore[attr-defined]

    def special(self, text: str, kind: type[NavigableString]) -> None:
        if self.skipping:
            return
        if self.pending:
            self.flush(NavigableString)
        self.pending.append(text)
        self.flush(kind)

    def flush(self, kind: type[NavigableString]) -> None:
        """bs4's `endData`: a string of blanks is one space or newline (outside <pre>), in its container's class."""
        pending = self.pending
        text = pending[0] if len(pending) == 1 else "".join(pending)
        self.pending = []
        if not self.preserving and not text.strip(self.SPACES):
            text = "\n" if "\n" in text else " "
        if kind is NavigableString and self.containers:
            kind = self.builder.string_containers.get(self.containers[-1].name, kind)
        if kind is not NavigableString:
            string = kind(text)
            self.attach(string, string.__dict__)
            return
        string = str.__new__(NavigableString, text)  # NavigableString(text), linked in as `attach` does
        parent = self.open[-1]
        siblings = parent.contents
        previous, before = self.last, siblings[-1] if siblings else None
        string.__dict__ = {
            "hidden": False,
            "parent": parent,
            "previous_element": previous,
            "next_element": None,
            "previous_sibling": before,
            "next_sibling": None,
        }
        if previous is not None:
            previous.next_element = string
        if before is not None:
            before.next_sibling = string
        siblings.append(string)
        self.last = string
        if self.found is not None and (stripped := text.strip()):
            self.sizes.append(len(stripped))
            self.found.sort(string, stripped)

    def close(self) -> BeautifulSoup:
        if self.pending:
            self.flush(NavigableString)
        if self.found is not None and not self.deep:
            self.found.document_size = sum(self.sizes) + max(0, len(self.sizes) - 1)
            self.soup.__dict__["_index"] = self.found
        soup = self.soup
        self.__dict__.clear()  # lxml keeps its target until the collector runs: the tree is not kept with it
        return soup


def _lxml_soup(
    html: str, drop: frozenset[str] = frozenset(), comments: bool = True, indexed: bool = False
) -> BeautifulSoup | None:
    """`BeautifulSoup(html, "lxml")`, built by `_Builder`, without the elements named in `drop` and, unless
    `comments`, without comments (the tree bs4 builds once they are removed); None where it leaves the
    markup to bs4. If `indexed`, with the tree's `Index`."""
    soup = BeautifulSoup("", "lxml")
    target = _Builder(soup, drop, comments, Index(soup) if indexed else None)
    parser = etree.HTMLParser(target=target, recover=True, huge_tree=False, encoding=None)
    try:
        parser.feed(html[1:] if html[:1] == "\ufeff" else html)
        parser.close()
    except (_Unusual, UnicodeDecodeError, LookupError, etree.ParserError):
        return None
    soup.__dict__["_left_out"] = (drop, comments)  # not an attribute: bs4 reads `soup.x` as `soup.find("x")`
    return soup


def _empty_voids(soup: BeautifulSoup) -> None:
    """libxml2 knows HTML 4's empty elements, not HTML 5's newer ones: `<embed>`, `<source>`,
    `<track>`, `<wbr>` and `<keygen>` swallow what follows them. Give it back to their parents."""
    for tag in soup.find_all(LATE_VOIDS):
        if tag.contents:
            for child in reversed(list(tag.contents)):
                tag.insert_after(child.extract())


def has_classes(*wanted: str) -> Callable[[Tag], bool]:
    """A test for tags that have every one of these classes (Gmail prefixes allowed)."""

    def matches(tag: Tag) -> bool:
        classes = tag.get("class")
        if not classes:
            return False
        have = [bare_class(c) for c in classes]
        return all(w in have for w in wanted)

    return matches


@functools.lru_cache(maxsize=4096)
def bare_class(name: str) -> str:
    """The class name without a Gmail forward's `m_<digits>` prefix."""
    return GMAIL_CLASS_PREFIX.sub("", name)


def first(by_class: ByClass, classes: str, name: str | None = None) -> Tag | None:
    """First live tag (optionally of one name) with all the given classes, Gmail `m_<digits>` prefixes allowed."""
    lead, *_ = wanted = classes.split()
    has = has_classes(*wanted)
    return next(
        (t for _, t in by_class.get(lead, ()) if not gone(t) and (name is None or t.name == name) and has(t)), None
    )


def new_tag(name: str, **attrs: str) -> Tag:
    """A new, detached element."""
    return BeautifulSoup("", "html.parser").new_tag(name, attrs=attrs)
