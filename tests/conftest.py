"""Shared fixtures: a clean environment and working directory per test, one Dovecot per session."""

from __future__ import annotations

import importlib.util
import logging
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from functools import cache
from html.parser import HTMLParser
from pathlib import Path
from types import ModuleType

import pytest
from click.testing import CliRunner, Result
from markdown_it import MarkdownIt

from ingester import compose, message
from ingester.cli import cli
from ingester.config import Config
from ingester.message import RawMessage
from ingester.store import notes
from tests.imapserver import DovecotServer

REPO = Path(__file__).resolve().parent.parent
EMAILS = REPO / "tests" / "fixtures" / "emails"
EXPECTED = REPO / "tests" / "fixtures" / "expected"


IMAP_MODULES = {"test_imapserver.py", "test_bench_backfill.py"}  # they start Dovecots of their own


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test that talks to the suite's Dovecot is an `imap` test (`make test-fast` leaves them out)."""
    for item in items:
        if {"dovecot", "own_server"} & set(getattr(item, "fixturenames", ())) or item.path.name in IMAP_MODULES:
            item.add_marker(pytest.mark.imap)


def load_bench(script: str, name: str) -> ModuleType:
    """bench/<script> imported as module `name` (the bench scripts are not a package)."""
    spec = importlib.util.spec_from_file_location(name, REPO / "bench" / script)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up by name
    spec.loader.exec_module(module)
    return module


def email_bytes(name: str) -> bytes:
    """A fixture message, byte for byte."""
    return (EMAILS / name).read_bytes()


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Each test runs in its own empty working directory with no INGEST_* variables set, and a config
    home of its own (an empty $XDG_CONFIG_HOME), so the user's ~/.config/ingester is never read."""
    for name in list(os.environ):
        if name.startswith("INGEST_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg-config"))
    monkeypatch.chdir(tmp_path)


@pytest.fixture(scope="session")
def dovecot() -> Iterator[DovecotServer]:
    """A real Dovecot on 127.0.0.1 (plain and TLS), started once per test run."""
    with DovecotServer.start() as server:
        yield server


@dataclass
class Mailbox:
    """A fresh, empty IMAP user on the session's Dovecot, and a config file that reads it."""

    server: DovecotServer
    user: str
    password: str
    config: Path
    archive: Path

    def append(self, name_or_raw: str | bytes, **kwargs: object) -> int:
        raw = email_bytes(name_or_raw) if isinstance(name_or_raw, str) else name_or_raw
        return self.server.append(self.user, raw, password=self.password, **kwargs)  # type: ignore[arg-type]


def write_config(path: Path, archive: Path, account: str = "", language: str = "zh") -> Path:
    path.write_text(f'[archive]\npath = "{archive}"\nlanguage = "{language}"\n{account}', encoding="utf-8")
    return path


def account_toml(
    server: DovecotServer,
    user: str,
    password: str,
    tls: bool = False,
    name: str = "test",
    ca_file: bool = True,
    port: int | None = None,
    folders: str = '["INBOX"]',
    starttls: bool = False,
) -> str:
    security = "tls" if tls else "starttls" if starttls else "plain"
    port = port or (server.imaps_port if tls else server.port)
    lines = [
        "[[accounts]]",
        f'name = "{name}"',
        f'host = "{server.host}"',
        f"port = {port}",
        f'security = "{security}"',
        f'username = "{user}"',
        # a password command that prints a trailing newline, as `pass` does: it must be trimmed
        f"password_command = \"printf '%s\\\\n' '{password}'\"",
        f"folders = {folders}",
    ]
    if (tls or starttls) and ca_file:
        lines.append(f'ca_file = "{server.ca_file}"')
    return "\n".join(lines) + "\n"


@pytest.fixture
def mailbox(dovecot: DovecotServer, tmp_path: Path) -> Mailbox:
    user, password = dovecot.new_user()
    archive = tmp_path / "archive"
    config = write_config(tmp_path / "ingester.toml", archive, account_toml(dovecot, user, password))
    config.chmod(0o600)
    return Mailbox(dovecot, user, password, config, archive)


@dataclass(frozen=True)
class Ran:
    """How a run of `ingest` ended: what `subprocess.run` would report."""

    returncode: int
    stdout: str
    stderr: str


