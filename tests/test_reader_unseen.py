"""What a review on mail nobody here had seen found still identifying the reader (issue #13, second round),
each caught by a principle: an id in a mailto unsubscribe address, a signed claim (base64url JSON) in any
parameter, a redirect written in base32, and the To display name in the greeting. The fixtures are written
on the structure of those senders (Cooperpress, Substack, Blendle) with a fake reader."""

from __future__ import annotations

import base64
import json
from pathlib import Path

from ingester import compose, config, identity, message
from ingester.links import LinkContext, clean
from ingester.links.personal import signed_claim
from ingester.message import RawMessage
from tests.conftest import body_of, email_bytes, run_ingest

WEEKLY = "weekly-unsub-mailto-id.eml"  # Cooperpress: List-Unsubscribe <mailto:unsub-<id>@…>, links /link/<n>/<id>
CLAIM = "substack-signed-claim-j.eml"  # substack.com/redirect/<uuid>?j=<base64url {"u": …}>.<signature>
BASE32 = "base32-wrapper-reader-greeting.eml"  # Blendle: open.<host>/<base32 of the target>, To: "Robin" <…>
READER_ID = "7c3f9a2e1b"
FIXTURES = Path(__file__).parent / "fixtures" / "emails"


def note_of(name: str, **sections: dict[str, object]) -> compose.Note:
    raw = email_bytes(name)
    cfg = config.parse({"archive": {"language": "en"}, **sections})
    return compose.make_note(RawMessage(raw, f"fixtures/{name}"), message.parse(raw), compose.Settings.of(cfg))


def b64json(claim: dict[str, str]) -> str:
    return base64.urlsafe_b64encode(json.dumps(claim).encode()).decode().rstrip("=")


def reader(address: str = "sam.reader@example.net") -> LinkContext:
    return LinkContext(reader=identity.derive((address,)))


# --- 1. The reader's id in the local part of a mailto List-Unsubscribe -----------------------------------------


def test_the_tokens_of_a_mailto_unsubscribe_address_are_its_ids() -> None:
    assert identity.unsubscribe_ids(f"mailto:unsub-{READER_ID}@n2.weeklypress.example") == {READER_ID}
    assert identity.unsubscribe_ids("mailto:unsubscribe@lists.example.org?subject=unsubscribe") == set()
    assert identity.id_like("85a4c1edbc")  # hex: "edbc" is no word


def test_links_carrying_the_id_of_a_mailto_unsubscribe_are_personal_and_counted() -> None:
    note = note_of(WEEKLY)
    assert note.cleaned.counts.personal_links == 6  # kept working ([links] personal = "keep"), counted
    assert "personal_links: 6\n" in note.text
    unlinked = note_of(WEEKLY, links={"personal": "unlink"})
    assert READER_ID not in unlinked.text
    assert unlinked.cleaned.counts.links_unlinked == 6
    assert "Cold frames in January" in body_of(unlinked.text)  # the text stays, the link goes
    assert unlinked.fields.url == "https://gardenweekly.example/issues/212"


# --- 2. A signed claim (base64url JSON) in a parameter, alone or as part of a dotted token ----------------------


def test_a_signed_claim_is_recognised_in_any_shape() -> None:
    assert signed_claim(b64json({"u": "q7vzk"}) + ".72eujHigXfWySh5Pw-3cmwzE5Ea6f")  # payload.signature
    assert signed_claim(b64json({"id": "robin", "name": "Robin"}))  # alone
    assert signed_claim("eyJhbGciOiJIUzI1NiJ9." + b64json({"sub": "1"}) + ".c2ln")  # a JWT
    assert not signed_claim("eyJhbGciOi")  # not a whole JSON object
    assert not signed_claim(base64.urlsafe_b64encode(b'["a list"]').decode())  # not an object


def test_substacks_j_token_leaves_its_redirect_links() -> None:
    note = note_of(CLAIM)
    assert "j=" not in note.text and "eyJ" not in note.text
    link = "https://substack.com/redirect/3b1c6a0e-5d2f-4a8b-9c7e-1f2a3b4c5d6e"
    assert f"[published its transit plan]({link})" in note.text


def test_a_signed_claim_is_stripped_from_any_sender_and_unlinks_a_path() -> None:
    claim = b64json({"uid": "4242", "list": "weekly"})
    result = clean(f"https://news.anywhere.example/read?state={claim}&page=2", reader())
    assert result.url == "https://news.anywhere.example/read?page=2"
    assert clean(f"https://news.anywhere.example/r/{claim}", reader()).kind == "credential"


