"""A navigation bar after a linked logo, and the label a removed row of icons leaves behind (issue #14,
held-out review H4), by their shape."""

from __future__ import annotations

import pytest

from ingester.clean import clean_html
from tests.conftest import body_of, fixture_note

FIXTURE = "logo-nav-follow-label.eml"


def test_a_bar_of_short_links_after_a_linked_logo_is_navigation() -> None:
    """The logo is the first link; the bar is the first link with text's: its padded one-word links go."""
    note = fixture_note(FIXTURE)
    body = body_of(note.text)
    for gone in ("NEU", "[ TEE ]", "GEWÜRZE", "kraeuterhaus.example/tee"):
        assert gone not in body
    assert any(what.startswith("navigation bar") for what in note.cleaned.removed)


def test_the_label_left_alone_in_the_table_of_a_removed_icon_row_goes() -> None:
    body = body_of(fixture_note(FIXTURE).text)
    assert "Folge dem Kräuterhaus:" not in body and "instagram" not in body


def test_the_masthead_logo_and_article_stay() -> None:
    body = body_of(fixture_note(FIXTURE).text)
    for kept in (
        "NATÜRLICHE KRÄUTER – AUS DER GÄRTNEREI",
        "[![Logo](https://cdn.kraeuterhaus.example/logo.png)](https://kraeuterhaus.example/)",
        "Thymian aus dem eigenen Garten",
        "[Mehr über die Ernte](https://kraeuterhaus.example/thymian)",
        "Herzliche Grüße aus der Gärtnerei",
    ):
        assert kept in body


ICONS = "".join(
    f'<td><a href="https://{site}.example/acme"><img width="16" height="16" src="https://cdn.example/{site}.gif"></a></td>'
    for site in ("rss", "social", "photos")
)
STORY = "<p>" + "The article goes on with sentences of its own, long enough to be the text. " * 4 + "</p>"


@pytest.mark.parametrize(
    ("label", "goes"),
    [
        ("Follow Acme:", True),
        ("FOLLOW ACME", True),
        ("Acme is on these sites, and here is why you should follow it", False),  # a sentence, not a label
        ('<a href="https://acme.example/social">All our channels</a>', False),  # a link: more than a label
    ],
)
def test_only_a_short_label_left_alone_goes(label: str, goes: bool) -> None:
    row = f'<table><tbody><tr><td colspan="3">{label}</td></tr><tr>{ICONS}</tr></tbody></table>'
    html = clean_html(f"<html><body>{STORY}<div>{row}</div>{STORY}</body></html>").html
    text = label.split(">")[1].split("<")[0] if "<a" in label else label
    assert (text not in html) is goes
    assert "The article goes on" in html
