"""`ingester.notes`: front matter read back, ids, byte-exact status changes, word counts."""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import yaml

from ingester import frontmatter
from ingester.errors import ArchiveError, UsageError
from ingester.store import notes

WHEN = datetime(2025, 4, 1, 9, 30, tzinfo=timezone(timedelta(hours=2)))
STAMP = 'reviewed_at: "2025-04-01T09:30:00+02:00"'


def note_text(status_line: str = 'status: "draft"', eol: str = "\n", extra: str = "") -> str:
    lines = [
        "---",
        'title: "A title"',
        'message_id: "<a@example.com>"',
        status_line,
        'tags: ["x"]',
        *(extra.split("|") if extra else []),
        "---",
        "",
        "Body with status: draft in it.",
        "",
    ]
    return eol.join(lines)


@pytest.mark.parametrize("eol", ["\n", "\r\n"])
def test_with_status_changes_only_the_status_line_and_adds_reviewed_at(eol: str) -> None:
    text = note_text(eol=eol)

    changed = notes.with_status(text, "reviewed", WHEN)

    assert changed == text.replace(f'status: "draft"{eol}', f'status: "reviewed"{eol}{STAMP}{eol}')
    assert yaml.safe_load(frontmatter.split(changed)[0])["status"] == "reviewed"


def test_with_status_rewrites_a_hand_written_status_and_an_earlier_reviewed_at() -> None:
    text = note_text("status:   reviewed   # by me", extra='reviewed_at: "2020-01-01T00:00:00+00:00"|author: "X"')

    changed = notes.with_status(text, "draft", WHEN)

    assert changed == text.replace("status:   reviewed   # by me", 'status: "draft"').replace(
        'reviewed_at: "2020-01-01T00:00:00+00:00"', STAMP
    )


def test_with_status_adds_a_missing_status_line_at_the_end_of_the_front_matter() -> None:
    text = note_text('author: "X"')

    changed = notes.with_status(text, "reviewed", WHEN)

    assert changed == text.replace('tags: ["x"]\n', f'tags: ["x"]\nstatus: "reviewed"\n{STAMP}\n')


def test_with_status_needs_front_matter() -> None:
    with pytest.raises(ArchiveError, match="no front matter"):
        notes.with_status("# Just Markdown\n", "reviewed", WHEN)


def test_read_note_reads_what_a_person_left(tmp_path: Path) -> None:
    path = tmp_path / "2025" / "01" / "a.md"
    path.parent.mkdir(parents=True)
    path.write_text(
        "---\ntitle: Plain title\ndate: 2025-01-27\ntags: solo\nstatus: reviewed\n---\n\n正文很短 and three words\n"
    )

    note = notes.read_note(tmp_path, path)

    assert note is not None
    assert (note.title, note.date, note.tags, note.status, note.words) == (
        "Plain title",
        datetime(2025, 1, 27),
        ["solo"],
        "reviewed",
        7,
    )
    assert note.id == hashlib.sha256(b"path:2025/01/a.md").hexdigest()  # no Message-ID: the path


def test_the_id_of_a_note_without_message_id_survives_discarding(tmp_path: Path) -> None:
    for folder in (tmp_path / "2025", tmp_path / ".discarded" / "2025"):
        folder.mkdir(parents=True)
        (folder / "a.md").write_text('---\ntitle: "A"\nmessage_id: ""\n---\n')

    kept, discarded = notes.scan(tmp_path, {"2025/a.md": "sha256:1", ".discarded/2025/a.md": "sha256:2"})

    assert (kept.relative, discarded.relative) == ("2025/a.md", ".discarded/2025/a.md")
    assert kept.id == discarded.id


def test_word_count_counts_ideographs_one_by_one_and_ignores_link_targets(tmp_path: Path) -> None:
    path = tmp_path / "a.md"
    path.write_text("---\ntitle: t\n---\n本地小模型 [a link](https://example.com/x-y-z) don't — 42 #tag\n")

    note = notes.read_note(tmp_path, path)

    assert note is not None and note.words == 5 + 2 + 1 + 1 + 1


def fake(full_id: str) -> notes.NoteFile:
    return notes.NoteFile(Path(f"/a/{full_id}.md"), f"{full_id}.md", full_id, {}, "")


def test_short_ids_are_seven_digits_unless_two_notes_share_them() -> None:
    found = [fake("abcdef0123"), fake("abcdef0999"), fake("1234567890"), fake("abcdef0123")]

    assert notes.short_ids(found) == {"abcdef0123": "abcdef01", "abcdef0999": "abcdef09", "1234567890": "1234567"}


def test_find_needs_four_digits_and_names_every_match(tmp_path: Path) -> None:
    found = [fake("abcdef0123"), fake("abcdef0999")]

    assert notes.find(tmp_path, found, "ABCDEF01").id == "abcdef0123"
    with pytest.raises(UsageError) as short:
        notes.find(tmp_path, found, "abc")
    with pytest.raises(UsageError) as ambiguous:
        notes.find(tmp_path, found, "abcd")

    assert short.value.exit_code == ambiguous.value.exit_code == 2
    assert str(ambiguous.value) == (
        "the id 'abcd' is ambiguous; give more digits or the path of one of these notes:\n"
        "  - abcdef0123.md\n  - abcdef0999.md"
    )


def test_select_orders_newest_first_across_time_zones_and_undated_last(tmp_path: Path) -> None:
    def dated(name: str, date: str) -> notes.NoteFile:
        return notes.NoteFile(tmp_path / name, name, name, {"status": "draft", "date": date}, "")

    late_utc = dated("b.md", "2025-01-01T23:30:00+00:00")
    early_tokyo = dated("a.md", "2025-01-02T07:00:00+09:00")  # 2025-01-01T22:00 UTC
    undated = dated("c.md", "")

    assert notes.select([undated, early_tokyo, late_utc]) == [late_utc, early_tokyo, undated]
    assert notes.oldest_first([undated, early_tokyo, late_utc]) == [early_tokyo, late_utc, undated]
