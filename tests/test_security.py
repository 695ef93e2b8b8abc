"""Security cases of issue #7: nothing derived from an email or a config value escapes the archive,
front matter can't be broken, notes hold no live HTML, credentials never leak, TLS is never
weakened, and what the ingester writes is readable by the user only.

Hostile messages are written on the fly with `email.message.EmailMessage` and go through the real
`ingest` command (subprocess) where the brief is about what a user would see; the IMAP cases run
against the session's real Dovecot, and against a tiny fake IMAP server on 127.0.0.1 for what
Dovecot won't do (no STARTTLS, a certificate for another host).
"""

from __future__ import annotations

import base64
import email.policy
import gzip
import json
import os
import re
import socket
import ssl
import stat
import subprocess
import sys
import threading
import unicodedata
import uuid
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path

import pytest
import yaml
from markdown_it import MarkdownIt

from ingester import compose
from ingester.config import Account, Config, Limits
from ingester.markdown import strip_invisible
from tests.conftest import account_toml, live_html, notes_in, run_ingest, write_config
from tests.imapserver import DovecotServer

FRONT_MATTER_KEYS = {
    "title",
    "original_title",
    "aliases",
    "published",
    "words",
    "url",
    "url_source",
    "author",
    "publication",
    "publication_id",
    "platform",
    "date",
    "message_id",
    "status",
    "tags",
    "source",
    "links_cleaned",
    "wrappers_decoded",
    "opaque_links",
    "pixels_removed",
}
WINDOWS_RESERVED = re.compile(r"(?:con|prn|aux|nul|com[0-9¹²³]|lpt[0-9¹²³])(?:\..*)?", re.IGNORECASE)
NOT_PORTABLE = re.compile(r'[\x00-\x1f\x7f<>:"/\\|?*]')
CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def encoded_word(value: str) -> str:
    """`value` as one RFC 2047 encoded-word: newlines and control characters travel inside it."""
    return "=?utf-8?b?" + base64.b64encode(value.encode("utf-8")).decode() + "?="


def eml(
    subject: str = "Hello",
    sender: str = "Sender <news@example.com>",
    body: str = "Hello.\n",
    subtype: str = "plain",
    message_id: str | None = None,
    date: str = "Mon, 27 Jan 2025 13:05:00 +0000",
    **headers: str,
) -> bytes:
    """A message built with EmailMessage; header values are stored as given (encoded-words and all)."""
    msg = EmailMessage()
    msg.set_content(body, subtype=subtype)
    msg.policy = email.policy.compat32  # store hostile values verbatim instead of refusing or re-folding them
    msg["Subject"] = subject
    msg["From"] = sender
    if date:
        msg["Date"] = date
    msg["Message-ID"] = message_id or f"<{uuid.uuid4().hex}@test.example>"
    msg["List-Id"] = headers.pop("List_Id", "Test list <test.example.com>")
    for name, value in headers.items():
        msg[name.replace("_", "-")] = value
    return msg.as_bytes()


def front_matter(path: Path) -> dict[str, object]:
    text = path.read_text(encoding="utf-8")
    assert text.startswith("---\n")
    head, sep, _ = text.partition("\n---\n")
    assert sep
    data = yaml.safe_load(head.removeprefix("---\n"))
    assert isinstance(data, dict)
    return data


def inside(path: Path, root: Path) -> bool:
    return path.resolve().is_relative_to(root.resolve())


def every_file(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file())


# --- File names from hostile titles -------------------------------------------------------------------------------

HOSTILE_TITLES = [
    "../../../../tmp/pwned",
    "/etc/passwd",
    "..",
    ".",
    ".hidden",
    "-rf",
    "~",
    "~root/.ssh/authorized_keys",
    "CON",
    "con.md",
    "aux.txt",
    "NUL",
    "LPT1",
    "COM¹",
    "prn .md",
    "x\x00y",
    encoded_word("nul\x00in\x00the\x00middle"),
    encoded_word("new\nline/../x"),
    "a" * 1000,
    "中" * 300,
    "\U00020000" * 200,
    "e" + "\u0301" * 500,
    "\u202etxt.exe",
    "\u202e../../etc",
    "．．／．．／etc",
    "..\u2215..\u2215etc",
    "..\u2044..\u2044etc",
    "\\\\server\\share\\x",
    "C:\\Windows\\System32",
    "C:",
    'a:b*c?d"e<f>g|h',
    "\ufeffbom",
    "\u200b\u200b",
    "zero\u200dwidth",
    "ﬁle",
    "𝐀𝐁𝐂",
    "İstanbul",
    "\u0130" * 100,
]


