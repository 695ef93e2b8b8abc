"""Raw message bytes → `Newsletter`: decoded headers, the readable bodies, the original sender of a forward. Pure.

Declared charsets lie (a body labelled gb2312 holding GBK characters, 8-bit bytes in a us-ascii
part, unknown charset names): `decode_bytes` picks a codec that fits and never raises.
"""

from __future__ import annotations

import dataclasses
import email
import email.errors
import email.header
import email.parser
import email.policy
import email.utils
import functools
import hashlib
import html as htmllib
import itertools
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from email.message import Message

from ingester import charsets, identity
from ingester.parts import Attachment

# Labels whose real-world content is a superset encoding: decode with the superset.
CHARSET_SUPERSETS = {
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "x-gbk": "gb18030",
    "gb_2312-80": "gb18030",
    "euc-cn": "gb18030",
    "csgb2312": "gb18030",
    "chinese": "gb18030",
    "cp936": "gb18030",
    "big5": "big5hkscs",
    "x-big5": "big5hkscs",
    "ks_c_5601-1987": "cp949",
    "euc-kr": "cp949",
    "iso-8859-1": "cp1252",
    "latin1": "cp1252",
    "latin-1": "cp1252",
    "us-ascii": "ascii",
    "shift_jis": "cp932",
    "sjis": "cp932",
    "x-sjis": "cp932",
    "utf8": "utf-8",
}
# C0/C1 controls other than tab and newlines break HTML parsers and YAML; drop them.
CONTROL_CHARS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
# A header field is one line: a break decoded from an encoded-word (`=0A`) would fake lines in listings.
HEADER_BREAKS = re.compile("[\t\n\r\x0b\x0c\x85\u2028\u2029]+")
# What a codec may raise on hostile input or labels (idna raises UnicodeError, a NUL in a label ValueError).
CODEC_ERRORS = (UnicodeError, LookupError, ValueError)
LATIN_LABELS = frozenset({"cp1252", "windows-1252", "iso-8859-15", "latin-9", "ascii"})
# Raw 8-bit bytes inside a Q encoded-word (`=?utf-8?Q?Caf<C3><A9>?=`): kept as surrogate escapes by the
# parser, written back as the `=XX` they should have been.
Q_WORD = re.compile(r"=\?[^?\s]+\?[qQ]\?[^?\s]*\?=")
RAW_BYTE = re.compile("[\udc80-\udcff]")


@dataclass(frozen=True)
class RawMessage:
    """One message as the source delivered it.

    :ivar source: where it came from, as text for notes and errors (an IMAP URL or a file path)
    :ivar uid: IMAP UID (with `uidvalidity`, `account`, `folder`), or None for local files
    """

    raw: bytes
    source: str
    internaldate: datetime | None = None
    account: str = ""
    folder: str = ""
    uidvalidity: int = 0
    uid: int | None = None


@dataclass(frozen=True)
class Newsletter:
    """One parsed message with everything later stages need, already decoded to text.

    :ivar message_id: the Message-ID with angle brackets, or "" when the message has none
    :ivar content_hash: sha256 of the raw message with line endings normalised (identity fallback)
    :ivar date: the Date header as an aware datetime, or None when missing or unparsable
    :ivar html: the HTML body (first non-attachment text/html part), or None
    :ivar text: the plain text body (first non-attachment text/plain part), or None
    :ivar forwarded_by: the forwarder's address when the message is a forward; From, Subject and Date
        are then the original sender's (a forwarded newsletter is credited to its author)
    :ivar attachments: the other parts: attached files and inline images, in order
    :ivar as_sent: for a forward read from its body, the message as its real sender sent it: what
        `judge_forward` keeps when the forwarder is not the reader (a forged forward block)
    """

    message_id: str
    content_hash: str
    subject: str
    from_name: str
    from_addr: str
    date: datetime | None
    list_id: str
    list_post: str
    headers: tuple[tuple[str, str], ...]
    html: str | None
    text: str | None
    forwarded_by: str = ""
    attachments: tuple[Attachment, ...] = ()
    as_sent: Newsletter | None = None

    @property
    def key(self) -> str:
        """Identity in the ledger: the Message-ID, else the content hash."""
        return self.message_id or f"sha256:{self.content_hash}"

    @functools.cached_property
    def html_lower(self) -> str:
        """`html.lower()` ("" without HTML), made once: platform detection and the privacy scan both read it."""
        return (self.html or "").lower()

    def header(self, name: str) -> str:
        """First decoded value of a header kept in `headers` (case-insensitive), or ""."""
        lname = name.lower()
        return next((v for k, v in self.headers if k.lower() == lname), "")


