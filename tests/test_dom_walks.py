"""The tree walks the cleaning steps use in place of bs4's searches (`walks.tags_of`, `first_tag`, `strings_of`,
`text_of`, `short_text`, `stripped_within`) give what bs4's own `find_all`, `find`, `strings` and `get_text`
give, on every element of real mail, including <rt> (its own string type) and strings of other kinds."""

from __future__ import annotations

import math

import pytest

from ingester import message
from ingester.clean import dom, walks
from tests.conftest import CORPUS, EMAILS, needs_corpus

NAMES = (frozenset({"a"}), frozenset({"img"}), frozenset({"a", "img"}), frozenset({"h1", "h2", "h3"}))


def assert_same_walks(html: str) -> int:
    soup = dom.parse(html)
    tags = [soup, *(t for t in soup.descendants if isinstance(t, dom.Tag))]
    for tag in tags:
        for names in NAMES:
            assert walks.tags_of(tag, names) == tag.find_all(names)
            assert walks.tags_of(tag, names, href=True) == tag.find_all(names, href=True)
            assert walks.tags_of(tag, names, limit=2) == tag.find_all(names, limit=2)
            assert walks.first_tag(tag, names, href=True) is tag.find(names, href=True)
        assert walks.strings_of(tag) == list(tag.strings)
        text = " ".join(tag.get_text(" ").split())
        assert walks.text_of(tag) == text
        for limit in (0, 10, 200):
            assert walks.short_text(tag, limit) == (text if len(text) <= limit else None)
        stripped = tag.get_text(" ", strip=True)
        assert walks.stripped_within(tag, math.inf) == stripped
        assert walks.stripped_within(tag, 40) == (stripped if len(stripped) <= 40 else None)
    return len(tags)


def test_walks_on_ruby_comments_and_cdata() -> None:
    html = (
        "<p>a<ruby>漢<rp>(</rp><rt>kan</rt><rp>)</rp></ruby> <!-- c --> <a href=x>b<img></a><a>c</a>"
        "<svg><![CDATA[d]]></svg><h2><a href=''>e</a></h2></p><p></p>"
    )
    assert assert_same_walks(html) > 8
    assert walks.text_of(dom.parse(html).find("rt")) == "kan"


def test_walks_on_every_fixture_message() -> None:
    htmls = [message.parse(path.read_bytes()).html for path in sorted(EMAILS.glob("*.eml"))]
    assert sum(assert_same_walks(html) for html in htmls if html) > 1000


@needs_corpus
@pytest.mark.slow
def test_walks_on_every_corpus_message() -> None:
    for path in sorted(p for p in CORPUS.rglob("*") if p.is_file() and p.suffix == ".eml")[::4]:
        html = message.parse(path.read_bytes()).html
        if html:
            assert_same_walks(html)
