"""Who the reader of a message is, and every form in which senders write it. Pure.

The reader is known by principle, not by sender: the addresses the message was delivered to
(Delivered-To, X-Original-To, To unless it is the list's own address), the account usernames and the
`[privacy] identities` of the config; the display names those headers give the reader are replaced in
a salutation only ("Goeiemiddag Lucas,"), never in the article. From each address, once per message,
the forms trackers put in links are derived: plain, %-encoded, hex, base64 (standard and URL-safe, at
each of the three byte alignments, so an address inside a longer base64 value is found too) and the
MD5, SHA-1 and SHA-256 hex of the lower-cased address. `links.personal` looks for them in URLs,
`redact_text` in the note's text.
"""

from __future__ import annotations

import base64
import hashlib
import re
from dataclasses import dataclass, replace
from email.utils import getaddresses
from functools import lru_cache
from urllib.parse import quote, unquote, unquote_plus

MARK = "[reader]"  # what the reader's address or name becomes in a note
ENCODED_MARK = quote(MARK, safe="")
# Starts only where a run of address characters starts, and never gives characters back: linear.
ADDRESS = re.compile(r"(?<![A-Za-z0-9._%+'-])[A-Za-z0-9._%+'-]++@[A-Za-z0-9-]++(?:\.[A-Za-z0-9-]++)+")
MIN_SHARED = 6  # a value shared with the unsubscribe link identifies the reader from this length on
# An id, not words: one token (letters, digits, `_=+.~-`) with a digit and no word in it, or a long one.
# "newsletter" or "100_fuellbild_prospekte.png" in two URLs says nothing about the reader.
_TOKEN = re.compile(r"[A-Za-z0-9_=+.~-]+")
_WORD = re.compile(r"[A-Z]?[a-z]{4,}")
_FILE_NAME = re.compile(r"\.[A-Za-z][A-Za-z0-9]{1,4}$")
_PARTS = re.compile(r"[-_.~]")
_HEX = re.compile(r"[0-9a-f]+|[0-9A-F]+")
LONG_ID = 28
_CASE_RUNS = re.compile(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])")  # "zVyFumr" → z, Vy, Fumr; "WeeklyDigest" → Weekly, Digest
# A display name a person could have: letters first, then letters, spaces, dots, hyphens, apostrophes.
_DISPLAY_NAME = re.compile(r"[^\W\d_][^\W\d_ .'’-]*(?:[ .'’-]{1,2}[^\W\d_]+){0,4}\.?")
# The ids of an unsubscribe address are the tokens of its local part ("unsub-d218cfa36e" → d218cfa36e).
_LOCAL_PART_SEPARATORS = re.compile(r"[-+._=]")
# A List-Unsubscribe entry: <url>; without the brackets some senders write a bare URL.
_HEADER_URL = re.compile(r"<((?:https?|mailto):[^<>\s]+)>|(?<![<\w])((?:https?|mailto):[^\s,<>]+)", re.I)


def _is_words(value: str) -> bool:
    """A slug or file name: mostly words ("here-s-how-to-fix-twitter-79632ecb", "issue-37-four-seasons")."""
    parts = _PARTS.split(value)
    words = [p for p in parts if len(p) >= 3 and p.isalpha()]
    return (len(words) >= 2 and sum(map(len, words)) * 2 >= len(value) - len(parts) + 1) or (
        len(parts) == 1 and value.isalpha()
    )


def id_like(value: str, min_length: int = MIN_SHARED) -> bool:
    """An opaque id (per reader or per click), not a slug or a file name made of words."""
    if len(value) < min_length or not _TOKEN.fullmatch(value):
        return False
    if _HEX.fullmatch(value) and not value.isdigit() and any(c.isdigit() for c in value):
        return True  # hex with digits and letters: "85a4c1edbc" holds no word, whatever "edbc" looks like
    if value.isalpha() and _random_case(value):
        return True  # letters only, but their case changes at random: "zVyFumr", not "WeeklyDigest" or "eBay"
    if _is_words(value):
        return False
    words = _WORD.search(value) is not None
    if len(value) >= LONG_ID:
        return not (words and _FILE_NAME.search(value))  # "Gesine_Schwan_NL01_cHans-Christian.jpg" is a file
    return any(c.isdigit() for c in value) and not words


