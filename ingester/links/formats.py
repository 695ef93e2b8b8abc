"""The two foreign rule formats, compiled: WebExtension match patterns (Brave's lists and ours) and
ClearURLs providers (JavaScript regexes with a host guard). Pure data structures; `rules` loads the files.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

# How a ClearURLs urlPattern starts: `^https?:\/\/` (or without `^`, or with unescaped slashes).
_CLEARURLS_SCHEME = re.compile(r"\^?https\?:(?:\\/|/){2}")
# The host part of a urlPattern: escapes other than `\/`, character classes, groups (one level of
# nesting is all ClearURLs uses) and any character but `/`.
_HOST_PART = re.compile(r"(?:\\[^/]|\[[^\]]*\]|\((?:[^()]|\([^()]*\))*\)|[^\\/\[(])*")
# Leading groups that only add subdomains, e.g. `(?:[a-z0-9-]+\.)*?` or `(?:accounts\.)?`.
_SUBDOMAIN_GROUPS = re.compile(r"(?:\((?:\?:)?[^()|]*\\\.\)(?:\*\?|\*|\?|\+\?|\+)?)*")
_GROUP = re.compile(r"\((?:\?:)?((?:[^()]|\([^()]*\))*)\)")
_TOP_LEVEL_BAR = re.compile(r"\|(?![^(]*\))")
_LITERAL = re.compile(r"(?:[a-z0-9-]|\\-)+", re.I)


# --- Match patterns (Brave's and ours) -----------------------------------------------------------------------------


@dataclass(frozen=True)
class MatchPattern:
    """A WebExtension match pattern such as `*://*.example.com/path*`."""

    schemes: frozenset[str]
    host: str  # "" matches any host
    subdomains: bool  # `*.example.com` also matches `example.com`
    path: re.Pattern[str] | None  # against path + "?" + query; None matches any

    def matches_host(self, host: str) -> bool:
        return not self.host or host == self.host or (self.subdomains and host.endswith("." + self.host))

    def matches(self, scheme: str, host: str, path_query: str) -> bool:
        return (
            scheme in self.schemes
            and self.matches_host(host)
            and (self.path is None or self.path.fullmatch(path_query) is not None)
        )


def parse_match_pattern(text: str) -> MatchPattern:
    scheme, _, rest = text.partition("://")
    host, _, path = rest.partition("/")
    schemes = frozenset({"http", "https"}) if scheme == "*" else frozenset({scheme})
    subdomains = host == "*" or host.startswith("*.")
    host = "" if host == "*" else host.removeprefix("*.").lower()
    # Chrome matches `?` in a pattern literally and `*` as any run of characters.
    path_re = None if path == "*" else re.compile(".*".join(re.escape(p) for p in ("/" + path).split("*")), re.S)
    return MatchPattern(schemes, host, subdomains, path_re)


def host_suffixes(host: str) -> Iterator[str]:
    """`a.b.c` → `a.b.c`, `b.c`, `c`, then "" (the key of patterns for any host)."""
    while host:
        yield host
        _, _, host = host.partition(".")
    yield ""


@dataclass(frozen=True, eq=False)
class HostIndex:
    """Items filed under the host of each of their include patterns."""

    by_host: Mapping[str, tuple[Any, ...]]

    def candidates(self, host: str) -> list[Any]:
        found: list[Any] = []
        for suffix in host_suffixes(host):
            for item in self.by_host.get(suffix, ()):
                if item not in found:
                    found.append(item)
        return found


def build_host_index(items: Iterable[Any]) -> HostIndex:
    by_host: dict[str, list[Any]] = {}
    for item in items:
        for pattern in item.include:
            bucket = by_host.setdefault(pattern.host, [])
            if item not in bucket:
                bucket.append(item)
    return HostIndex({host: tuple(bucket) for host, bucket in by_host.items()})


_WEB_SCHEMES = frozenset({"http", "https"})


class Scoped:
    """Something with include/exclude match patterns (a parameter rule, a debounce rule)."""

    include: tuple[MatchPattern, ...]
    exclude: tuple[MatchPattern, ...]

    def applies(self, scheme: str, host: str, path_query: str) -> bool:
        return any(p.matches(scheme, host, path_query) for p in self.include) and not any(
            p.matches(scheme, host, path_query) for p in self.exclude
        )

    def on_host(self, host: str) -> bool | None:
        """True: applies to every web URL on `host`; False: to none; None: it depends on scheme or path."""
        include = [p for p in self.include if p.matches_host(host)]
        exclude = [p for p in self.exclude if p.matches_host(host)]
        if not include or any(p.path is None and p.schemes >= _WEB_SCHEMES for p in exclude):
            return False
        if not exclude and any(p.path is None and p.schemes >= _WEB_SCHEMES for p in include):
            return True
        return None


# --- Parameter rules: Brave's lists, our rules and keep-lists ------------------------------------------------------


@dataclass(frozen=True, eq=False)
class ParamRule(Scoped):
    """Parameter names to remove (or keep) on URLs matching `include` and not `exclude`."""

    source: str  # "brave:clean-urls", "ingester:substack", …
    include: tuple[MatchPattern, ...]
    exclude: tuple[MatchPattern, ...]
    names: frozenset[str]  # exact names (lower-cased when `casefold`)
    prefixes: tuple[str, ...]  # from names ending in `*`
    casefold: bool  # Brave compares names exactly; our names ignore case
    value: re.Pattern[str] | None = None  # only when the value matches too
    scope: str = ""  # "substack": also applies to the sender's own publication hosts
    # On any host and not limited by a value: never-global names (`r`, `t`, `ref`, …) are out of its reach.
    anywhere: bool = False

    def names_param(self, name: str, value: str) -> bool:
        key = name.lower() if self.casefold else name
        if key not in self.names and not (self.prefixes and key.startswith(self.prefixes)):
            return False
        return self.value is None or self.value.search(value) is not None


def param_rule(entry: Mapping[str, Any], source: str, casefold: bool) -> ParamRule:
    names = [n.lower() if casefold else n for n in entry["params"]]
    include = tuple(parse_match_pattern(p) for p in entry["include"])
    return ParamRule(
        source=source,
        include=include,
        exclude=tuple(parse_match_pattern(p) for p in entry.get("exclude", ())),
        names=frozenset(n for n in names if not n.endswith("*")),
        prefixes=tuple(n[:-1] for n in names if n.endswith("*")),
        casefold=casefold,
        value=re.compile(entry["value"], re.I) if entry.get("value") else None,
        scope=entry.get("scope", ""),
        anywhere=not entry.get("value") and any(not p.host for p in include),
    )


# --- Brave debounce --------------------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class DebounceRule(Scoped):
    """One entry of Brave's `debounce.json`: where the destination of a redirect URL is."""

    include: tuple[MatchPattern, ...]
    exclude: tuple[MatchPattern, ...]
    action: str  # "redirect" | "base64,redirect" | "regex-path" | "regex-path-template"
    param: str  # query parameter name, or a path regex for the regex actions
    path_re: re.Pattern[str] | None
    prepend_scheme: str
    template: str