@pytest.mark.slow
def test_notes_from_hostile_titles_stay_inside_the_archive_with_portable_names(tmp_path: Path) -> None:
    inbox = tmp_path / "in"
    inbox.mkdir()
    for n, title in enumerate(HOSTILE_TITLES):
        (inbox / f"{n:02d}.eml").write_bytes(eml(subject=title))

    result = run_ingest("import", inbox, "--json", cwd=tmp_path)

    assert result.returncode == 0, result.stdout + result.stderr
    summary = json.loads(result.stdout)
    assert summary["filed"] == len(HOSTILE_TITLES)
    archive = tmp_path / "archive"
    notes = [Path(p) for p in summary["notes"]]
    assert sorted(p.resolve() for p in notes) == sorted(p.resolve() for p in notes_in(archive))
    for note in notes:
        assert inside(note, archive), note
        relative = note.resolve().relative_to(archive.resolve())
        assert re.fullmatch(r"\d{4}/\d{2}", relative.parent.as_posix()), relative
        name = relative.name
        assert re.fullmatch(r"\d{4}-\d{2}-\d{2}-.+\.md", name), name
        stem = name[len("2025-01-27-") : -len(".md")]
        assert not NOT_PORTABLE.search(name), name
        assert not WINDOWS_RESERVED.fullmatch(stem), name
        assert not any(unicodedata.category(c) in ("Cf", "Cc", "Zs") for c in name), ascii(name)  # nothing invisible
        assert not stem.startswith((".", "-")) and not stem.endswith((".", " ")), name
        assert len(name.encode("utf-8")) <= 255, name  # (a same-day twin's `-2`: see the next test)
    # nothing was written anywhere else
    assert {p.relative_to(tmp_path).parts[0] for p in every_file(tmp_path)} == {"in", "archive"}


def test_two_issues_with_the_same_long_four_byte_title_on_one_day_are_both_filed(tmp_path: Path) -> None:
    inbox = tmp_path / "in"
    inbox.mkdir()
    title = "\U00020000" * 100  # a CJK Extension B character: a letter, four bytes in UTF-8
    (inbox / "a.eml").write_bytes(eml(subject=title))
    (inbox / "b.eml").write_bytes(eml(subject=title))
    (inbox / "c.eml").write_bytes(eml(subject="The issue after them"))

    result = run_ingest("import", inbox, "--json", cwd=tmp_path)

    assert "Traceback" not in result.stderr, result.stderr[-1500:]
    summary = json.loads(result.stdout)
    assert (summary["filed"], summary["failed"]) == (3, 0), summary["failures"]
    assert all(len(Path(p).name.encode()) <= 255 for p in summary["notes"])


# --- Folders from hostile [[rules]] -------------------------------------------------------------------------------


def rule_config(tmp_path: Path, folder: str) -> Path:
    path = tmp_path / "rules.toml"
    toml_folder = json.dumps(folder)  # a TOML basic string: JSON escapes are valid TOML escapes
    path.write_text(
        f'[archive]\npath = "archive"\n\n[[rules]]\nsender = "*"\nfolder = {toml_folder}\n', encoding="utf-8"
    )
    return path


@pytest.mark.parametrize("folder", ["../escape", "/tmp/abs", "a/../../b", "..", "sub/../..", "/"])
def test_rule_folder_outside_the_archive_is_a_config_error(tmp_path: Path, folder: str) -> None:
    (tmp_path / "m.eml").write_bytes(eml())

    result = run_ingest("--config", rule_config(tmp_path, folder), "import", tmp_path / "m.eml", cwd=tmp_path)

    assert result.returncode == 2, result.stdout + result.stderr
    assert "[[rules]] #1 folder: must be a relative folder inside the archive" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "archive").exists() or notes_in(tmp_path / "archive") == []


@pytest.mark.parametrize(
    "folder",
    [
        "..\\..\\evil",
        ".ingest",
        ".ingest/raw",
        "sub/.hidden/x",
        "\u202eevil",
        "．．／．．／etc",
        "..\u0338/x",
        "~",
        "a/./b",
        "...",
        "e\u0301\u0301/x",
        "~/x",
        "$HOME",
        "news/2025",
    ],
)
def test_rule_folder_with_tricks_files_inside_the_archive_and_never_in_hidden_folders(
    tmp_path: Path, folder: str
) -> None:
    (tmp_path / "m.eml").write_bytes(eml())

    result = run_ingest("--config", rule_config(tmp_path, folder), "import", tmp_path / "m.eml", "--json", cwd=tmp_path)

    assert result.returncode == 0, result.stdout + result.stderr
    archive = tmp_path / "archive"
    [note] = json.loads(result.stdout)["notes"]
    assert inside(Path(note), archive)
    relative = Path(note).resolve().relative_to(archive.resolve())
    assert not any(part.startswith(".") for part in relative.parts), relative  # never into .ingest/ or hidden
    assert not any(NOT_PORTABLE.search(part) for part in relative.parts), relative  # `\\`, `:` … mean more on Windows
    assert notes_in(archive) != []
    assert {p.relative_to(tmp_path).parts[0] for p in every_file(tmp_path)} == {"m.eml", "rules.toml", "archive"}


@pytest.mark.parametrize(
    "folder",
    [
        pytest.param("x\x00y", id="nul"),
        pytest.param("d" * 300, id="component-over-255-bytes"),
        pytest.param("ok/" + "中" * 100, id="cjk-component-over-255-bytes"),
    ],
)
def test_rule_folder_that_no_file_system_accepts_is_a_config_error(tmp_path: Path, folder: str) -> None:
    (tmp_path / "m.eml").write_bytes(eml())

    result = run_ingest("--config", rule_config(tmp_path, folder), "import", tmp_path / "m.eml", cwd=tmp_path)

    assert result.returncode == 2, result.stdout + result.stderr
    assert "[[rules]] #1 folder" in result.stderr


