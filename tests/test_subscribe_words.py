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


def test_a_subscribe_button_with_an_arrow_goes_with_the_question_above_it() -> None:
    """ "Sign up today →" under "Was this newsletter forwarded to you?" (MIT's Mailchimp template): the arrow
    does not make it article text, and the question asks nothing once the button is gone."""
    body = body_of(fixture_note("signoff-issue-1.eml").text)
    assert "forwarded to you" not in body and "Sign up" not in body


@needs_corpus
def test_a_company_heading_left_over_the_removed_imprint_goes() -> None:
    """Trusted Shops: "### Trusted Shops AG" named the imprint the footer walk removed: a label of nothing."""
    body = body_of(corpus_note("unspy/2023-01-06-trusted-shops.u1.eml").text)
    assert "Trusted Shops AG" not in body
