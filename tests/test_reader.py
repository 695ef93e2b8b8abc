"""The reader's identity never reaches a note (issue #13): real messages (fixtures written on real senders'
structure with a fake reader, and ../shared/corpus when it is there), the audit, the config."""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ingester import compose, config, identity, message, privacy
from ingester.links import LinkContext, clean
from ingester.links.personal import credential_name
from ingester.message import RawMessage
from tests.conftest import CORPUS, body_of, email_bytes, fixture_note, run_ingest

HUBSPOT = "reader-identity-hubspot-style.eml"
SUBSTACK = "substack-forwarded-custom-domain-token.eml"
READER = "reader.one@example.net"
needs_corpus = pytest.mark.skipif(not (CORPUS / "MANIFEST.tsv").is_file(), reason="../shared/corpus is not here")


def note_with(name: str, **privacy: object) -> compose.Note:
    raw = email_bytes(name)
    cfg = config.parse({"archive": {"language": "en"}, **({"privacy": privacy} if privacy else {})})
    return compose.make_note(RawMessage(raw, f"fixtures/{name}"), message.parse(raw), compose.Settings.of(cfg))


def forms(address: str) -> list[str]:
    """Every form of `address` the issue names: plain, %-encoded, base64/base64url, hex, MD5/SHA-1/SHA-256."""
    raw = address.lower().encode()
    return [
        address,
        quote(address, safe=""),
        base64.b64encode(raw).decode().rstrip("="),
        base64.urlsafe_b64encode(raw).decode().rstrip("="),
        raw.hex(),
        hashlib.md5(raw).hexdigest(),  # noqa: S324
        hashlib.sha1(raw).hexdigest(),  # noqa: S324
        hashlib.sha256(raw).hexdigest(),
    ]


# --- A HubSpot-style issue: the address in links (every encoding), in the footer, in a mailto body --------------


def test_no_form_of_the_readers_address_reaches_the_note() -> None:
    note = note_with(HUBSPOT).text
    for form in forms(READER):
        assert form.lower() not in note.lower(), form
    assert "Cet e-mail a été envoyé à" not in note  # the footer's small print goes whole (#14)
    assert "body=Lu%20par%20%5Breader%5D" in note  # the mailto body too, still one URL


def test_credentials_never_reach_the_note_even_inside_a_decoded_redirect() -> None:
    note = note_with(HUBSPOT)
    assert "autologin" not in note.text and "access_token" not in note.text
    # the redirect held the target in base64 with an autologin: the note links to the target, cleaned
    assert "[ouvrir mon tableau de bord](https://app.techreaders.example/dashboard?user_id=88213)" in note.text
    assert "[revoir la session](https://replay.example.com/session?id=77)" in note.text


def test_a_link_whose_path_is_the_reader_is_unlinked_and_its_text_kept() -> None:
    note = note_with(HUBSPOT)
    assert "Le podcast : écouter l'épisode, les notes : lire les notes," in body_of(note.text)
    assert "podcast.example.com" not in note.text and "notes.example.com" not in note.text
    counts = note.cleaned.counts
    # the mailto body, and the greeting to the To display name ("Bonjour Camille Durand,"); the per-reader
    # "Voir la version en ligne" link goes with its line (a view-online line), so it is counted by no note
    assert (counts.personal_links, counts.links_unlinked, counts.reader_redacted) == (2, 2, 2)
    assert "personal_links: 2\nlinks_unlinked: 2\nreader_redacted: 2\n" in note.text


def test_a_per_reader_view_in_browser_link_is_never_the_notes_url() -> None:
    note = note_with(HUBSPOT)
    assert note.fields.url == ""  # it carries the id the List-Unsubscribe URL carries
    assert clean("https://techreaders.example/view/VnDkR57FkJ6pW3Hyxb03Z8PqlN3Q").kind == "link"  # alone: no context


