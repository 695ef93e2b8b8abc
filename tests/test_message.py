"""`ingester.message` over the real fixture messages: headers, bodies, charsets, newsletter signals."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from ingester import classify, message
from ingester.message import Newsletter
from tests.conftest import email_bytes

CORPUS = Path("/work/shared/corpus")
CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def letter(name: str) -> Newsletter:
    return message.parse(email_bytes(name))


def synthetic(headers: str, body: str = "Hello.\n") -> Newsletter:
    """A small hand-written message, for cases no fixture has."""
    return message.parse(f"{headers.strip()}\n\n{body}".encode())


# --- Subject, From and charsets ---------------------------------------------------------------------------------


def test_subject_joins_two_utf8_encoded_words_without_a_stray_space() -> None:
    # The two encoded words split 小模|型 mid-word; the folding whitespace between them is not text.
    subject = letter("chinese-newsletter.eml").subject

    assert subject == "【开源周刊 第42期】本地小模型的一年：更便宜，也更可靠"


def test_gb2312_label_with_gbk_characters_decodes_subject_and_html_with_gb18030() -> None:
    # 堃 and 镕 are GBK, not GB2312: a strict gb2312 codec would fail or replace them.
    gbk = letter("gbk-in-gb2312.eml")

    assert gbk.subject == "【社区书讯】王堃荐书：春天读什么"
    assert gbk.html is not None
    assert "本期荐书人：王堃" in gbk.html
    assert "李镕老师" in gbk.html
    assert "\ufffd" not in gbk.html


def test_raw_8bit_gb2312_headers_parse_without_crashing_and_the_body_decodes() -> None:
    raw = letter("gb2312-raw-headers-spamassassin.eml")

    assert raw.message_id == "<1811099-2200312752653615@pc3>"
    assert raw.from_addr == "1234@e34.com"
    assert raw.date == datetime(2003, 1, 7, 13, 26, 53, tzinfo=timezone(timedelta(hours=8)))
    # Whatever the header bytes, the values are clean text: no surrogate escapes, no control characters.
    for value in (raw.subject, raw.from_name):
        assert value
        value.encode("utf-8")  # raises on a lone surrogate
        assert not CONTROL.search(value)
    assert raw.subject.endswith("!")
    # The body declares gb2312 and is decoded with it.
    assert raw.text is not None
    assert "台湾鑫龙商贸集团公司向您拜年!" in raw.text
    assert raw.html is None


def test_raw_8bit_gb2312_headers_decode_with_the_message_charset() -> None:
    raw = letter("gb2312-raw-headers-spamassassin.eml")

    assert raw.from_name == "台湾鑫龙商贸集团公司"
    assert raw.subject == "全新原装进口，送货上门，货到付款－台湾鑫龙商贸集团公司向您拜年!"


def test_unknown_charset_label_x_mac_cyrillic_decodes_utf8_bytes() -> None:
    # Python has no "x-mac-cyrillic" codec; the bytes are UTF-8. Decoding them as mac_cyrillic
    # would give "¬©" for the copyright sign.
    conference = letter("conference-x-mac-cyrillic-issue230.eml")

    assert conference.text is not None and conference.html is not None
    assert "© 2019 Science and Education Foundation, Bulgaria. All Rights Reserved." in conference.text
    assert "© 2019 Scie" in conference.html
    assert "¬©" not in conference.text + conference.html
    assert "\ufffd" not in conference.text + conference.html


@pytest.mark.parametrize(
    ("name", "from_name", "from_addr"),
    [
        ("chinese-newsletter.eml", "开源周刊编辑部", "editor@weekly.example.com"),  # B-encoded display name
        ("mailchimp-spamscope-13.eml", "Continuity Insights", "info@continuityinsights.com"),  # Q-encoded
        (
            "conference-x-mac-cyrillic-issue230.eml",
            "Science and Education Foundation, Bulgaria",
            "science@news-s.info",
        ),  # quoted name with a comma
        ("substack-post.eml", "Jane Doe from Field Notes", "fieldnotes@substack.com"),
        ("personal-plain-no-ctype-flanker.eml", "Bob Marley", "bob@marley.com"),
        ("mailman-wine-announce-spamassassin.eml", "Alexandre Julliard", "julliard@winehq.com"),
    ],
)
def test_from_display_name_and_address_of_fixtures(name: str, from_name: str, from_addr: str) -> None:
    parsed = letter(name)

    assert (parsed.from_name, parsed.from_addr) == (from_name, from_addr)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ('"Doe, Jane" <Jane@Example.COM>', ("Doe, Jane", "jane@example.com")),
        ("Doe, Jane <jane@example.com>", ("Doe, Jane", "jane@example.com")),  # unquoted comma
        ("jane@example.com", ("", "jane@example.com")),
        ("<jane@example.com>", ("", "jane@example.com")),
        ("jane@example.com (Jane Doe)", ("Jane Doe", "jane@example.com")),  # old comment form
        ("Jane Doe", ("Jane Doe", "")),  # no address at all
        ("", ("", "")),
    ],
)
def test_parse_from(value: str, expected: tuple[str, str]) -> None:
    assert message.parse_from(value) == expected


def test_parse_from_unescapes_quoted_pairs_in_the_display_name() -> None:
    assert message.parse_from(r'"Matt \"Money Stuff\" Levine" <ml@example.com>') == (
        'Matt "Money Stuff" Levine',
        "ml@example.com",
    )


# --- Substack names, Message-ID, Date -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "author", "publication"),
    [
        ("substack-post.eml", "Jane Doe", "Field Notes"),
        ("text-only-newsletter.eml", "Sam Rivera", "Sam Rivera"),
        ("chinese-newsletter.eml", "开源周刊编辑部", "开源周刊编辑部"),
    ],
)
def test_author_and_publication_split_substack_author_from_publication(
    name: str, author: str, publication: str
) -> None:
    parsed = letter(name)

    assert classify.author_name(parsed) == author
    assert classify.publication_name(parsed) == publication


def test_publication_falls_back_to_list_id_label_then_address() -> None:
    labelled = synthetic("From: news@lists.example.org\nList-Id: Wine Announcements <wine.example.org>")
    bare = synthetic("From: news@lists.example.org")

    assert classify.publication_name(labelled) == "Wine Announcements"
    assert classify.publication_name(bare) == "news@lists.example.org"


def test_from_name_containing_from_is_not_split_for_non_substack_senders() -> None:
    postcards = synthetic("From: Postcards from Berlin <hello@postcards.example.com>\nList-Id: <postcards.example.com>")

    assert classify.publication_name(postcards) == "Postcards from Berlin"
    assert classify.author_name(postcards) == "Postcards from Berlin"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("<a1@example.com>", "<a1@example.com>"),
        ("  <a1@example.com>  ", "<a1@example.com>"),
        ("a1@example.com", "<a1@example.com>"),  # brackets missing
        ("<a1@example.com", "<a1@example.com>"),  # closing bracket missing
        ("<a1@example.com> (added by relay)", "<a1@example.com>"),
        ("(comment) <a1@example.com>", "<a1@example.com>"),
        ("<a1@example.com> <b2@example.com>", "<a1@example.com>"),  # first of several
        ("<>", ""),
        ("   ", ""),
        ("", ""),
    ],
)
def test_normalise_message_id(value: str, expected: str) -> None:
    assert message.normalise_message_id(value) == expected


@pytest.mark.parametrize(
    "headers", ["From: a@example.com", "From: a@example.com\nMessage-ID: "], ids=["missing", "empty"]
)
def test_message_without_message_id_is_keyed_by_content_hash(headers: str) -> None:
    parsed = synthetic(headers)

    assert parsed.message_id == ""
    assert parsed.key == f"sha256:{parsed.content_hash}"


def test_message_with_message_id_is_keyed_by_it() -> None:
    parsed = letter("substack-post.eml")

    assert parsed.message_id == "<20250127130500.3.7c2e9b41d05a6f83@mg1.substack.com>"
    assert parsed.key == parsed.message_id


@pytest.mark.parametrize(
    ("name", "local", "offset_hours"),
    [
        ("chinese-newsletter.eml", datetime(2025, 3, 14, 8, 0), 8),
        ("mailman-wine-announce-spamassassin.eml", datetime(2002, 9, 4, 19, 7, 34), -7),  # no weekday
        ("text-only-newsletter.eml", datetime(2025, 2, 6, 7, 30), -5),
        ("substack-post.eml", datetime(2025, 1, 27, 13, 5), 0),
    ],
)
def test_date_keeps_the_senders_time_zone(name: str, local: datetime, offset_hours: int) -> None:
    date = letter(name).date

    assert date is not None
    assert date.replace(tzinfo=None) == local  # not converted to UTC
    assert date.utcoffset() == timedelta(hours=offset_hours)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("Mon, 27 Jan 2025 13:05:00", datetime(2025, 1, 27, 13, 5, tzinfo=UTC)),  # no zone → UTC
        ("Mon, 27 Jan 2025 13:05:00 -0000", datetime(2025, 1, 27, 13, 5, tzinfo=UTC)),
        ("Mon, 27 Jan 2025 13:05:00 EST", datetime(2025, 1, 27, 13, 5, tzinfo=timezone(timedelta(hours=-5)))),
        ("Tue, 7 Jan 2003 13:26:53 +0800 (CST)", datetime(2003, 1, 7, 13, 26, 53, tzinfo=timezone(timedelta(hours=8)))),
        ("Mon, 1 Jan 2020 00:00:00 +9999", None),  # offset out of range
        ("2025-01-27T13:05:00Z", None),  # ISO 8601 is not RFC 5322
        ("not a date", None),
        ("", None),
    ],
)
def test_parse_date(value: str, expected: datetime | None) -> None:
    parsed = message.parse_date(value)

    assert parsed == expected
    if parsed is not None:
        assert parsed.utcoffset() == expected.utcoffset()  # type: ignore[union-attr]


def test_missing_date_header_gives_none() -> None:
    assert synthetic("From: a@example.com").date is None


# --- Bodies -------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "html_start", "text_start"),
    [
        ("substack-post.eml", "<!DOCTYPE html>", "View this post on the web at https://fieldnotes.substack.com/"),
        ("mailchimp-spamscope-13.eml", "<!doctype html>", "Upcoming Webinar – So, You Have A Disaster"),
        # multipart/alternative(text/plain, multipart/related(text/html, images)): the nested HTML is found
        ("emailsys-french-spamscope-5.eml", "<!DOCTYPE html PUBLIC", "Si ce message ne s'affiche pas"),
        ("text-only-newsletter.eml", None, "THE PLAINTEXT DISPATCH -- Issue 118"),
        ("personal-plain-no-ctype-flanker.eml", None, "Hello,\nI'm just testing message parsing"),  # no Content-Type
        ("gmail-forward-long-django-mailbox.eml", None, "Geralt takes up a contract sent out by Olgierd"),
    ],
)
def test_html_and_text_bodies_of_fixtures(name: str, html_start: str | None, text_start: str) -> None:
    parsed = letter(name)

    if html_start is None:
        assert parsed.html is None
    else:
        assert parsed.html is not None and parsed.html.startswith(html_start)
    assert parsed.text is not None and parsed.text.startswith(text_start)
    assert "<html" not in parsed.text.lower()


MIXED = """\
From: a@example.com
Content-Type: multipart/mixed; boundary="outer"