def cap_header_lines(raw: bytes, max_chars: int) -> bytes:
    """Cut every header field (with its continuation lines) to `max_chars` before the stdlib parses it.

    The stdlib parses some structured headers in quadratic time and memory (a 280 KB
    Content-Transfer-Encoding of 20,000 encoded-words took gigabytes); real headers are far shorter.
    """
    split = re.search(rb"\r?\n\r?\n", raw)
    head, body = (raw[: split.start()], raw[split.start() :]) if split else (raw, b"")
    if len(head) <= max_chars:
        return raw
    fields = re.split(rb"(\r?\n)(?=[^ \t])", head)
    return b"".join(f[:max_chars] for f in fields) + body


def parse(raw: bytes, max_parts: int = 200, max_header_chars: int = 16_000) -> Newsletter:
    """Parse raw message bytes into a `Newsletter`; never raises on malformed input.

    At most `max_parts` MIME parts are looked at and header values are cut at `max_header_chars`
    before decoding (hostile input: thousands of parts, megabyte headers).
    """
    raw = cap_header_lines(raw, max_header_chars)
    # The legacy policy keeps headers as plain strings: we decode the few we need ourselves, and the
    # structured-header parser of `policy.default` is both slower and recursive (a Content-Type of
    # nested comments "((((…" raised RecursionError).
    try:
        msg = email.message_from_bytes(raw, policy=email.policy.compat32)
        charset = _body_charset(msg)
        html, text = bodies(msg, max_parts)
    except RecursionError:  # MIME nested thousands deep: the parser and the walk recurse per level
        msg = _flat(raw)
        charset = _body_charset(msg)
        html, text = bodies(msg, max_parts)
    first: dict[str, str] = {}  # each header decoded once: the first value of each name
    for key, value in msg.raw_items():
        if key.lower() not in first and len(first) < 200:
            first[key.lower()] = decode_header_value(str(value)[:max_header_chars], charset)
    names = {key.lower(): key for key in reversed(list(msg.keys()))}
    from_name, from_addr = parse_from(first.get("from", ""))
    kept = tuple((names[key], value) for key, value in first.items())
    letter = Newsletter(
        message_id=normalise_message_id(first.get("message-id", "")),
        content_hash=content_hash(raw),
        subject=" ".join(first.get("subject", "").split()),
        from_name=from_name,
        from_addr=from_addr,
        date=parse_date(first.get("date", "")),
        list_id=first.get("list-id", ""),
        list_post=first.get("list-post", ""),
        headers=kept,
        html=html,
        text=text,
        attachments=attachments(msg, max_parts),
    )
    return credit_original_sender(letter)


# "---------- Forwarded message ---------" (Gmail), "Begin forwarded message:" (Apple Mail),
# "-------- Original Message --------" (Thunderbird, Outlook), then a From:/Date:/Subject: block.
FORWARD_MARKER = re.compile(
    r"(?:(?<!-)-{3,}+\s*"
    r"(?:Forwarded message|Original Message|Weitergeleitete Nachricht|Message transféré|转发的邮件)\s*-{3,}"
    r"|Begin forwarded message:)",
    re.I,
)
# Blanks only within the line ([ \t], not \s): a field never spans lines, and a run of blank lines is scanned once.
FORWARD_FIELD = re.compile(r"^[ \t]*(From|Date|Sent|Subject)[ \t]*:[ \t]*(\S(?:[^\n]*\S)?)[ \t]*$", re.I | re.M)
FORWARD_SUBJECT = re.compile(r"^\s*(?:(?:fwd?|wg|tr|转发)\s*[:：]\s*)+", re.I)


