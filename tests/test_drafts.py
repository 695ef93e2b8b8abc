"""`ingest drafts …` and `ingest rerender` from the outside: exact output, exact exit codes.

The archives are made by the real pipeline (`ingest import` of fixture messages), once per session,
and copied into each test's own working directory.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import sqlite3
import threading
import time
from pathlib import Path

import pytest

from ingester import rerender
from ingester.cli import listing
from ingester.store import notes
from ingester.store.ledger import Ledger
from tests.conftest import (
    DISPATCH,
    EMAILS,
    FILED,
    HEADER,
    QUIET,
    QUIET_ID,
    QUIET_KEY,
    ROWS,
    WEBINAR,
    WEEKLY,
    WINE,
    copy_filed,
    ingest,
    notes_in,
    run_ingest,
    untimed,
)


@pytest.fixture
def archive(filed_archive: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """This test's own copy of the filed archive."""
    return copy_filed(filed_archive, tmp_path, monkeypatch)


def ledger_row(archive: Path, key: str) -> tuple[str, str]:
    """(detail, note_sha256) of a message, read without the lock."""
    with sqlite3.connect(archive / ".ingest" / "ledger.sqlite3") as db:
        return db.execute("SELECT detail, note_sha256 FROM messages WHERE key = ?", (key,)).fetchone()


def words(relative: str) -> int:
    """A note's word count (its counting is tested in test_drafts_notes.py; the text is the converter's)."""
    note = notes.read_note(Path("archive"), Path("archive") / relative)
    assert note is not None
    return note.words


def row(relative: str, status: str = "") -> str:
    """The `drafts list` line of a note of the filed archive."""
    line = ROWS[relative.removeprefix(".discarded/")] + f"{words(relative):>5}"
    return line[:21] + f"{status:<11}" + line[21:] if status else line


def table(*relatives: str) -> str:
    return "\n".join([HEADER, *(row(r) for r in relatives)]) + "\n"


WIDE = {"COLUMNS": "200"}  # a terminal wide enough for the whole table


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# --- drafts list ---------------------------------------------------------------------------------------------------


def test_list_shows_drafts_newest_first(archive: Path) -> None:
    result = ingest("drafts", "list", env=WIDE)

    assert result.exit_code == 0
    assert result.stdout == table(*ROWS)


def test_drafts_alone_is_drafts_list_with_the_same_options(archive: Path) -> None:
    assert ingest("drafts").stdout == ingest("drafts", "list").stdout
    assert ingest("drafts", "--since", "2025-01-01").stdout == ingest("drafts", "list", "--since", "2025-01-01").stdout


@pytest.mark.parametrize(
    ("args", "rows"),
    [
        (["--since", "2025-02-06"], [WEEKLY, DISPATCH]),
        (["--publication", "field notes"], [QUIET]),
        (["--publication", "fieldnotes.substack.com"], [QUIET]),  # the publication id
        (["--tag", "newsletter/substack"], [QUIET]),
        (["--tag", "newsletter/mailing-list", "--tag", "Newsletter"], [WINE]),  # a parent tag finds nested ones
        (["--tag", "#开源周刊编辑部", "--tag", "newsletter"], [WEEKLY]),
        (["--search", "BENCHMARK CHARTS"], [QUIET]),  # body text, any case
        (["--search", "wine release"], [WINE]),  # title
        (["--search", "本地小模型", "--since", "2025-01-01"], [WEEKLY]),
    ],
)
def test_list_filters(archive: Path, args: list[str], rows: list[str]) -> None:
    result = ingest("drafts", "list", *args)

    assert result.exit_code == 0
    assert result.stdout.splitlines()[0].split() == ["ID", "DATE", "PUBLICATION", "TITLE", "WORDS"]
    assert [line.split()[0] for line in result.stdout.splitlines()[1:]] == [ROWS[r][:7] for r in rows]


