"""`ingester.archive`: where notes go, and writing them privately, atomically and never twice."""

from __future__ import annotations

import hashlib
import os
import stat
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from ingester import render
from ingester.errors import ArchiveError
from ingester.store import files as archive

UTC = UTC


def note(message_id: str, body: str = "Body.\n", title: str = "A title") -> str:
    """A note shaped like render's output: YAML front matter, then Markdown."""
    return f'---\ntitle: "{title}"\nmessage_id: "{message_id}"\nstatus: "draft"\n---\n\n{body}'


def id_line(message_id: str) -> str:
    return f'message_id: "{message_id}"'


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def files_in(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


@pytest.fixture
def usual_umask() -> Iterator[None]:
    """The common 022 umask, under which default-mode folders come out world-readable."""
    old = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(old)


@pytest.fixture
def target(tmp_path: Path) -> Path:
    return archive.note_path(tmp_path / "archive", datetime(2025, 1, 27, 13, 5, tzinfo=UTC), "2025-01-27-quiet-year")


# --- Layout -------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("date", "slug", "expected"),
    [
        (datetime(2025, 1, 27, 13, 5, tzinfo=UTC), "the-quiet-year", "2025/01/2025-01-27-the-quiet-year.md"),
        # the sender's own date, not UTC (which would be 28 Feb / 5 Sep)
        (datetime(2025, 3, 1, 0, 30, tzinfo=timezone(timedelta(hours=8))), "weekly", "2025/03/2025-03-01-weekly.md"),
        (datetime(2002, 9, 4, 19, 7, tzinfo=timezone(timedelta(hours=-7))), "wine", "2002/09/2002-09-04-wine.md"),
        (datetime(2025, 12, 9, 0, 0), "x", "2025/12/2025-12-09-x.md"),  # naive
        (datetime(2025, 3, 14, 8, 0, tzinfo=UTC), "开源周刊-第42期", "2025/03/2025-03-14-开源周刊-第42期.md"),
        (None, "no-date", "undated/no-date.md"),
    ],
)
def test_note_path_layout(tmp_path: Path, date: datetime | None, slug: str, expected: str) -> None:
    root = tmp_path / "archive"

    assert archive.note_path(root, date, render.file_stem(slug, date, "{date}-{slug}")) == root / expected


# --- Writing ------------------------------------------------------------------------------------------------------


def test_write_note_creates_folders_and_writes_the_exact_text(target: Path) -> None:
    text = note("<a@example.com>", body="正文 — text with CJK and an em dash.\n")

    written = archive.write_note(target, text, id_line("<a@example.com>"))

    assert written == target
    assert target.read_bytes() == text.encode("utf-8")


def test_write_note_never_overwrites_a_different_note(target: Path) -> None:
    first, second, third = note("<a@example.com>"), note("<b@example.com>"), note("<c@example.com>")

    written = [
        archive.write_note(target, text, id_line(mid))
        for text, mid in ((first, "<a@example.com>"), (second, "<b@example.com>"), (third, "<c@example.com>"))
    ]

    assert [p.name for p in written] == [
        "2025-01-27-quiet-year.md",
        "2025-01-27-quiet-year-2.md",
        "2025-01-27-quiet-year-3.md",
    ]
    assert [p.read_text(encoding="utf-8") for p in written] == [first, second, third]


def test_write_note_recognises_the_same_message_after_a_crash_before_the_ledger(target: Path) -> None:
    # Run 1 wrote the note, then died before recording it; run 2 renders it again (maybe differently).
    original = note("<a@example.com>", body="Rendered by run 1.\n")
    archive.write_note(target, original, id_line("<a@example.com>"))

    again = archive.write_note(target, note("<a@example.com>", body="Rendered by run 2.\n"), id_line("<a@example.com>"))

    assert again == target
    assert files_in(target.parent) == ["2025-01-27-quiet-year.md"]
    assert target.read_text(encoding="utf-8") == original  # the note on disk is never replaced


def test_write_note_finds_the_same_message_at_a_numbered_name(target: Path) -> None:
    archive.write_note(target, note("<a@example.com>"), id_line("<a@example.com>"))
    second = archive.write_note(target, note("<b@example.com>"), id_line("<b@example.com>"))

    again = archive.write_note(target, note("<b@example.com>"), id_line("<b@example.com>"))

    assert again == second
    assert files_in(target.parent) == ["2025-01-27-quiet-year-2.md", "2025-01-27-quiet-year.md"]


def fill_numbered_names(target: Path) -> None:
    """Notes of 999 other messages at `target` and at each of its numbered names, -2 to -999."""
    target.parent.mkdir(parents=True)
    for n in range(1, 1000):
        name = target if n == 1 else target.with_name(f"{target.stem}-{n}.md")
        name.write_text(note(f"<other-{n}@example.com>"), encoding="utf-8")
    assert len(files_in(target.parent)) == 999


def hashed(target: Path, identity: str, length: int) -> str:
    return f"{target.stem}-{hashlib.sha256(identity.encode()).hexdigest()[:length]}.md"


