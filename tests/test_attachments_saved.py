"""`[archive] attachments = true`: attached files and inline images saved beside the note and linked; with the
default (false) an inline image leaves a visible placeholder (issue #14). Real messages, the real CLI.

`attachments-hostile-names.eml` (written for this project) holds an inline chart shown by `cid:`, a PDF, and
files whose names attack the file system: `../../etc/passwd`, `CON.txt`, `../.hidden<U+202E>gnp.exe`, and a
`Chart.PNG` that differs from `chart.png` only in case.
"""

from __future__ import annotations

import email
import email.policy
import json
import os
import re
import sqlite3
import stat
from pathlib import Path
from urllib.parse import unquote

import pytest

from ingester import compose, message, parts
from ingester.config import Config
from ingester.message import RawMessage
from tests.conftest import EMAILS, notes_in, run_ingest
from tests.llmserver import Behaviour, chat_server
from tests.test_fill import ANSWER

HOSTILE = EMAILS / "attachments-hostile-names.eml"
FRENCH = EMAILS / "emailsys-french-spamscope-5.eml"  # a real campaign: its offer is an inline cid: image
STEM = "2025-01-03-field-notes-the-january-chart-pack"
IMAGE = re.compile(r"!\[([^\]]*)\]\(([^)\s]+)\)")
LINK = re.compile(r"(?<!!)\[([^\]]*)\]\(([^)\s]+)\)")


def configure(tmp_path: Path, *lines: str) -> Path:
    config = tmp_path / "ingester.toml"
    config.write_text('[archive]\npath = "archive"\nlanguage = "en"\n' + "\n".join(lines) + "\n", encoding="utf-8")
    return config


def payloads(path: Path) -> dict[str, bytes]:
    """{filename as the sender gave it: decoded bytes} of every attached or inline part, read by the stdlib."""
    msg = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    return {
        part.get_filename(): part.get_payload(decode=True) for part in msg.walk() if part.get_filename() is not None
    }


def file_it(tmp_path: Path, *lines: str, message: Path = HOSTILE) -> Path:
    """Import one message with these config lines; the note's path."""
    config = configure(tmp_path, *lines)
    ran = run_ingest("--config", config, "import", message)
    assert ran.returncode == 0, ran.stderr
    (note,) = notes_in(tmp_path / "archive")
    return note


SAVE = "attachments = true"


def test_saved_bytes_are_the_parts_payloads_under_safe_names(tmp_path: Path) -> None:
    note = file_it(tmp_path, SAVE)
    folder = note.with_name(f"{STEM}.files")
    sent = payloads(HOSTILE)
    assert note.name == f"{STEM}.md"
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == {
        "chart.png": sent["chart.png"],
        "chart-pack-tables.pdf": sent["chart-pack-tables.pdf"],
        "passwd": sent["../../etc/passwd"],
        "CON-file.txt": sent["CON.txt"],
        "hiddengnp.exe": sent["../.hidden\u202egnp.exe"],
        "Chart-2.PNG": sent["Chart.PNG"],
    }


def test_the_inline_image_is_shown_in_place_and_resolves_to_the_saved_file(tmp_path: Path) -> None:
    note = file_it(tmp_path, SAVE)
    text = note.read_text(encoding="utf-8")
    body = text.split("## Details", 1)[1]
    ((alt, target),) = IMAGE.findall(body)
    assert alt == "Freight volumes, October to December"
    assert (note.parent / unquote(target)).read_bytes() == payloads(HOSTILE)["chart.png"]
    before, after = body.split(f"![{alt}]({target})")  # where the HTML showed it: between its paragraphs
    assert before.rstrip().endswith("port waiting times stayed flat.")
    assert after.lstrip().startswith("The full tables are in the attached PDF.")
    assert "cid:" not in text and parts.STAND_IN not in text


def test_attached_files_are_listed_at_the_end_with_working_links(tmp_path: Path) -> None:
    note = file_it(tmp_path, SAVE)
    tail = note.read_text(encoding="utf-8").split("### Attachments\n\n", 1)[1]
    links = LINK.findall(tail)
    assert [name for name, _ in links] == [
        "chart-pack-tables.pdf",
        "passwd",
        "CON-file.txt",
        "hiddengnp.exe",
        "Chart-2.PNG",
    ]
    for name, target in links:
        assert (note.parent / unquote(target)).resolve() == (note.parent / f"{STEM}.files" / name).resolve()
        assert (note.parent / unquote(target)).is_file()