def _random_case(value: str) -> bool:
    """Letters whose case changes where no word starts: three or more runs, two of them one or two letters long."""
    runs = _CASE_RUNS.findall(value)
    return len(runs) >= 3 and sum(len(run) <= 2 for run in runs) >= 2


@dataclass(frozen=True)
class Reader:
    """The reader of one message and the forms their identity takes.

    :ivar addresses: the reader's addresses, lower-cased
    :ivar names: the reader's name(s) and bare usernames (no "@"), as configured
    :ivar folded: needles compared case-insensitively (addresses plain and %-encoded, hex, hashes), lower-cased
    :ivar exact: needles compared as written (base64 forms)
    :ivar shared: ids (≥ 6 characters) of the message's unsubscribe URLs and open pixels: shared with another
        link, personal
    :ivar redact_names: replace the names in the text too (`[privacy] redact_names`)
    :ivar greeted: the reader's display names in the message's headers (To: "Lucas" <…>) and their first
        words: replaced in a salutation line ("Hi Lucas,"), whatever `redact_names` says
    """

    addresses: tuple[str, ...] = ()
    names: tuple[str, ...] = ()
    folded: tuple[str, ...] = ()
    exact: tuple[str, ...] = ()
    shared: frozenset[str] = frozenset()
    redact_names: bool = False
    greeted: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.addresses or self.names or self.shared)

    def with_shared(self, urls: list[str], the_list: str = "", pixels: tuple[str, ...] = ()) -> Reader:
        """This reader, knowing the ids the message's unsubscribe URLs and open pixels carry; ids that
        `the_list` (the List-Id and sender, real images) holds name the list, not the reader (Mailchimp's
        account and list ids)."""
        found = set(self.shared)
        lowered = the_list.lower()
        for ids in (*map(unsubscribe_ids, urls), *map(pixel_ids, pixels)):
            found.update(i for i in ids if i.lower() not in lowered)
        return replace(self, shared=frozenset(found))

    def in_value(self, value: str) -> str:
        """What of the reader `value` holds (a URL part, as written): "address", "name" or ""."""
        lowered = value.lower()  # substring tests: much faster than one alternation of the forms
        if any(n in lowered for n in self.folded) or any(n in value for n in self.exact):
            return "address"
        if "%" in value or "+" in value:
            lowered = unquote_plus(lowered)
            if any(n in lowered for n in self.folded):
                return "address"
        if self.names and lowered.strip() in _folded_names(self.names):
            return "name"
        return ""


@lru_cache(maxsize=64)
def _folded_names(names: tuple[str, ...]) -> frozenset[str]:
    return frozenset(n.lower() for n in names)


def reader_of(headers: list[tuple[str, str]], list_addresses: tuple[str, ...], identities: tuple[str, ...]) -> Reader:
    """The reader of a message from its headers (name, value) and the configured identities.

    `list_addresses` are the list's own addresses (its List-Post, From): a To naming the list is not the reader.
    """
    addresses: dict[str, None] = {}
    names: dict[str, None] = {}
    for identity in identities:
        identity = identity.strip()
        if ADDRESS.fullmatch(identity):
            addresses[identity.lower()] = None
        elif len(identity) >= 3:
            names[identity] = None
    not_reader = {a.lower() for a in list_addresses if a}
    greeted: dict[str, None] = {}
    for name, value in headers:
        if name.lower() not in ("delivered-to", "x-original-to", "to"):
            continue
        for display, address in header_pairs(value):
            if ADDRESS.fullmatch(address) and address not in not_reader:
                addresses[address] = None
                greeted.update(dict.fromkeys(display_names(display)))
    return replace(derive(tuple(addresses), tuple(names)), greeted=tuple(greeted))


def display_names(display: str) -> list[str]:
    """The names a salutation may use for a display name: itself and its first word ("Lucas Luitjes" →
    "Lucas Luitjes", "Lucas"); none when it is not a person's name (an address, digits, symbols)."""
    display = display.strip().strip("\"'")
    if len(display) < 2 or not _DISPLAY_NAME.fullmatch(display):
        return []
    first = re.split(r"[ .]", display, maxsplit=1)[0]
    return list(dict.fromkeys(n for n in (display, first) if len(n) >= 2))


