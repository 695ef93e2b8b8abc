"""Ids the rules missed: a subscriber id of letters only, Oracle Eloqua's campaign and contact ids."""

from __future__ import annotations

from tests.conftest import body_of, fixture_note

FIXTURE = "letters-only-subscriber-id.eml"


def test_a_letters_only_subscriber_id_shared_with_list_unsubscribe_leaves_every_link() -> None:
    """ "zVyFumr" has no digit, but its case changes where no word starts: an id, as List-Unsubscribe says."""
    note = fixture_note(FIXTURE)
    assert "zVyFumr" not in note.text
    assert "[im Fanshop](https://shop.club.example/trikots?kat=heim)" in body_of(note.text)


def test_eloqua_campaign_and_contact_ids_are_tracking() -> None:
    note = fixture_note(FIXTURE)
    assert "[Anmeldung](https://events.partner.example/fanabend)" in body_of(note.text)
    assert "elq" not in note.text and "25820153" not in note.text