def test_the_thousandth_same_name_note_and_its_files_take_its_hashed_name(tmp_path: Path) -> None:
    """999 other notes hold the name and its -2 … -999: the note is filed under its hashed name (files.note_names)
    and its links point into the folder of that name."""
    month = tmp_path / "archive" / "2025" / "01"
    month.mkdir(parents=True)
    for n in range(1, 1000):
        name = f"{STEM}.md" if n == 1 else f"{STEM}-{n}.md"
        (month / name).write_text(f'---\nmessage_id: "<other-{n}@example.com>"\n---\n\nBody.\n', encoding="utf-8")
    config = configure(tmp_path, SAVE)

    ran = run_ingest("--config", config, "import", HOSTILE)

    assert ran.returncode == 0, ran.stderr
    taken = {month / f"{STEM}.md", *(month / f"{STEM}-{n}.md" for n in range(2, 1000))}
    (note,) = set(notes_in(tmp_path / "archive")) - taken
    assert re.fullmatch(rf"{STEM}-[0-9a-f]{{8}}\.md", note.name), note.name
    tail = note.read_text(encoding="utf-8").split("### Attachments")[1]
    links = [unquote(target) for _, target in LINK.findall(tail)]
    assert links and all((note.parent / target).is_file() for target in links)
    assert {Path(target).parent.name for target in links} == {f"{note.stem}.files"}


def test_hostile_names_stay_inside_the_folder_private_and_not_executable(tmp_path: Path) -> None:
    note = file_it(tmp_path, SAVE)
    folder = (note.parent / f"{STEM}.files").resolve()
    written = [p for p in (tmp_path / "archive").rglob("*") if p.is_file() and ".ingest" not in p.parts]
    assert sorted(p.resolve().parent for p in written if p.suffix != ".md") == [folder] * 6
    assert not (tmp_path / "etc").exists() and not list(tmp_path.rglob(".hidden*"))
    for path in folder.iterdir():
        mode = stat.S_IMODE(path.stat().st_mode)
        assert mode & 0o111 == 0 and mode & 0o077 == 0, (path.name, oct(mode))
        assert not path.name.startswith(".") and "\u202e" not in path.name


def test_an_existing_file_is_never_overwritten(tmp_path: Path) -> None:
    folder = tmp_path / "archive" / "2025" / "01" / f"{STEM}.files"
    folder.mkdir(parents=True)
    (folder / "chart.png").write_bytes(b"my own chart")
    note = file_it(tmp_path, SAVE)
    assert (folder / "chart.png").read_bytes() == b"my own chart"
    ((_, target),) = IMAGE.findall(note.read_text(encoding="utf-8"))
    assert unquote(target) == f"{STEM}.files/chart-2.png"
    assert (note.parent / target).read_bytes() == payloads(HOSTILE)["chart.png"]