def credit_original_sender(letter: Newsletter) -> Newsletter:
    """For a forward, the original From/Subject/Date; the forwarder goes to `forwarded_by`.

    Gmail's filter forwarding keeps the original From and adds `X-Forwarded-For: <forwarder> <to>`;
    a manual forward has an inline header block in the body.
    """
    auto = letter.header("X-Forwarded-For").split()
    if auto:
        return dataclasses.replace(letter, forwarded_by=auto[0].strip("<>").lower())
    raw_body = letter.text or letter.html or ""  # a cheap test first: the regex is slow over a long body
    if "---" not in raw_body and "orwarded message" not in raw_body:  # Gmail's and Apple's words
        return letter
    body = letter.text or visible_text(letter.html or "")
    marker = FORWARD_MARKER.search(body)
    if marker is None:
        return letter
    fields: dict[str, str] = {}
    for match in FORWARD_FIELD.finditer(body[marker.end() : marker.end() + 2000]):
        fields.setdefault(match.group(1).lower(), match.group(2))
    name, addr = parse_from(fields.get("from", ""))
    if not addr:
        return letter
    date = parse_date(fields.get("date", "")) or _loose_date(
        fields.get("date") or fields.get("sent", ""), letter.date.tzinfo if letter.date else None
    )
    text = letter.text
    if text is not None and (marker := FORWARD_MARKER.search(text)):
        # the article starts after the forward's header block (its first blank line)
        block_end = re.search(r"\n\s*\n", text[marker.end() :])
        text = text[marker.end() + block_end.end() :] if block_end else text
    return dataclasses.replace(
        letter,
        as_sent=letter,
        forwarded_by=letter.from_addr,
        from_name=name,
        from_addr=addr,
        text=text,
        subject=" ".join(fields.get("subject", "").split()) or FORWARD_SUBJECT.sub("", letter.subject),
        date=date or letter.date,
    )


LINE_BREAK_TAG = re.compile(r"<br\s*/?>|</(?:div|p|tr)>", re.I)
ANY_TAG = re.compile(r"<[^<>]+>")  # not `[^>]+`: a run of `<` without `>` would be scanned once per `<`


def visible_text(html: str) -> str:
    """Rough text of an HTML body, enough to find a forward header block (no HTML parser here)."""
    text = LINE_BREAK_TAG.sub("\n", html[:200_000])
    return htmllib.unescape(ANY_TAG.sub("", text))


def _loose_date(value: str, zone: tzinfo | None = None) -> datetime | None:
    """Gmail's forward block says "Thu, Dec 9, 2021 at 11:27 PM": the forwarder's local time, with no
    zone; the forward's own Date header is in that same zone."""
    match = re.search(r"([A-Z][a-z]{2}) (\d{1,2}), (\d{4})(?: at (\d{1,2}):(\d{2})\s*([AP]M)?)?", value)
    if not match:
        return None
    month, day, year, hour, minute, ampm = match.groups()
    try:
        stamp = datetime.strptime(f"{month} {day} {year}", "%b %d %Y")
    except ValueError:
        return None
    if hour:
        h = int(hour) % 12 + (12 if ampm == "PM" else 0) if ampm else int(hour)
        stamp = stamp.replace(hour=h, minute=int(minute))
    return stamp.replace(tzinfo=zone or UTC)


MESSAGE_ID_LINE = re.compile(rb"^message-id:[ \t]*(.*(?:\r?\n[ \t].*)*)", re.I | re.M)


def quick_key(raw: bytes) -> str:
    """The ledger key (`Newsletter.key`) read cheaply from the raw header block: no MIME parse.

    Used to skip already-filed messages before any work; the full parse confirms it later.
    """
    head = re.split(rb"\r?\n\r?\n", raw[:65536], maxsplit=1)[0]
    match = MESSAGE_ID_LINE.search(head)
    message_id = normalise_message_id(match.group(1).decode("ascii", "replace")) if match else ""
    return message_id or f"sha256:{content_hash(raw)}"


def _flat(raw: bytes) -> Message:
    """The message with its headers parsed and its whole body kept as plain text, for MIME nested deeper
    than the parser can go: nothing is lost, no part is interpreted."""
    msg = email.parser.BytesParser(policy=email.policy.compat32).parsebytes(raw, headersonly=True)
    del msg["Content-Type"]
    del msg["Content-Transfer-Encoding"]
    msg["Content-Type"] = "text/plain"
    return msg


