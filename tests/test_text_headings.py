"""Section headings of plain-text mail, by structure (issue #14): setext underlines, blocks of ALL-CAPS
lines that repeat through the mail. `text-caps-sections.eml` was written for this project: it mirrors a
real text/plain NGO newsletter (section markers such as "***NEW WORK***", each item titled by one or
two ALL-CAPS lines, a salutation, numbered lines and a "CONTACT:" line); the corpus's Ximian announcement
(spamassassin/001, Apache-2.0, in tests/fixtures) and a Japanese notice (mailcore2) are real ones. Each
test names what a broken rule gets wrong."""

from __future__ import annotations

from ingester import message
from ingester.textheads import find_headings
from tests.conftest import body_of, corpus_message, email_bytes, fixture_note, needs_corpus


def lines_of(name: str) -> list[str]:
    text = message.parse(email_bytes(name)).text or ""
    return [line.strip() for line in text.replace("\r\n", "\n").split("\n")]


def titles(name: str) -> list[str]:
    return [text for _, text in find_headings(lines_of(name)).values()]


def test_all_caps_blocks_alone_are_the_sections_of_a_text_mail() -> None:
    assert titles("text-caps-sections.eml") == [
        "NEW WORK",
        "WATER MAPS: HOW TWELVE VILLAGES CHARTED THEIR OWN WELLS AND PUMPS OVER ONE DRY SUMMER",  # two lines
        "SEED SWAPS ON THE RADIO",
        "COMING UP",
        "OPEN WORKSHOP DAY",
    ]


def test_the_note_shows_them_as_headings_and_its_outline_lists_them() -> None:
    note = fixture_note("text-caps-sections.eml").text
    body = body_of(note)
    assert "### SEED SWAPS ON THE RADIO\n" in body
    assert "- OPEN WORKSHOP DAY" in note.split("## Tags")[0]
    assert "(no section headings)" not in note
    # never a salutation, a numbered line, a "Name: value" line, or the masthead with its date
    for line in ("Hi all,", "1. Register by email", "CONTACT:", "IN THE FIELD, November 2025"):
        assert f"### {line}" not in body


def test_a_setext_underline_makes_a_heading_and_numbered_lines_do_not() -> None:
    """The Plaintext Dispatch's masthead is underlined with "====" as long as it; its "1. Caching is a
    promise…" lines are numbered (a list item in Markdown) and stay text."""
    assert titles("text-only-newsletter.eml") == ["THE PLAINTEXT DISPATCH -- Issue 118 -- 6 February 2025"]


def test_the_caps_headings_of_a_real_announcement() -> None:
    assert titles("ximian-announce-spamassassin-001.eml") == [
        "TO GET THE EVOLUTION PREVIEW RELEASE",
        "TO GET SOURCE CODE",
        "TO VIEW 0.10 RELEASE NOTES",
    ]


def test_one_shouted_line_is_no_section() -> None:
    """A single caps block proves nothing (a shout, a masthead): the mail needs two or more."""
    lines = ["Dear members,", "", "IMPORTANT", "", "The meeting moves to Thursday at six, in the small hall."]
    assert find_headings(lines) == {}


def test_a_rule_under_a_line_is_no_underline() -> None:
    """A separator far longer than the line above it is a rule, not a setext underline."""
    assert find_headings(["", "REDACTED", "-" * 84, "", "Some text follows here."]) == {}


@needs_corpus
def test_lines_of_a_script_without_case_are_never_caps_headings() -> None:
    """Japanese has no capitals: "◆ポイントについて" is not "all caps" because it has no lower case."""
    raw = message.parse(corpus_message("mailcore2/etc-mileage-notice.eml")).text or ""
    assert find_headings([line.strip() for line in raw.replace("\r\n", "\n").split("\n")]) == {}