def test_a_folder_that_is_a_link_is_not_followed(tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    month = tmp_path / "archive" / "2025" / "01"
    month.mkdir(parents=True)
    (month / f"{STEM}.files").symlink_to(elsewhere)
    note = file_it(tmp_path, SAVE)
    assert list(elsewhere.iterdir()) == []
    assert note.name == f"{STEM}-2.md"  # the name whose folder is free
    ((_, target),) = IMAGE.findall(note.read_text(encoding="utf-8"))
    assert unquote(target) == f"{STEM}-2.files/chart.png" and (month / target).is_file()


def test_a_second_note_of_the_same_name_links_its_own_folder(tmp_path: Path) -> None:
    other = tmp_path / "other.eml"
    other.write_bytes(HOSTILE.read_bytes().replace(b"4471.chartpack@", b"4472.chartpack@"))
    config = configure(tmp_path, SAVE)
    assert run_ingest("--config", config, "import", HOSTILE, other).returncode == 0
    filed = notes_in(tmp_path / "archive")
    assert sorted(note.name for note in filed) == [f"{STEM}-2.md", f"{STEM}.md"]
    for note in filed:
        ((_, target),) = IMAGE.findall(note.read_text(encoding="utf-8"))
        assert unquote(target) == f"{note.stem}.files/chart.png" and (note.parent / target).is_file()


def test_a_rerun_writes_nothing_twice(tmp_path: Path) -> None:
    note = file_it(tmp_path, SAVE)
    config = tmp_path / "ingester.toml"
    again = run_ingest("--config", config, "import", HOSTILE)
    assert again.returncode == 0 and "1 duplicates" in again.stdout
    assert sorted(p.name for p in note.parent.iterdir()) == [f"{STEM}.files", f"{STEM}.md"]
    assert len(list((note.parent / f"{STEM}.files").iterdir())) == 6


def test_discard_takes_the_saved_files_with_the_note_and_reopen_brings_them_back(tmp_path: Path) -> None:
    note = file_it(tmp_path, SAVE)
    config = tmp_path / "ingester.toml"
    folder = note.parent / f"{STEM}.files"
    (folder / "my-notes.txt").write_text("mine", encoding="utf-8")  # a person's own file beside them
    (folder / "passwd").write_text("changed by me", encoding="utf-8")  # a saved file a person changed
    assert run_ingest("--config", config, "drafts", "discard", note).returncode == 0

    gone = tmp_path / "archive" / ".discarded" / "2025" / "01"
    assert sorted(p.name for p in folder.iterdir()) == ["my-notes.txt", "passwd"]  # theirs stay
    assert sorted(p.name for p in (gone / f"{STEM}.files").iterdir()) == [
        "CON-file.txt",
        "Chart-2.PNG",
        "chart-pack-tables.pdf",
        "chart.png",
        "hiddengnp.exe",
    ]
    ((_, target),) = IMAGE.findall((gone / note.name).read_text(encoding="utf-8"))
    assert (gone / unquote(target)).read_bytes() == payloads(HOSTILE)["chart.png"]  # the link still works

    assert run_ingest("--config", config, "drafts", "reopen", gone / note.name).returncode == 0
    assert not (gone / f"{STEM}.files").exists()
    assert len(list(folder.iterdir())) == 7 and (folder / "chart.png").is_file()


def test_discard_of_the_only_files_leaves_no_folder_behind(tmp_path: Path) -> None:
    note = file_it(tmp_path, SAVE)
    assert run_ingest("--config", tmp_path / "ingester.toml", "drafts", "discard", note).returncode == 0
    assert sorted(p.name for p in note.parent.iterdir()) == []
    rows = sqlite3.connect(tmp_path / "archive" / ".ingest" / "ledger.sqlite3").execute("SELECT path FROM attached")
    assert all(path.startswith(f".discarded/2025/01/{STEM}.files/") for (path,) in rows)


def test_rerender_keeps_the_links_working(tmp_path: Path) -> None:
    note = file_it(tmp_path, SAVE)
    config = tmp_path / "ingester.toml"
    before = note.read_text(encoding="utf-8")
    (note.parent / f"{STEM}.files" / "chart.png").unlink()  # lost since: saved again
    ran = run_ingest("--config", config, "rerender", "--all")
    assert ran.returncode == 0 and "0 failed" in ran.stdout
    assert note.read_text(encoding="utf-8") == before
    assert (note.parent / f"{STEM}.files" / "chart.png").read_bytes() == payloads(HOSTILE)["chart.png"]


def test_size_caps_skip_files_and_say_why(tmp_path: Path) -> None:
    limits = "[limits]\nattachment_bytes = 100\nattachments_bytes = 150"
    note = file_it(tmp_path, SAVE, limits)
    text = note.read_text(encoding="utf-8")
    # in order: chart.png (93 bytes) saved; the PDF (125) over the cap per file; passwd (36) saved, 129 in all;
    # then CON.txt (46), hiddengnp.exe (29) and Chart.PNG (69) would each take the message past 150
    saved = sorted(p.name for p in (note.parent / f"{STEM}.files").iterdir())
    assert saved == ["chart.png", "passwd"]
    assert (
        "- chart-pack-tables.pdf (application/pdf, 125 bytes, not saved: over 100 bytes ([limits] attachment_bytes))"
        in text
    )
    assert "- hiddengnp.exe (application/octet-stream, 29 bytes, not saved: over 150 bytes" in text
    assert (
        "- CON-file.txt (text/plain, 46 bytes, not saved: over 150 bytes for the message ([limits] attachments_bytes))"
        in text
    )


def test_by_default_nothing_is_saved_and_the_image_leaves_a_placeholder(tmp_path: Path) -> None:
    note = file_it(tmp_path)
    text = note.read_text(encoding="utf-8")
    assert sorted(p.name for p in note.parent.iterdir()) == [note.name]
    assert "\\[image: Freight volumes, October to December\\]" in text
    assert "cid:" not in text and parts.STAND_IN not in text and "### Attachments" not in text
    assert "attachments:" in text.split("\n---\n", 1)[0]  # the front matter still lists every part


def test_a_real_campaign_keeps_its_offer_image(tmp_path: Path) -> None:
    """The French campaign's whole offer is one inline image; its social icons are chrome and go."""
    off = compose.make_note(
        RawMessage(FRENCH.read_bytes(), "x"),
        message.parse(FRENCH.read_bytes()),
        compose.Settings.of(Config(language="en")),
    )
    assert "\\[image: mailingassets\\_d68799cd6301c7f5731a3c42946e528bcb78eb84.jpg\\]" in off.text
    assert "Facebook" not in off.text
    note = file_it(tmp_path, SAVE, message=FRENCH)
    ((_, target),) = IMAGE.findall(note.read_text(encoding="utf-8"))
    assert (note.parent / unquote(target)).read_bytes() == payloads(FRENCH)[
        "mailingassets_d68799cd6301c7f5731a3c42946e528bcb78eb84.jpg"
    ]
    assert len(list((note.parent / f"{note.stem}.files").iterdir())) == 1  # the icons were chrome: not saved


@pytest.mark.parametrize(
    ("given", "safe"),
    [
        ("../../etc/passwd", "passwd"),
        ("C:\\Windows\\system32\\evil.dll", "evil.dll"),
        ("..", "attachment-3"),
        (".bashrc", "bashrc"),
        ("CON.txt", "CON-file.txt"),
        ("aux.tar.gz", "aux-file.tar.gz"),
        ("nul", "nul-file"),
        ("lpt1", "lpt1-file"),
        ("report\x00\x07.pdf", "report.pdf"),
        ("invoice\u202efdp.exe", "invoicefdp.exe"),
        ("a <b> [c] (d).pdf", "a -b- -c- (d).pdf"),
        ("trailing. ", "trailing"),
        ("(no name)", "attachment-3"),
    ],
)
def test_safe_name(given: str, safe: str) -> None:
    assert parts.safe_name(given, "application/octet-stream", 3) == safe


def test_safe_name_is_short_and_keeps_its_extension() -> None:
    name = parts.safe_name("é" * 300 + ".pdf")
    assert name.endswith(".pdf") and len(name.encode("utf-8")) <= parts.MAX_NAME_BYTES


def test_a_bare_content_id_names_an_image_with_its_extension() -> None:
    assert parts.safe_name("logo-123@example.com", "image/png") == "logo-123@example.com.png"


def test_the_setting_must_be_a_boolean(tmp_path: Path) -> None:
    ran = run_ingest("--config", configure(tmp_path, 'attachments = "yes"'), "import", HOSTILE)
    assert ran.returncode == 2 and "[archive] attachments: must be true or false, not 'yes'" in ran.stderr
    assert not os.path.exists(tmp_path / "archive" / "2025")


def test_a_run_that_stopped_before_its_ledger_row_is_healed_without_copies(tmp_path: Path) -> None:
    note = file_it(tmp_path, SAVE)
    before = {p.name: p.read_bytes() for p in (note.parent / f"{STEM}.files").iterdir()}
    state = tmp_path / "archive" / ".ingest"
    (state / "ledger.sqlite3").rename(tmp_path / "ledger-aside.sqlite3")  # as if the ledger row never made it
    for leftover in state.glob("ledger.sqlite3-*"):
        leftover.unlink()
    ran = run_ingest("--config", tmp_path / "ingester.toml", "import", HOSTILE)
    assert ran.returncode == 0 and "1 filed" in ran.stdout
    assert notes_in(tmp_path / "archive") == [note]
    assert {p.name: p.read_bytes() for p in (note.parent / f"{STEM}.files").iterdir()} == before
    rows = sqlite3.connect(state / "ledger.sqlite3").execute("SELECT count(*) FROM attached").fetchone()
    assert rows == (6,)


def test_no_stand_in_is_left_in_a_note() -> None:
    """A stand-in URL the note did not make (another message's, or one the HTML limit cut short) is no image."""
    chart = message.parse(HOSTILE.read_bytes()).attachments[0]
    markdown = "a ![x](https://cid.invalid/0123456789abcdef/0) b ![y](https://cid.invalid/0123) c\n"
    placed = parts.place(markdown, [chart], frozenset({0}), "fedcba9876543210", "stem", parts.Policy(save=True))
    assert placed.markdown == "a \\[image: x\\] b \\[image: y\\] c\n"
    assert placed.saved == ()  # the chart's own stand-in is not there: it was cleaned away, so not saved


def test_a_filled_note_keeps_its_image_and_files_linked(tmp_path: Path) -> None:
    note = file_it(tmp_path, SAVE)
    with chat_server(Behaviour(json.dumps(ANSWER, ensure_ascii=False))) as endpoint:
        config = configure(tmp_path, SAVE, "[fill]", f'endpoint = "{endpoint}"', 'model = "tiny"')
        ran = run_ingest("--config", config, "fill", note)
    assert ran.returncode == 0, ran.stderr
    text = note.read_text(encoding="utf-8")
    assert "## Original article" in text and "### Attachments" in text
    targets = [target for _, target in IMAGE.findall(text) + LINK.findall(text.split("### Attachments")[1])]
    assert len(targets) == 6 and all((note.parent / unquote(t)).is_file() for t in targets)