def test_the_greeting_loses_the_to_display_name_and_redact_names_is_asked_for_the_rest() -> None:
    note = note_with(HUBSPOT, identities=["Camille Durand"])
    assert "Bonjour [reader]," in note.text and "Camille" not in note.text  # To: Camille Durand <…>
    named = note_with(HUBSPOT, identities=["Camille Durand"], redact_names=True)
    assert "Camille" not in named.text and "Bonjour [reader]," in named.text


def test_explain_lists_every_link_decision_and_the_privacy_counts() -> None:
    ran = run_ingest("explain", Path(__file__).parent / "fixtures" / "emails" / HUBSPOT)
    assert ran.returncode == 0
    assert "privacy:        2 personal links, 2 unlinked, reader's address or name replaced 2 times" in ran.stdout
    assert "link:           credential: https://podcast.example.com/listen/" in ran.stdout
    assert "strip ingester:personal: removed email" in ran.stdout
    assert (
        "kept: not recognised" in run_ingest("explain", Path(__file__).parent / "fixtures" / "emails" / SUBSTACK).stdout
    )


# --- Substack on its own domain, forwarded: recognised by its HTML, its token and r removed ----------------------


def test_substack_token_and_referral_go_on_a_forwarded_custom_domain_issue() -> None:
    note = note_with(SUBSTACK)
    assert note.fields.platform == "substack"
    assert "token=" not in note.text and "eyJ" not in note.text and "4ut9k2" not in note.text
    assert note.fields.url == "https://www.fieldjournal.example/p/the-river-in-march"
    assert "[the ice on the weir](https://www.fieldjournal.example/p/ice-on-the-weir)" in note.text
    assert "sam.reader" not in body_of(note.text)  # the forwarder is the reader


# --- Ids shared with the unsubscribe link, and click wrappers recognised by their shape -------------------------


def test_ids_shared_with_the_unsubscribe_url_make_a_link_personal_and_an_opaque_wrapper() -> None:
    note = fixture_note("emailsys-french-spamscope-5.eml")  # its /c/ links carry the reader id 4531494
    # two: the offer's inline image (shown, or its placeholder, since #14) keeps the link around it
    assert (note.cleaned.counts.personal_links, note.cleaned.counts.opaque_links) == (2, 2)
    raw = email_bytes("emailsys-french-spamscope-5.eml")
    cfg = config.parse({"links": {"personal": "unlink"}})
    unlinked = compose.make_note(RawMessage(raw, "x"), message.parse(raw), compose.Settings.of(cfg))
    assert "4531494" not in unlinked.text and unlinked.cleaned.counts.links_unlinked == 2


@needs_corpus
@pytest.mark.parametrize(
    ("path", "opaque"),
    [
        ("n2rss/kotlin-weekly/510.eml", 29),  # Mailchimp's short links (us.list-manage.com/<id>?e=…), its ads' gone
        ("unspy/2023-02-16-inxmail-u1.eml", 12),  # Inxmail: the List-Unsubscribe host, an opaque query
        ("n2rss/tech-readers/123.eml", 20),  # HubSpot
        ("n2rss/android-weekly/606.eml", 30),  # Constant Contact (its sponsored post's two links and closing menu gone)
        # Brevo, forwarded (its footer's tracked link goes with it, and the "Lire dans le navigateur" one)
        ("n2rss/gdiy/fwd-magma-brevo.eml", 51),
        ("n2rss/pointer/544-beehiiv.eml", 37),  # beehiiv
    ],
)
def test_click_wrappers_of_common_sending_services_are_counted(path: str, opaque: int) -> None:
    raw = (CORPUS / path).read_bytes()
    note = compose.make_note(RawMessage(raw, path), message.parse(raw), compose.Settings.of(config.Config()))
    assert note.cleaned.counts.opaque_links == opaque
    reader = next((v for k, v in message.parse(raw).headers if k.lower() == "delivered-to"), "")
    assert not reader or reader.lower() not in note.text.lower()