def test_list_with_no_match_and_with_no_archive(archive: Path) -> None:
    assert ingest("drafts", "--search", "no such words").stdout == f"No notes match in {archive}.\n"
    shutil.rmtree(archive)
    result = ingest("drafts")
    assert (result.exit_code, result.stdout) == (0, f"No drafts in {archive}.\n")  # it says where it looked


def test_list_json(archive: Path) -> None:
    result = ingest("drafts", "--json", "--publication", "Field")

    assert result.exit_code == 0
    assert json.loads(result.stdout) == [
        {
            "id": QUIET_ID,
            "path": f"archive/{QUIET}",
            "title": "The quiet year of small models",
            "status": "draft",
            "date": "2025-01-27T13:05:00+00:00",
            "publication": "Field Notes",
            "author": "Jane Doe",
            "url": "https://fieldnotes.substack.com/p/the-quiet-year-of-small-models",
            "tags": ["newsletter", "newsletter/substack", "field-notes"],
            "words": words(QUIET),
            "reviewed_at": "",
        }
    ]


def test_list_by_status_after_accept_and_discard(archive: Path) -> None:
    ingest("drafts", "accept", QUIET_ID)
    ingest("drafts", "discard", "ee38")

    reviewed = ingest("drafts", "--status", "reviewed", env=WIDE)
    discarded = ingest("drafts", "--status", "discarded", "--json")
    everything = ingest("drafts", "--status", "all", env=WIDE)

    assert reviewed.stdout == (
        "ID       DATE        PUBLICATION  TITLE                           WORDS\n"
        f"c2f51ed  2025-01-27  Field Notes  The quiet year of small models  {words(QUIET):>5}\n"
    )
    assert [(n["id"], n["path"]) for n in json.loads(discarded.stdout)] == [("ee38bfa", f"archive/.discarded/{WINE}")]
    assert (
        everything.stdout
        == "\n".join(
            [
                HEADER[:21] + "STATUS     " + HEADER[21:],
                row(WEEKLY, "draft"),
                row(DISPATCH, "draft"),
                row(QUIET, "reviewed"),
                row(WEBINAR, "draft"),
                row(".discarded/" + WINE, "discarded"),
            ]
        )
        + "\n"
    )


def test_list_leaves_out_files_that_are_not_notes_and_warns_about_broken_ones(archive: Path) -> None:
    (archive / "README.md").write_text("# My archive\n")  # no front matter: not a note, silently
    (archive / "2025" / "01" / "mine.md").write_text('---\ntitle: "unclosed\n---\n')  # not ours: not even read
    broken = archive / WINE  # a note of ours a person broke
    broken.write_text('---\ntitle: "unclosed\n---\n\nBody\n')

    result = ingest("drafts", env=WIDE)

    assert result.exit_code == 0
    assert result.stdout == table(*(r for r in ROWS if r != WINE))
    assert result.stderr == (
        f"WARNING: {broken.relative_to(Path.cwd())}: the front matter is not valid YAML: "
        "found unexpected end of stream at line 3\n"
    )


def test_listing_works_while_an_ingest_holds_the_archive(archive: Path) -> None:
    with Ledger(archive / ".ingest"):
        result = run_ingest("drafts", "list")

    assert (result.returncode, result.stderr) == (0, "")
    assert result.stdout.splitlines()[0] == HEADER


# --- Naming notes --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("ref", ["c2f5", "C2F51ED", QUIET, f"archive/{QUIET}", f"./archive/{QUIET}"])
def test_a_note_is_named_by_id_prefix_or_path(archive: Path, ref: str) -> None:
    result = ingest("drafts", "show", ref, "--raw")

    assert result.exit_code == 0
    assert result.stdout == (archive / QUIET).read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("ref", "error"),
    [
        ("dead", "Error: no note has the id 'dead'; `ingest drafts list --status all` shows every id\n"),
        (
            "c2f",
            (
                "Error: 'c2f' is not a note id (at least 4 hex digits, as `ingest drafts list` shows) or the path "
                "of a note\n"
            ),
        ),
        (
            "small-models",
            (
                "Error: 'small-models' is not a note id (at least 4 hex digits, as `ingest drafts list` "
                "shows) or the path of a note\n"
            ),
        ),
        ("2025/01/nope.md", "Error: no note at 2025/01/nope.md\n"),
    ],
)
def test_unknown_id_is_an_error_with_exit_code_2(archive: Path, ref: str, error: str) -> None:
    for command in (["drafts", "show", ref], ["drafts", "accept", ref], ["rerender", ref]):
        result = ingest(*command)

        assert (result.exit_code, result.stdout, result.stderr) == (2, "", error), command


