"""A full disk, for real: the archive on a small tmpfs filled to a chosen number of free pages, then the
same run again once there is space. Each run must end with a summary (text and --json) and exit code 1,
the message in hand failed with "no space left on <mount>", nothing half-written, the ledger intact, and
the run with space must file exactly what a run on an ample disk files: nothing lost, nothing twice.

Mounting needs root (the CI machine runs as root); where the system refuses, the tests are skipped and say why.
"""

from __future__ import annotations

import errno
import itertools
import json
import os
import shutil
import sqlite3
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import EMAILS, Mailbox, notes_in, run_ingest, untimed

PAGE = 4096
MESSAGES = sorted(EMAILS.glob("*.eml"))[:10]


@pytest.fixture
def small_fs(tmp_path: Path) -> Iterator[Path]:
    """An empty 2 MiB tmpfs at tmp_path/fs, unmounted afterwards."""
    yield from _tmpfs(tmp_path / "fs", "size=2m,mode=0700")


@pytest.fixture
def few_files_fs(tmp_path: Path) -> Iterator[Path]:
    """An empty tmpfs at tmp_path/fs with room for 64 files and folders (inodes), unmounted afterwards."""
    yield from _tmpfs(tmp_path / "fs", "size=2m,nr_inodes=64,mode=0700")


def _tmpfs(mount: Path, options: str) -> Iterator[Path]:
    mount.mkdir()
    why = _mount(mount, options)
    if why:
        pytest.skip(f"a real full file system is needed and this system gives none: {why}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False, capture_output=True)


def _mount(mount: Path, options: str) -> str:
    """Mount a small tmpfs at `mount`; "" when done, else why it cannot be."""
    if os.geteuid() != 0:
        return "mounting a tmpfs needs root"
    if shutil.which("mount") is None:
        return "no `mount` command"
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(mount)],
        capture_output=True,
        text=True,
        check=False,
    )
    return "" if done.returncode == 0 else f"mount -t tmpfs refused: {done.stderr.strip()}"


def fill(mount: Path, free_pages: int) -> Path:
    """Fill the file system up, then give back `free_pages` pages; the filler file, to remove later."""
    filler = mount / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        with pytest.raises(OSError, match="No space left") as full:
            _write_forever(fd)
        assert full.value.errno == errno.ENOSPC
    finally:
        os.close(fd)
    os.truncate(filler, max(0, filler.stat().st_size - free_pages * PAGE))
    return filler


def _write_forever(fd: int) -> None:
    while True:
        os.write(fd, b"x" * PAGE)


def ledger_rows(archive: Path) -> list[tuple[str, str]]:
    """(outcome, detail) of every message the ledger holds, after an integrity check of the whole file."""
    db = sqlite3.connect(archive / ".ingest" / "ledger.sqlite3")
    try:
        assert db.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        if not db.execute("SELECT 1 FROM sqlite_master WHERE name = 'messages'").fetchall():
            return []  # full before its first migration: a new, empty ledger
        return sorted(db.execute("SELECT outcome, detail FROM messages").fetchall())
    finally:
        db.close()


def relative(archive: Path) -> list[str]:
    return [note.relative_to(archive).as_posix() for note in notes_in(archive)]


def half_written(archive: Path) -> list[Path]:
    return [p for p in archive.rglob("*") if p.name.startswith(".tmp-")]


@pytest.fixture(scope="module")
def ample(tmp_path_factory: pytest.TempPathFactory) -> tuple[list[str], list[tuple[str, str]]]:
    """The notes and ledger rows an import of MESSAGES makes on a disk with room."""
    where = tmp_path_factory.mktemp("ample")
    result = run_ingest("import", "--all", "-j1", *MESSAGES, cwd=where)
    assert result.returncode == 0, result.stderr
    return relative(where / "archive"), ledger_rows(where / "archive")


