"""Offline decoders of click-tracking wrappers that carry their destination inside the URL.

Each decoder reads a split URL (`links.SplitUrl`: host, path and parameters as written) and returns the
destination or None; `decode` turns garbage in a wrapper (bad base64, zlib, JSON, UTF-8) into None too.
Which decoder applies to which host and path is rule data (`data/ingester.json`, "wrappers"), and
`links` checks every result again (`absolute_http`) and classifies it before using it. Pure, offline.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import string
import zlib
from collections.abc import Callable
from urllib.parse import unquote

from ingester.links.url import SplitUrl

_ABSOLUTE_HTTP = re.compile(r"https?://[^\s/?#]+\S*", re.I)
_PROOFPOINT_V3 = re.compile(r"/v3/__(.+?)__;([A-Za-z0-9_-]*)!")
# Proofpoint v3 writes a run of n replaced characters as `**` and the (n-2)th character of this alphabet.
_PROOFPOINT_RUNS = {
    c: n + 2 for n, c in enumerate(string.ascii_uppercase + string.ascii_lowercase + string.digits + "-_")
}
_SENDGRID_ESCAPE = re.compile(r"-([0-9A-F]{2})")


def decode(name: str, u: SplitUrl) -> str | None:
    """The destination the wrapper `name` (a key of `DECODERS`) holds in `u`, or None."""
    try:
        return DECODERS[name](u)
    except (ValueError, TypeError, KeyError, IndexError, AttributeError, zlib.error, binascii.Error):
        return None


def absolute_http(text: str | None) -> str | None:
    """`text` if it is an absolute http(s) URL: the only results a decoder may return."""
    text = text.strip() if text else None
    return text if text and _ABSOLUTE_HTTP.fullmatch(text) else None


def _b64(text: str) -> bytes:
    """Standard or URL-safe base64, padding optional."""
    text = text.strip().replace("-", "+").replace("_", "/").rstrip("=")
    return base64.b64decode(text + "=" * (-len(text) % 4), validate=True)


def b64_text(text: str) -> str | None:
    """Base64 (`_b64`) of UTF-8 text, or None."""
    try:
        return _b64(text).decode("utf-8")
    except (ValueError, binascii.Error):
        return None


def inflated_text(text: str) -> str | None:
    """Base64url of zlib of UTF-8 text (Mailgun's `eJ…` tokens: "eJ" is a zlib header), or None."""
    try:
        return zlib.decompress(_b64(text)).decode("utf-8")
    except (ValueError, binascii.Error, zlib.error):
        return None


def b32_text(text: str) -> str | None:
    """Base32 of UTF-8 text, in either case (Blendle writes it lower-case), padding optional; or None."""
    text = text.strip().upper().rstrip("=")
    try:
        return base64.b32decode(text + "=" * (-len(text) % 8)).decode("utf-8")
    except (ValueError, binascii.Error):
        return None


def _text(value: object) -> str | None:
    """A decoded JSON value, if it is a string."""
    return value if isinstance(value, str) else None


def _substack_redirect_2(u: SplitUrl) -> str | None:
    """`/redirect/2/<base64url JSON>.<signature>`: `e` is the destination."""
    return _text(json.loads(_b64(u.path.removeprefix("/redirect/2/").partition("/")[0].partition(".")[0]))["e"])


def _mailgun(u: SplitUrl) -> str | None:
    """`/c/eJ…`: base64url → zlib → a query string whose `l` is the destination (`r` is the recipient)."""
    payload = zlib.decompress(_b64(u.path[3:].partition("/")[0])).decode("utf-8")
    return next((unquote(v) for k, _, v in (p.partition("=") for p in payload.split("&")) if k == "l"), None)


def _substack_open(u: SplitUrl) -> str | None:
    """`open.substack.com/pub/<pub>/<rest>` → `https://<pub>.substack.com/<rest>`, query and fragment kept."""
    _, _, pub, rest = u.path.split("/", 3)
    if not re.fullmatch(r"[A-Za-z0-9-]+", pub):
        return None
    return f"https://{pub.lower()}.substack.com/{rest}" + u.text[len(u.head) :]


def _substack_app_link(u: SplitUrl) -> str | None:
    """Keep only `publication_id` and `post_id`: the rest is the reader's token and UI state."""
    kept = [f"{k}={v}" for k, v in u.pairs if k in ("publication_id", "post_id")]
    return u.rebuild(kept) if kept else None


def _kit(u: SplitUrl) -> str | None:
    """Kit/ConvertKit: the destination is base64 in the last path segment(s); standard base64 may hold `/`."""
    segments = [s for s in u.path.split("/") if s]
    candidates = ("/".join(segments[2:]), segments[-1] if segments else "")
    return next((t for c in candidates if (t := absolute_http(b64_text(c)))), None)


def _buttondown(u: SplitUrl) -> str | None:
    """`/c/<base64url>`: fields separated by `|`, the destination last."""
    fields = (b64_text(u.path[3:].partition("/")[0]) or "").split("|")
    return next((f for f in reversed(fields) if absolute_http(f)), None)


def _url_param(u: SplitUrl) -> str | None:
    """Outlook Safe Links, Medium `/r/`: the `url` parameter, which Safe Links may encode twice."""
    value = u.param("url")
    for _ in range(2):
        if value is None or absolute_http(value):
            break
        value = unquote(value)
    return value


def _mandrill(u: SplitUrl) -> str | None:
    """`p` is base64 JSON whose `p` is a JSON string holding the `url`."""
    return _text(json.loads(json.loads(_b64(u.param("p") or ""))["p"])["url"])


def _proofpoint_v2(u: SplitUrl) -> str | None:
    """`u=https-3A__example.com_a`: `-XX` is `%XX` and `_` is `/`."""
    return unquote((u.param("u") or "").replace("-", "%").replace("_", "/"))


def _proofpoint_v3(u: SplitUrl) -> str | None:
    """`/v3/__<url>__;<base64>!…`: each `*` (or `**` + run letter) stands for characters kept in the base64."""
    match = _PROOFPOINT_V3.search(u.text)
    replaced = (b64_text(match.group(2)) if match.group(2) else "") if match else None
    if match is None or replaced is None:
        return None
    encoded, out, used, i = match.group(1), [], 0, 0
    while i < len(encoded):
        if encoded.startswith("**", i) and encoded[i + 2 : i + 3] in _PROOFPOINT_RUNS:
            n, i = _PROOFPOINT_RUNS[encoded[i + 2]], i + 3
        elif encoded[i] == "*":
            n, i = 1, i + 1
        else:
            out.append(encoded[i])
            i += 1
            continue
        out.append(replaced[used : used + n])
        used += n
    return "".join(out) if used <= len(replaced) else None


def _sendgrid_upn(u: SplitUrl) -> str | None:
    """Legacy SendGrid `upn=`: base64 with `-XX` escapes. Current ones are encrypted and fail here."""
    upn = _SENDGRID_ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), u.param("upn") or "")
    return b64_text(upn.partition("_")[0])