def header_pairs(value: str) -> list[tuple[str, str]]:
    """(display name, lower-cased address) of an address header; see `header_addresses`."""
    try:
        pairs = getaddresses([value])
    except RecursionError:
        return [("", a) for a in bare_addresses(value)]
    return [(display, address.strip().lower()) for display, address in pairs if address.strip()]


def header_urls(value: str) -> list[str]:
    """The http(s) and mailto URLs of a List-Unsubscribe header, bracketed or (as some senders write) bare."""
    return [m.group(1) or m.group(2) for m in _HEADER_URL.finditer(value)]


def header_addresses(value: str) -> list[str]:
    """The lower-cased addresses of an address header (To, Delivered-To). Anyone can write the header:
    nested comments "((((…" make the stdlib parser recurse past the limit, so those are read as bare
    addresses instead."""
    return [address for _, address in header_pairs(value)]


def bare_addresses(text: str) -> list[str]:
    """The lower-cased addresses written anywhere in `text`, without parsing it as a header."""
    return [match.lower() for match in ADDRESS.findall(text)]


def derive(addresses: tuple[str, ...], names: tuple[str, ...] = (), redact_names: bool = False) -> Reader:
    """A `Reader` with every encoded form of `addresses` worked out (once per message)."""
    folded: dict[str, None] = {}
    exact: dict[str, None] = {}
    for address in addresses:
        raw = address.encode("utf-8")
        for form in (
            address,
            quote(address, safe=""),
            quote(quote(address, safe=""), safe=""),
            raw.hex(),
            hashlib.md5(raw).hexdigest(),  # noqa: S324 - what trackers use, not a security hash here
            hashlib.sha1(raw).hexdigest(),  # noqa: S324
            hashlib.sha256(raw).hexdigest(),
        ):
            folded[form.lower()] = None
        for form in _base64_forms(raw):
            exact[form] = None
    return Reader(tuple(addresses), tuple(names), tuple(folded), tuple(exact), frozenset(), redact_names)