def test_the_readers_name_is_removed_from_a_link_when_configured() -> None:
    reader = identity.derive(("me@example.com",), ("Sam Reader",))
    result = clean("https://shop.example/welcome?fname=Sam+Reader&lang=en", LinkContext(reader=reader))
    assert result.url == "https://shop.example/welcome?lang=en"
    assert clean("https://shop.example/welcome?fname=Sam+Reader&lang=en").url.endswith("fname=Sam+Reader&lang=en")


def test_the_reader_of_a_list_mail_is_not_the_lists_own_address() -> None:
    headers = [("To", "Wine list <wine@lists.example.org>"), ("Delivered-To", "me@example.com")]
    assert identity.reader_of(headers, ("wine@lists.example.org",), ()).addresses == ("me@example.com",)


@pytest.mark.parametrize(
    "name", ["autologin", "access_token", "authToken", "session_id", "magic_link", "otp", "login_token", "sso"]
)
def test_credential_parameter_names(name: str) -> None:
    assert credential_name(name)


@pytest.mark.parametrize("name", ["author", "token_type", "utm_source", "id", "page", "authority", "sessions_list"])
def test_names_that_are_not_credentials(name: str) -> None:
    assert not credential_name(name)


# --- The property: an address in any encoding, in a link or in the text, never reaches the note ------------------

LOCAL = st.text("abcdefghijklmnopqrstuvwxyz0123456789._+-", min_size=1, max_size=20).filter(
    lambda s: s[0] not in ".+-" and s[-1] not in ".+-" and ".." not in s
)
DOMAIN = st.sampled_from(["example.com", "mail.example.org", "post.example.net", "x.example"])
ENCODINGS = st.sampled_from(["plain", "percent", "b64", "b64url", "hex", "md5", "sha1", "sha256", "json-b64"])


def encode(address: str, how: str) -> str:
    if how == "json-b64":  # inside a longer base64 value, at any alignment
        return base64.urlsafe_b64encode(json.dumps({"list": 7, "email": address}).encode()).decode().rstrip("=")
    return dict(
        zip(("plain", "percent", "b64", "b64url", "hex", "md5", "sha1", "sha256"), forms(address), strict=True)
    )[how]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(local=LOCAL, domain=DOMAIN, how=ENCODINGS, where=st.sampled_from(["query", "path", "text"]))
def test_any_encoded_address_anywhere_never_reaches_the_note(local: str, domain: str, how: str, where: str) -> None:
    address = f"{local}@{domain}"
    value = encode(address, how)
    html = {
        "query": f'<p>Read <a href="https://site.example/a?ref=mail&amp;x={value}">the story</a>.</p>',
        "path": f'<p>Read <a href="https://site.example/s/{value}/story">the story</a>.</p>',
        "text": f"<p>This issue was sent to {address} by us.</p>",
    }[where]
    raw = (
        f"To: {address}\nFrom: News <news@sender.example>\nSubject: Issue\nMessage-ID: <1@sender.example>\n"
        "List-Id: <news.sender.example>\nMIME-Version: 1.0\nContent-Type: text/html; charset=utf-8\n\n"
        f"<html><body><h1>Issue</h1>{html}<p>Bye.</p></body></html>\n"
    ).encode()
    note = compose.make_note(RawMessage(raw, "x"), message.parse(raw), compose.Settings.of(config.Config()))
    for form in forms(address):
        assert form.lower() not in note.text.lower()
    if how != "plain" or where != "text":
        assert value.lower() not in note.text.lower()


# --- Config and audit --------------------------------------------------------------------------------------------


