"""A text part's own structure as Markdown: Mailchimp's "** Title" headings over a full-width rule, "* " lists."""

from __future__ import annotations

from markdown_it import MarkdownIt

from tests.conftest import fixture_note


def body(name: str) -> str:
    text = fixture_note(name).text
    return text[text.index("### Introduction") :] if "### Introduction" in text else text


def test_marked_headings_and_bullets_become_markdown() -> None:
    text = fixture_note("text-only-marked-headings.eml").text
    for heading in ("Grafting season is here.", "Three tools you need", "When to start"):
        assert f"## {heading}\n" in text or f"### {heading}\n" in text  # a section, its marker gone
    assert "\\*\\*" not in text and "** " not in text.split("\n---\n", 1)[1]
    assert "- A sharp grafting knife\n- Grafting tape or rubber strips\n- Wax for the cut ends\n" in text
    tokens = MarkdownIt("commonmark").parse(text)
    items = [t for t in tokens if t.type == "list_item_open"]
    assert len(items) >= 3  # a real list, not "\\* …\\" lines
    inline = " ".join(t.content for t in tokens if t.type == "inline")
    assert "knife\\" not in inline and "strips\\" not in inline  # no hard break left at an item's end


def test_a_senders_stars_stay_text() -> None:
    """ "Leser*innen … Autor*innen" in one paragraph is no emphasis (CommonMark allows `*` inside words, so an
    unescaped pair turns the words between into italics); a footnote line "* Preise …" is no list item."""
    text = fixture_note("gender-star-footnotes.eml").text
    tokens = MarkdownIt("commonmark").parse(text[text.index("### Neu im Januar") :])  # the article
    inline = [t for t in tokens if t.type == "inline"]
    assert not any(c.type == "em_open" for t in inline for c in t.children or ())
    assert not any(t.type == "bullet_list_open" for t in tokens)
    shown = " ".join(t.content for t in inline)
    assert "Leser\\*innen" in shown and "12,00\\* pro Abend" in shown and "\\* Preise inkl. Material." in shown
