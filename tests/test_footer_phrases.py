"""The lines above the unsubscribe line at the end that say why the reader gets the mail go with it (the
footer walk knows them by position; "You've received this…" and "This email was sent to…" are the hints)."""

from __future__ import annotations

from tests.conftest import fixture_note


def test_why_you_get_this_lines_go_with_the_unsubscribe_line() -> None:
    text = fixture_note("footer-youve-received.eml").text
    body = text[text.index("### ") :]
    assert "Dein Care-Corner-Team" in body  # the sign-off stays
    for chrome in ("This email was sent to", "You've received this email", "View in browser"):
        assert chrome not in body
    assert "growers-devel@" not in body and "[reader]" not in body
