"""Conversion shapes from the third held-out review (issue #14): blocks inside links, emphasis edges,
headings without text, invisible characters and alt text that is HTML.

Four fixtures written for this project on the structure of real mail the ingester had not seen: a publisher's
digest whose story titles are `<h2>`s inside links, after a kicker link and an image link in the same cell
(A.V. Club on Amazon SES); a GetResponse mail whose bold holds an underlined word through three `<span>`s,
first in its paragraph; a Klaviyo welcome mail (bold before a `*`, zero-width spaces after a `<br>` and
before a link, an image whose alt is the editor's HTML); and Mailchimp headings made of a logo or an icon.
"""

from __future__ import annotations

import re

import pytest
from markdown_it import MarkdownIt

from ingester.clean.hygiene import safe_alt
from tests.conftest import body_of, fixture_note
from tests.test_emphasis_tables import outline_lines
from tests.test_markdown_hygiene import literal_markers

COMMONMARK = MarkdownIt("commonmark")
ZERO_WIDTH = "\u00ad\u034f\u200b\u200c\u200d\u2060\ufeff"


def details(note: str) -> str:
    """The post as the note writes it, below its front matter and overview."""
    return body_of(note).split("\n## Details\n", 1)[1]


def test_a_heading_inside_a_link_starts_its_own_block() -> None:
    """`<a><div>Newswire</div></a><a><h2>Title</h2></a>` in one cell: html2text wrote `…(url)## [Title](…)`."""
    note = fixture_note("headings-in-links-digest.eml").text
    post = details(note)
    assert not re.search(r"[^\s#]#{1,6} ", post)  # no `##` in the middle of a line
    tokens = COMMONMARK.parse(post)
    titles = [tokens[i + 1].content for i, t in enumerate(tokens) if t.type == "heading_open"]
    assert len(titles) == 5  # the h1 and its four h2 story titles
    sequel = (
        '[A director is working on a "philosophical" sequel to _Outbreak_](https://dailyreel.example/news/sequel-1)'
    )
    assert sequel in titles
    assert "[Newswire](https://dailyreel.example/c/newswire)" in post.split("\n")  # the kicker: a paragraph
    outline = outline_lines(note)
    assert any("An improved second season of Dark Matters" in line for line in outline)


def test_nested_emphasis_has_no_blank_inside_its_markers() -> None:
    """`<strong><span>…<u>Spielerdaten</u></span></strong>` first in its paragraph: `** _Spielerdaten_**`
    printed its `**`."""
    post = details(fixture_note("getresponse-nested-emphasis.eml").text)
    assert literal_markers(post) == []
    assert "_**Spielerdaten**_ _PETER BEISPIEL_" in post
    assert "<em><strong>Spielerdaten</strong></em>" in COMMONMARK.render(post)
    assert "Neuzugang:_**„Er passt**_ in" in post  # after punctuation, no blank is needed before either marker
    assert "<em><strong>„Er passt</strong></em>" in COMMONMARK.render(post)


def test_no_blank_between_closing_emphasis_and_punctuation() -> None:
    """`<strong>10% Willkommensrabatt</strong>*` and `<i>Bridgerton</i>'s`: the run closes before punctuation as
    it is, so no blank goes between (html2text wrote `** \\*` and `_ 's`)."""
    klaviyo = details(fixture_note("klaviyo-welcome-code.eml").text)
    assert "Deinen **10% Willkommensrabatt**\\* ein" in klaviyo
    assert "<strong>10% Willkommensrabatt</strong>* ein" in COMMONMARK.render(klaviyo)
    assert "Unsere _Kräuter_'s Lieblinge" in klaviyo
    digest = details(fixture_note("headings-in-links-digest.eml").text)
    assert "[_Harbourton_'s lead on the challenges" in digest
    assert literal_markers(klaviyo) == literal_markers(digest) == []


def test_a_heading_without_text_is_a_paragraph() -> None:
    """A logo, a linked logo or a divider image as `<h1>`/`<h2>` is no heading, and the icon before a heading's
    text (`<h1><img><br>The Briefing</h1>`) is no part of it."""
    note = fixture_note("mailchimp-image-headings.eml").text
    post = details(note)
    assert not [line for line in outline_lines(note) if "![" in line or "](" in line]
    assert not [line for line in post.split("\n") if line.startswith("#") and "![" in line]
    lines = post.split("\n")
    assert "[![](https://mcusercontent.example/images/labnotes-logo.gif)](https://labnotes.example/)" in lines
    assert "![](https://mcusercontent.example/images/briefing-icon.png)" in lines
    assert "### The Briefing" in lines
    assert "![Gears](https://mcusercontent.example/images/divider-gears.png)" in lines


def test_a_line_break_before_a_source_newline_stays_a_hard_break() -> None:
    """`…the code?<br>\\nJust imagine…` (QuickBird, Mailchimp): two lines, not one (a guard: this already held)."""
    html = COMMONMARK.render(details(fixture_note("mailchimp-image-headings.eml").text))
    assert "run the code?<br />\nJust imagine" in html


def test_zero_width_characters_leave_the_starts_of_lines() -> None:
    """An editor's U+200B after a `<br>` or before a link, a BOM before a paragraph: nothing to see, kept as text."""
    post = details(fixture_note("klaviyo-welcome-code.eml").text)
    assert not [line for line in post.split("\n") if line[:1] and line[0] in ZERO_WIDTH]
    lines = post.split("\n")
    assert "Nur für Privatkunden." in lines
    assert "[Alle Rezepte, Pflegetipps und Pflanzpläne an einem Ort](https://kraeutergarten.example/rezepte/)." in lines


def test_alt_text_that_is_html_is_dropped() -> None:
    """Klaviyo's `alt="<h2 style=…><span …>WELCOME…"`: the editor's code, not a description of the image."""
    post = details(fixture_note("klaviyo-welcome-code.eml").text)
    assert "[![](https://img.kraeutergarten.example/welcome.jpeg)](https://kraeutergarten.example/)" in post
    assert "style" not in post and "span" not in post


ALTS = {
    "html code": ('<h2 style="text-align: center;"><span>WELCOME</span></h2>', ""),
    "a class attribute": ('WELCOME class="hero"', ""),
    "words around a line break": ("Profiausstattung für <br/> Heimwerker", "Profiausstattung für Heimwerker"),
    "an address in brackets": ("Jack <jack@x.example>", "Jack jack@x.example"),
    "plain words": ("Logo of the shop", "Logo of the shop"),
}


@pytest.mark.parametrize(("alt", "kept"), ALTS.values(), ids=ALTS.keys())
def test_alt_text_keeps_words_and_drops_code(alt: str, kept: str) -> None:
    assert safe_alt(alt) == kept
