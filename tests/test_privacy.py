"""No request to any URL from an email, no reader identity in notes, opt-in resolving only."""

from __future__ import annotations

import http.server
import ipaddress
import socket
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

import pytest
import yaml

from ingester import classify, compose, message, runs
from ingester.clean import clean_html
from ingester.config import Config
from ingester.links.resolve import host_allowed, make_resolver
from ingester.message import RawMessage
from tests.conftest import EMAILS, REPO, Mailbox, notes_in

CORPUS = REPO.parent / "shared" / "corpus"


def _loopback(host: object) -> bool:
    try:
        return ipaddress.ip_address(str(host)).is_loopback
    except ValueError:
        return str(host) in ("localhost",)


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Fail if anything connects to, or even looks up, a non-loopback address."""
    attempts: list[str] = []
    real_connect = socket.socket.connect
    real_getaddrinfo = socket.getaddrinfo

    def connect(self: socket.socket, address: object) -> object:
        host = address[0] if isinstance(address, tuple) else address
        if self.family in (socket.AF_INET, socket.AF_INET6) and not _loopback(host):
            attempts.append(f"connect {address}")
            raise OSError("network disabled by test")
        return real_connect(self, address)  # type: ignore[arg-type]

    def getaddrinfo(host: object, *args: object, **kwargs: object) -> object:
        if host is not None and not _loopback(host):
            attempts.append(f"getaddrinfo {host}")
            raise OSError("network disabled by test")
        return real_getaddrinfo(host, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    yield attempts
    assert attempts == []


def test_the_guard_itself_catches_a_request(no_network: list[str]) -> None:
    with pytest.raises(OSError, match="network disabled by test"):
        socket.create_connection(("93.184.216.34", 80), timeout=1)
    with pytest.raises(OSError, match="network disabled by test"), socket.socket() as sock:
        sock.connect(("93.184.216.34", 80))
    assert no_network == ["getaddrinfo 93.184.216.34", "connect ('93.184.216.34', 80)"]
    no_network.clear()


@pytest.mark.slow
def test_importing_every_fixture_and_the_corpus_opens_no_socket(no_network: list[str], tmp_path: Path) -> None:
    paths = [EMAILS] + ([CORPUS] if CORPUS.is_dir() else [])
    summary = runs.run_local(Config(archive_path=tmp_path / "archive"), paths, all_messages=True)
    assert summary.filed > 10


def test_imap_run_talks_only_to_the_loopback_server(no_network: list[str], mailbox: Mailbox) -> None:
    from ingester import config as config_mod

    mailbox.append("substack-post.eml")
    mailbox.append("mailchimp-spamscope-13.eml")
    summary = runs.run_imap(config_mod.load(mailbox.config))
    assert summary.filed == 2


def _body(note_text: str) -> str:
    return note_text.split("\n---\n", 1)[1]


def _recipients(raw: bytes) -> set[str]:
    letter = message.parse(raw)
    found = set()
    for name in ("To", "Delivered-To", "X-Original-To"):
        for _, addr in message.email.utils.getaddresses([letter.header(name)]):
            if "@" in addr:
                found.add(addr.lower())
    return found


def _newsletters() -> list[Path]:
    files = sorted(EMAILS.glob("*.eml"))
    if CORPUS.is_dir():
        files += [*sorted((CORPUS / "unspy").glob("*.eml")), CORPUS / "spamscope" / "mail_test_13"]
    return files


@pytest.mark.parametrize("path", _newsletters(), ids=lambda p: p.name)
def test_no_note_contains_the_recipients_address(path: Path) -> None:
    raw = path.read_bytes()
    letter = message.parse(raw)
    if classify.needs_action(letter):
        pytest.skip("confirmation mails are listed for the user, never filed as notes")
    made = compose.make_note(RawMessage(raw, source="x"), letter, compose.Settings.of(Config()))
    text = made.text.lower()
    for address in _recipients(raw) - {letter.from_addr}:  # a message sent to its own sender names it as such
        assert address not in text, address
        local = address.split("@")[0]
        if len(local) > 5:
            assert f"={local}" not in text, local  # not as a parameter value either


@pytest.mark.skipif(not CORPUS.is_dir(), reason="../shared/corpus is not beside the repository")
def test_one_mailchimp_issue_sent_to_two_subscribers_gives_the_same_note() -> None:
    def made(name: str) -> str:
        raw = (CORPUS / "unspy" / name).read_bytes()
        text = compose.note_text(raw, "issue", Config())
        head, body = text.split("\n---\n", 1)
        data = yaml.safe_load(head.removeprefix("---\n"))
        data.pop("message_id")
        return f"{data}\n{body}"

    assert made("2023-01-17-schreibsuchti.u1.eml") == made("2023-01-17-schreibsuchti.u2.eml")


MAILCHIMP_CLICK = (
    "https://example.us14.list-manage.com/track/click?u=3f21937f0f636c8cec1db30bf&id=594eb744a2&e=042ea43672"
)


def test_opaque_wrappers_are_kept_without_the_reader_id_and_counted() -> None:
    cleaned = clean_html(f'<p>Read <a href="{MAILCHIMP_CLICK.replace("&", "&amp;")}">the report</a>.</p>')

    assert "e=042ea43672" not in cleaned.html
    assert "track/click?u=3f21937f0f636c8cec1db30bf&amp;id=594eb744a2" in cleaned.html
    assert cleaned.counts.opaque_links == 1


def test_resolver_is_only_asked_for_opaque_links() -> None:
    asked: list[str] = []

    def resolve(url: str) -> str | None:
        asked.append(url)
        return "https://example.com/report?utm_source=mc"

    html = (
        f'<p><a href="{MAILCHIMP_CLICK}">report</a> '
        '<a href="https://example.us14.list-manage.com/unsubscribe?u=1&amp;id=2&amp;e=3">Unsubscribe</a> '
        '<a href="https://example.com/plain">plain</a></p>'
    )
    cleaned = clean_html(html, resolve=resolve)

    assert len(asked) == 1 and "track/click" in asked[0]
    assert 'href="https://example.com/report"' in cleaned.html  # resolved, then cleaned
    assert cleaned.counts.opaque_links == 0


class _Redirect(http.server.BaseHTTPRequestHandler):
    requests: ClassVar[list[str]] = []

    def do_HEAD(self) -> None:
        _Redirect.requests.append(self.path)
        self.send_response(302)
        self.send_header("Location", "https://example.com/final?utm_medium=email")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


def test_make_resolver_sends_one_head_request_to_allowed_hosts_only() -> None:
    server = http.server.HTTPServer(("127.0.0.1", 0), _Redirect)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_port}/track/click?u=1"
        resolve = make_resolver(("127.0.0.1",), timeout=2)
        assert resolve(url) == "https://example.com/final?utm_medium=email"
        assert resolve(url) == "https://example.com/final?utm_medium=email"  # cached: one request
        assert _Redirect.requests == ["/track/click?u=1"]
        assert make_resolver(("*.list-manage.com",), timeout=2)(url) is None  # not on the allowlist
        assert _Redirect.requests == ["/track/click?u=1"]
    finally:
        server.shutdown()
        server.server_close()


def test_host_allowlist_patterns() -> None:
    assert host_allowed("https://us14.list-manage.com/track/click", ("*.list-manage.com",))
    assert not host_allowed("https://list-manage.com.evil.example/track", ("*.list-manage.com",))


def test_resolve_needs_an_allowlist(tmp_path: Path) -> None:
    from tests.conftest import run_ingest

    config = tmp_path / "c.toml"
    config.write_text("[links]\nresolve_opaque = true\n")
    result = run_ingest("--config", config, "import", EMAILS / "substack-post.eml")
    assert result.returncode == 2
    assert "[links] resolve_hosts: list the wrapper hosts you allow to be asked" in result.stderr
    assert notes_in(tmp_path / "archive") == []
