"""A German evening newsletter: its browser line (a link that only says "klicken"), a salutation naming the reader
by title and surname, and its why-you-get-this line."""

from __future__ import annotations

from tests.conftest import body_of, fixture_note

FIXTURE = "german-salutation-browser-line.eml"


def test_a_name_addressed_by_title_in_the_salutation_is_the_readers() -> None:
    note = fixture_note(FIXTURE)
    body = body_of(note.text)
    assert "Rucker" not in note.text
    assert "Liebe Frau [reader]," in body
    assert "reader_redacted: 1" in note.text


def test_the_browser_line_and_the_why_line_go_and_the_article_stays() -> None:
    body = body_of(fixture_note(FIXTURE).text)
    assert "im Browser zu öffnen" not in body and "html_mail.jsp" not in body
    assert "Warum bekommst du diese E-Mail" not in body
    assert "An sieben Flughäfen stehen am Freitag die Bänder still" in body
    assert "Ihre Redaktion" in body


def test_a_subject_or_line_opening_with_the_readers_name_and_a_comma_loses_it() -> None:
    """ "Nicolas, here's how 5 devs built…": the sender's merge field addresses the reader whose display name
    the To header gives; title, file name and the body's "Nicolas, the first story…" lose it."""
    note = fixture_note("subject-addresses-reader.eml")
    assert "Nicolas" not in note.text
    assert note.fields.title == "[reader], here's how 5 devs built excellent apps"
    assert "[reader], the first story is about a weather app" in body_of(note.text)
