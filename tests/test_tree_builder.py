"""The fast tree builder (`clean.dom._Builder`) builds the tree bs4's own lxml builder builds, node for node."""

from __future__ import annotations

import gc
import warnings
import weakref

import pytest
from bs4 import BeautifulSoup

from ingester import message
from ingester.clean import clean_html, dom
from tests.conftest import CORPUS, EMAILS, needs_corpus

LINKS = {"parent", "next_element", "previous_element", "next_sibling", "previous_sibling", "contents"}


def shape(soup: BeautifulSoup) -> list[tuple[object, ...]]:
    """Every node with its kind, name, attributes or text, and its links to the others by position."""
    nodes = [soup, *soup.descendants]
    where = {id(n): i for i, n in enumerate(nodes)}

    def at(node: object) -> int | None:
        return None if node is None else where.get(id(node), -1)

    out: list[tuple[object, ...]] = []
    for n in nodes:
        if isinstance(n, dom.Tag):
            about: tuple[object, ...] = (
                "tag", n.name, [(k, type(v).__name__, v) for k, v in n.attrs.items()], n.namespace, n.prefix,
                n._namespaces, n.can_be_empty_element, n.interesting_string_types, len(n.contents),
            )  # fmt: skip
        else:
            about = (type(n).__name__, str(n))
        links = (n.parent, n.next_element, n.previous_element, n.next_sibling, n.previous_sibling)
        fields = {k: v for k, v in n.__dict__.items() if k not in LINKS and n is not soup}  # all `Tag()` sets
        out.append((about, sorted(fields.items(), key=str), *map(at, links)))
    return out


def assert_same_tree(html: str) -> None:
    """The same tree as bs4's; and, leaving out what `index` removes first, the same tree as bs4's once removed."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ours = dom._lxml_soup(html)
        theirs = BeautifulSoup(html, "lxml")
        lean = dom._lxml_soup(html, dom.DROP_TAGS, comments=False)
    assert ours is not None and lean is not None
    assert shape(ours) == shape(theirs)
    unwanted = [n for n in theirs.descendants if type(n) is dom.Comment or getattr(n, "name", None) in dom.DROP_TAGS]
    for node in unwanted:
        if not dom.gone(node):
            node.decompose()
    assert shape(lean) == shape(theirs)
    assert_same_index(html)


def assert_same_index(html: str) -> None:
    """The index made while building is the one a walk over the finished tree makes."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        built = dom.index(html)
        walked = dom.walk(dom.parse(html, dom.DROP_TAGS, comments=False))
    at = {id(tag): i for i, tag in enumerate(walked.tags)}
    assert [shape_of(t) for t in built.tags] == [shape_of(t) for t in walked.tags]
    assert {k: [(i, shape_of(t)) for i, t in v] for k, v in built.by_class.items()} == {
        k: [(i, shape_of(t)) for i, t in v] for k, v in walked.by_class.items()
    }
    assert {k: len(v) for k, v in built.by_name.items()} == {k: len(v) for k, v in walked.by_name.items()}
    assert [str(s) for s in built.engagement] == [str(s) for s in walked.engagement]
    assert built.document_size == walked.document_size
    assert len(at) == len(walked.tags)


def shape_of(tag: dom.Tag) -> tuple[object, ...]:
    return tag.name, sorted(tag.attrs.items(), key=str), len(tag.contents)


TRICKY = [
    "",
    "\ufeff<p>x</p>",
    "<!DOCTYPE html><p>a</p>",
    "<?xml version='1.0'?><html><p>x</p></html>",
    "<pre>  \n </pre><p> \n </p><textarea> \n</textarea><div><pre><b> </b> </pre> </div>",
    "<script> </script><style>a{}</style><template><p>t</p></template><ruby>a<rt>b</rt><rp>(</rp></ruby>",
    "<!-- --><p>a<!----><b>b</b> <i>c</i>\n</p><!--x-->",
    "<td nowrap class='a  b' rel='x y'>x</td><p a='1' a='2'>x",
    "<o:p xmlns:o='urn:x'>x</o:p><table><tr><td>a<p>b</table>c</p>trailing",
    "<meta charset='utf-8'><meta http-equiv='Content-Type' content='text/html; charset=latin1'>",
    "<p>a<!--x-->b<script>c</script>d<style>e</style> <head><title>t</title></head>f</p><form><input><b>g</b></form>h",
    "<svg><path d='x'/></svg><p>&amp;&nbsp; &#0; \x00 x</p><![CDATA[x]]><br/>\r\n<br>\t",
]


def test_deep_markup_and_missed_voids_are_indexed_by_the_walk() -> None:
    deep = "<div class='a'>" * (dom.MAX_DEPTH + 5) + "deep <b class='b'>text</b>"
    assert "_index" not in dom.parse(deep, dom.DROP_TAGS, comments=False, indexed=True).__dict__
    assert "_index" not in dom.parse("<p>a<wbr title='<'>b</p>", dom.DROP_TAGS, comments=False, indexed=True).__dict__
    assert "_index" in dom.parse("<p class='x'>a</p>", dom.DROP_TAGS, comments=False, indexed=True).__dict__
    for html in (deep, "<p>a<wbr title='<'>b<i class='c'>c</i></p>"):
        assert_same_index(html)


@pytest.mark.parametrize("html", TRICKY)
def test_tricky_markup_gives_the_same_tree(html: str) -> None:
    assert_same_tree(html)


def test_every_fixture_message_gives_the_same_tree() -> None:
    htmls = [message.parse(path.read_bytes()).html for path in sorted(EMAILS.glob("*.eml"))]
    assert len([h for h in htmls if h]) > 10
    for html in htmls:
        if html:
            assert_same_tree(dom.LATE_VOID_TAG.sub("", html))


@needs_corpus
@pytest.mark.slow
def test_every_corpus_message_gives_the_same_tree() -> None:
    for path in sorted(p for p in CORPUS.rglob("*") if p.is_file() and p.suffix in (".eml", ".html")):
        data = path.read_bytes()
        html = data.decode("utf-8", "replace") if path.suffix == ".html" else message.parse(data).html
        if html:
            assert_same_tree(dom.LATE_VOID_TAG.sub("", html))


def test_namespaced_names_are_left_to_bs4() -> None:
    assert dom._lxml_soup("<a {x}y=1>z</a>") is None
    assert "z" in dom.parse("<a {x}y=1>z</a>").get_text()


def test_a_torn_down_tree_is_freed_without_the_collector() -> None:
    html = (EMAILS / sorted(p.name for p in EMAILS.glob("*.eml"))[0]).read_bytes()
    ix = dom.index(message.parse(html).html or "<p class='a'>x<b>y</b></p>")
    tags = [weakref.ref(tag) for tag in ix.tags]
    assert tags
    collecting = gc.isenabled()
    gc.disable()
    try:
        dom.teardown(ix.soup)
        del ix
        assert all(tag() is None for tag in tags)
    finally:
        if collecting:
            gc.enable()


def test_cleaning_leaves_the_collector_as_it_was() -> None:
    assert gc.isenabled()
    clean_html("<p>a <b>b</b></p>")
    assert gc.isenabled()
    gc.disable()
    try:
        clean_html("<p>a <b>b</b></p>")
        assert not gc.isenabled()
    finally:
        gc.enable()