def content_hash(raw: bytes) -> str:
    """sha256 of the message with CRLF normalised, so an IMAP copy and an mbox copy hash alike."""
    return hashlib.sha256(raw.replace(b"\r\n", b"\n")).hexdigest()


def decode_bytes(data: bytes, charset: str | None) -> str:
    """Decode body or header bytes whatever the label says; undecodable bytes become U+FFFD.

    Valid UTF-8 under a Western single-byte label is UTF-8 (the other reading is mojibake); bytes the
    label cannot decode, or decodes into no language ("Ïðèâåò"), are given to charset detection;
    mojibake in the result is repaired.
    """
    label = (charset or "").strip().strip("\"'").lower()
    codec = CHARSET_SUPERSETS.get(label, label) or "utf-8"
    first = ("utf-8", codec) if codec in LATIN_LABELS and not data.isascii() else (codec, "utf-8")
    for candidate in dict.fromkeys(first):
        try:
            text = charsets.reread(data, data.decode(candidate), candidate)
        except CODEC_ERRORS:
            continue
        return charsets.repair(CONTROL_CHARS.sub("", text))
    detected = charsets.detect(data)
    if detected:
        try:
            return charsets.repair(CONTROL_CHARS.sub("", data.decode(detected)))
        except CODEC_ERRORS:
            pass
    # 8-bit bytes under an ASCII or unknown label: Western mail is mostly Windows-1252, and cp1252
    # maps almost every byte to a character; otherwise keep the label and mark what doesn't fit.
    fallback = "cp1252" if codec == "ascii" else codec
    try:
        text = data.decode(fallback, errors="replace")
    except CODEC_ERRORS:
        text = data.decode("cp1252", errors="replace")
    return CONTROL_CHARS.sub("", text)


def _body_charset(msg: Message) -> str | None:
    """The first charset a text part declares: the best guess for raw 8-bit bytes in headers."""
    for part in itertools.islice(msg.walk(), 50):
        try:
            charset = part.get_content_charset()
        except CODEC_ERRORS:
            continue
        if charset and part.get_content_maintype() == "text":
            return charset
    return None


def decode_header_value(value: str, raw_charset: str | None = None) -> str:
    """Decode encoded-words and raw 8-bit bytes (kept as surrogate escapes by the parser).

    Raw bytes outside encoded-words are UTF-8 when they decode as such, else in `raw_charset`
    (the charset the message's text declares; 2003-era Chinese mail put GB2312 bytes there).
    """
    value = re.sub(r"\r?\n[ \t]", " ", value)
    if value.isascii() and "=?" not in value:  # no encoded-word, no raw byte: what the steps below leave of it
        return HEADER_BREAKS.sub(" ", CONTROL_CHARS.sub("", value)).strip()
    if RAW_BYTE.search(value):
        value = Q_WORD.sub(lambda word: RAW_BYTE.sub(lambda b: f"={ord(b.group()) - 0xDC00:02X}", word.group()), value)
    try:
        chunks = email.header.decode_header(value)
    except (ValueError, LookupError, AssertionError, email.errors.HeaderParseError):
        chunks = [(value, None)]
    parts = []
    for chunk, charset in chunks:
        if isinstance(chunk, str):
            chunk = chunk.encode("utf-8", "surrogateescape")
        if charset is None and not chunk.isascii():
            try:
                parts.append(CONTROL_CHARS.sub("", chunk.decode("utf-8")))
                continue
            except UnicodeDecodeError:
                # the charset the message's text declares, unless it is a Western default: then detect
                western = CHARSET_SUPERSETS.get((raw_charset or "").lower(), raw_charset) in LATIN_LABELS
                charset = (charsets.detect(chunk) if western or not raw_charset else None) or raw_charset
        parts.append(decode_bytes(chunk, charset))
    return HEADER_BREAKS.sub(" ", "".join(parts)).strip()


def judge_forward(letter: Newsletter, readers: Iterable[str]) -> Newsletter:
    """A forward found in the body credited to its original sender only when the forwarder is the reader
    (`readers`: usernames, `[newsletters] forwarders`; or in its own To). Anyone can write "From: …" in a
    body: from a stranger, the mail is judged by its real sender (allow_senders, rules, the author)."""
    if letter.as_sent is None:
        return letter
    trusted = {reader.lower() for reader in readers}
    trusted.update(identity.header_addresses(letter.header("To")))
    return letter if letter.forwarded_by in trusted else letter.as_sent


