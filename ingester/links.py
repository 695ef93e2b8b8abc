"""Pure URL cleaning: every URL that reaches a note goes through `clean_url`.

This is the first cut of the link-hygiene engine: it strips tracking parameters (`utm_*`, the
per-reader Substack parameters, common ESP click ids) and keeps everything else byte for byte:
parameter order, case, encoding and fragments. Offline unwrapping and the ClearURLs/Brave rule data
come later behind the same function.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit, urlunsplit

# Tracking parameters stripped from every http(s) URL (matched case-insensitively, whole name).
GLOBAL_TRACKING = re.compile(
    r"utm_[a-z_]*|mc_(?:eid|cid|tc)|fbclid|gclid|dclid|msclkid|twclid|ck_subscriber_id|_hsenc|_hsmi|"
    r"__hs[a-z_]*|mkt_tok|_bhlid|oly_(?:anon|enc)_id|vero_(?:conv|id)|ml_subscriber(?:_hash)?|srsltid",
    re.I,
)
# Substack's per-reader and campaign parameters; `r` and `token` identify the reader.
SUBSTACK_TRACKING = re.compile(
    r"publication_id|post_id|isFreemail|r|triedRedirect|token|showWelcome(?:OnShare)?|s|source|utm_[a-z_]*",
    re.I,
)
# Per-site parameters that identify the reader: {host suffix: parameter names}.
SITE_TRACKING = {"mailchi.mp": {"e"}, "list-manage.com": {"e"}}
# A URL in running text; sentence punctuation right after it is not part of it.
URL_IN_TEXT = re.compile(r"https?://[^\s<>\"')\]]+(?<![.,;:!?])", re.I)


def clean_url(url: str) -> str:
    """The URL without tracking parameters; anything that is not http(s) is returned unchanged.

    When nothing is removed the input comes back byte for byte (only surrounding blanks trimmed).
    """
    url = url.strip()
    try:
        parts = urlsplit(url)
    except ValueError:
        return url
    web = parts.scheme.lower() in ("http", "https") or (not parts.scheme and url.startswith("//"))
    if not web or not parts.query:
        return url
    pairs = parts.query.split("&")
    host = (parts.hostname or "").lower()
    substack = _is_substack(host, pairs)
    site = next((names for suffix, names in SITE_TRACKING.items() if host == suffix or host.endswith("." + suffix)),
                set())
    kept = [p for p in pairs if p.strip() and not _is_tracking(p.split("=", 1)[0], substack)
            and p.split("=", 1)[0] not in site]
    if len(kept) == len(pairs):
        return url
    return urlunsplit(parts._replace(query="&".join(kept))).strip()


def clean_text_urls(text: str) -> str:
    """Clean every http(s) URL found in plain text."""
    return URL_IN_TEXT.sub(lambda m: clean_url(m.group(0)), text)


def _is_substack(host: str, pairs: list[str]) -> bool:
    """A Substack URL: on substack.com, or carrying the publication_id+post_id signature (custom domains)."""
    if host.lower() == "substack.com" or host.lower().endswith(".substack.com"):
        return True
    names = {p.split("=", 1)[0].lower() for p in pairs}
    return {"publication_id", "post_id"} <= names


def _is_tracking(name: str, substack: bool) -> bool:
    if GLOBAL_TRACKING.fullmatch(name):
        return True
    return substack and SUBSTACK_TRACKING.fullmatch(name) is not None
