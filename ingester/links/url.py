"""A web URL split into its parts without normalising anything, so unchanged parts are rebuilt byte for byte."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from urllib.parse import unquote

_WEB = re.compile(r"(?:(https?):)?//([^/?#]*)", re.I)  # no scheme (`//host/…`) is matched as https
_BRACKET_HOST = re.compile(r"\[[0-9a-f:.]+\](?::\d*)?", re.I)


@dataclass(frozen=True)
class SplitUrl:
    """A web URL split without normalising anything, so unchanged parts are rebuilt byte for byte."""

    text: str
    match_text: str  # the URL as rule regexes expect it: with a scheme (`//host` is read as https)
    scheme: str  # "http" | "https"
    head: str  # scheme, authority and path as written
    host: str  # lower-case, without user info, port or trailing dot
    path: str
    query: str | None  # None when there is no "?"
    fragment: str | None
    path_query: str
    pairs: tuple[tuple[str, str], ...]  # (name, value) of each query parameter, as written
    names: frozenset[str]  # the parameter names, lower-cased

    def param(self, name: str) -> str | None:
        """The percent-decoded value of the first parameter called `name`."""
        return next((unquote(value) for key, value in self.pairs if key == name), None)

    def values(self, name: str) -> list[str]:
        """The lower-cased values of the parameters called `name` in any case."""
        return [value.lower() for key, value in self.pairs if key.lower() == name]

    def rebuild(self, pieces: list[str] | None) -> str:
        query = "?" + "&".join(pieces) if pieces else ""
        return self.head + query + ("" if self.fragment is None else "#" + self.fragment)


@functools.lru_cache(maxsize=8192)  # a message splits its links several times (privacy, pixels, cleaning)
def split(text: str) -> SplitUrl | None:
    """A web (http, https or `//`) URL split in parts; None for anything else or an unparsable host."""
    match = _WEB.match(text)
    if match is None:
        return None
    host = match.group(2).rpartition("@")[2]
    if host.startswith("[") or "]" in host:
        if not _BRACKET_HOST.fullmatch(host):
            return None
        host = host[: host.index("]") + 1].lower()
    else:
        host = host.partition(":")[0].lower().rstrip(".")
    rest, hash_mark, fragment = text[match.end() :].partition("#")
    path, question_mark, query = rest.partition("?")
    pairs = tuple((n, v) for n, _, v in (p.partition("=") for p in query.split("&")) if n) if question_mark else ()
    return SplitUrl(
        text,
        text if match.group(1) else "https:" + text,
        (match.group(1) or "https").lower(),
        text[: match.end()] + path,
        host,
        path,
        query if question_mark else None,
        fragment if hash_mark else None,
        f"{path}?{query}" if question_mark else path,
        pairs,
        frozenset(n.lower() for n, _ in pairs),
    )
