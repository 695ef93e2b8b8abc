"""Attachments and inline images are listed in the note, not lost without a trace (issue #14)."""

from __future__ import annotations

import yaml

from ingester import message
from tests.conftest import CORPUS, EMAILS, make_note, needs_corpus, run_ingest

FRENCH = "emailsys-french-spamscope-5.eml"  # a real campaign whose images are MIME parts shown by cid:


def front_matter(note: str) -> dict[str, object]:
    data = yaml.safe_load(note.split("\n---\n", 1)[0].removeprefix("---\n"))
    assert isinstance(data, dict)
    return data


def test_inline_images_are_listed_with_type_and_size() -> None:
    note = make_note((EMAILS / FRENCH).read_bytes(), FRENCH, "en").text

    listed = front_matter(note)["attachments"]
    assert isinstance(listed, list) and len(listed) == 5
    assert listed[0] == "mailingassets_d68799cd6301c7f5731a3c42946e528bcb78eb84.jpg (image/jpeg, 138 kB, inline)"
    assert all(item.endswith(", inline)") for item in listed)


def test_the_bodies_are_not_attachments() -> None:
    letter = message.parse((EMAILS / "kit-post.eml").read_bytes())
    assert letter.html and letter.text and letter.attachments == ()
    assert "attachments:" not in make_note((EMAILS / "kit-post.eml").read_bytes(), "kit-post.eml", "en").text


def test_explain_lists_them() -> None:
    lines = run_ingest("explain", EMAILS / FRENCH).stdout.splitlines()
    assert sum(line.startswith("attachment:") for line in lines) == 5


@needs_corpus
def test_attached_files_keep_their_encoded_names() -> None:
    letter = message.parse((CORPUS / "django-mailbox/message_with_utf8_attachment.eml").read_bytes())
    assert [a.describe() for a in letter.attachments] == [
        "piłkochwyty.jpg (image/jpeg, 9 bytes)",
        "odpowiedź Burmistrza.jpg (image/jpeg, 9 bytes)",
    ]
