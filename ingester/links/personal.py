"""The personal parts of a URL: what identifies the reader or logs them in, by principle. Pure, offline.

Looked for in every query value, path segment and fragment of a URL already cleaned by `engine`:

- **the reader** (`identity.Reader`): their address in any form trackers use (compressed too), their name or
  username;
- **credentials**: parameters whose name says they log in or hold a session (autologin, access_token,
  auth, session, magic links, one-time tokens…) and any signed claim, whatever its parameter's name: a
  value that is a base64url JSON object (`eyJ…`), alone or as a part of a dotted token (a JSON Web Token,
  or Substack's `payload.signature`): a statement about the reader that the sender signed;
- **referral codes**: an id-like value of a parameter whose name says it refers (`source_referral`,
  `referral_code`): in a mail to one reader, the code a share credits is the reader's;
- **ids shared with the unsubscribe URL** (≥ 6 characters, id-like): the sender's id for this reader;
- **redirect targets** written in a value (plain, %-encoded, base64, base32, hex) that hold any of the
  above, or in a signed claim: in a query value the parameter goes, in a path segment the link becomes
  its target, cleaned.

Query parameters are removed. A personal path segment, fragment or redirect target cannot be removed
without breaking the link: then the whole link is personal ("reader" and "credential" ones never reach
a note; ids shared with the unsubscribe link follow `[links] personal`).
"""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import unquote

from ingester.identity import Reader, id_like
from ingester.links.url import SplitUrl, split
from ingester.links.wrappers import b32_text, b64_text, inflated_text

JWT = re.compile(r"eyJ[A-Za-z0-9_-]{4,}\.eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*")
# Words of a parameter name that say it logs in or holds a session ("access_token" → access, token).
CREDENTIAL_WORDS = frozenset(
    {"autologin", "autolog", "login", "logintoken", "auth", "authtoken", "authkey", "session", "sessionid",
     "sessid", "magic", "magiclink", "otp", "onetime", "passcode", "password", "passwd", "apikey", "jwt", "sso",
     "accesstoken", "idtoken", "refreshtoken", "bearer", "signin", "nonce"}
)  # fmt: skip
# Words of a parameter name that say it carries a referral code: in a mail sent to one reader, the code that
# credits a share to someone is the reader's own ("source_referral=usr_9c2c…", "referral_code=…"). A bare
# "ref" is not one of them: it names a branch, a campaign word or a host on other sites.
REFERRAL_WORDS = frozenset({"referral", "referrer", "referer", "refcode", "referralcode", "referralid", "invitecode"})
TOKEN_PARTNERS = frozenset({"access", "id", "refresh", "login", "auth", "magic", "one", "time", "bearer", "session"})
_WORDS = re.compile(r"[A-Z]?[a-z0-9]+|[A-Z]+(?![a-z])")
_B64 = re.compile(r"[A-Za-z0-9+/_-]{12,}={0,2}")
_HEX = re.compile(r"(?:[0-9a-fA-F]{2}){8,}")
_FILE = re.compile(r"\.(?:png|jpe?g|gif|webp|svg|pdf|html?|css|js|mp[34])$", re.I)  # a file, not an id
_UUID = re.compile(r"[0-9a-fA-F]{8}(?:-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12}")
_HTTP = re.compile(r"https?://", re.I)
REDIRECT = "redirect target holds "
CLAIM_REDIRECT = "a signed claim holding the destination "  # a wrapper's payload: go there, cleaned
# A target starts a value: plain, base64, hex, base32 ("http" is NB2HI4 in base32, upper or lower case)
_TARGET_STARTS = frozenset({"http", "HTTP", "Http", "aHR0", "6874", "nb2h", "NB2H"})
_BASE32 = re.compile(r"(?:nb2hi4[a-z2-7]{14,}|NB2HI4[A-Z2-7]{14,})={0,6}")
# One part of a dotted token that is base64url JSON: "eyJ" is base64 for `{"`.
_CLAIM_PART = re.compile(r"eyJ[A-Za-z0-9_+/-]{2,}={0,2}")


@dataclass(frozen=True)
class Personal:
    """What `find` saw in one URL.

    :ivar url: the URL without its personal query parameters (and fragment)
    :ivar removed: names of the parameters removed
    :ivar why: one line per finding, for `explain`
    :ivar link: "" when the URL is now clean; "credential" or "reader" when the link itself holds a
        credential or the reader's identity (never in a note); "shared" when it holds an id it shares with
        the unsubscribe link (`[links] personal` decides); "redirect" when its path holds a redirect to a
        personal `target` (the link becomes the target, cleaned, or else is a credential)
    """

    url: str
    removed: tuple[str, ...]
    why: tuple[str, ...]
    link: str
    target: str = ""  # a redirect target written in a removed parameter, that held something personal


