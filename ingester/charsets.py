"""Mislabelled text, recovered: the one module that imports charset-normalizer and ftfy. Pure.

`detect` is asked only when the declared charset cannot decode the bytes (or none is declared and
they are not UTF-8); `reread` when a label other than UTF-8 decodes them into text that reads as no
language does (Cyrillic bytes under a Western label: "Ïðèâåò"); `repair` only when the decoded text
carries the signature of mojibake (UTF-8 read as Windows-1252: "Ã©", "â€”"). A message that decodes
cleanly costs one pass of charset-normalizer's mess measure over its first characters.
"""

from __future__ import annotations

import re

import ftfy
from charset_normalizer import from_bytes
from charset_normalizer.md import mess_ratio

MIN_DETECT = 8  # 8-bit bytes: with fewer no detector is reliable (the label's own codec, replacing, is better)
MAX_DETECT = 64_000  # bytes looked at to detect a charset (a newsletter's first 64 kB say enough)
TIE = 0.01  # charset-normalizer's "chaos": candidates this close read the bytes equally well
MESS_CHARS = 20_000  # characters of a decoded text measured for mess (enough to judge, cheap: ~0.5 ms)
# charset-normalizer's mess ratio above which a reading is a misreading: text in any language and script
# read with its own charset measures < 0.06 (French and German with €, ©, – in Windows-1252 included);
# Cyrillic, Greek, Hebrew or Polish bytes read as Windows-1252 measure ≥ 1.
MISREAD = 0.15
# Single-byte Western code pages: on Western text they tie (é is 0xE9 in all), and where they differ
# (è is č in cp1250) Western mail means Windows-1252.
WESTERN = frozenset(
    {
        *("cp1250", "cp1252", "cp1254", "cp1257", "cp775", "cp850", "latin_1"),
        *("iso8859_1", "iso8859_2", "iso8859_3", "iso8859_4", "iso8859_9", "iso8859_10", "iso8859_13"),
        *("iso8859_14", "iso8859_15", "iso8859_16", "mac_roman", "mac_iceland", "mac_turkish", "mac_latin2"),
    }
)
# UTF-8 bytes read as Windows-1252 or Latin-1: a lead letter of a two- or three-byte sequence followed
# by a character that stands for a continuation byte (0x80-0xBF).
MOJIBAKE = re.compile(
    "[\u00c2-\u00df\u00e2\u00e3\u00e5\u00ef][\u0080-\u00bf\u0152\u0153\u0160\u0161\u0178\u017d\u017e\u0192"
    "\u02c6\u02dc\u2013\u2014\u2018-\u201e\u2020-\u2022\u2026\u2030\u2039\u203a\u20ac\u2122]"
)


def detect(data: bytes) -> str | None:
    """The charset the bytes are most likely in, or None when nothing reads them well (or too few
    bytes are 8-bit to tell)."""
    if sum(byte >= 0x80 for byte in data[:MAX_DETECT]) < MIN_DETECT:
        return None
    matches = list(from_bytes(data[:MAX_DETECT]))
    if not matches:
        return None
    tied = [match.encoding for match in matches if match.chaos <= matches[0].chaos + TIE]
    if all(encoding in WESTERN for encoding in tied):
        return "cp1252"
    return str(matches[0].encoding)


def reread(data: bytes, text: str, codec: str) -> str:
    """`data` as `text` (read with `codec`, without errors) or, when that is a misreading and another
    charset reads the bytes at least twice as well, as that charset reads them. Decided by how the text
    reads, not by which label it carries: every label but UTF-8 (valid UTF-8 is never a misreading)."""
    if codec == "utf-8" or sum(byte >= 0x80 for byte in data[:MAX_DETECT]) < MIN_DETECT:
        return text
    mess = mess_ratio(text[:MESS_CHARS], maximum_threshold=1.0)
    if mess <= MISREAD:
        return text
    best = from_bytes(data[:MAX_DETECT]).best()
    if best is None or best.chaos * 2 > mess:
        return text
    try:
        return data.decode(best.encoding)
    except (UnicodeDecodeError, LookupError):
        return text  # the first 64 kB read well, the rest does not: keep the label's reading


def repair(text: str) -> str:
    """Text with UTF-8-read-as-Latin-1 mojibake undone (ftfy), when it shows any; else unchanged."""
    if not MOJIBAKE.search(text):
        return text
    return str(ftfy.fix_encoding(text))