@pytest.mark.parametrize(
    "folder",
    [
        "CON",
        "aux/nul",
        "news/com1",
        "prn.",
        "Con.md",
        "LPT1.txt",
        "com1.tar.gz",
    ],
)
def test_rule_folder_with_windows_device_names_is_refused_or_made_portable(tmp_path: Path, folder: str) -> None:
    (tmp_path / "m.eml").write_bytes(eml())

    result = run_ingest("--config", rule_config(tmp_path, folder), "import", tmp_path / "m.eml", "--json", cwd=tmp_path)

    if result.returncode == 2:
        assert "[[rules]] #1 folder" in result.stderr
        return
    assert result.returncode == 0, result.stderr
    [note] = json.loads(result.stdout)["notes"]
    relative = Path(note).resolve().relative_to((tmp_path / "archive").resolve())
    assert not any(WINDOWS_RESERVED.fullmatch(part) for part in relative.parts), relative


# --- Front matter -------------------------------------------------------------------------------------------------

HOSTILE_VALUES = [
    "COP30: a guide",
    'He said "no" \\ and left',
    "---",
    "...",
    "# not a heading",
    "- [ ] yes: {a: b}",
    "&anchor *alias !tag %directive @at `tick`",
    "!!python/object/apply:os.system ['echo pwned']",
    "{title: injected}",
    "[1, 2]",
    "null",
    "~",
    "yes",
    "0x1F",
    "2025-01-01",
    "| block",
    "> folded",
    "'single",
    '"double',
    "\\",
    "\t",
    "key: value",
    "emoji 🎉 and 中文",
    "right-to-left: \u202eשלום\u202c",
    encoded_word("x\n---\nstatus: reviewed\ninjected: true"),
    encoded_word("a\r\nb\rc\x85d\u2028e\u2029f"),
    encoded_word("nul\x00 bell\x07 esc\x1b del\x7f c1\x9b bom\ufeff"),
    encoded_word('"\n---\n'),
    "=?utf-8?b?not base64?=",
    "=?x-unknown?q?=FF=FE?=",
    "z" * 20_000,
]


UNPREDICTABLE = {"=?utf-8?b?not base64?=", "=?x-unknown?q?=FF=FE?="}  # broken encoded-words: any text will do


def expected_text(value: str) -> str:
    """What a header value reads as once decoded: control characters dropped, whitespace runs joined."""
    if value.startswith("=?utf-8?b?") and value.endswith("?="):
        value = base64.b64decode(value[10:-2]).decode("utf-8")
    return " ".join(CONTROL.sub("", value).split())


def test_no_header_value_breaks_or_injects_into_the_front_matter(tmp_path: Path) -> None:
    inbox = tmp_path / "in"
    inbox.mkdir()
    made = {}
    for n, value in enumerate(HOSTILE_VALUES):
        raw = eml(
            subject=value,
            sender=f"{value} <author{n}@example.com>",
            List_Id=f"{value} <list{n}.example.com>",
            X_Newsletter=value,
            message_id=f"<hostile-{n}@test.example>",
        )
        (inbox / f"{n:02d}.eml").write_bytes(raw)
        made[f"<hostile-{n}@test.example>"] = value
    hostile_name = inbox / 'name"\n---\nstatus: reviewed\n: [x].eml'
    hostile_name.write_bytes(eml(subject="file name", message_id="<hostile-name@test.example>"))

    result = run_ingest("import", inbox, "--json", cwd=tmp_path)

    assert result.returncode == 0, result.stdout + result.stderr
    notes = [Path(p) for p in json.loads(result.stdout)["notes"]]
    assert len(notes) == len(HOSTILE_VALUES) + 1
    seen = set()
    for note in notes:
        data = front_matter(note)
        assert set(data) == FRONT_MATTER_KEYS, set(data) ^ FRONT_MATTER_KEYS  # nothing injected, nothing lost
        assert data["status"] == "draft"
        assert all(
            isinstance(data[k], str)
            for k in FRONT_MATTER_KEYS
            - {"tags", "aliases", "published", "words", "links_cleaned", "wrappers_decoded", "opaque_links"}
            - {"pixels_removed"}
        )
        assert data["aliases"] == [data["title"]] and isinstance(data["words"], int)
        assert isinstance(data["tags"], list) and all(isinstance(t, str) for t in data["tags"])
        message_id = data["message_id"]
        seen.add(message_id)
        if message_id == "<hostile-name@test.example>":
            assert data["source"] == str(hostile_name)
            continue
        value = made[message_id]
        if value in UNPREDICTABLE:
            assert "\n" not in data["title"]
            continue
        expected = strip_invisible(expected_text(value)) or "(no subject)"  # a BOM at its edge goes
        assert data["title"] == data["original_title"]
        if len(expected) > Limits().header_chars:  # long values are cut (before decoding), by design
            assert expected.startswith(data["title"]) and len(data["title"]) > Limits().header_chars - 100
        else:
            assert data["title"] == expected, repr(value)
        assert data["source"].startswith(str(inbox))
        text = note.read_text(encoding="utf-8")
        assert text.count("\n---\n", 0, text.index("\n---\n") + 5) == 1
    assert seen == set(made) | {"<hostile-name@test.example>"}
    # the project's own reader (ingest drafts) reads every one of them back
    listed = run_ingest("drafts", "list", "--json", cwd=tmp_path)
    assert listed.returncode == 0, listed.stderr
    assert len(json.loads(listed.stdout)) == len(notes)


# --- No live HTML in notes ----------------------------------------------------------------------------------------


def note_for(raw: bytes) -> str:
    return compose.note_text(raw, "security", Config())


def html_mail(html: str, **kwargs: str) -> bytes:
    return eml(body=f"<html><body><p>Article text.</p>{html}<p>More text.</p></body></html>", subtype="html", **kwargs)


