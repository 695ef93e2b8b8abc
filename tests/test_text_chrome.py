"""A text/plain mail's chrome, found by the links it holds (what the link cleaner calls them), as in HTML."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import CORPUS, fixture_note, make_note, needs_corpus


def test_unsubscribe_and_preferences_paragraphs_and_what_follows_them_go() -> None:
    note = fixture_note("text-only-footer-links.eml")
    text = note.text
    assert "Thank you for your help." in text  # the article's last line stays
    assert "Start the survey (https://lotforty.example.com/survey/closing-times)" in text
    for chrome in ("Unsubscribe", "Manage preferences", "hubspotemail", "Vnmbfd89", "Mill Street"):
        assert chrome not in text.split("\n---\n", 1)[1]  # not in the body (the front matter has none either)
    assert text.rstrip().endswith("Thank you for your help.")


@needs_corpus
def test_in_a_long_paragraph_only_the_chrome_line_goes() -> None:
    """php.net's list footer sits in a quoted message's long paragraph: its "To unsubscribe, visit: …" line
    goes, the paragraph's other lines stay."""
    raw = Path(CORPUS / "php-mime-mail-parser/issue84").read_bytes()
    text = make_note(raw, "issue84").text
    assert "To unsubscribe, visit" not in text and "php.net/unsub.php" not in text
    assert "PHP Internals - PHP Runtime Development Mailing List" in text and "+1 from me." in text