@pytest.mark.slow
def test_a_full_disk_stops_the_run_cleanly_and_the_next_run_files_the_rest(
    small_fs: Path, ample: tuple[list[str], list[tuple[str, str]]]
) -> None:
    """Swept over the free space left, so the disk fills at each step of filing a message: its raw copy,
    its note, its ledger row, the memory of its blocks, or the ledger's opening."""
    notes, rows = ample
    archive = small_fs / "archive"
    filed_before_full, unrecorded_notes = set(), 0
    # Steps of 2 pages where messages are filed: the ledger running out after a note is a 2-page window.
    for free_pages in (*range(0, 30, 5), *range(30, 100, 2)):
        filler = fill(small_fs, free_pages)

        full = run_ingest("import", "--all", "-j1", "--json", *MESSAGES, cwd=small_fs)

        assert full.returncode == 1, (free_pages, full.stdout, full.stderr)
        summary = json.loads(full.stdout)
        said = f"no space left on {small_fs} (tmpfs)"
        assert summary["errors"] == [f"{said}: the run stopped there; free some space and run again to file the rest"]
        assert summary["stopped"] is True
        assert all(failure["error"] == said for failure in summary["failures"]), summary["failures"]
        assert summary["failed"] <= 1  # the message in hand; the run went no further
        assert "Traceback" not in full.stderr and "sqlite3" not in full.stderr
        assert half_written(archive) == []
        filed_before_full.add(summary["filed"])
        filler.unlink()
        if (archive / ".ingest" / "ledger.sqlite3").exists():  # (SQLite needs a little room to open it)
            partial_rows = ledger_rows(archive)
            assert all(outcome != "failed" for outcome, _ in partial_rows)  # a full disk uses up no tries
            recorded = {detail for outcome, detail in partial_rows if outcome == "filed"}
            assert recorded <= set(notes)
            unrecorded_notes += len(set(relative(archive)) - recorded)  # the ledger was full after the note

        again = run_ingest("import", "--all", "-j1", "--json", *MESSAGES, cwd=small_fs)

        assert again.returncode == 0, (free_pages, again.stdout, again.stderr)
        assert relative(archive) == notes  # nothing lost, nothing twice (no `-2` copy of a note)
        assert ledger_rows(archive) == rows
        assert half_written(archive) == []
        shutil.rmtree(archive)
    assert min(filed_before_full) == 0 and max(filed_before_full) >= 2  # full at the first message and later
    assert unrecorded_notes  # and once between a note and its ledger row: the next run recognised the note


@pytest.mark.slow
def test_a_full_disk_in_the_text_summary(small_fs: Path) -> None:
    assert run_ingest("import", "--all", "-j1", MESSAGES[0], cwd=small_fs).returncode == 0
    said = f"no space left on {small_fs} (tmpfs)"
    for free_pages in range(0, 100, 4):  # the least room in which SQLite opens the ledger: a message fails
        filler = fill(small_fs, free_pages)
        full = run_ingest("import", "--all", "-j1", *MESSAGES[1:4], cwd=small_fs)
        assert full.returncode == 1
        assert full.stderr.splitlines() == [
            f"Error: {said}: the run stopped there; free some space and run again to file the rest"
        ]
        filler.unlink()
        if full.stdout:
            break
    lines = untimed(full.stdout).splitlines()
    assert lines[-2].startswith("failed  ") and lines[-2].endswith(f": {said}")
    assert lines[-1].startswith("Stopped early: ") and " 1 failed" in lines[-1]
    assert lines[-1].endswith("Run the same command again to continue.")
    again = run_ingest("import", "--all", "-j1", *MESSAGES[:4], cwd=small_fs)
    assert again.returncode == 0, again.stderr
    assert untimed(again.stdout).splitlines()[-1].endswith(" 0 failed.")
    assert len(notes_in(small_fs / "archive")) == 4


@pytest.mark.slow
def test_imap_after_a_full_disk_files_what_was_missed(mailbox: Mailbox, small_fs: Path) -> None:
    """The folder's high-water mark must not pass a message the full disk kept from being filed."""
    archive = small_fs / "archive"
    config = mailbox.config.read_text(encoding="utf-8").replace(str(mailbox.archive), str(archive))
    mailbox.config.write_text(config, encoding="utf-8")
    mailbox.append("substack-post.eml")
    assert run_ingest("--config", mailbox.config, "-j1").returncode == 0  # the folder has a mark now
    for name in ("chinese-newsletter.eml", "text-only-newsletter.eml", "beehiiv-post.eml", "kit-post.eml"):
        mailbox.append(name)
    filler = fill(small_fs, 30)  # room for a message or so, not for four

    full = run_ingest("--config", mailbox.config, "--json", "-j1")

    assert full.returncode == 1, full.stderr
    summary = json.loads(full.stdout)
    assert summary["filed"] < 4 and summary["errors"][0].startswith(f"no space left on {small_fs}")
    filler.unlink()

    again = run_ingest("--config", mailbox.config, "--json", "-j1")  # incremental: from the mark on

    assert again.returncode == 0, again.stderr
    assert summary["filed"] + json.loads(again.stdout)["filed"] == 4
    assert len(notes_in(archive)) == 5
    assert [outcome for outcome, _ in ledger_rows(archive)] == ["filed"] * 5