HTML_REMOVED = {
    "script": "<script>alert(1)</script>",
    "script-uppercase": "<SCRIPT SRC=https://evil.example/x.js></SCRIPT>",
    "iframe": '<iframe src="https://evil.example/"></iframe>',
    "iframe-srcdoc": '<iframe srcdoc="<script>alert(1)</script>"></iframe>',
    "a-javascript": '<a href="javascript:alert(1)">click</a>',
    "a-javascript-mixed-case-space": '<a href="  JaVaScRiPt:alert(1)">click</a>',
    "a-javascript-tab-entity": '<a href="java&#x09;script:alert(1)">click</a>',
    "a-javascript-entities": '<a href="&#106;&#97;&#118;&#97;&#115;&#99;&#114;&#105;&#112;&#116;:alert(1)">x</a>',
    "a-vbscript": '<a href="vbscript:msgbox(1)">click</a>',
    "a-data-html": '<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">click</a>',
    "a-onclick": '<a href="https://ok.example/" onclick="alert(1)">ok</a>',
    "img-onerror": '<img src="https://ok.example/a.png" onerror="alert(1)" alt="pic">',
    "img-onerror-bad-src": "<img src=x onerror=alert(1)>",
    "svg-onload": "<svg onload=alert(1)><circle r=1 /></svg>",
    "body-onload": '<div onmouseover="alert(1)">hover</div>',
    "details-ontoggle": "<details open ontoggle=alert(1)><summary>s</summary></details>",
    "object": '<object data="javascript:alert(1)"></object>',
    "embed": '<embed src="javascript:alert(1)">',
    "form": '<form action="javascript:alert(1)"><button>go</button></form>',
    "meta-refresh": '<meta http-equiv="refresh" content="0;url=javascript:alert(1)">',
    "base": '<base href="javascript:alert(1)//">',
    "math-xlink": '<math><maction actiontype="statusline" xlink:href="javascript:alert(1)">m</maction></math>',
    "comment-hidden": "<!--<script>alert(1)</script>-->",
    "cdata": "<![CDATA[<script>alert(1)</script>]]>",
    "style-expression": '<p style="width: expression(alert(1))">styled</p>',
    "nested-broken": "<scr<script>ipt>alert(1)</scr</script>ipt>",
    "entity-script-in-pre": "<pre>&lt;/code&gt;&lt;script&gt;alert(1)&lt;/script&gt;</pre>",  # a code block: inert
}


@pytest.mark.parametrize("html", HTML_REMOVED.values(), ids=HTML_REMOVED.keys())
def test_html_that_would_run_does_not_reach_the_note(html: str) -> None:
    note = note_for(html_mail(html))
    assert live_html(note) == []
    assert "Article text." in note and "More text." in note  # the article survived the removal


TEXT_STAYS_TEXT = {
    "plain-script": "<script>alert(1)</script>",
    "plain-img-onerror": "<img src=x onerror=alert(1)>",
    "plain-md-js-link": "[click](javascript:alert(1))",
    "plain-md-js-image": "![x](javascript:alert(1))",
    "plain-autolink": "<javascript:alert(1)>",
}


@pytest.mark.parametrize("text", TEXT_STAYS_TEXT.values(), ids=TEXT_STAYS_TEXT.keys())
def test_plain_text_mail_with_markup_stays_text(text: str) -> None:
    note = note_for(eml(body=f"Intro.\n\n{text}\n\nOutro.\n"))
    assert live_html(note) == []


# Each of these came out live before f4141fd (#7): html2text turned `&lt;…&gt;` text back into raw tags,
# an img src kept javascript:, text shaped like a Markdown link became one, header values and URLs went
# into the note body unescaped.
TEXT_THAT_LOOKS_LIKE_MARKUP = {
    "entity-script": "&lt;script&gt;alert(1)&lt;/script&gt;",
    "entity-img-onerror": "&lt;img src=x onerror=alert(1)&gt;",
    "entity-svg-onload": "&lt;svg onload=alert(1)&gt;",
    "entity-iframe": "&lt;iframe src=javascript:alert(1)&gt;&lt;/iframe&gt;",
    "entity-double-encoded": "&amp;lt;script&amp;gt;alert(1)&amp;lt;/script&amp;gt;",
    "entity-in-link-text": '<a href="https://ok.example/">&lt;img src=x onerror=alert(1)&gt;</a>',
    "entity-in-heading": "<h2>&lt;script&gt;alert(1)&lt;/script&gt;</h2>",
    "entity-in-list": "<ul><li>&lt;iframe src=x&gt;</li></ul>",
    "img-src-javascript": '<img src="javascript:alert(1)" alt="pic">',
    "img-src-data-html": '<img src="data:text/html,<script>alert(1)</script>" alt="pic">',
    "text-looks-like-md-link": "<p>[click](javascript:alert(1))</p>",
    "text-looks-like-md-image": "<p>![x](javascript:alert(1))</p>",
    "text-looks-like-autolink": "<p>&lt;javascript:alert(1)&gt;</p>",
    "link-text-closes-the-link": '<a href="https://ok.example/">a](javascript:alert(1)</a>',
    "href-closes-the-link": '<a href="https://ok.example/a)[x](javascript:alert(1)">click</a>',
}