def test_a_file_outside_the_archive_is_not_a_note(archive: Path, tmp_path: Path) -> None:
    outside = tmp_path / "elsewhere.md"
    shutil.copy(archive / QUIET, outside)

    result = ingest("drafts", "show", str(outside))

    assert result.exit_code == 2
    assert result.stderr == f"Error: {outside} is not a note in the archive (archive)\n"


def test_a_copy_of_a_note_is_not_ours_and_does_not_make_its_id_ambiguous(archive: Path) -> None:
    shutil.copy(archive / QUIET, archive / "2025" / "01" / "copy.md")  # same Message-ID, same id

    result = ingest("drafts", "accept", "c2f51")

    assert result.exit_code == 0  # the note the ledger filed; the copy is a person's file
    refused = ingest("drafts", "accept", "archive/2025/01/copy.md")
    assert refused.exit_code == 2
    assert refused.stderr.startswith("Error: archive/2025/01/copy.md was not filed by ingest")


# --- drafts show ---------------------------------------------------------------------------------------------------


def test_show_summarises_the_front_matter_then_renders_the_markdown(archive: Path) -> None:
    result = ingest("drafts", "show", QUIET_ID)

    assert result.exit_code == 0
    lines = [line.rstrip() for line in result.stdout.splitlines()]
    assert lines[:10] == [
        f"c2f51ed  archive/{QUIET}",
        "  Title:       The quiet year of small models",
        "  Publication: Field Notes",
        "  Author:      Jane Doe",
        "  Date:        2025-01-27 13:05+00:00",
        "  Status:      draft",
        "  URL:         https://fieldnotes.substack.com/p/the-quiet-year-of-small-models",
        "  Tags:        newsletter, newsletter/substack, field-notes",
        f"  Words:       {words(QUIET)}",
        "",
    ]
    body = "\n".join(lines[10:])
    assert " • 作者：Jane Doe" in body  # a Markdown list item, bold markers rendered away
    assert "**" not in body and "---\ntitle:" not in body
    assert " • Distillation recipes became boring and reproducible." in body


# --- accept / discard / reopen -------------------------------------------------------------------------------------


def test_accept_changes_the_status_line_only(archive: Path) -> None:
    before = (archive / QUIET).read_bytes()

    result = ingest("drafts", "accept", QUIET_ID)

    assert (result.exit_code, result.stdout) == (0, f"accepted   c2f51ed  archive/{QUIET}\n")
    after = (archive / QUIET).read_bytes()
    assert after == before.replace(
        b'status: "draft"\n', b'status: "reviewed"\nreviewed_at: "2025-04-01T09:30:00+02:00"\n'
    )
    assert ledger_row(archive, QUIET_KEY)[1] == hashlib.sha256(before).hexdigest()  # the hash as filed stays


def test_accept_twice_and_several_at_once(archive: Path) -> None:
    ingest("drafts", "accept", QUIET_ID)

    result = ingest("drafts", "accept", "ee38bfa", QUIET_ID, "ee38")

    assert result.exit_code == 0
    assert result.stdout == (
        f"accepted   ee38bfa  archive/{WINE}\nunchanged  c2f51ed  archive/{QUIET} (already reviewed)\n"
    )


def test_no_note_changes_when_one_id_is_unknown(archive: Path) -> None:
    before = sha(archive / QUIET)

    result = ingest("drafts", "accept", QUIET_ID, "beef")

    assert result.exit_code == 2
    assert sha(archive / QUIET) == before


