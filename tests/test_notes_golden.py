"""Golden notes: fixture message → note, compared with a committed note that was read by eye.

Regenerate after a deliberate change with `UPDATE_GOLDEN=1 make test`, then read the diff.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import yaml

from ingester import message, pipeline
from ingester.config import Config
from ingester.source import RawMessage
from tests.conftest import EXPECTED, email_bytes

CASES = [
    ("substack-post.eml", "zh"),
    ("substack-post.eml", "en"),
    ("chinese-newsletter.eml", "zh"),
    ("text-only-newsletter.eml", "zh"),
    ("gbk-in-gb2312.eml", "zh"),
    ("mailchimp-spamscope-13.eml", "en"),
    ("mailman-wine-announce-spamassassin.eml", "en"),
    # the other permissively licensed real newsletters of ../shared/corpus (copied byte for byte)
    ("conference-x-mac-cyrillic-issue230.eml", "en"),
    ("emailsys-french-spamscope-5.eml", "en"),
    ("gb2312-raw-headers-spamassassin.eml", "zh"),
    ("ximian-announce-spamassassin-001.eml", "en"),
    # synthetic issues, one per platform the corpus has no permissive sample of
    ("ghost-post.eml", "en"),
    ("beehiiv-post.eml", "zh"),
    ("kit-post.eml", "en"),
    ("buttondown-post.eml", "zh"),
    ("substack-custom-domain.eml", "en"),
    ("substack-gmail-forward.eml", "zh"),
    ("forwarded-substack-gmail.eml", "en"),
]


def note_for(name: str, language: str) -> str:
    raw = RawMessage(email_bytes(name), source=f"fixtures/{name}")
    template = pipeline.load_template(Config(language=language))
    return pipeline.make_note(raw, message.parse(raw.raw), template, language).text


@pytest.mark.parametrize(("name", "language"), CASES)
def test_note_matches_golden_file(name: str, language: str) -> None:
    expected_path = EXPECTED / f"{Path(name).stem}.{language}.md"
    note = note_for(name, language)
    if os.environ.get("UPDATE_GOLDEN"):
        expected_path.write_text(note, encoding="utf-8")
    assert note == expected_path.read_text(encoding="utf-8")


@pytest.mark.parametrize(("name", "language"), CASES)
def test_front_matter_is_yaml_with_the_promised_keys(name: str, language: str) -> None:
    head = note_for(name, language).split("---\n")[1]
    data = yaml.safe_load(head)
    for key in ("title", "url", "author", "publication", "date", "message_id", "status", "tags", "source"):
        assert key in data, key
    assert data["status"] == "draft"
    assert isinstance(data["tags"], list)


def test_substack_note_links_are_clean_and_chrome_is_gone() -> None:
    note = note_for("substack-post.eml", "zh")
    assert "- 链接：[The quiet year of small models](https://fieldnotes.substack.com/p/the-quiet-year-of-small-models)" in note
    for tracking in ("utm_", "publication_id=", "triedRedirect", "r=208yzy"):
        assert tracking not in note
    for chrome in ("Unsubscribe", "548 Market Street", "Restack"):
        assert chrome.lower() not in note.lower()