@pytest.mark.parametrize("html", TEXT_THAT_LOOKS_LIKE_MARKUP.values(), ids=TEXT_THAT_LOOKS_LIKE_MARKUP.keys())
def test_html_text_that_looks_like_markup_stays_text(html: str) -> None:
    note = note_for(html_mail(html))
    assert live_html(note) == []


def test_entity_encoded_markup_is_still_readable_as_text() -> None:
    """Not dropped, not live: the reader sees what the sender wrote (a post about HTML shows its code)."""
    note = note_for(html_mail("<p>Use &lt;script&gt; sparingly.</p>"))
    body = note.split("\n---\n", 1)[1]
    rendered = MarkdownIt("commonmark").render(body)
    assert "Use &lt;script&gt; sparingly." in rendered


HEADER_CASES = {
    "subject-script": {"subject": "<script>alert(1)</script>"},
    "subject-img-onerror": {"subject": "Issue 5 <img src=x onerror=alert(1)>"},
    "subject-encoded-iframe": {"subject": encoded_word("<iframe src=javascript:alert(1)>")},
    "subject-md-link": {"subject": "[click](javascript:alert(1))"},
    "subject-closes-link": {"subject": "a](javascript:alert(1)) [b"},
    "from-name-svg": {"sender": '"<svg onload=alert(1)>" <a@example.com>'},
    "from-name-md-link": {"sender": '"[x](javascript:alert(1))" <a@example.com>'},
    "list-id-script": {"List_Id": "<script>alert(1)</script> <list.example.com>"},
    "list-post-breaks-out": {"List_Post": "<https://news.example/p/a) [x](javascript:alert(1)>"},
    "list-post-javascript": {"List_Post": "<javascript:alert(1)>"},
    "x-newsletter-breaks-out": {"X_Newsletter": "https://news.example/p/a)[x](javascript:alert(1)"},
    "x-newsletter-angle": {"X_Newsletter": "https://news.example/p/a<script>alert(1)</script>"},
}


@pytest.mark.parametrize("headers", HEADER_CASES.values(), ids=HEADER_CASES.keys())
def test_header_values_cannot_put_live_html_into_the_note(headers: dict[str, str]) -> None:
    note = note_for(eml(**headers))
    assert live_html(note) == []


def test_a_title_link_cannot_break_out_of_the_note_link() -> None:
    html = '<h1 class="post-title"><a href="https://news.example/p/x)[x](javascript:alert(1)">Title</a></h1>'
    note = note_for(html_mail(html))
    assert live_html(note) == []


def test_end_to_end_a_hostile_newsletter_gives_a_note_without_live_html(tmp_path: Path) -> None:
    """Everything the HTML cleaner must remove, in one message, through `ingest import`."""
    (tmp_path / "m.eml").write_bytes(html_mail("".join(HTML_REMOVED.values()), subject="A plain title"))

    result = run_ingest("import", tmp_path / "m.eml", "--json", cwd=tmp_path)

    assert result.returncode == 0, result.stderr
    [note] = json.loads(result.stdout)["notes"]
    text = Path(note).read_text(encoding="utf-8")
    assert live_html(text) == []
    assert "Article text." in text


# --- Credentials --------------------------------------------------------------------------------------------------

ALICE, ALICE_PASSWORD = "alice", "alice-secret"  # tests/imapserver.py's passwd-file user


def secret_places(archive: Path) -> Iterator[tuple[str, bytes]]:
    """Every byte the run left in the archive: notes, ledger (and its WAL), raw messages decompressed."""
    for path in every_file(archive):
        data = path.read_bytes()
        if path.name.endswith(".gz"):
            data = gzip.decompress(data)
        yield str(path), data


@pytest.fixture(scope="module")
def alice_folder(dovecot: DovecotServer) -> str:
    """A folder of alice's with one newsletter in it, for this module only."""
    folder = f"Sec-{uuid.uuid4().hex[:8]}"
    dovecot.append(ALICE, eml(subject="Credentials test issue"), folder=folder, password=ALICE_PASSWORD)
    return folder


def alice_account(server: DovecotServer, folder: str, how: str, password: str) -> str:
    secret = {
        "password_command": f"password_command = \"printf '%s\\\\n' '{password}'\"",
        "password_env": 'password_env = "SEC_TEST_PASSWORD"',
        "password": f'password = "{password}"',
    }[how]
    return (
        f'[[accounts]]\nname = "sec"\nhost = "{server.host}"\nport = {server.port}\nsecurity = "plain"\n'
        f'username = "{ALICE}"\n{secret}\nfolders = ["{folder}"]\n'
    )


@pytest.mark.parametrize("verbosity", ["-v", "-vv"])
@pytest.mark.parametrize("how", ["password_command", "password_env", "password"])
@pytest.mark.parametrize("right", [True, False], ids=["right-password", "wrong-password"])
def test_password_never_logged_nor_stored(
    dovecot: DovecotServer, alice_folder: str, tmp_path: Path, verbosity: str, how: str, right: bool
) -> None:
    password = ALICE_PASSWORD if right else f"wrong-{uuid.uuid4().hex[:10]}"
    archive = tmp_path / "archive"
    config = write_config(tmp_path / "c.toml", archive, alice_account(dovecot, alice_folder, how, password))
    config.chmod(0o600)

    result = run_ingest(
        verbosity, "--config", config, "--since", "2000-01-01", env={"SEC_TEST_PASSWORD": password}, cwd=tmp_path
    )

    if right:
        assert result.returncode == 0, result.stderr
        assert len(notes_in(archive)) == 1
    else:
        assert result.returncode == 1, result.stderr
        assert f"login as '{ALICE}' refused" in result.stderr
        if verbosity == "-v":
            assert "Traceback" in result.stderr  # -v shows the traceback: it must not hold the secret either
    assert "DEBUG: " in result.stderr  # the verbose logging was on
    assert password not in result.stdout
    assert password not in result.stderr
    places = dict(secret_places(archive))
    assert any(name.endswith("ledger.sqlite3") for name in places)
    for name, data in places.items():
        assert password.encode() not in data, name