def test_privacy_config_is_validated() -> None:
    with pytest.raises(config.ConfigError) as caught:
        config.parse({"privacy": {"identities": ["ab"], "redact_names": "yes", "other": 1}, "links": {"personal": "x"}})
    text = "\n".join(caught.value.problems)
    assert "[privacy] identities: 'ab' is too short" in text
    assert "[privacy] redact_names: must be true or false" in text
    assert "[privacy]: unknown key 'other'" in text
    assert '[links] personal: must be "keep" or "unlink", not \'x\'' in text
    parsed = config.parse({"privacy": {"identities": ["me@example.com", "Sam"]}, "links": {"personal": "unlink"}})
    assert (parsed.identities, parsed.personal_links) == (("me@example.com", "Sam"), "unlink")


def test_audit_finds_nothing_in_clean_notes_and_each_planted_leak(tmp_path: Path) -> None:
    cfg = tmp_path / "ingester.toml"
    cfg.write_text(f'[archive]\npath = "{tmp_path / "archive"}"\n[privacy]\nidentities = ["{READER}"]\n')
    fixtures = Path(__file__).parent / "fixtures" / "emails"
    assert run_ingest("--config", cfg, "import", fixtures / HUBSPOT, fixtures / SUBSTACK, "--all").returncode == 0
    clean_run = run_ingest("--config", cfg, "audit")
    assert (clean_run.returncode, clean_run.stdout.splitlines()[-1]) == (0, "0 findings in 0 of 2 notes.")
    note = next((tmp_path / "archive").rglob("*.md"))
    note.write_text(note.read_text() + f"\nWritten by {READER}.\n[x](https://a.example/?autologin=1f2e3d4c5b6a&id=1)\n")
    found = run_ingest("--config", cfg, "audit", "--json")
    assert found.returncode == 3
    whats = {row["what"] for row in json.loads(found.stdout)}
    assert "the reader's address or name in the text" in whats
    assert any("autologin: credential" in w for w in whats)
    assert not clean("https://a.example/?autologin=1", LinkContext()).changed  # the audit knows more than clean


@pytest.mark.parametrize(
    ("url", "rule"),
    [  # the click-tracking link formats the services document, recognised without any message around them
        ("https://r20.rs6.net/tn.jsp?f=001RVKxtHUpQOsitpJj5P&c=dGsRZl0Aa&ch=Zm9vYmFy", "constant-contact"),
        ("https://g08dc.r.a.d.sendibm1.com/mk/cl/f/sh/1t6Af4OiGsDg0kUyn5EFxDNbiwiJ5t/7SRKyHQ7amFd", "brevo"),
        ("https://x4k2p.mjt.lu/lnk/AUsAAE2x9a0AAAAAAAAAAG7rAb8AAYCsZ6wAAAAAAAqM/1/zB3v9Q/aHR0cHM6", "mailjet"),
        ("https://click.mailerlite.com/link/c/YT0xODQ2NjM4NzM5NTA4MjU5NzUyJmM9", "mailerlite"),
        ("https://trk.klclick2.com/ls/click?upn=L3exNPy0YRiEtcQ01BHws124cbmIsg3RFdP7", "sendgrid-click"),
        ("https://link.mail.beehiiv.com/v1/c/u001.PFjHD-ii0vvUj1FcNnOS5q/499/O8SkjJwN", "beehiiv"),
    ],
)
def test_wrapper_formats_of_sending_services(url: str, rule: str) -> None:
    result = clean(url)
    assert result.kind == "opaque"
    assert f"ingester:{rule}" in {s.rule for s in result.steps}


@pytest.mark.parametrize(
    "text",
    ["Unsubscribe", "UNSUB", "Opt-Out", "OPTOUT", "Abmelden", "ABBESTELLEN", "Désinscrire", "DÉSABONNER", "取消订阅"],
)
def test_unsubscribe_hint_finds_each_word_in_any_case_anywhere(text: str) -> None:
    # the pattern's lookahead lists the words' first letters: each word, in any case, after other text
    assert privacy.UNSUBSCRIBE_HINT.search(f"» click to {text} here")
    assert not privacy.UNSUBSCRIBE_HINT.search(f"» click to {text[1:]} here")