def use_up_inodes(mount: Path, free: int) -> Path:
    """Create empty files until the file system has no inode left, then remove `free` of them; their folder."""
    fillers = mount / "fillers"
    fillers.mkdir()
    with pytest.raises(OSError, match="No space left") as full:
        _create_forever(fillers)
    assert full.value.errno == errno.ENOSPC
    count = len(list(fillers.iterdir()))
    for n in range(count - free, count):
        (fillers / str(n)).unlink()
    return fillers


def _create_forever(folder: Path) -> None:
    for count in itertools.count():
        os.close(os.open(folder / str(count), os.O_WRONLY | os.O_CREAT, 0o600))


@pytest.mark.slow
def test_no_file_left_for_a_new_archive_is_said_in_one_line(few_files_fs: Path) -> None:
    """Out of inodes, swept over how many are left, so that each file of a new archive is the one refused
    in turn: its folders, the run lock, the ledger and its -wal and -shm, write.lock, the raw copy, the note.
    Each run says "no space left" in one line with exit 1 (never "unable to open database file" or an
    internal error with exit 70), leaves no temp file, and the run with room files the message once."""
    archive = few_files_fs / "archive"
    said = f"no space left on {few_files_fs} (tmpfs)"
    outcomes = []
    for free in range(15):
        fillers = use_up_inodes(few_files_fs, free)

        full = run_ingest("import", "--all", "-j1", "--json", MESSAGES[0], cwd=few_files_fs)

        outcomes.append(full.returncode)
        assert "Traceback" not in full.stderr and "sqlite" not in full.stderr, (free, full.stderr)
        if full.returncode != 0:
            assert full.returncode == 1, (free, full.stderr)
            assert full.stderr.splitlines() == [
                f"Error: {said}: the run stopped there; free some space and run again to file the rest"
            ], free
            assert json.loads(full.stdout)["filed"] == 0
        assert half_written(archive) == []
        shutil.rmtree(fillers)

        again = run_ingest("import", "--all", "-j1", "--json", MESSAGES[0], cwd=few_files_fs)

        assert again.returncode == 0, (free, again.stderr)
        assert len(notes_in(archive)) == 1  # filed once, whichever run filed it
        assert [outcome for outcome, _ in ledger_rows(archive)] == ["filed"]
        shutil.rmtree(archive)
    assert outcomes[:8] == [1] * 8 and outcomes[-1] == 0, outcomes  # refused at each early file, then room


def test_a_quota_used_up_on_write_lock_is_said_in_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """EDQUOT, the user's quota used up, as the system gives it when write.lock is created. This kernel has
    no quota support (CONFIG_QUOTA off, tmpfs has no `usrquota`), so the error is injected: the only test
    here that fakes an os function, and only for that one file."""
    real_open = os.open

    def over_quota(path: str | os.PathLike[str], flags: int, mode: int = 0o777, **kwargs: object) -> int:
        if Path(path).name == "write.lock" and flags & os.O_CREAT:
            raise OSError(errno.EDQUOT, os.strerror(errno.EDQUOT), str(path))
        return real_open(path, flags, mode)

    monkeypatch.setattr(os, "open", over_quota)

    result = run_ingest("import", "--all", "-j1", MESSAGES[0], cwd=tmp_path)

    assert result.returncode == 1
    assert len(result.stderr.splitlines()) == 1 and result.stderr.startswith("Error: no space left on /")
    assert "Traceback" not in result.stderr and "unexpected" not in result.stderr
    assert notes_in(tmp_path / "archive") == []