def test_a_failing_password_command_never_echoes_what_it_printed(
    dovecot: DovecotServer, alice_folder: str, tmp_path: Path
) -> None:
    secret = f"printed-{uuid.uuid4().hex[:10]}"  # from the environment: not in the config or the command line
    account = alice_account(dovecot, alice_folder, "password", "x").replace(
        'password = "x"',
        'password_command = "printf \'%s\\\\n\' \\"$SEC_SECRET\\"; echo \\"$SEC_SECRET\\" >&2; exit 3"',
    )
    config = write_config(tmp_path / "c.toml", tmp_path / "archive", account)
    config.chmod(0o600)

    result = run_ingest("-v", "--config", config, env={"SEC_SECRET": secret}, cwd=tmp_path)

    assert result.returncode == 1, result.stderr
    assert "password_command exited with status 3" in result.stderr
    assert secret not in result.stdout + result.stderr


@pytest.mark.parametrize(
    ("printed", "expected"),
    [
        ("secret\\n", "secret"),
        ("secret\\r\\n", "secret"),
        ("secret", "secret"),
        ("  pass word \\t\\n", "  pass word \t"),
    ],
)
def test_password_command_output_loses_only_its_trailing_newline(printed: str, expected: str) -> None:
    account = Account(name="a", host="127.0.0.1", username="u", password_command=f"printf '%b' \"{printed}\"")
    assert account.resolve_password() == expected


def test_password_command_output_keeps_a_leading_newline() -> None:
    account = Account(name="a", host="127.0.0.1", username="u", password_command="printf '\\nsecret\\n'")
    assert account.resolve_password() == "\nsecret"


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604])
def test_config_with_a_literal_password_readable_by_others_warns_with_chmod_600(tmp_path: Path, mode: int) -> None:
    secret = f"literal-{uuid.uuid4().hex[:8]}"
    config = write_config(
        tmp_path / "c.toml",
        tmp_path / "archive",
        f'[[accounts]]\nname = "x"\nhost = "imap.example.com"\nusername = "me"\npassword = "{secret}"\n',
    )
    config.chmod(mode)
    (tmp_path / "m.eml").write_bytes(eml())

    result = run_ingest("--config", config, "import", tmp_path / "m.eml", cwd=tmp_path)

    assert result.returncode == 0, result.stderr
    warning = [line for line in result.stderr.splitlines() if "chmod 600" in line]
    assert len(warning) == 1 and str(config) in warning[0], result.stderr
    assert secret not in result.stderr + result.stdout


def test_config_with_a_literal_password_readable_by_the_user_only_does_not_ask_for_chmod(tmp_path: Path) -> None:
    config = write_config(
        tmp_path / "c.toml",
        tmp_path / "archive",
        '[[accounts]]\nname = "x"\nhost = "imap.example.com"\nusername = "me"\npassword = "p"\n',
    )
    config.chmod(0o600)
    (tmp_path / "m.eml").write_bytes(eml())

    result = run_ingest("--config", config, "import", tmp_path / "m.eml", cwd=tmp_path)

    assert result.returncode == 0, result.stderr
    assert "chmod" not in result.stderr


# --- TLS ----------------------------------------------------------------------------------------------------------


