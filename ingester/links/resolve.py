"""Opt-in: ask an opaque click-tracking wrapper where it points, without following it.

The one place that may send a request to a URL found in an email, and only when the user set
`[links] resolve_opaque = true`, only to hosts in `resolve_hosts`, with a short timeout, as a
single HEAD request whose `Location` is read and not followed. The caller never passes
unsubscribe, preference or action links (see `clean.py`).
"""

from __future__ import annotations

import fnmatch
import http.client
import logging
import ssl
from collections.abc import Callable
from urllib.parse import urljoin, urlsplit

logger = logging.getLogger(__name__)

Resolver = Callable[[str], "str | None"]


def make_resolver(hosts: tuple[str, ...], timeout: float) -> Resolver:
    """A function that returns an allowed wrapper's redirect target, or None."""
    cache: dict[str, str | None] = {}

    def resolve(url: str) -> str | None:
        if url not in cache:
            cache[url] = _location(url, timeout) if host_allowed(url, hosts) else None
        return cache[url]

    return resolve


def host_allowed(url: str, patterns: tuple[str, ...]) -> bool:
    """True when the URL's host matches one of the shell-style patterns (`*.list-manage.com`)."""
    host = (urlsplit(url).hostname or "").lower()
    return bool(host) and any(fnmatch.fnmatchcase(host, p) for p in patterns)


def _location(url: str, timeout: float) -> str | None:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    if parts.scheme == "https":
        conn: http.client.HTTPConnection = http.client.HTTPSConnection(
            parts.hostname, parts.port, timeout=timeout, context=ssl.create_default_context()
        )
    else:
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)
    try:
        conn.request("HEAD", path, headers={"User-Agent": "newsletter-ingester"})
        response = conn.getresponse()
        location = response.getheader("Location") if 300 <= response.status < 400 else None
    except (OSError, http.client.HTTPException) as err:
        logger.info("could not resolve %s: %s", parts.hostname, err)
        return None
    finally:
        conn.close()
    if not location:
        return None
    target = urljoin(url, location)
    return target if target.startswith(("http://", "https://")) else None
