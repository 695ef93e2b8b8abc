"""`ingest review`: the interactive loop, driven through a real pseudo-terminal and through CliRunner."""

from __future__ import annotations

import importlib
import os
import pty
import re
import select
import subprocess
import sys
import termios
import time
from pathlib import Path

import pytest

from ingester.store.ledger import Ledger
from tests.conftest import DISPATCH, EMAILS, QUIET, WEBINAR, WINE, copy_filed, ingest, notes_in, run_ingest

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b\][^\x07]*\x07")
PROMPT = "[a]ccept [d]iscard [e]dit [s]kip [v]iew [o]pen [u]ndo [?] [q]uit? "


@pytest.fixture
def archive(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    return copy_filed(request.getfixturevalue("filed_archive"), tmp_path, monkeypatch)


class Terminal:
    """`python -m ingester review` on a pseudo-terminal, as over SSH: keys in, screen text out."""

    def __init__(self, cwd: Path, env: dict[str, str], *args: str) -> None:
        self.master, self.slave = pty.openpty()
        full_env = {k: v for k, v in os.environ.items() if not k.startswith(("INGEST_", "VISUAL", "EDITOR"))}
        full_env.update({"TERM": "xterm", "COLUMNS": "80", "LINES": "24", **env})
        self.process = subprocess.Popen(
            [sys.executable, "-m", "ingester", "review", *args],
            stdin=self.slave,
            stdout=self.slave,
            stderr=self.slave,
            cwd=cwd,
            env=full_env,
            start_new_session=True,
        )
        self.output = b""
        self.key_at = 0

    def _pump(self, timeout: float) -> None:
        ready, _, _ = select.select([self.master], [], [], timeout)
        if ready:
            try:
                self.output += os.read(self.master, 65536)
            except OSError:  # the child closed the terminal
                time.sleep(timeout)

    def _raw(self) -> bool:
        return not termios.tcgetattr(self.slave)[3] & termios.ICANON

    def press(self, key: str, after: str = PROMPT, timeout: float = 20) -> None:
        """Type one key once the program shows `after` (since the last key) and waits in raw mode.

        Waiting for both matters: entering raw mode flushes keys typed earlier (as a careful prompt
        should), and two keys read at once count as none.
        """
        deadline = time.monotonic() + timeout
        while after not in self.text_since_key or not self._raw():
            self._pump(0.02)
            if time.monotonic() > deadline:
                raise AssertionError(f"no {after!r}; screen ends with {self.text[-300:]!r}")
        self.key_at = len(self.output)
        os.write(self.master, key.encode())

    @property
    def text_since_key(self) -> str:
        return self.output[self.key_at :].decode("utf-8", "replace")

    def finish(self, timeout: float = 20) -> int:
        deadline = time.monotonic() + timeout
        while self.process.poll() is None and time.monotonic() < deadline:
            self._pump(0.05)
        self._pump(0.2)
        os.close(self.master)
        os.close(self.slave)
        return self.process.wait(1)

    @property
    def text(self) -> str:
        return ANSI.sub("", self.output.decode("utf-8", "replace")).replace("\r\n", "\n")

    @property
    def lines(self) -> list[str]:
        return [line.rstrip() for line in self.text.split("\n")]


def status_of(path: Path) -> str:
    return next(line for line in path.read_text(encoding="utf-8").splitlines() if line.startswith("status:"))


@pytest.mark.slow
def test_review_over_a_terminal_oldest_first(archive: Path, tmp_path: Path) -> None:
    editor = tmp_path / "editor.sh"
    editor.write_text('#!/bin/sh\nprintf "Reviewed by hand.\\n" >> "$1"\n')
    editor.chmod(0o755)
    terminal = Terminal(tmp_path, {"EDITOR": str(editor)})

    terminal.press("x")  # not a key: the bell rings, and it says so
    terminal.press("a", after="x is not a key (? lists them) ")
    terminal.press("s")
    terminal.press("e")
    terminal.press("d")  # after the edit, the same note is shown again
    terminal.press("q")

    assert terminal.finish() == 0
    lines = terminal.lines
    decisions = [
        line
        for line in lines
        if line.startswith(("[", PROMPT.rstrip(), "accepted", "discarded", "edited", "Reviewed:"))
    ]
    assert decisions == [
        f"[1/5] ee38bfa  2002-09-04  archive/{WINE}",
        f"{PROMPT}\ax is not a key (? lists them) accept",  # the bell for "x"
        f"accepted   ee38bfa  archive/{WINE}",
        f"[2/5] ab3faa1  2018-08-29  archive/{WEBINAR}",
        f"{PROMPT}skip",
        f"[3/5] c2f51ed  2025-01-27  archive/{QUIET}",
        f"{PROMPT}edit",
        f"edited     c2f51ed  archive/{QUIET}",
        f"[3/5] c2f51ed  2025-01-27  archive/{QUIET}",
        f"{PROMPT}discard",
        f"discarded  c2f51ed  archive/.discarded/{QUIET}",
        f"[4/5] 3a84b58  2025-02-06  archive/{DISPATCH}",
        f"{PROMPT}quit",
        "Reviewed: 1 accepted, 1 discarded, 1 skipped; 3 drafts left.",
    ]
    assert "  Wine release 20020904" in lines  # the header is shown before the prompt
    assert len(lines[: lines.index(decisions[1])]) <= 24  # the first screenful, not the whole note
    assert status_of(archive / WINE) == 'status: "reviewed"'
    assert status_of(archive / WEBINAR) == 'status: "draft"'
    discarded = (archive / ".discarded" / QUIET).read_text(encoding="utf-8")
    assert 'status: "discarded"' in discarded and discarded.endswith("Reviewed by hand.\n")


@pytest.mark.slow
def test_ctrl_c_and_ctrl_d_quit(archive: Path, tmp_path: Path) -> None:
    for key in ("\x03", "\x04"):
        terminal = Terminal(tmp_path, {})
        terminal.press(key)

        assert terminal.finish() == 0
        assert terminal.lines[-2:] == ["Reviewed: 0 accepted, 0 discarded, 0 skipped; 5 drafts left.", ""]


def test_review_with_cli_runner(archive: Path) -> None:
    result = ingest("review", input="sdq")

    assert result.exit_code == 0
    decisions = [line.rstrip() for line in result.stdout.splitlines() if line.startswith((PROMPT, "discarded"))]
    assert decisions == [
        f"{PROMPT}skip",
        f"{PROMPT}discard",
        f"discarded  ab3faa1  archive/.discarded/{WEBINAR}",
        f"{PROMPT}quit",
    ]
    assert result.stdout.endswith("Reviewed: 0 accepted, 1 discarded, 1 skipped; 4 drafts left.\n")
    assert (archive / ".discarded" / WEBINAR).exists()


def test_review_until_the_end(archive: Path) -> None:
    result = ingest("review", input="aaaaa")

    assert result.exit_code == 0
    assert result.stdout.endswith("Reviewed: 5 accepted, 0 discarded, 0 skipped; 0 drafts left.\n")
    assert ingest("review").stdout == f"No drafts to review in {archive}.\n"
    assert ingest("drafts").stdout == f"No drafts in {archive}.\n"


def test_a_decision_that_cannot_be_saved_is_reported_and_the_review_goes_on(
    archive: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(importlib.import_module("ingester.store.notes"), "LOCK_WAIT_SECONDS", 0.5)
    with Ledger(archive / ".ingest") as ledger, ledger.writing():
        result = ingest("review", input="aq")

    assert result.exit_code == 0
    assert "Error: another ingest is writing to " in result.stderr
    assert result.stdout.endswith("Reviewed: 0 accepted, 0 discarded, 0 skipped, 1 not saved; 5 drafts left.\n")
    assert status_of(archive / WINE) == 'status: "draft"'


def test_a_note_decided_elsewhere_meanwhile_is_passed_over(archive: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    drafts_cli = importlib.import_module("ingester.cli.review")

    shown = []
    real_show = drafts_cli._show

    def show_then_accept_the_next_elsewhere(arch: drafts_cli.Archive, note: drafts_cli.NoteFile) -> None:
        shown.append(note.relative)
        real_show(arch, note)
        if len(shown) == 1:
            path = archive / WEBINAR
            path.write_text(path.read_text().replace('status: "draft"', 'status: "reviewed"'))

    monkeypatch.setattr(drafts_cli, "_show", show_then_accept_the_next_elsewhere)
    result = ingest("review", input="ssq")

    assert shown == [WINE, QUIET, DISPATCH]
    assert result.stdout.endswith("Reviewed: 0 accepted, 0 discarded, 2 skipped; 4 drafts left.\n")


def test_no_drafts_no_terminal_needed(tmp_path: Path) -> None:
    result = run_ingest("review")

    assert (result.returncode, result.stdout, result.stderr) == (
        0,
        f"No drafts to review in {tmp_path / 'archive'}.\n",
        "",
    )
    assert notes_in(tmp_path) == []


def script(path: Path, body: str) -> str:
    """A small shell program (a pager, a browser) that records what it was given."""
    path.write_text(f"#!/bin/sh\n{body}\n")
    path.chmod(0o755)
    return str(path)


def second_issue(archive: Path) -> Path:
    """Another draft of Field Notes (QUIET's publication), filed by ingest with its own Message-ID and date."""
    raw = (EMAILS / "substack-post.eml").read_bytes()
    raw = raw.replace(b"<20250127130500.3.", b"<20250128130500.3.").replace(b"Mon, 27 Jan 2025", b"Tue, 28 Jan 2025")
    eml = archive.parent / "second.eml"
    eml.write_bytes(raw)
    before = set(notes_in(archive))
    result = run_ingest("import", eml, cwd=archive.parent)
    assert result.returncode == 0, result.stderr
    (made,) = set(notes_in(archive)) - before
    return made


@pytest.mark.slow
def test_every_key_over_a_terminal(archive: Path, tmp_path: Path) -> None:
    paged, opened = tmp_path / "paged.txt", tmp_path / "opened.txt"
    env = {
        "PAGER": script(tmp_path / "pager.sh", f'cat > "{paged}"'),
        "BROWSER": script(tmp_path / "browser.sh", f'printf "%s" "$1" > "{opened}"'),
    }
    terminal = Terminal(tmp_path, env, "--publication", "field notes")
    second = second_issue(archive)

    # Each key waits for the prompt: the last thing shown before a key is read.
    terminal.press("?")
    terminal.press("v")
    terminal.press("o")
    terminal.press("a")
    terminal.press("u")  # undo: the first note is a draft again, and shown again
    terminal.press("A")
    terminal.press("n", after="2 drafts of Field Notes. Sure? [y/N] ")  # no: nothing changes
    terminal.press("D")
    terminal.press("y", after="2 drafts of Field Notes. Sure? [y/N] ")
    assert terminal.finish() == 0

    assert paged.read_text().count("The quiet year of small models") >= 2  # header and article, whole
    assert opened.read_text() == "https://fieldnotes.substack.com/p/the-quiet-year-of-small-models"
    assert f"undone     c2f51ed  archive/{QUIET}" in terminal.lines
    assert (
        f"opened in {env['BROWSER']}: https://fieldnotes.substack.com/p/the-quiet-year-of-small-models"
        in terminal.lines
    )
    assert "  A  accept every draft of this publication (asks first)" in terminal.lines
    assert "Reviewed: 0 accepted, 2 discarded, 0 skipped; 4 drafts left." in terminal.lines
    assert not second.exists() and (archive / ".discarded" / QUIET).exists()
    assert 'status: "draft"' in (archive / WINE).read_text(encoding="utf-8")  # another publication


@pytest.mark.slow
def test_undo_brings_a_discarded_note_back_and_no_browser_prints_the_url(archive: Path, tmp_path: Path) -> None:
    empty = tmp_path / "no-programs"
    empty.mkdir()
    terminal = Terminal(tmp_path, {"PATH": str(empty), "BROWSER": ""})

    terminal.press("u")
    terminal.press("d")
    terminal.press("u")
    terminal.press("o")
    terminal.press("q")
    assert terminal.finish() == 0

    assert "Nothing to undo." in terminal.lines
    assert "URL: (none)" in terminal.lines  # the Wine release has no URL; it says so
    shown = [line.split("  ")[0] for line in terminal.lines if re.match(r"\[\d", line)]
    assert shown == ["[1/5] ee38bfa", "[2/5] ab3faa1", "[1/5] ee38bfa"]  # after the undo, the same note again

    assert f"undone     ee38bfa  archive/{WINE}" in terminal.lines
    assert status_of(archive / WINE) == 'status: "draft"' and not (archive / ".discarded" / WINE).exists()
    assert terminal.lines[-2] == "Reviewed: 0 accepted, 0 discarded, 0 skipped; 5 drafts left."


@pytest.mark.slow
def test_nothing_is_lost_on_a_narrow_terminal(archive: Path, tmp_path: Path) -> None:
    paged = tmp_path / "paged.txt"
    pager = script(tmp_path / "pager.sh", f'cat > "{paged}"')
    terminal = Terminal(tmp_path, {"COLUMNS": "40", "LINES": "20", "PAGER": pager}, "--publication", "continuity")

    terminal.press("v")
    terminal.press("q")
    assert terminal.finish() == 0

    lines = terminal.lines
    screen = lines[: next(n for n, line in enumerate(lines) if line.startswith(PROMPT[:8]))]
    assert [line for line in screen[6:] if len(line) > 40] == []  # the article is wrapped at 40 columns
    assert len(screen) <= 20 and screen[-1].startswith("… ")  # one screenful, and it says there is more
    whole = re.sub(r"\s+", "", ANSI.sub("", paged.read_text()))
    note = (archive / WEBINAR).read_text(encoding="utf-8")
    urls = set(re.findall(r"\]\((https?://[^)\s]+)\)", note))
    assert len(urls) >= 3 and all(url in whole for url in urls)  # images and links keep their addresses


def test_review_filters_and_order(archive: Path) -> None:
    newest = ingest("review", "--newest", input="q")
    field_notes = ingest("review", "--publication", "field notes", input="aq")
    none = ingest("review", "--search", "no such words")

    assert newest.stdout.startswith("[1/5] 7c8e7e4  2025-03-14")
    assert field_notes.stdout.startswith("[1/1] c2f51ed")
    assert field_notes.stdout.endswith("Reviewed: 1 accepted, 0 discarded, 0 skipped; 4 drafts left.\n")
    assert none.stdout == f"No drafts match in {archive}.\n"