def only_error_line(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("Error: "), stderr
    return lines[0]


def test_self_signed_server_without_ca_file_is_refused(dovecot: DovecotServer, tmp_path: Path) -> None:
    user, password = dovecot.new_user()
    dovecot.append(user, eml())
    config = write_config(
        tmp_path / "c.toml", tmp_path / "archive", account_toml(dovecot, user, password, tls=True, ca_file=False)
    )

    result = run_ingest("--config", config, cwd=tmp_path)

    assert result.returncode == 1
    line = only_error_line(result.stderr)
    assert "TLS certificate" in line and "not trusted" in line and "ca_file" in line
    assert notes_in(tmp_path / "archive") == []


def test_starttls_to_a_self_signed_server_without_ca_file_is_refused(dovecot: DovecotServer, tmp_path: Path) -> None:
    user, password = dovecot.new_user()
    dovecot.append(user, eml())
    config = write_config(
        tmp_path / "c.toml", tmp_path / "archive", account_toml(dovecot, user, password, starttls=True, ca_file=False)
    )

    result = run_ingest("--config", config, cwd=tmp_path)

    assert result.returncode == 1
    assert "not trusted" in only_error_line(result.stderr)
    assert notes_in(tmp_path / "archive") == []


class FakeImap:
    """A scripted IMAP server on 127.0.0.1 that records every line it receives.

    `starttls`: "absent" (not in CAPABILITY, BAD if asked anyway), "refused" (advertised, then BAD),
    "garbage" (advertised, OK, then plain text instead of a TLS handshake). `tls`: a server-side
    context for implicit TLS.
    """

    def __init__(self, starttls: str = "absent", tls: ssl.SSLContext | None = None) -> None:
        self.starttls = starttls
        self.tls = tls
        self.received: list[bytes] = []
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.sock.settimeout(10)
        self.port = self.sock.getsockname()[1]
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _capabilities(self) -> bytes:
        return b"IMAP4rev1 AUTH=PLAIN LOGIN-REFERRALS" + (b" STARTTLS" if self.starttls != "absent" else b"")

    def _serve(self) -> None:
        try:
            conn, _ = self.sock.accept()
        except OSError:
            return
        try:
            if self.tls is not None:
                conn = self.tls.wrap_socket(conn, server_side=True)
            conn.settimeout(10)
            reader = conn.makefile("rb")
            conn.sendall(b"* OK [CAPABILITY " + self._capabilities() + b"] fake server ready\r\n")
            for line in reader:
                self.received.append(line)
                tag, _, rest = line.strip().partition(b" ")
                command = rest.split(b" ")[0].upper()
                if command == b"CAPABILITY":
                    conn.sendall(b"* CAPABILITY " + self._capabilities() + b"\r\n" + tag + b" OK done\r\n")
                elif command == b"STARTTLS" and self.starttls == "garbage":
                    conn.sendall(tag + b" OK begin TLS now\r\n" + b"this is not a TLS handshake\r\n" * 20)
                    break
                elif command in (b"LOGIN", b"AUTHENTICATE"):
                    conn.sendall(tag + b" OK logged in\r\n")
                elif command == b"LOGOUT":
                    conn.sendall(b"* BYE\r\n" + tag + b" OK bye\r\n")
                    break
                else:
                    conn.sendall(tag + b" BAD not here\r\n")
        except (OSError, ssl.SSLError):
            pass
        finally:
            conn.close()

    def close(self) -> None:
        self.sock.close()
        self.thread.join(timeout=10)

    @property
    def logins(self) -> list[bytes]:
        return [line for line in self.received if re.match(rb"\S+ (LOGIN|AUTHENTICATE)\b", line, re.IGNORECASE)]


FAKE_ENV = {"FAKE_IMAP_PASSWORD": "fake-password-42"}


def fake_account(port: int, security: str, ca_file: str | None = None) -> str:
    lines = [
        "[[accounts]]",
        'name = "fake"',
        'host = "127.0.0.1"',
        f"port = {port}",
        f'security = "{security}"',
        'username = "me"',
        'password_env = "FAKE_IMAP_PASSWORD"',
        'folders = ["INBOX"]',
    ]
    if ca_file:
        lines.append(f'ca_file = "{ca_file}"')
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("behaviour", ["absent", "refused", "garbage"])
def test_starttls_refuses_to_continue_without_a_working_upgrade(tmp_path: Path, behaviour: str) -> None:
    server = FakeImap(starttls=behaviour)
    try:
        config = write_config(tmp_path / "c.toml", tmp_path / "archive", fake_account(server.port, "starttls"))
        config.chmod(0o600)
        result = run_ingest("--config", config, env=FAKE_ENV, cwd=tmp_path)
    finally:
        server.close()

    assert result.returncode == 1, result.stdout + result.stderr
    line = only_error_line(result.stderr)
    assert "'fake'" in line and "TLS" in line.upper(), line
    assert server.logins == [], server.received  # the password never went out in the clear
    assert "fake-password-42" not in result.stderr


def self_signed(tmp_path: Path, name: str) -> tuple[Path, Path]:
    cert, key = tmp_path / f"{name}.pem", tmp_path / f"{name}.key"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-days",
            "2",
            "-subj",
            f"/CN={name}",
            "-addext",
            f"subjectAltName=DNS:{name}",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
        stdin=subprocess.DEVNULL,
    )
    return cert, key


def test_certificate_for_another_host_is_refused_even_when_its_ca_is_trusted(tmp_path: Path) -> None:
    cert, key = self_signed(tmp_path, "other.example")
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server = FakeImap(tls=context)
    try:
        config = write_config(tmp_path / "c.toml", tmp_path / "archive", fake_account(server.port, "tls", str(cert)))
        config.chmod(0o600)
        result = run_ingest("--config", config, env=FAKE_ENV, cwd=tmp_path)
    finally:
        server.close()

    assert result.returncode == 1, result.stdout + result.stderr
    line = only_error_line(result.stderr)
    assert "not trusted" in line and "127.0.0.1" in line, line
    assert server.received == []  # not one IMAP command went over the unverified connection


@pytest.mark.parametrize(
    "host",
    [
        "imap.example.com",
        "10.0.0.1",
        "192.168.1.10",
        "localhost.example.com",
        "127.0.0.1.nip.io",
        "::ffff:8.8.8.8",
        "0.0.0.0",  # noqa: S104 - a host name in a config, never bound
    ],
)
def test_plain_imap_to_a_non_loopback_host_is_a_config_error(tmp_path: Path, host: str) -> None:
    config = write_config(
        tmp_path / "c.toml",
        tmp_path / "archive",
        f'[[accounts]]\nname = "p"\nhost = "{host}"\nsecurity = "plain"\nusername = "me"\npassword_env = "NOPE"\n',
    )

    result = run_ingest("--config", config, cwd=tmp_path)

    assert result.returncode == 2, result.stdout + result.stderr
    assert "allow_insecure = true" in result.stderr and "security" in result.stderr
    assert not (tmp_path / "archive").exists()