def test_discard_moves_the_note_and_no_later_run_files_it_again(archive: Path) -> None:
    result = ingest("drafts", "discard", QUIET_ID)

    assert (result.exit_code, result.stdout) == (0, f"discarded  c2f51ed  archive/.discarded/{QUIET}\n")
    assert not (archive / QUIET).exists()
    moved = (archive / ".discarded" / QUIET).read_text(encoding="utf-8")
    assert 'status: "discarded"\nreviewed_at: "2025-04-01T09:30:00+02:00"\n' in moved
    assert ledger_row(archive, QUIET_KEY)[0] == f".discarded/{QUIET}"

    again = run_ingest("import", EMAILS / "substack-post.eml")

    assert untimed(again.stdout) == "Nothing new: 0 filed, 0 skipped, 1 duplicates, 0 failed.\n"
    assert not (archive / QUIET).exists()


def test_reopen_brings_a_discarded_note_back(archive: Path) -> None:
    ingest("drafts", "discard", QUIET_ID)

    result = ingest("drafts", "reopen", QUIET_ID)

    assert (result.exit_code, result.stdout) == (0, f"reopened   c2f51ed  archive/{QUIET}\n")
    assert 'status: "draft"\nreviewed_at: "2025-04-01T09:30:00+02:00"\n' in (archive / QUIET).read_text()
    assert not (archive / ".discarded" / QUIET).exists()
    assert ledger_row(archive, QUIET_KEY)[0] == QUIET
    assert ingest("drafts", env=WIDE).stdout.splitlines()[3] == row(QUIET)


def test_reopen_does_not_overwrite_a_note_filed_meanwhile(archive: Path) -> None:
    ingest("drafts", "discard", QUIET_ID)
    (archive / QUIET).write_text("my own file\n")

    result = ingest("drafts", "reopen", QUIET_ID)

    assert result.exit_code == 1
    assert result.stderr == (f"Error: cannot move .discarded/{QUIET} to {QUIET}: a file is already there\n")
    assert (archive / QUIET).read_text() == "my own file\n"