def debounce_rule(entry: Mapping[str, Any]) -> DebounceRule:
    action = entry["action"]
    return DebounceRule(
        include=tuple(parse_match_pattern(p) for p in entry["include"]),
        exclude=tuple(parse_match_pattern(p) for p in entry.get("exclude", ())),
        action=action,
        param=entry["param"],
        path_re=re.compile(entry["param"]) if action.startswith("regex-path") else None,
        prepend_scheme=entry.get("prepend_scheme", ""),
        template=entry.get("redirect_url_template", ""),
    )


# --- ClearURLs providers -------------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class Provider:
    """A compiled ClearURLs provider."""

    name: str
    url: re.Pattern[str]
    host: re.Pattern[str] | None  # fullmatch on the host; None: any host (`globalRules`)
    host_only: bool  # the urlPattern says nothing beyond the host: the guard decides alone
    rules: re.Pattern[str] | None  # rules + referralMarketing, fullmatched on a parameter name
    raw_rules: tuple[re.Pattern[str], ...]
    exceptions: re.Pattern[str] | None
    redirections: tuple[re.Pattern[str], ...]

    def guards(self, host: str) -> bool:
        """The host is the provider's domain or a subdomain of it (urlPatterns have no host boundary of their own)."""
        return self.host is None or self.host.fullmatch(host) is not None

    def applies(self, url: str) -> bool:
        """The urlPattern matches (on a host that passed `guards`)."""
        return self.host_only or self.url.search(url) is not None

    def excepted(self, url: str) -> bool:
        return self.exceptions is not None and self.exceptions.search(url) is not None


def any_of(patterns: Iterable[str]) -> re.Pattern[str] | None:
    patterns = list(patterns)
    return re.compile("|".join(f"(?:{p})" for p in patterns), re.I) if patterns else None