def run_ingest(*args: str | os.PathLike[str], env: dict[str, str] | None = None, cwd: Path | None = None) -> Ran:
    """Run the real `ingest` command line in this process (click's CliRunner), as `main()` does:
    umask 077, separate stdout and stderr, exit code. For signals, process trees and `python -m`
    itself, use `run_ingest_process`."""
    runner = CliRunner()
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    umask = os.umask(0o077)
    here = Path.cwd()
    try:
        if cwd is not None:
            os.chdir(cwd)
        result = runner.invoke(cli, [str(a) for a in args], env=env, catch_exceptions=False, prog_name="ingest")
    finally:
        os.chdir(here)
        os.umask(umask)
        root.handlers[:] = handlers  # `ingest` configures logging on the runner's streams, now closed
        root.setLevel(level)
    return Ran(result.exit_code, result.stdout, result.stderr)


def run_ingest_process(
    *args: str | os.PathLike[str], env: dict[str, str] | None = None, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    """Run the real `ingest` command (python -m ingester) in its own process, as a user would."""
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("INGEST_")}
    full_env.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "ingester", *map(str, args)],
        capture_output=True,
        text=True,
        env=full_env,
        cwd=cwd,
        timeout=120,
    )


TIMING = re.compile(r" in \d+\.\d s(?:, \d+\.\d (?:msg|notes)/s)?(?=\.$)", re.MULTILINE)


def untimed(text: str) -> str:
    """Output with the elapsed time and rate of summary lines taken out (" in 0.3 s, 12.0 msg/s")."""
    return TIMING.sub("", text)


def notes_in(archive: Path) -> list[Path]:
    """Every note in an archive (not the ledger)."""
    return sorted(
        p for p in archive.rglob("*.md") if not any(part.startswith(".") for part in p.relative_to(archive).parts)
    )


# --- The shared corpus (read where it lies, never copied) ---------------------------------------------------------

CORPUS = REPO.parent / "shared" / "corpus"
needs_corpus = pytest.mark.skipif(
    not (CORPUS / "MANIFEST.tsv").is_file(), reason="../shared/corpus is not beside the repository"
)


@cache
def retention() -> ModuleType:
    """bench/retention.py, for its WRAPPED headers and its visible-text/chrome classification."""
    return load_bench("retention.py", "bench_retention_for_tests")


def manifest_newsletters() -> dict[str, str]:
    """{corpus path: platform} of every newsletter-kind row of MANIFEST.tsv; {} without a corpus."""
    if not (CORPUS / "MANIFEST.tsv").is_file():
        return {}
    return dict(retention().read_manifest(CORPUS))


@cache
def corpus_message(path: str) -> bytes:
    """The message as delivered: full messages byte for byte, HTML-only bodies wrapped in memory."""
    bench, data = retention(), (CORPUS / path).read_bytes()
    if bench.is_html_only(path, data):
        return bench.wrap_html(path, manifest_newsletters()[path], data)
    return data


def make_note(raw: bytes, source: str, language: str = "en") -> compose.Note:
    """The note a message gives with the default config in `language`."""
    settings = compose.Settings.of(Config(language=language))
    return compose.make_note(RawMessage(raw, source=source), message.parse(raw), settings)


@cache
def corpus_note(path: str) -> compose.Note:
    """The English note of a corpus newsletter (made once per test run)."""
    return make_note(corpus_message(path), path)


def fixture_note(name: str, language: str = "en") -> compose.Note:
    """The note of one of our fixture messages."""
    return make_note(email_bytes(name), f"fixtures/{name}", language)


def body_of(note: str) -> str:
    """The note without its front matter."""
    return note.split("\n---\n", 1)[1] if note.startswith("---\n") else note


def short(path: str) -> str:
    """A corpus path as a short test id."""
    return path.removeprefix("omnivore-readability/").removesuffix("/source.html").removeprefix("omnivore/")


# --- An archive of five filed notes (the drafts and review tests) -------------------------------------------------