@lru_cache(maxsize=4096)
def credential_name(name: str) -> bool:
    """A parameter name that says it logs in or holds a session (case and separators ignored)."""
    words = [w.lower() for w in _WORDS.findall(name)]
    joined = "".join(words)
    if joined in CREDENTIAL_WORDS or any(w in CREDENTIAL_WORDS for w in words):
        return True
    return "token" in words and not TOKEN_PARTNERS.isdisjoint(words)


@lru_cache(maxsize=4096)
def referral_name(name: str) -> bool:
    """A parameter name that says it carries a referral code (case and separators ignored)."""
    words = [w.lower() for w in _WORDS.findall(name)]
    return "".join(words) in REFERRAL_WORDS or any(w in REFERRAL_WORDS for w in words)


def find(url: str, reader: Reader | None, parts: SplitUrl | None = None) -> Personal | None:
    """The personal parts of `url` (`parts`: it split, if the caller has it), or None when it has none."""
    u = parts or split(url)
    if u is None or not may_hold(url, reader):
        return None
    removed: list[str] = []
    why: list[str] = []
    kept: list[str] = []
    target = ""
    for piece in (u.query or "").split("&") if u.query else ():
        name, _, value = piece.partition("=")
        found = _param(name, value, reader)
        if found:
            removed.append(name)
            why.append(f"{name}: {found}")
            if found.startswith((REDIRECT, CLAIM_REDIRECT)) and not target:
                target = _target(unquote(value)) or ""
        else:
            kept.append(piece)
    link = ""
    for segment in (s for s in u.path.split("/") if len(s) >= 6):
        found = _value(segment, reader)
        if found:
            # a redirect written in the path: the link can become its target, cleaned (`private.clean`)
            redirect = _target(unquote(segment)) if found.startswith((REDIRECT, CLAIM_REDIRECT)) else None
            target = target or redirect or ""
            link = link or ("redirect" if redirect else _severity(found))
            why.append(f"path segment {segment[:24]}{'…' if len(segment) > 24 else ''}: {found}")
    fragment = u.fragment
    if fragment and (found := _value(fragment, reader)):
        why.append(f"fragment: {found}")
        fragment = None
    if not why:
        return None
    cleaned = _rebuild(u, kept if removed else None, fragment)
    return Personal(cleaned, tuple(removed), tuple(why), link, target)


def may_hold(url: str, reader: Reader | None) -> bool:
    """Whether a part of `url` may be personal, from the text alone: most URLs hold nothing, and
    this is much cheaper than splitting them."""
    if "eyJ" in url or (reader is not None and ("/eJ" in url or "=eJ" in url)):  # a claim; a compressed token
        return True
    query = url.partition("?")[2].partition("#")[0]
    if query and any(_named(p.partition("=")[0]) for p in query.split("&") if "=" in p):
        return True
    rest = url[8:].lower()
    if "aHR0" in url or "6874" in url or "http" in rest or "nb2hi4" in rest:  # a redirect target (`_target`)
        return True
    if reader is None:
        return False
    if reader.in_value(url) or (reader.shared and any(s in url for s in reader.shared)):
        return True
    return bool(reader.names) and any(reader.in_value(p.partition("=")[2]) for p in query.split("&"))


def _rebuild(u: SplitUrl, kept: list[str] | None, fragment: str | None) -> str:
    query = u.query if kept is None else "&".join(p for p in kept if p.strip())
    return u.head + (f"?{query}" if query else "") + ("" if fragment is None else "#" + fragment)


def _severity(found: str) -> str:
    return "shared" if found.startswith("shared") else ("reader" if found.startswith("the reader") else "credential")


def _named(name: str) -> bool:
    return credential_name(name) or referral_name(name)


def _param(name: str, value: str, reader: Reader | None) -> str:
    if value and credential_name(unquote(name)):
        return "credential (its name says it logs in or holds a session)"
    if referral_name(unquote(name)) and id_like(unquote(value)):
        return "the reader's referral code (its name says it credits a share)"
    return _value(value, reader)