def test_after_999_notes_of_one_name_a_note_is_named_by_its_message_ids_hash(target: Path) -> None:
    """A thousandth same-name note (a daily digest with one subject over three years) is filed, under the
    short hash of its message_id line: the same name on a rerun (recognised, not filed twice), and another
    message gets another name."""
    fill_numbered_names(target)

    first = archive.write_note(target, note("<a@example.com>"), id_line("<a@example.com>"))
    again = archive.write_note(target, note("<a@example.com>"), id_line("<a@example.com>"))
    other = archive.write_note(target, note("<b@example.com>"), id_line("<b@example.com>"))

    assert first.name == hashed(target, id_line("<a@example.com>"), 8)
    assert again == first
    assert other.name == hashed(target, id_line("<b@example.com>"), 8)
    assert len(files_in(target.parent)) == 1001
    assert first.read_text(encoding="utf-8") == note("<a@example.com>")


def test_a_taken_hash_name_goes_on_to_the_longer_hash(target: Path) -> None:
    """A file that is not this note at the 8-digit name (another message whose hash starts alike, or a
    person's file): the 16-digit name, found again on a rerun; a message without an id is named by its text."""
    fill_numbered_names(target)
    (target.parent / hashed(target, id_line("<a@example.com>"), 8)).write_text("a person's file\n", encoding="utf-8")

    first = archive.write_note(target, note("<a@example.com>"), id_line("<a@example.com>"))
    again = archive.write_note(target, note("<a@example.com>"), id_line("<a@example.com>"))
    no_id = archive.write_note(target, "---\ntitle: x\n---\n\nNo id.\n", None)

    assert first.name == hashed(target, id_line("<a@example.com>"), 16) and again == first
    assert no_id.name == hashed(target, "---\ntitle: x\n---\n\nNo id.\n", 8)
    assert (target.parent / hashed(target, id_line("<a@example.com>"), 8)).read_text() == "a person's file\n"


@pytest.mark.parametrize(
    "existing",
    [
        note("<a@example.com>.extra"),  # the wanted ID is only a prefix of the one on disk
        note("<other@example.com>", body=f"Quoted text:\n{id_line('<a@example.com>')}\nend\n"),  # body, not header
        f'---\n{id_line("<a@example.com>")}, "<b@example.com>"\n---\n\nBody.\n',  # not the whole line
    ],
    ids=["id-prefix", "line-in-body", "partial-line"],
)
def test_write_note_matches_only_the_whole_front_matter_line(target: Path, existing: str) -> None:
    target.parent.mkdir(parents=True)
    target.write_text(existing, encoding="utf-8")

    written = archive.write_note(target, note("<a@example.com>"), id_line("<a@example.com>"))

    assert written.name == "2025-01-27-quiet-year-2.md"
    assert target.read_text(encoding="utf-8") == existing


# --- Permissions and leftovers ------------------------------------------------------------------------------------


@pytest.mark.usefixtures("usual_umask")
def test_note_is_0600_and_its_folder_0700(target: Path) -> None:
    written = archive.write_note(target, note("<a@example.com>"), id_line("<a@example.com>"))
    second = archive.write_note(target, note("<b@example.com>"), id_line("<b@example.com>"))

    assert mode(written) == 0o600
    assert mode(second) == 0o600
    assert mode(written.parent) == 0o700


@pytest.mark.usefixtures("usual_umask")
def test_every_folder_write_note_creates_is_0700(tmp_path: Path, target: Path) -> None:
    archive.write_note(target, note("<a@example.com>"), id_line("<a@example.com>"))

    root = tmp_path / "archive"
    assert {p.relative_to(tmp_path).as_posix(): oct(mode(p)) for p in (root, root / "2025", root / "2025" / "01")} == {
        "archive": "0o700",
        "archive/2025": "0o700",
        "archive/2025/01": "0o700",
    }


def test_no_temporary_files_are_left_behind(target: Path) -> None:
    archive.write_note(target, note("<a@example.com>"), id_line("<a@example.com>"))
    archive.write_note(target, note("<b@example.com>"), id_line("<b@example.com>"))
    archive.write_note(target, note("<a@example.com>"), id_line("<a@example.com>"))

    assert files_in(target.parent) == ["2025-01-27-quiet-year-2.md", "2025-01-27-quiet-year.md"]


def test_failed_write_raises_archive_error_and_leaves_nothing(target: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(src: str, dst: str) -> None:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(archive.os, "link", refuse)

    with pytest.raises(ArchiveError, match=r"cannot write note .*2025-01-27-quiet-year\.md: Permission denied"):
        archive.write_note(target, note("<a@example.com>"), id_line("<a@example.com>"))
    assert files_in(target.parent) == []


def test_name_taken_between_check_and_link_moves_on_to_the_next_name(
    target: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Another writer takes the name after write_note saw it free: os.link refuses, nothing is replaced.
    real_link = os.link

    def racing_link(src: str, dst: str) -> None:
        if Path(dst) == target and not target.exists():
            target.write_text("someone else's note", encoding="utf-8")
        real_link(src, dst)

    monkeypatch.setattr(archive.os, "link", racing_link)

    written = archive.write_note(target, note("<a@example.com>"), id_line("<a@example.com>"))

    assert written.name == "2025-01-27-quiet-year-2.md"
    assert target.read_text(encoding="utf-8") == "someone else's note"
    assert files_in(target.parent) == ["2025-01-27-quiet-year-2.md", "2025-01-27-quiet-year.md"]


def test_unwritable_archive_folder_raises_archive_error_naming_it(tmp_path: Path) -> None:
    (tmp_path / "archive").write_text("a file where the archive folder should be", encoding="utf-8")
    path = archive.note_path(tmp_path / "archive", None, "x")

    with pytest.raises(ArchiveError, match=r"cannot create folder .*archive/undated"):
        archive.write_note(path, note("<a@example.com>"), id_line("<a@example.com>"))
