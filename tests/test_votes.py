"""Rows a click answers (the answer written in each link's URL) and the lines that ask, by their shape."""

from __future__ import annotations

import pytest

from tests.conftest import body_of, corpus_note, fixture_note, needs_corpus

FIXTURE = "vote-row-and-share-caption.eml"


def test_a_row_of_answers_goes_with_its_question_instruction_and_scale() -> None:
    note = fixture_note(FIXTURE)
    body = body_of(note.text)
    for gone in ("Score", "mailto:", "How did you like this issue?", "tell me why!", "1 = not for me"):
        assert gone not in body
    assert any(what.startswith("row of answer links") for what in note.cleaned.removed)


def test_a_question_over_a_removed_row_of_share_icons_goes() -> None:
    body = body_of(fixture_note(FIXTURE).text)
    assert "Vous avez aimé cette newsletter ?" not in body
    assert "twitter.example" not in body


def test_the_article_around_the_rows_stays() -> None:
    """The caption climb stops at the article's last sentence; links whose labels are not in their URLs are no
    vote (a series of posts, numbered parts), and the question over them stays with them."""
    body = body_of(fixture_note(FIXTURE).text)
    for kept in (
        "Thanks for reading, and see you next Friday.",
        "Missed the series?",
        "[The ford](https://fieldnotes.example/posts/ford)",
        "The walk in parts:",
        "[1](https://fieldnotes.example/walk/part-1)",
        "[3](https://fieldnotes.example/photos/ridge)",
    ):
        assert kept in body


@needs_corpus
@pytest.mark.parametrize("path", ["n2rss/pointer/482-mailchimp.eml", "n2rss/pointer/544-beehiiv.eml"])
def test_pointer_scores_by_mail_go_on_both_platforms(path: str) -> None:
    body = body_of(corpus_note(path).text)
    assert "Score%3A" not in body
    assert "shoot me an email" not in body
    assert "Really enjoyed it" not in body


@needs_corpus
def test_kessel_question_over_its_share_row_goes() -> None:
    body = body_of(corpus_note("n2rss/gdiy/cette-rentree.eml").text)
    assert "Vous avez aimé cette newsletter" not in body
