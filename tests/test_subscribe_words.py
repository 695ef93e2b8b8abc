"""A subscribe link is a button only alone on its line: inside an article's sentence it is one of its words."""

from __future__ import annotations

from tests.conftest import body_of, corpus_note, fixture_note, needs_corpus

FIXTURE = "subscribe-word-in-sentence.eml"


def test_subscribe_and_sign_up_links_inside_sentences_stay_with_their_words() -> None:
    body = body_of(fixture_note(FIXTURE).text)
    assert "so if you don't already, [subscribe](https://relay.example/subscribe?src=story) now to get a copy" in body
    assert "[Sign up](https://relay.example/signup/circuit) to receive it in your inbox every Monday." in body


def test_a_button_alone_on_its_line_and_a_forwarded_line_go() -> None:
    note = fixture_note(FIXTURE)
    body = body_of(note.text)
    assert "Subscribe now" not in body
    assert "If you were forwarded" not in body and "subscribe here" not in body
    assert "That's all for today." in body
    assert any(what.startswith("subscribe line: 'If you were forwarded") for what in note.cleaned.removed)


@needs_corpus
def test_a_forwarded_line_with_a_subscribe_link_goes_whole() -> None:
    """Tomasz Tunguz's Kit issue: before, only its link went and "…receive it in the future," stayed."""
    body = body_of(corpus_note("omnivore/tomasz-tunguz-newsletter.html").text)
    assert "If you were forwarded this newsletter" not in body