def _base64_forms(raw: bytes) -> list[str]:
    """The base64 characters that encode `raw` alone, at each alignment, in both alphabets.

    Inside a longer base64 value, the address starts at byte offset k (mod 3); the characters fully
    inside it are the same whatever surrounds it.
    """
    forms = []
    for k in range(3):
        encoded = base64.b64encode(b"\0" * k + raw).decode("ascii").rstrip("=")
        start, end = -(-8 * k // 6), 8 * (k + len(raw)) // 6
        form = encoded[start:end]
        if len(form) >= 8:
            forms += [form, form.replace("+", "-").replace("/", "_")]
    return forms


def url_values(url: str) -> list[str]:
    """The path segments and query values of a URL, %-decoded (where ids sit); of a mailto URL, the tokens
    of the address's local part, as a path's segments."""
    head, _, query = url.partition("?")
    if head[:7].lower() == "mailto:":
        local = unquote(head[7:]).rpartition("@")[0]
        parts = [local, *_LOCAL_PART_SEPARATORS.split(local)]
    else:
        path = head.split("//", 1)[-1].partition("/")[2]
        parts = [s for s in path.split("/") if s]
    parts += [v for p in query.partition("#")[0].split("&") for v in (p.partition("=")[2],) if v]
    return [unquote(p) for p in parts]


def unsubscribe_ids(url: str) -> set[str]:
    """The id-like query values and path segments of an unsubscribe URL (what it shares with other links)."""
    return {plain for plain in url_values(url) if id_like(plain)}


def pixel_ids(url: str) -> set[str]:
    """The ids of an open-tracking pixel: every value that may be one (`opaque_values`: random base64 such as
    "e9fuRh14Q6-svuwZFExOBw" holds letters `id_like` takes for a word), but its file name ("ho.gif"). A pixel
    has no other use than telling who opened: what it carries is about the reader (or the send)."""
    return {v for v in opaque_values(url) if not _FILE_NAME.search(v)}


def opaque_values(url: str) -> set[str]:
    """Every value of a URL that may be an id (one token of MIN_SHARED characters or more, not words), a
    looser net than `id_like` ("c84ddcbb09" is one): what a URL must share with another to be the same one."""
    return {v for v in url_values(url) if len(v) >= MIN_SHARED and _TOKEN.fullmatch(v) and not _is_words(v)}


def redact_text(text: str, reader: Reader) -> tuple[str, int]:
    """`text` with the reader's addresses (plain or %-encoded, so mailto bodies too), their display name
    in a salutation, a name addressed with a title at the top ("Liebe Frau Rucker,") and, when asked, names
    replaced by `MARK`; and how many were replaced."""
    greeted = 0
    if reader.greeted:
        text, greeted = _salutation(reader.greeted).subn(lambda m: m.group(1) + MARK, text)
        # a subject or line that opens by addressing the reader: "Lucas, here's what you missed"
        text, named = _addressing(reader.greeted).subn(MARK, text)
        greeted += named
    top, rest = text[:SALUTATION_REACH], text[SALUTATION_REACH:]
    top, titled = ADDRESSED.subn(lambda m: m.group(1) + MARK, top)
    text, greeted = top + rest, greeted + titled
    needles = [re.escape(a) for a in reader.addresses]
    needles += [re.escape(quote(a, safe="")) for a in reader.addresses]
    if reader.redact_names:
        needles += [rf"\b{re.escape(n)}\b" for n in reader.names]
    if not needles:
        return text, greeted
    pattern = re.compile("|".join(sorted(needles, key=len, reverse=True)), re.I)
    # %-encoded, it was inside a URL (a mailto body): the mark is %-encoded too, so the URL stays one
    text, replaced = pattern.subn(lambda m: ENCODED_MARK if "%" in m.group(0) else MARK, text)
    return text, greeted + replaced


# A salutation line near the top that names a person by their title ("Liebe Frau Rucker,", "Dear Dr. Okafor,",
# "Bonjour Madame Durand,"): the mail went to one reader, so the name after the title is theirs, whatever the
# headers say (most senders keep the name in their own list, not in To). One to three words before the title,
# a capitalised name of one or two words after it, then punctuation at most, alone on its line.
SALUTATION_REACH = 1500  # characters of the article's start where a salutation stands
ADDRESSED = re.compile(
    r"^([ \t>*_#]*+(?:[^\W\d_][\w'’-]*+[,:!]?[ \t]++){1,3}"
    r"(?:(?:Frau|Herr|Mr|Mrs|Ms|Mx|Miss|Dr|Prof|Madame|Monsieur|Mme|Mlle|Señora|Señor|Sra|Sr|Signora|Signor|Sig|"
    r"Mevrouw|Meneer|Dhr|Mevr)\.?[ \t]++){1,3})"
    r"[A-ZÀ-ÖØ-Þ][\w'’-]*+(?:[ \t-][A-ZÀ-ÖØ-Þ][\w'’-]*+)?(?=[ \t]*+[,!.:;]?[ \t*_\\]*+$)",
    re.M,
)


@lru_cache(maxsize=64)
def _addressing(names: tuple[str, ...]) -> re.Pattern[str]:
    """One of `names` opening a line, then a comma: the sender's merge field addressing the reader."""
    alternatives = "|".join(re.escape(n) for n in sorted(names, key=len, reverse=True))
    return re.compile(rf"^(?:{alternatives})(?=[ \t]*+[,，])", re.I | re.M)


@lru_cache(maxsize=64)
def _salutation(names: tuple[str, ...]) -> re.Pattern[str]:
    """A salutation line ending in one of `names`: one to four words before it ("Hi", "Goeiemiddag",
    "Dear Mx"), then punctuation at most ("Hi Lucas,", "**Hello Lucas!**"). A name within a sentence
    of the article is no salutation, and stays."""
    alternatives = "|".join(re.escape(n) for n in sorted(names, key=len, reverse=True))
    return re.compile(
        rf"^([ \t>*_#]*+(?:[^\W\d_][\w'’-]*+[,:!.]?[ \t]++){{1,4}})(?:{alternatives})(?=[ \t]*+[,!.:;]?[ \t*_\\]*+$)",
        re.I | re.M,
    )
