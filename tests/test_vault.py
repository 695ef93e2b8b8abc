"""Notes that feel native in a vault (Obsidian, and anything that reads front matter): aliases, tags every
tool reads as tags, dates read as dates, readable file names, word counts of the article only, and a
vault of the user's own notes left alone."""

from __future__ import annotations

import re
from datetime import date, datetime
from pathlib import Path

import yaml

from ingester import compose, frontmatter, render
from ingester.markdown import word_count
from ingester.store import notes
from tests.conftest import EMAILS, email_bytes, fixture_note, make_note, run_ingest, write_config

# Written from the rule (not imported from ingester.tags), so a broken rule there is caught here.
TAG = re.compile(r"[\w-]+(?:/[\w-]+)*")
# A `#` that Obsidian would read as a tag: not escaped, followed by a tag character (headings are `# `).
LIVE_TAG = re.compile(r"(?<![\\\w])#[\w/-]*[^\W\d][\w/-]*")


def assert_vault_note(note: notes.NoteFile) -> None:
    """One filed note follows the vault conventions."""
    data = yaml.safe_load(frontmatter.split(note.text)[0])
    assert data == note.meta  # YAML and the project's own reader agree
    for tag in data["tags"]:
        assert TAG.fullmatch(tag) and re.search(r"[^\W\d]", tag), (note.relative, tag)
    assert "newsletter" in data["tags"]
    assert data["aliases"] == ([data["title"]] if data["title"].strip() else []), note.relative
    if data["date"]:
        assert data["published"] == datetime.fromisoformat(data["date"]).date(), note.relative
        assert re.fullmatch(r"\d{4}/\d{2}/\d{4}-\d{2}-\d{2}-[^\s/]+\.md", note.relative), note.relative
    assert isinstance(data["words"], int) and 0 <= data["words"] <= word_count(note.body)
    title_line = note.body.split("\n", 1)[0]
    assert not LIVE_TAG.search(title_line), title_line


def with_subject(raw: bytes, subject: str, message_id: str = "") -> bytes:
    """A real message with its Subject (and Message-ID) replaced."""
    raw = re.sub(rb"(?m)^Subject:.*(?:\r?\n[ \t].*)*", b"Subject: " + subject.encode(), raw, count=1)
    if message_id:
        raw = re.sub(rb"(?mi)^Message-ID:.*", b"Message-ID: " + message_id.encode(), raw, count=1)
    return raw


def test_every_fixture_note_follows_the_conventions(tmp_path: Path) -> None:
    result = run_ingest("import", EMAILS, "--all")  # into ./archive, the default
    assert result.returncode == 0, result.stderr
    found = notes.scan(tmp_path / "archive", notes.filed_notes(tmp_path / "archive" / ".ingest"))
    assert len(found) >= 15
    for note in found:
        assert_vault_note(note)


def test_a_hash_in_a_title_never_becomes_a_tag() -> None:
    raw = with_subject(email_bytes("kit-post.eml"), "Issue #AI: the #1440 year \\#x, C# and #/nested")
    for language in ("en", "zh"):
        note = make_note(raw, "t", language)
        body = frontmatter.split(note.text)[1]
        head = body.split("## ", 1)[0] + body.split("## ", 2)[1]  # the title lines and "About this post"
        assert "Issue" in head and not LIVE_TAG.search(head), head
        assert note.fields.title.startswith("Issue #AI")  # the front matter keeps the title as it was
        assert yaml.safe_load(frontmatter.split(note.text)[0])["aliases"] == [note.fields.title]


def test_tags_are_a_common_one_nested_ones_and_a_valid_publication_tag() -> None:
    assert fixture_note("substack-post.eml").fields.tags == ("newsletter", "newsletter/substack", "field-notes")
    assert compose.note_tags("substack", "1440", []) == ("newsletter", "newsletter/substack", "newsletter-1440")
    assert compose.note_tags("newsletter", "Reading List", ["x/y"]) == ("newsletter", "reading-list", "x/y")
    assert compose.note_tags("ghost", "", []) == ("newsletter", "newsletter/ghost")