def test_a_wrapper_whose_signed_claim_holds_the_destination_becomes_it() -> None:
    # customer.io's shape: /e/c/<base64url JSON {"email_id", "href", …}>/<signature>, on any host
    claim = b64json({"email_id": "dgSB", "href": "https://example.com/article?utm_source=x", "link_id": "1"})
    wrapped = f"https://e.mailer.example/e/c/{claim}/0f1e2d3c4b5a69788796a5b4c3d2e1f0a9b8c7d6"
    assert clean(wrapped, reader()).url == "https://example.com/article"
    two = b64json({"href": "https://example.com/a", "back": "https://example.com/b"})
    assert clean(f"https://e.mailer.example/e/c/{two}/sig", reader()).kind == "credential"  # which one? unknown


# --- 3. A redirect written in base32, and the To display name in the greeting ----------------------------------


def wrap32(target: str) -> str:
    return "https://open.anywhere.example/" + base64.b32encode(target.encode()).decode().lower().rstrip("=")


def test_a_base32_redirect_becomes_its_target_cleaned() -> None:
    note = note_of(BASE32)
    assert "open.leesclub.example" not in note.text and "eyJ" not in note.text
    # the target's t is the id of the List-Unsubscribe URL (written bare, without <>)
    assert "fd7387f7" not in note.text
    assert "[Waarom we dromen](https://leesclub.example/item/bnl-quest-20181218-03d2c3a1f70)" in note.text
    assert note.cleaned.counts.wrappers_decoded == 6


def test_a_base32_redirect_holding_a_claim_is_decoded_on_any_host() -> None:
    # one link on a host not known to wrap this message's clicks: the personal target is what gives it away
    target = f"https://read.example/item/7?p={b64json({'id': 'robin'})}&lang=nl"
    assert clean(wrap32(target), reader()).url == "https://read.example/item/7?lang=nl"
    harmless = wrap32("https://read.example/item/7?lang=nl")
    assert clean(harmless, reader()).url == harmless  # nothing personal: an opaque link like any other


def test_the_greeting_loses_the_readers_display_name_and_the_article_keeps_it() -> None:
    note = note_of(BASE32)
    body = body_of(note.text)
    assert "Goeiemiddag [reader]," in body and "Goeiemiddag Robin" not in body
    assert "Robin Dunbar en anderen over slaap en geheugen." in body  # a name in the article is no salutation
    assert note.cleaned.counts.reader_redacted == 1


def test_salutations_are_short_lines_ending_in_the_name() -> None:
    greeted = identity.reader_of([("To", '"Robin Reader" <robin@example.net>')], (), ())
    assert greeted.greeted == ("Robin Reader", "Robin")
    text = "Hi Robin,\n**Dear Mx. Robin Reader!**\nRobin Hood was here.\nWe asked Robin about it, and more.\n"
    assert identity.redact_text(text, greeted) == (
        "Hi [reader],\n**Dear Mx. [reader]!**\nRobin Hood was here.\nWe asked Robin about it, and more.\n",
        2,
    )
    the_list = identity.reader_of([("To", "Garden list <garden@lists.example.org>")], ("garden@lists.example.org",), ())
    assert the_list.greeted == ()  # the list's own name is nobody's greeting
    assert identity.display_names("sam@example.net") == []


# --- The audit sees all of it in notes written before -------------------------------------------------------


def test_audit_finds_what_older_notes_kept(tmp_path: Path) -> None:
    cfg = tmp_path / "ingester.toml"
    cfg.write_text(f'[archive]\npath = "{tmp_path / "archive"}"\n')
    names = (WEEKLY, CLAIM, BASE32)
    assert run_ingest("--config", cfg, "import", *(FIXTURES / n for n in names), "--all").returncode == 0
    clean_run = run_ingest("--config", cfg, "audit")
    assert (clean_run.returncode, clean_run.stdout.splitlines()[-1]) == (0, "0 findings in 0 of 3 notes.")
    notes = {n.read_text().split("\n")[1]: n for n in (tmp_path / "archive").rglob("*.md")}
    j = "?j=" + b64json({"u": "q7vzk"}) + ".c2lnbmF0dXJl"
    older = {  # what the notes of the version before held
        'title: "Garden Weekly 212: compost and cold frames"': ("personal_links: 6\n", ""),
        'title: "Buses, counted"': ("4c5d6e)", f"4c5d6e{j})"),
        'title: "Vijf verhalen voor je weekend"': ("Goeiemiddag [reader],", "Goeiemiddag Robin,"),
    }
    for title, (new, old) in older.items():
        notes[title].write_text(notes[title].read_text().replace(new, old, 1))
    found = run_ingest("--config", cfg, "audit", "--json")
    assert found.returncode == 3
    whats = {row["what"] for row in json.loads(found.stdout)}
    assert "6 personal links kept, the note counts 0" in whats
    assert any(w.startswith("personal link part: j: credential (a signed claim") for w in whats)
    assert "the reader's address or name in the text" in whats
