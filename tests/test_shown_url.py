"""A link whose text is its destination's address: the address, not the opaque tracker around it."""

from __future__ import annotations

from tests.conftest import body_of, fixture_note

FIXTURE = "link-text-is-the-url.eml"


def test_an_opaque_tracker_whose_text_is_a_web_address_becomes_that_address_cleaned() -> None:
    note = fixture_note(FIXTURE)
    body = body_of(note.text)
    assert "<https://studio.example/blog/non-empty-lists-kotlin>" in body
    assert "fda8e7394e" not in note.text and "utm_source" not in note.text
    assert note.fields.counts.wrappers_decoded == 1


def test_a_tracked_link_with_words_for_text_stays_tracked_and_counted_opaque() -> None:
    note = fixture_note(FIXTURE)
    assert "[all our posts](https://studio.us17.list-manage.example/track/click?" in body_of(note.text)
    assert note.fields.counts.opaque_links == 1


def test_a_link_around_a_link_leaves_only_the_inner_one() -> None:
    """An embed card's <a><a href><img></a></a>: written as is it rendered a literal "[" and the outer URL."""
    body = body_of(fixture_note("nested-links-embed-card.eml").text)
    assert "[![](https://img.podcast.example/embed/trombones.png)](https://video.example/watch?v=tr0mb0n3&t=42)" in body
    assert "[[" not in body