def _sailthru(u: SplitUrl) -> str | None:
    """Sailthru (`link.<domain>/click/<n>.<n>/<base64url>/<signature>`: Axios, Bloomberg)."""
    return b64_text(u.path.split("/")[3])


def _base64_segment(u: SplitUrl) -> str | None:
    """Any sender (Mailjet's `/lnk/<ids>/<base64url>`): a path segment that is the base64 or base64url of a
    whole absolute http(s) URL is the destination. Base64 of "http" starts "aHR0"; the decoded text must be
    one URL and nothing else, so an ordinary segment never decodes to one."""
    segments = (unquote(s) for s in u.path.split("/") if s.startswith("aHR0"))
    return next((t for s in segments if (t := absolute_http(b64_text(s)))), None)


DECODERS: dict[str, Callable[[SplitUrl], str | None]] = {
    "substack-redirect-2": _substack_redirect_2,
    "mailgun": _mailgun,
    "substack-open": _substack_open,
    "substack-app-link": _substack_app_link,
    "kit": _kit,
    "buttondown": _buttondown,
    "outlook-safelinks": _url_param,
    "medium-redirect": _url_param,
    "mandrill": _mandrill,
    "proofpoint-v2": _proofpoint_v2,
    "proofpoint-v3": _proofpoint_v3,
    "sendgrid-upn": _sendgrid_upn,
    "sailthru": _sailthru,
    "base64-segment": _base64_segment,
}
