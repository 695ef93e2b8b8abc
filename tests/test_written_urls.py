"""A URL written out in an HTML mail's text is a link too (a Markdown viewer makes it one): it is cleaned and
counted like an href."""

from __future__ import annotations

from tests.conftest import fixture_note


def test_urls_written_in_the_text_are_cleaned_and_counted_once() -> None:
    note = fixture_note("written-urls.eml")
    text = note.text
    assert "map is at https://fieldnotes.example.org/walks/river for anyone" in text  # utm_* gone, sentence kept
    assert "**https://www.facebook.com/fieldnotes/**" in text  # ClearURLs' facebook `ref`
    assert "<https://fieldnotes.example.org/guide>" in text  # a link whose text is its own URL: both clean
    assert "walk log: https://fieldnotes.example.org/log\n" in text  # the reader's address taken out
    for left in ("utm_", "ref=bookmarks", "sam.reader", "%40example.net"):
        assert left not in text
    # three written URLs and one href changed; the link's own text is not a second link
    assert note.cleaned.counts.links_cleaned == 4


def test_a_text_part_note_counts_the_links_it_cleaned() -> None:
    """A text/plain-only mail: its opaque wrappers and cleaned URLs are counted, as an HTML mail's are (the
    note said `opaque_links: 0` beside two HubSpot wrappers, and `ingest audit` caught it)."""
    note = fixture_note("text-only-opaque-links.eml")
    counts = note.cleaned.counts
    assert (counts.opaque_links, counts.links_cleaned) == (2, 1)
    assert "opaque_links: 2\n" in note.text and "links_cleaned: 1\n" in note.text
    assert "https://lotforty.example.com/terms\n" in note.text