def test_plain_imap_with_allow_insecure_warns_on_every_run(dovecot: DovecotServer, tmp_path: Path) -> None:
    user, password = dovecot.new_user()
    dovecot.append(user, eml())
    config = write_config(
        tmp_path / "c.toml", tmp_path / "archive", account_toml(dovecot, user, password) + "allow_insecure = true\n"
    )
    config.chmod(0o600)

    runs = [run_ingest("--config", config, cwd=tmp_path) for _ in range(2)]

    for result in runs:
        assert result.returncode == 0, result.stderr
        warnings = [line for line in result.stderr.splitlines() if line.startswith("WARNING")]
        assert len(warnings) == 1 and "plain IMAP without encryption" in warnings[0], result.stderr
    assert "1 filed" in runs[0].stdout and "0 filed" in runs[1].stdout


# --- Permissions --------------------------------------------------------------------------------------------------


def import_under_umask_022(tmp_path: Path) -> Path:
    """Import a dated and an undated newsletter (one into a rule folder) into a nested, new archive."""
    archive = tmp_path / "data" / "notes" / "archive"
    config = tmp_path / "c.toml"
    config.write_text(f'[archive]\npath = "{archive}"\n\n[[rules]]\nsender = "*@rules.example"\nfolder = "sub/dir"\n')
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "a.eml").write_bytes(eml())
    (tmp_path / "in" / "b.eml").write_bytes(eml(subject="Undated", sender="x@rules.example", date=""))
    (tmp_path / "in" / "c.eml").write_bytes(b"\x00\x01 not a message")
    env = {k: v for k, v in os.environ.items() if not k.startswith("INGEST_")}
    result = subprocess.run(
        [sys.executable, "-m", "ingester", "--config", str(config), "import", str(tmp_path / "in"), "--all", "--json"],
        check=False,
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=120,
        umask=0o022,
    )
    assert result.returncode in (0, 3), result.stderr
    summary = json.loads(result.stdout)
    assert summary["filed"] == 2
    assert any("undated" in p for p in summary["notes"]) and any("sub/dir" in p for p in summary["notes"])
    return archive


def modes(root: Path, top: Path) -> dict[str, int]:
    return {str(p.relative_to(top)): stat.S_IMODE(p.stat().st_mode) for p in [root, *root.rglob("*")]}


def test_archive_folders_and_notes_are_user_only_under_umask_022(tmp_path: Path) -> None:
    archive = import_under_umask_022(tmp_path)

    found = {name: mode for name, mode in modes(archive, tmp_path).items() if "/.ingest" not in name}
    assert {"data/notes/archive/2025/01", "data/notes/archive/sub/dir/undated"} <= set(found)
    for parent in ("data", "data/notes"):  # folders the ingester had to create on the way
        found[parent] = stat.S_IMODE((tmp_path / parent).stat().st_mode)
    wrong = {
        name: oct(mode) for name, mode in found.items() if mode != (0o700 if (tmp_path / name).is_dir() else 0o600)
    }
    assert wrong == {}


def test_ledger_lock_and_raw_messages_are_user_only_under_umask_022(tmp_path: Path) -> None:
    archive = import_under_umask_022(tmp_path)

    state = archive / ".ingest"
    found = modes(state, tmp_path)
    assert any(name.endswith("ledger.sqlite3") for name in found)
    assert any(name.endswith(".eml.gz") for name in found)
    wrong = {
        name: oct(mode) for name, mode in found.items() if mode != (0o700 if (tmp_path / name).is_dir() else 0o600)
    }
    assert wrong == {}


# --- A note that cannot be written --------------------------------------------------------------------------------


def test_a_note_that_cannot_be_written_is_that_messages_recorded_failure(tmp_path: Path) -> None:
    """The disk refuses one note (its month folder cannot be made): that message fails with a one-line
    reason in the summary and the ledger, the others are filed, exit 3; once fixed, a rerun files it."""
    inbox = tmp_path / "in"
    inbox.mkdir()
    (inbox / "a.eml").write_bytes(eml(subject="The January issue", date="Mon, 27 Jan 2025 13:05:00 +0000"))
    (inbox / "b.eml").write_bytes(eml(subject="The March issue", date="Fri, 14 Mar 2025 08:00:00 +0000"))
    blocker = tmp_path / "archive" / "2025" / "03"
    blocker.parent.mkdir(parents=True)
    blocker.write_text("a file where the March folder should go\n")

    result = run_ingest("import", inbox, "--json", cwd=tmp_path)

    assert result.returncode == 3, result.stderr[-1500:]
    assert "Traceback" not in result.stderr
    summary = json.loads(result.stdout)
    assert (summary["seen"], summary["filed"], summary["failed"]) == (2, 1, 1)
    [failure] = summary["failures"]
    assert failure["source"].endswith("b.eml") and "2025/03" in failure["error"] and "\n" not in failure["error"]
    status = json.loads(run_ingest("status", "--json", cwd=tmp_path).stdout)
    assert [f["source"] for f in status["failures"]] == [failure["source"]]

    blocker.unlink()
    again = run_ingest("import", inbox, "--json", cwd=tmp_path)

    assert again.returncode == 0, again.stderr[-1500:]
    rerun = json.loads(again.stdout)
    assert (rerun["filed"], rerun["duplicates"], rerun["failed"]) == (1, 1, 0)
    assert len(notes_in(tmp_path / "archive")) == 2