def _value(value: str, reader: Reader | None, depth: int = 0) -> str:
    """What `value` (a query value or path segment as written) holds of the reader, or ""."""
    if len(value) < 3:  # shorter than any name or id looked for
        return ""
    plain = unquote(value) if "%" in value else value
    if "eyJ" in plain and (JWT.search(plain) or signed_claim(plain)):
        if depth == 0 and (destination := claim_target(plain)):
            return f"{CLAIM_REDIRECT}{destination[:60]}{'…' if len(destination) > 60 else ''}"
        return "credential (a signed claim: base64url JSON, as in a JSON Web Token)"
    if reader is not None:
        if what := reader.in_value(value):
            return f"the reader's {what}"
        if plain in reader.shared:
            return "shared with the unsubscribe link (the sender's id for this reader)"
        # a compressed token (Mailgun's `eJ…`: zlib, base64url) may hold the reader as `r=<address>`
        if plain.startswith("eJ") and (inflated := inflated_text(plain)) and (what := reader.in_value(inflated)):
            return f"the reader's {what} (in a compressed token)"
    target = _target(plain) if depth == 0 and plain[:4] in _TARGET_STARTS else None
    if target is not None:
        inner = _url_finding(target, reader)
        if inner:
            return f"{REDIRECT}{inner}"
    return ""


def signed_claim(value: str) -> bool:
    """`value` (%-decoded) is, or has as one of its dot-separated parts, base64url of a JSON object: a
    claim the sender signed about the reader (a JWT's payload, Substack's `j`, Blendle's `p`)."""
    return any(True for _ in _claims(value))


def claim_target(value: str) -> str | None:
    """The destination a click wrapper wrote in its signed claim: the one http(s) URL among the claim's
    values (`{"email_id": …, "href": "https://…"}`), or None."""
    urls = {v for claim in _claims(value) for v in claim.values() if isinstance(v, str) and _HTTP.match(v)}
    return urls.pop() if len(urls) == 1 else None


def _claims(value: str) -> Iterator[dict[str, object]]:
    for part in value.split("."):
        if _CLAIM_PART.fullmatch(part) and (text := b64_text(part)) is not None:
            with contextlib.suppress(ValueError, RecursionError):  # not JSON, or nested beyond the parser
                if isinstance(claim := json.loads(text), dict):
                    yield claim


def _url_finding(url: str, reader: Reader | None) -> str:
    """A finding in a decoded redirect target: its query values, path segments and fragment."""
    u = split(url)
    if u is None:
        return ""
    for name, value in u.pairs:
        found = _param(name, value, reader) if value else ""
        if found:
            return f"{unquote(name)}: {found}".replace(REDIRECT, "")
    for segment in u.path.split("/"):
        if found := _value(segment, reader, 1):
            return found
    return ""


def _target(value: str) -> str | None:
    """A redirect target written in `value`: a plain URL, or one in base64, base32 or hex. A target starts
    the value, so only values that begin like "http" in those encodings are decoded."""
    if _HTTP.match(value):
        return value
    candidates = []
    if value[:8].lower() == "68747470" and _HEX.fullmatch(value):
        with contextlib.suppress(ValueError, UnicodeDecodeError):
            candidates.append(bytes.fromhex(value).decode("utf-8"))
    elif value.startswith("aHR0") and _B64.fullmatch(value):
        candidates.append(b64_text(value) or "")
    elif value[:6] in ("nb2hi4", "NB2HI4") and _BASE32.fullmatch(value):
        candidates.append(b32_text(value) or "")
    elif value.startswith("eyJ"):
        candidates.append(claim_target(value) or "")
    return next((c for c in candidates if _HTTP.match(c)), None)


def shaped_target(u: SplitUrl) -> str | None:
    """For a link on a host known to wrap clicks in this message: the destination written in one of
    its query values or path segments (plain, %-encoded, base64, base32, hex), or None (an opaque wrapper)."""
    for value in [v for _, v in u.pairs] + [s for s in u.path.split("/") if len(s) >= 12]:
        target = _target(unquote(value) if "%" in value else value)
        if target is not None:
            return target
    return None


def has_opaque_id(u: SplitUrl) -> bool:
    """A query value (or a bare query name), or a path segment, that looks like a per-click or per-reader
    id: one long token of letters and digits, or a UUID."""
    values = [v or n for n, v in u.pairs] + [s for s in u.path.split("/") if not _FILE.search(s)]
    for value in values:
        plain = unquote(value) if "%" in value else value
        if (id_like(plain, 10) and re.search(r"[A-Za-z]", plain)) or _UUID.fullmatch(plain):
            return True
    return False