# `Name <addr>`: the name holds no `<` (a quoted one that does is left to the stdlib parser); greedy, and
# stripped afterwards, so no character is tried twice.
NAME_ADDR = re.compile(r"\A([^<]*)<([^<>@\s]+@[^<>\s]+)>\s*\Z")


def parse_from(value: str) -> tuple[str, str]:
    """(display name, lower-cased address) of a From header; tolerant of unquoted commas."""
    try:
        return _parse_from(value)
    except RecursionError:  # getaddresses recurses into nested comments "((((…"
        return "", next(iter(identity.bare_addresses(value)), "")


def _parse_from(value: str) -> tuple[str, str]:
    match = NAME_ADDR.match(value)
    if match:
        name = match.group(1).strip()
        if len(name) >= 2 and name[0] == name[-1] == '"':
            name = email.utils.unquote(name)
        return name.strip(), match.group(2).lower()
    for name, addr in email.utils.getaddresses([value]):
        if "@" in addr:
            return name.strip(), addr.lower()
    return value.strip(), ""


def parse_date(value: str) -> datetime | None:
    """The Date header as an aware datetime (UTC when the zone is missing), or None."""
    if not value:
        return None
    try:
        date = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    return date if date.tzinfo else date.replace(tzinfo=UTC)


def normalise_message_id(value: str) -> str:
    """`<id@host>` form, or "" for an empty or missing header."""
    value = value.strip()
    if not value:
        return ""
    match = re.search(r"<[^<>\s]+>", value)
    if match:
        return match.group(0)
    token = value.split()[0].strip("<>")
    return f"<{token}>" if token else ""


def bodies(msg: Message, max_parts: int = 200) -> tuple[str | None, str | None]:
    """(html, text): the first inline text/html and text/plain parts of the top-level message."""
    html = text = None
    for part in _parts(msg)[:max_parts]:
        ctype = part.get_content_type()
        if ctype not in ("text/html", "text/plain") or _is_attachment(part):
            continue
        if ctype == "text/html" and html is None:
            html = _payload_text(part)
        elif ctype == "text/plain" and text is None:
            text = _payload_text(part)
    return html, text


def attachments(msg: Message, max_parts: int = 200) -> tuple[Attachment, ...]:
    """Every leaf part but inline text (the bodies `bodies` reads, their alternatives, list footers)."""
    found: list[Attachment] = []
    for part in _parts(msg)[:max_parts]:
        ctype = part.get_content_type()
        if ctype in ("text/html", "text/plain") and not _is_attachment(part):
            continue
        data = part.get_payload(decode=True)
        try:
            filename = part.get_filename() or ""
        except (LookupError, ValueError, TypeError):
            filename = ""
        content_id = str(part.get("Content-ID", "")).strip().strip("<>")
        name = " ".join(decode_header_value(filename).split()) or content_id or "(no name)"
        data = data if isinstance(data, bytes) else b""
        found.append(
            Attachment(name[:200], ctype, len(data), bool(content_id) and not _is_attachment(part), content_id, data)
        )
    return tuple(found)


def _parts(msg: Message) -> list[Message]:
    """Leaf parts in order, not descending into attached messages (message/rfc822)."""
    if not msg.is_multipart():
        return [msg]
    leaves: list[Message] = []
    payload = msg.get_payload()
    for sub in payload if isinstance(payload, list) else []:
        if not isinstance(sub, Message) or sub.get_content_type() == "message/rfc822":
            continue
        leaves.extend(_parts(sub))
    return leaves


def _is_attachment(part: Message) -> bool:
    disposition = str(part.get("Content-Disposition", ""))
    return disposition.split(";")[0].strip().lower() == "attachment"


def _payload_text(part: Message) -> str:
    data = part.get_payload(decode=True)
    if not isinstance(data, bytes):
        data = str(part.get_payload()).encode("utf-8", "surrogateescape")
    try:
        charset = part.get_content_charset()
    except (ValueError, LookupError):
        charset = None
    return decode_bytes(data, charset)
