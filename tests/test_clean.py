"""HTML cleaning on real messages: pixels, hidden text, chrome, layout tables, link counts."""

from __future__ import annotations

import inspect
import re
from dataclasses import fields
from pathlib import Path

import pytest

from ingester import convert, message
from ingester.clean import LinkCounts, clean_html, confirm_link
from ingester.clean.tally import Tally
from tests.conftest import EMAILS, email_bytes


def cleaned(name: str, platform: str = "newsletter"):  # type: ignore[no-untyped-def]
    html = message.parse(email_bytes(name)).html
    assert html is not None
    return clean_html(html, platform)


def test_every_counter_of_the_tally_reaches_the_note() -> None:
    """clean_html hands the tally's counters to the note by name: a counter added to one and not the other
    would be counted and never shown (or fail every message)."""
    counters = {f.name for f in fields(Tally) if f.type == "int"} - {"document_size"}
    assert counters == {f.name for f in fields(LinkCounts)} - {"reader_redacted"}


def test_mailchimp_pixel_and_footer_go_real_images_stay() -> None:
    result = cleaned("mailchimp-spamscope-13.eml", "mailchimp")

    assert result.counts.pixels_removed == 1
    assert "track/open.php" not in result.html
    assert "gallery.mailchimp.com" in result.html  # content images kept
    assert "unsubscribe" not in result.html.lower()
    assert "26 Buttercup" not in result.html  # the postal address in the footer
    assert "e=042ea43672" not in result.html  # the subscriber id on click wrappers
    assert result.counts.opaque_links > 0


def test_substack_chrome_and_preheader_go_article_stays() -> None:
    result = cleaned("substack-post.eml", "substack")

    assert result.header.title == "The quiet year of small models"
    assert result.header.author == "Jane Doe"
    assert "Most of the work people bring to these systems" in result.html
    for chrome in ("548 Market Street", "email-ufi-2-bottom", "display:none"):
        assert chrome not in result.html
    assert any(item.startswith("hidden text (preheader)") for item in result.removed)
    assert result.counts.pixels_removed == 1


def test_layout_tables_are_flattened() -> None:
    result = cleaned("mailchimp-spamscope-13.eml", "mailchimp")

    assert "<table" not in result.html and "<td" not in result.html


def test_data_table_is_kept() -> None:
    html = (
        "<p>Prices:</p><table><tr><th>Item</th><th>Price</th></tr>"
        "<tr><td>Tea</td><td>3</td></tr><tr><td>Cake</td><td>4</td></tr></table>"
    )
    assert "<table>" in clean_html(html).html


def test_an_unsubscribe_link_inside_an_article_paragraph_takes_only_itself() -> None:
    html = (
        "<p>Read <a href='https://example.com/report'>the report</a> or "
        "<a href='https://example.com/unsubscribe?id=1'>unsubscribe</a>.</p>"
        + "<p>The article goes on for a while after that sentence, as articles do.</p>"
        * 5
    )
    result = clean_html(html)

    assert 'href="https://example.com/report"' in result.html
    assert "unsubscribe" not in result.html


def test_confirm_link_is_returned_exactly_as_sent() -> None:
    html = message.parse(email_bytes("kit-confirm-subscription.eml")).html or ""
    assert confirm_link(html) == "https://app.kit.com/forms/123456/subscriptions/987654321/confirm?token=zQ81x"


CORPUS = EMAILS.parents[3] / "shared" / "corpus"  # ../shared/corpus beside the checkout, when there
WITH_HTML = [
    p
    for p in sorted(EMAILS.glob("*.eml")) + sorted(q for q in CORPUS.rglob("*") if q.is_file())
    if message.parse(p.read_bytes()).html
]


@pytest.mark.parametrize("path", WITH_HTML, ids=lambda p: p.name)
def test_whitespace_shortcut_changes_no_note(path: Path) -> None:
    """`events_to_markdown` skips html2text's work for whitespace between blocks (most text events);
    the Markdown must equal html2text fed every event, whitespace too, through its parser callbacks."""
    events = clean_html(message.parse(path.read_bytes()).html or "").events
    assert convert.events_to_markdown(events) == convert.events_to_markdown(events, shortcut=False)


def test_handled_tags_are_every_tag_html2text_acts_on() -> None:
    """`events_to_markdown` does html2text's little for a tag outside `HANDLED_TAGS` itself: every tag name
    html2text's `handle_tag` compares the tag with must be in it (a newer html2text may handle more)."""
    source = inspect.getsource(type(convert._converter()).handle_tag)
    compared: set[str] = set()
    for match in re.finditer(r"\btag\s*(?:==|!=|not in|in)\s*(\[[^\]]*\]|\"[^\"]*\")", source):
        compared.update(re.findall(r'"([^"]*)"', match.group(1)))
    assert {"p", "div", "a", "img", "td"} <= compared  # the pattern still reads the source
    assert compared <= convert.HANDLED_TAGS
    assert re.findall(r"\bhn\(\w+\)", source)  # headings h1-h9: in HANDLED_TAGS too
    assert {f"h{n}" for n in range(1, 10)} <= convert.HANDLED_TAGS


def test_events_are_what_a_parser_reports_for_the_cleaned_html() -> None:
    """Tags open and close in pairs, in document order; text is decoded (no entities)."""
    result = clean_html("<div><p>Fish &amp; chips<br>&lt;b&gt;</p><img src='https://example.com/a.png' alt='A'></div>")
    assert result.events == (
        ("start", "div", ()),
        ("start", "p", ()),
        ("text", "Fish & chips"),
        ("start", "br", ()),
        ("end", "br"),
        ("text", "<b>"),
        ("end", "p"),
        ("start", "img", (("src", "https://example.com/a.png"), ("alt", "A"))),
        ("end", "img"),
        ("end", "div"),
    )
    assert result.html == (
        '<div><p>Fish &amp; chips<br>&lt;b&gt;</p><img src="https://example.com/a.png" alt="A"></div>'
    )