--outer
Content-Type: text/plain; charset=utf-8
Content-Disposition: attachment; filename="notes.txt"

attached file, not the body
--outer
Content-Type: multipart/alternative; boundary="inner"

--inner
Content-Type: text/plain; charset=utf-8

the plain body
--inner
Content-Type: text/html; charset=utf-8

<p>the html body</p>
--inner--
--outer
Content-Type: message/rfc822

From: b@example.com
Content-Type: text/html; charset=utf-8

<p>a forwarded message's html</p>
--outer--
"""


def test_bodies_skip_attachments_and_attached_messages() -> None:
    parsed = message.parse(MIXED.encode())

    assert parsed.text == "the plain body"
    assert parsed.html == "<p>the html body</p>"


def test_bodies_do_not_descend_into_an_attached_message() -> None:
    only_forward = MIXED.split("--outer\nContent-Type: multipart/alternative")[0] + MIXED.split("--inner--\n")[1]
    parsed = message.parse(only_forward.encode())

    assert parsed.html is None
    assert parsed.text is None  # the only text/plain is an attachment


# --- Newsletter signals -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("chinese-newsletter.eml", "List-Unsubscribe header"),
        ("emailsys-french-spamscope-5.eml", "List-Unsubscribe header"),  # no List-Id, Precedence: bulk
        ("mailchimp-spamscope-13.eml", "List-Unsubscribe header"),
        ("mailman-wine-announce-spamassassin.eml", "List-Unsubscribe header"),
        ("substack-post.eml", "List-Unsubscribe header"),
        ("text-only-newsletter.eml", "List-Unsubscribe header"),
        ("gbk-in-gb2312.eml", "List-Id header"),  # List-Id only
        ("conference-x-mac-cyrillic-issue230.eml", None),  # a real newsletter, but no list headers
        ("gb2312-raw-headers-spamassassin.eml", None),
        ("gmail-forward-long-django-mailbox.eml", None),
        ("personal-plain-no-ctype-flanker.eml", None),
    ],
)
def test_newsletter_reason_from_list_headers(name: str, reason: str | None) -> None:
    assert classify.newsletter_reason(letter(name)) == reason


def test_newsletter_reason_list_post_alone_counts() -> None:
    parsed = synthetic("From: a@example.com\nList-Post: <mailto:list@example.com>")

    assert classify.newsletter_reason(parsed) == "List-Post header"


@pytest.mark.parametrize(
    ("allow", "reason"),
    [
        (("*@marley.com",), "sender matches allow rule '*@marley.com'"),
        (("*@example.com", "bob@*"), "sender matches allow rule 'bob@*'"),
        (("bob@marley.co",), None),  # whole-address match, not a prefix
        (("*@example.com",), None),
        ((), None),
    ],
)
def test_newsletter_reason_allow_senders_for_a_personal_message(allow: tuple[str, ...], reason: str | None) -> None:
    assert classify.newsletter_reason(letter("personal-plain-no-ctype-flanker.eml"), allow) == reason


def test_newsletter_reason_prefers_list_headers_over_allow_rules() -> None:
    assert classify.newsletter_reason(letter("substack-post.eml"), ("*",)) == "List-Unsubscribe header"


@pytest.mark.parametrize(
    ("name", "platform"),
    [
        ("substack-post.eml", "substack"),
        ("mailchimp-spamscope-13.eml", "mailchimp"),
        ("mailman-wine-announce-spamassassin.eml", "mailing-list"),
        ("chinese-newsletter.eml", "newsletter"),
        ("text-only-newsletter.eml", "newsletter"),
        ("gbk-in-gb2312.eml", "newsletter"),
        ("emailsys-french-spamscope-5.eml", "newsletter"),
        ("conference-x-mac-cyrillic-issue230.eml", "newsletter"),
        ("personal-plain-no-ctype-flanker.eml", "newsletter"),
    ],
)
def test_detect_platform(name: str, platform: str) -> None:
    assert classify.detect_platform(letter(name)) == platform


def test_detect_platform_ignores_platform_names_in_the_subject() -> None:
    parsed = synthetic(
        "From: Sam <sam@dispatch.example.net>\nSubject: Why I moved off ConvertKit\nList-Id: <dispatch.example.net>"
    )

    assert classify.detect_platform(parsed) == "newsletter"


# --- Content hash -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["gb2312-raw-headers-spamassassin.eml", "substack-post.eml"])
def test_content_hash_is_the_same_for_crlf_and_lf_copies(name: str) -> None:
    lf = email_bytes(name).replace(b"\r\n", b"\n")
    crlf = lf.replace(b"\n", b"\r\n")

    assert lf != crlf
    assert message.content_hash(lf) == message.content_hash(crlf)
    assert message.parse(lf).content_hash == message.parse(crlf).content_hash


def test_content_hash_differs_for_different_messages() -> None:
    assert message.content_hash(b"Subject: a\n\nx\n") != message.content_hash(b"Subject: a\n\ny\n")


# --- decode_bytes -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "charset", "expected"),
    [
        pytest.param("王堃与朱镕基".encode("gbk"), "gb2312", "王堃与朱镕基", id="gb2312-label-gbk-bytes"),
        pytest.param("王堃".encode("gbk"), '"GB2312"', "王堃", id="quoted-upper-case-label"),
        pytest.param(b"caf\xe9 \x93quoted\x94", "us-ascii", "café “quoted”", id="us-ascii-label-cp1252-bytes"),
        pytest.param(b"\x80 5", "iso-8859-1", "€ 5", id="latin1-label-read-as-cp1252"),
        pytest.param("© 2019 Ж".encode(), "x-mac-cyrillic", "© 2019 Ж", id="unknown-label-utf8-bytes"),
        pytest.param("© 2019".encode(), "no-such-charset", "© 2019", id="made-up-label-utf8-bytes"),
        pytest.param(b"caf\xe9", "no-such-charset", "café", id="made-up-label-cp1252-bytes"),
        pytest.param("naïve".encode(), None, "naïve", id="no-label-utf8"),
        pytest.param("naïve".encode(), "utf8", "naïve", id="utf8-alias"),
        pytest.param(b"ok \xff", "utf-8", "ok \ufffd", id="invalid-utf8-replaced"),
        pytest.param(b"", "gb2312", "", id="empty"),
        pytest.param(b"a\x00b\x07c\x1bd\x7fe\x0bf\x0cg", "utf-8", "abcdefg", id="controls-stripped"),
        pytest.param(b"tab\there\nline\r\nend", "utf-8", "tab\there\nline\r\nend", id="tab-and-newlines-kept"),
        pytest.param(b"a\x00b", "us-ascii", "ab", id="nul-stripped-under-ascii-label"),
    ],
)
def test_decode_bytes(data: bytes, charset: str | None, expected: str) -> None:
    assert message.decode_bytes(data, charset) == expected


# Regression: codecs raising plain UnicodeError (idna, punycode) or ValueError (a NUL in the label)
# used to escape decode_bytes, so parse() raised.
@pytest.mark.parametrize(
    "raw",
    [
        pytest.param(b"Subject: =?idna?q?=80?=\n\nhi\n", id="idna-encoded-word"),
        pytest.param(b"Content-Type: text/plain; charset=idna\n\n\x80\n", id="idna-body"),
        pytest.param(b"Content-Type: text/plain; charset=punycode\n\n-\x80\n", id="punycode-body"),
        pytest.param(b'Content-Type: text/plain; charset="a\x00b"\n\nhi\n', id="nul-in-label"),
    ],
)
def test_parse_never_raises_on_hostile_charset_labels(raw: bytes) -> None:
    parsed = message.parse(raw)

    assert isinstance(parsed.subject, str)


# --- The shared corpus --------------------------------------------------------------------------------------------


def corpus_files() -> list[Path]:
    return sorted(p for p in CORPUS.rglob("*") if p.is_file() and p.name not in ("MANIFEST.tsv", "README.md"))


@pytest.mark.skipif(not CORPUS.is_dir(), reason=f"{CORPUS} is absent")
def test_parse_never_raises_on_the_shared_corpus() -> None:
    files = corpus_files()
    problems: list[str] = []
    for path in files:
        name = path.relative_to(CORPUS).as_posix()
        try:
            parsed = message.parse(path.read_bytes())
            classify.newsletter_reason(parsed, ("*@example.com",))
            classify.detect_platform(parsed)
            classify.publication_name(parsed)
        except Exception as exc:  # noqa: BLE001 - collect every failure, not just the first
            problems.append(f"{name}: {type(exc).__name__}: {exc}")
            continue
        if parsed.message_id and not (parsed.message_id.startswith("<") and parsed.message_id.endswith(">")):
            problems.append(f"{name}: message_id {parsed.message_id!r}")
        if parsed.date is not None and parsed.date.tzinfo is None:
            problems.append(f"{name}: naive date")
        for field in ("subject", "from_name", "html", "text"):
            value = getattr(parsed, field) or ""
            if CONTROL.search(value) or re.search("[\ud800-\udfff]", value):
                problems.append(f"{name}: control character or surrogate in {field}")

    assert files, f"no messages found under {CORPUS}"
    assert problems == []


def test_forward_found_after_a_very_long_rule_line() -> None:
    """A rule of 30,000 dashes before the forward block: found as before, in linear time (the marker
    regex used to backtrack over every start position in a run of dashes, quadratic)."""
    original = email_bytes("substack-gmail-forward.eml")
    marker = b"---------- Forwarded message"
    rule = b"=\n".join([b"-" * 75] * 400) + b"\n\n"
    padded = original.replace(marker, rule + marker, 1)
    assert padded != original
    before, after = message.parse(original), message.parse(padded)
    assert before.forwarded_by == after.forwarded_by == "liming@example.com"
    assert after.from_addr == before.from_addr == "mandu@substack.com"