FILED = (
    "substack-post.eml",
    "chinese-newsletter.eml",
    "text-only-newsletter.eml",
    "mailman-wine-announce-spamassassin.eml",
    "mailchimp-spamscope-13.eml",
)
QUIET = "2025/01/2025-01-27-the-quiet-year-of-small-models.md"
WEEKLY = "2025/03/2025-03-14-开源周刊-第42期-本地小模型的一年-更便宜-也更可靠.md"
DISPATCH = "2025/02/2025-02-06-the-plaintext-dispatch-118-caches-notes-and-a-correction.md"
WEBINAR = "2018/08/2018-08-29-new-webinar-so-you-have-a-disaster-now-what.md"
WINE = "2002/09/2002-09-04-wine-release-20020904.md"
QUIET_ID = "c2f51ed"  # sha256 of the Message-ID <20250127130500.3.7c2e9b41d05a6f83@mg1.substack.com>
QUIET_KEY = "<20250127130500.3.7c2e9b41d05a6f83@mg1.substack.com>"
HEADER = "ID       DATE        PUBLICATION          TITLE                                                        WORDS"
ROWS = {  # up to the WORDS column: word counts come from the converter, see words()
    WEEKLY: "7c8e7e4  2025-03-14  开源周刊编辑部       【开源周刊 第42期】本地小模型的一年：更便宜，也更可靠        ",
    DISPATCH: "3a84b58  2025-02-06  Sam Rivera           The Plaintext Dispatch #118: caches, notes and a correction  ",
    QUIET: "c2f51ed  2025-01-27  Field Notes          The quiet year of small models                               ",
    WEBINAR: "ab3faa1  2018-08-29  Continuity Insights  New Webinar: So, You Have A Disaster... Now What?            ",
    WINE: "ee38bfa  2002-09-04  Alexandre Julliard   Wine release 20020904                                        ",
}
NOW = datetime(2025, 4, 1, 9, 30, tzinfo=timezone(timedelta(hours=2)))


@pytest.fixture(scope="session")
def filed_archive(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Five notes filed by `ingest import`, built once; tests get copies."""
    where = tmp_path_factory.mktemp("filed")
    result = run_ingest("import", *(EMAILS / name for name in FILED), cwd=where)
    assert result.returncode == 0, result.stderr
    return where / "archive"


def copy_filed(filed: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the filed archive at ./archive (the default [archive] path); decisions stamped NOW."""
    shutil.copytree(filed, tmp_path / "archive")
    monkeypatch.setattr(notes, "now", lambda: NOW)
    monkeypatch.setattr(notes, "LOCK_WAIT_SECONDS", 0.3)
    return tmp_path / "archive"


def ingest(*args: str, env: dict[str, str] | None = None, input: str | None = None) -> Result:
    """`ingest ARGS` in this process, at 80 columns, with `input` on stdin."""
    return CliRunner().invoke(cli, list(args), env={"COLUMNS": "80", **(env or {})}, input=input)


# --- Live HTML in a note (what a previewer that passes HTML would run) -----------------------------------------

DANGEROUS_TAGS = {"script", "iframe", "frame", "frameset", "object", "embed", "applet", "base", "meta"}
URL_ATTRIBUTES = {
    "href",
    "src",
    "action",
    "formaction",
    "xlink:href",
    "data",
    "poster",
    "background",
    "lowsrc",
    "dynsrc",
    "srcdoc",
}


BAD_SCHEME = re.compile(r"(?:java|vb|live)script:|data:text/html", re.IGNORECASE)


class _LiveHtml(HTMLParser):
    """Collects what would run in a browser: script-like elements, event handlers, script links."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in DANGEROUS_TAGS:
            self.found.append(f"<{tag}>")
        for name, value in attrs:
            if name.startswith("on"):
                self.found.append(f"<{tag} {name}=…>")
            # browsers drop tabs, newlines and leading controls from URLs before reading the scheme
            if name in URL_ATTRIBUTES and value and BAD_SCHEME.match(re.sub(r"[\x00-\x20]", "", value)):
                self.found.append(f"<{tag} {name}={value[:40]!r}>")

    handle_startendtag = handle_starttag


def live_html(note_text: str) -> list[str]:
    """What would execute if the note's Markdown were previewed by a renderer that passes raw HTML
    through and does not filter link schemes (CommonMark allows both)."""
    body = note_text.split("\n---\n", 1)[1] if note_text.startswith("---\n") else note_text
    md = MarkdownIt("commonmark")
    md.validateLink = lambda url: True  # markdown-it filters javascript: links by default; not every previewer does
    finder = _LiveHtml()
    finder.feed(md.render(body))
    finder.close()
    return finder.found