def test_a_rule_tag_no_vault_reads_is_a_config_error(tmp_path: Path) -> None:
    config = write_config(tmp_path / "c.toml", tmp_path / "archive")
    with config.open("a") as f:
        f.write('[[rules]]\nsender = "*"\ntags = ["Reading List", "ok/nested", "1984"]\n')

    result = run_ingest("--config", config, "import", EMAILS / "substack-post.eml")

    assert result.returncode == 2
    assert "'Reading List' is not a tag" in result.stderr and '"reading-list"' in result.stderr
    assert "'1984' is not a tag" in result.stderr and "ok/nested" not in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "archive").exists() or not list((tmp_path / "archive").rglob("*.md"))


def test_word_count_is_the_articles_not_the_templates() -> None:
    en, zh = fixture_note("substack-post.eml", "en"), fixture_note("substack-post.eml", "zh")
    words = [yaml.safe_load(frontmatter.split(n.text)[0])["words"] for n in (en, zh)]
    bodies = [word_count(frontmatter.split(n.text)[1]) for n in (en, zh)]
    assert words[0] == words[1] > 100  # the same article whatever the layout's language
    assert bodies[0] != bodies[1] and min(bodies) > words[0]  # the labels differ, and are not counted


def test_readable_file_names_stay_unique_and_safe(tmp_path: Path) -> None:
    config = write_config(tmp_path / "c.toml", tmp_path / "archive")
    config.write_text(config.read_text().replace("[archive]\n", '[archive]\nfilename = "{title}"\n'))
    raw = email_bytes("kit-post.eml")
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "a.eml").write_bytes(with_subject(raw, "Notes: a/b <c> #1?", "<one@x>"))
    (tmp_path / "in" / "b.eml").write_bytes(with_subject(raw, "Notes: a/b <c> #1?", "<two@x>"))
    (tmp_path / "in" / "c.eml").write_bytes(with_subject(raw, "CON", "<three@x>"))

    result = run_ingest("--config", config, "import", tmp_path / "in")

    assert result.returncode == 0, result.stderr
    names = sorted(p.name for p in (tmp_path / "archive").rglob("*.md"))
    assert names == ["CON note.md", "Notes a b c 1 2.md", "Notes a b c 1.md"]
    assert render.file_stem("x", None, "{date}-{slug}") == "x"


def test_a_vault_of_the_users_own_notes_is_left_alone(tmp_path: Path) -> None:
    vault = tmp_path / "vault"
    own = {
        vault / "Ideas.md": "---\ntags: [1440, project]\ndate: 2024-01-03\n---\n# Ideas #project\n\nMine.\n",
        vault / "Daily" / "2024-01-03.md": "No front matter at all.\n",
        vault / "2025" / "01" / "Reading.md": "---\ntitle: Reading\nwords: many\n---\nA list.\n",
    }
    for path, text in own.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")

    config = write_config(tmp_path / "c.toml", vault)
    filed = run_ingest("--config", config, "import", EMAILS / "substack-post.eml")
    listed = run_ingest("--config", config, "drafts", "list", "--status", "all", "--json")

    assert filed.returncode == 0 and listed.returncode == 0, filed.stderr + listed.stderr
    assert all(path.read_text(encoding="utf-8") == text for path, text in own.items())
    assert "The quiet year of small models" in listed.stdout
    found = {n.relative: n for n in notes.scan(vault, notes.filed_notes(vault / ".ingest"))}
    assert not {"2025/01/Reading.md", "Ideas.md", "Daily/2024-01-03.md"} & set(found)  # not ours: not even read
    reading = notes.read_note(vault, vault / "2025" / "01" / "Reading.md")
    ideas = notes.read_note(vault, vault / "Ideas.md")
    assert reading is not None and reading.words == 2  # a `words:` that is not a count is not trusted
    assert ideas is not None and ideas.date == datetime(2024, 1, 3) and date(2024, 1, 3)
