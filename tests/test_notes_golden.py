"""Golden notes: fixture message → note, compared with a committed note that was read by eye.

The pairs are found by name: `fixtures/expected/<stem>.<language>.md` is the note of
`fixtures/emails/<stem>.eml` in that language. Regenerate after a deliberate change with
`UPDATE_GOLDEN=1 make test`, then read the diff.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

import pytest
import yaml

from ingester import compose, message
from ingester.config import Config
from ingester.message import RawMessage
from tests.conftest import EMAILS, EXPECTED, corpus_note, email_bytes, needs_corpus, short


def golden_pairs() -> list[tuple[str, str]]:
    """(fixture message, language) for every golden note `expected/<stem>.<language>.md` whose message
    `emails/<stem>.eml` exists: adding a reviewed note is adding a test."""
    pairs = []
    for note in sorted(EXPECTED.glob("*.md")):
        stem, _, language = note.stem.rpartition(".")
        pairs.append((f"{stem}.eml", language))
    return pairs


CASES = golden_pairs()


def test_every_golden_note_has_its_message() -> None:
    assert CASES and all((EMAILS / name).is_file() for name, _ in CASES), CASES


def note_for(name: str, language: str) -> str:
    raw = RawMessage(email_bytes(name), source=f"fixtures/{name}")
    return compose.make_note(raw, message.parse(raw.raw), compose.Settings.of(Config(language=language))).text


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
    assert (
        "- 链接：[The quiet year of small models](https://fieldnotes.substack.com/p/the-quiet-year-of-small-models)"
        in note
    )
    for tracking in ("utm_", "publication_id=", "triedRedirect", "r=208yzy"):
        assert tracking not in note
    for chrome in ("Unsubscribe", "548 Market Street", "Restack"):
        assert chrome.lower() not in note.lower()


# --- Real newsletters that may not be copied -----------------------------------------------------------------------
# The corpus README forbids copying the AGPL files (unspy/, omnivore*/) into the project, and a golden
# note would copy their text. So each note was read by eye beside its HTML and is pinned by its SHA-256
# in tests/fixtures/expected/corpus-notes.sha256. After a deliberate change: `UPDATE_GOLDEN=1 make test`
# writes the new notes to $GOLDEN_REVIEW_DIR (default: <tmp>/ingester-corpus-notes) and the new hashes;
# read those notes before committing the hashes.

CORPUS_CASES = [
    "omnivore/substack-with-static-tweets-newsletter.html",
    "omnivore-readability/substack/source.html",
    "omnivore/milkroad-newsletter.html",
    "omnivore/tomasz-tunguz-newsletter.html",
    "omnivore/ghost-newsletter.html",
    "omnivore-readability/golang-weekly/source.html",
    "omnivore/hey-world-newsletter.html",
    "omnivore-readability/axios-am/source.html",
    "unspy/2023-01-17-schreibsuchti.u1.eml",
    "unspy/2023-01-25-katjes-u1.eml",
    "unspy/2023-02-16-inxmail-u1.eml",
    "unspy/2023-01-06-trusted-shops.u1.eml",
]
PINNED = EXPECTED / "corpus-notes.sha256"
REVIEW_DIR = Path(os.environ.get("GOLDEN_REVIEW_DIR") or Path(tempfile.gettempdir()) / "ingester-corpus-notes")


def pinned_hashes() -> dict[str, str]:
    lines = PINNED.read_text(encoding="utf-8").splitlines() if PINNED.exists() else []
    return {path: digest for digest, path in (line.split(None, 1) for line in lines if line.strip())}


@needs_corpus
@pytest.mark.parametrize("path", CORPUS_CASES, ids=short)
def test_real_newsletter_note_is_the_one_reviewed(path: str) -> None:
    note = corpus_note(path).text
    digest = hashlib.sha256(note.encode("utf-8")).hexdigest()
    review = REVIEW_DIR / f"{short(path).replace('/', '-')}.md"
    if os.environ.get("UPDATE_GOLDEN"):
        REVIEW_DIR.mkdir(parents=True, exist_ok=True)
        review.write_text(note, encoding="utf-8")
        PINNED.write_text(
            "".join(f"{h}  {p}\n" for p, h in sorted({**pinned_hashes(), path: digest}.items())), encoding="utf-8"
        )
    assert digest == pinned_hashes().get(path), (
        f"the note for {path} changed: run UPDATE_GOLDEN=1 make test, read {review}, then commit the new hash"
    )