def split_host_pattern(url_pattern: str) -> tuple[str, str] | None:
    """The host part of a ClearURLs urlPattern and the rest, or None if it does not start with a scheme."""
    start = _CLEARURLS_SCHEME.match(url_pattern)
    if start is None:
        return None
    text = url_pattern[start.end() :]
    end = _match_end(_HOST_PART, text)
    return text[:end], text[end:]


def _match_end(pattern: re.Pattern[str], text: str) -> int:
    """Where `pattern`, which matches the empty string too, stops matching at the start of `text`."""
    match = pattern.match(text)
    return match.end() if match else 0


def host_tokens(host_pattern: str) -> tuple[frozenset[str], frozenset[str]] | None:
    """(whole labels, label prefixes) one of which any host matching `host_pattern` has; None if unknown."""
    text = host_pattern[_match_end(_SUBDOMAIN_GROUPS, host_pattern) :]
    alternatives = [text]
    if (group := _GROUP.match(text)) is not None:  # `(youtube\.com|youtu\.be)`: one token per alternative
        alternatives = _TOP_LEVEL_BAR.split(group.group(1))
        if len(alternatives) == 1 or not text[group.end() :].startswith(("", "\\.", "\\/")):
            return None
    whole: set[str] = set()
    prefixes: set[str] = set()
    for alternative in alternatives:
        literal = _LITERAL.match(alternative)
        if literal is None:
            return None
        token, rest = literal.group().replace("\\-", "-").lower(), alternative[literal.end() :]
        if rest[:1] in ("?", "*", "{"):  # the last character is optional: only what precedes it is certain
            token, rest = token[:-1], "["
        if not token:
            return None
        # An unescaped `.` ends the label too: we read `reddit.com` as the domain it was meant to be.
        is_whole = rest == "" or rest.startswith(("\\.", ".", "(?:\\.", "(\\.", "$"))
        (whole if is_whole else prefixes).add(token)
    return frozenset(whole), frozenset(prefixes)


def provider(name: str, data: Mapping[str, Any]) -> Provider:
    url_pattern = data["urlPattern"]
    split = split_host_pattern(url_pattern)
    host = None
    if split is not None:
        try:
            host = re.compile(split[0], re.I)
        except re.error:
            split = None
    return Provider(
        name=name,
        url=re.compile(url_pattern, re.I),
        host=host,
        host_only=url_pattern == ".*" or (split is not None and split[1] == ""),
        rules=any_of([*data.get("rules", ()), *data.get("referralMarketing", ())]),
        raw_rules=tuple(re.compile(r, re.I) for r in data.get("rawRules", ())),
        exceptions=any_of(data.get("exceptions", ())),
        redirections=tuple(re.compile(r, re.I) for r in data.get("redirections", ())),
    )


@dataclass(frozen=True, eq=False)
class ProviderIndex:
    """ClearURLs providers filed under the domain label their urlPattern names (`google`, `x`, …)."""

    providers: tuple[Provider, ...]
    by_label: Mapping[str, tuple[int, ...]]
    by_prefix: tuple[tuple[str, int], ...]
    everywhere: tuple[int, ...]  # `globalRules`, and any pattern whose host we could not read

    def candidates(self, host: str) -> list[Provider]:
        labels = host.split(".")
        found = set(self.everywhere)
        for label in labels:
            found.update(self.by_label.get(label, ()))
        for prefix, index in self.by_prefix:
            if any(label.startswith(prefix) for label in labels):
                found.add(index)
        return [self.providers[i] for i in sorted(found)]  # keep the file's order, as ClearURLs does


def build_provider_index(providers: Iterable[tuple[str, Mapping[str, Any]]]) -> ProviderIndex:
    compiled: list[Provider] = []
    by_label: dict[str, list[int]] = {}
    by_prefix: list[tuple[str, int]] = []
    everywhere: list[int] = []
    for index, (name, data) in enumerate(providers):
        compiled.append(provider(name, data))
        split = split_host_pattern(data["urlPattern"])
        tokens = host_tokens(split[0]) if split is not None else None
        if tokens is None:
            everywhere.append(index)
            continue
        for label in tokens[0]:
            by_label.setdefault(label, []).append(index)
        by_prefix.extend((prefix, index) for prefix in tokens[1])
    return ProviderIndex(
        tuple(compiled), {k: tuple(v) for k, v in by_label.items()}, tuple(by_prefix), tuple(everywhere)
    )