def test_changes_wait_for_a_short_ingest_then_happen(archive: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(notes, "LOCK_WAIT_SECONDS", 10)
    holding = threading.Event()

    def short_ingest() -> None:
        with Ledger(archive / ".ingest") as ledger, ledger.writing():
            holding.set()
            time.sleep(0.5)

    thread = threading.Thread(target=short_ingest)
    thread.start()
    holding.wait(5)
    started = time.monotonic()

    result = ingest("drafts", "accept", QUIET_ID)

    thread.join()
    assert (result.exit_code, result.stdout) == (0, f"accepted   c2f51ed  archive/{QUIET}\n")
    assert 0.3 < time.monotonic() - started < 5


@pytest.mark.slow
def test_changes_fail_while_an_ingest_keeps_writing(archive: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(notes, "LOCK_WAIT_SECONDS", 0.5)
    with Ledger(archive / ".ingest") as ledger, ledger.writing():
        results = [
            ingest(*args)
            for args in (["drafts", "accept", QUIET_ID], ["drafts", "discard", QUIET_ID], ["rerender", "--all"])
        ]

    for result in results:
        assert result.exit_code == 1
        assert result.stderr.startswith("Error: another ingest is writing to ")
    assert 'status: "draft"' in (archive / QUIET).read_text()


def test_changes_work_while_a_daemon_waits_for_mail(archive: Path) -> None:
    with Ledger(archive / ".ingest"):  # the daemon's run lock, held for its life; no poll in progress
        result = ingest("drafts", "accept", QUIET_ID)

    assert (result.exit_code, result.stdout) == (0, f"accepted   c2f51ed  archive/{QUIET}\n")


# --- drafts edit ---------------------------------------------------------------------------------------------------


@pytest.fixture
def editor(tmp_path: Path) -> Path:
    """An 'editor' that appends a line to the file it is given."""
    script = tmp_path / "editor.sh"
    script.write_text('#!/bin/sh\nprintf "My own summary.\\n" >> "$1"\n')
    script.chmod(0o755)
    return script


def test_edit_opens_visual_before_editor(archive: Path, editor: Path) -> None:
    result = ingest("drafts", "edit", QUIET_ID, env={"VISUAL": str(editor), "EDITOR": "false"})

    assert (result.exit_code, result.stdout) == (0, f"edited     c2f51ed  archive/{QUIET}\n")
    assert (archive / QUIET).read_text().endswith("My own summary.\n")


def test_edit_reports_an_unchanged_note_and_a_failing_editor(archive: Path) -> None:
    unchanged = ingest("drafts", "edit", QUIET_ID, env={"VISUAL": "", "EDITOR": "true"})
    failing = ingest("drafts", "edit", QUIET_ID, env={"VISUAL": "", "EDITOR": "false"})

    assert (unchanged.exit_code, unchanged.stdout) == (0, f"unchanged  c2f51ed  archive/{QUIET}\n")
    assert (failing.exit_code, failing.stderr) == (1, "Error: false: Editing failed\n")


def test_an_edited_note_is_never_overwritten_by_a_later_run(archive: Path, editor: Path) -> None:
    ingest("drafts", "edit", QUIET_ID, env={"EDITOR": str(editor)})
    edited = (archive / QUIET).read_bytes()

    again = run_ingest("import", *(EMAILS / name for name in FILED))

    assert untimed(again.stdout) == "Nothing new: 0 filed, 0 skipped, 5 duplicates, 0 failed.\n"
    assert (archive / QUIET).read_bytes() == edited
    assert len(notes_in(archive)) == 5


# --- rerender ------------------------------------------------------------------------------------------------------


def pretend_filed_by_an_older_converter(archive: Path, relative: str, key: str) -> str:
    """Make the note look like an older rendering that nobody touched; return the current rendering."""
    path = archive / relative
    current = path.read_text(encoding="utf-8")
    older = current + "\nA line the old converter left behind.\n"
    path.write_text(older, encoding="utf-8")
    with Ledger(archive / ".ingest") as ledger:
        ledger.set_note(key, relative, hashlib.sha256(older.encode()).hexdigest())
    return current


def test_rerender_replaces_untouched_drafts_and_skips_the_rest(archive: Path, editor: Path) -> None:
    current = pretend_filed_by_an_older_converter(archive, QUIET, QUIET_KEY)
    pretend_filed_by_an_older_converter(archive, WEEKLY, "<issue-42.c0ffee42.1741910400@weekly.example.com>")
    ingest("drafts", "edit", "7c8e", env={"EDITOR": str(editor)})  # a person's work: kept
    ingest("drafts", "accept", "ab3f")
    ingest("drafts", "discard", "ee38")

    result = ingest("rerender", QUIET_ID, "7c8e", "ab3f", "ee38", "3a84")

    assert result.exit_code == 0
    assert untimed(result.stdout) == (  # unchanged notes are not listed (-v lists them)
        f"rerendered c2f51ed  archive/{QUIET}\n"
        f"skipped    7c8e7e4  archive/{WEEKLY}: edited since it was filed\n"
        f"skipped    ab3faa1  archive/{WEBINAR}: its status is reviewed, not draft\n"
        f"skipped    ee38bfa  archive/.discarded/{WINE}: its status is discarded, not draft\n"
        "Done: 1 re-rendered, 1 unchanged, 3 skipped, 0 failed.\n"
    )
    assert (archive / QUIET).read_text(encoding="utf-8") == current
    assert ledger_row(archive, QUIET_KEY) == (QUIET, hashlib.sha256(current.encode()).hexdigest())
    assert (archive / WEEKLY).read_text(encoding="utf-8").endswith("My own summary.\n")


def test_rerender_all_takes_every_draft_and_says_why_it_skips(archive: Path) -> None:
    pretend_filed_by_an_older_converter(archive, QUIET, QUIET_KEY)
    with sqlite3.connect(archive / ".ingest" / "ledger.sqlite3") as db:
        (wine_hash,) = db.execute("SELECT content_hash FROM messages WHERE detail = ?", (WINE,)).fetchone()
    (archive / ".ingest" / "raw" / wine_hash[:2] / f"{wine_hash}.eml.gz").unlink()

    result = ingest("rerender", "--all", "-v")

    assert result.exit_code == 0
    assert untimed(result.stdout) == (  # with -v, unchanged notes too
        f"unchanged  7c8e7e4  archive/{WEEKLY}\n"
        f"unchanged  3a84b58  archive/{DISPATCH}\n"
        f"rerendered c2f51ed  archive/{QUIET}\n"
        f"unchanged  ab3faa1  archive/{WEBINAR}\n"
        f"skipped    ee38bfa  archive/{WINE}: the raw message is not kept in the ledger\n"
        "Done: 1 re-rendered, 3 unchanged, 1 skipped, 0 failed.\n"
    )


def test_rerender_needs_ids_or_all() -> None:
    neither = ingest("rerender")
    both = ingest("rerender", "--all", QUIET_ID)

    for result in (neither, both):
        assert result.exit_code == 2
        assert result.stderr.endswith("Error: give the IDs of the notes to re-render, or --all (not both)\n")


def test_a_note_that_fails_to_render_is_reported_with_exit_code_3(
    archive: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pretend_filed_by_an_older_converter(archive, QUIET, QUIET_KEY)
    before = (archive / QUIET).read_bytes()

    def broken(*args: object, **kwargs: object) -> object:
        raise ValueError("converter exploded")

    monkeypatch.setattr(rerender, "make_note", broken)
    result = ingest("rerender", QUIET_ID)

    assert result.exit_code == 3
    assert untimed(result.stdout) == (
        f"failed     c2f51ed  archive/{QUIET}: ValueError: converter exploded\n"
        "Done: 0 re-rendered, 0 unchanged, 0 skipped, 1 failed.\n"
    )
    assert (archive / QUIET).read_bytes() == before


def test_a_note_without_message_id_is_found_by_its_path_and_re_rendered(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    raw = (EMAILS / "text-only-newsletter.eml").read_bytes()
    (tmp_path / "no-id.eml").write_bytes(
        b"\n".join(line for line in raw.split(b"\n") if not line.lower().startswith(b"message-id:"))
    )
    run_ingest("import", tmp_path / "no-id.eml")
    (path,) = notes_in(tmp_path / "archive")
    relative = path.relative_to(tmp_path / "archive").as_posix()
    key = "sha256:" + next((tmp_path / "archive" / ".ingest" / "raw").rglob("*.eml.gz")).name[:64]
    current = pretend_filed_by_an_older_converter(tmp_path / "archive", relative, key)
    short = hashlib.sha256(f"path:{relative}".encode()).hexdigest()[:7]

    result = ingest("rerender", short)

    assert result.stdout.splitlines()[0] == f"rerendered {short}  archive/{relative}"
    assert path.read_text() == current
    ingest("drafts", "discard", short)
    assert json.loads(ingest("drafts", "--status", "discarded", "--json").stdout)[0]["id"] == short  # stable


@pytest.mark.parametrize("columns", [60, 80, 100])
def test_list_fits_the_terminal_and_wide_shows_everything(archive: Path, columns: int) -> None:
    fitted = ingest("drafts", "--status", "all", env={"COLUMNS": str(columns)}).stdout.splitlines()
    wide = ingest("drafts", "--status", "all", "--wide", env={"COLUMNS": str(columns)}).stdout.splitlines()

    assert all(listing._width(line) <= columns for line in fitted), fitted
    assert any("…" in line for line in fitted)  # titles are cut, and say so
    assert [line.split()[0] for line in fitted] == [line.split()[0] for line in wide]  # every note, every id
    assert [line.split()[-1] for line in fitted] == [line.split()[-1] for line in wide]  # and its word count
    assert "【开源周刊 第42期】本地小模型的一年：更便宜，也更可靠" in "\n".join(wide)
    assert max(listing._width(line) for line in wide) > 100  # nothing cut, however narrow the terminal
