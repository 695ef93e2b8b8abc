"""The rule data behind `ingester.links`: loaded once, compiled, and indexed by host.

Three sources, each kept in its own file under `rules/` (see `rules/README.md` for provenance and
licences) and merged here at load time:

* ClearURLs `data.min.json` (LGPL-3.0): providers of JavaScript regexes (redirections, rawRules,
  rules, referralMarketing, exceptions).
* Brave `clean-urls.json`, `query-filter.json` (parameter names per WebExtension match pattern) and
  `debounce.json` (offline redirect unwrapping) (MPL-2.0).
* Our own `ingester.json`: newsletter-platform parameters, keep-lists, classification, wrapper and
  opaque-wrapper patterns, tracker-image patterns.

Matching every URL against every rule would cost ~150 µs per URL, so rules are indexed: ClearURLs
providers by the literal domain label in their `urlPattern` (checked again with a host guard, which
also fixes the missing host boundary: `x.com` must not match `x.company.com`), Brave and our
patterns by host suffix. Nothing here touches the network.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

RULES_DIR = Path(__file__).parent / "rules"
CLEARURLS_FILE = "clearurls/data.min.json"
BRAVE_CLEAN_URLS_FILE = "brave/clean-urls.json"
BRAVE_QUERY_FILTER_FILE = "brave/query-filter.json"
BRAVE_DEBOUNCE_FILE = "brave/debounce.json"
INGESTER_FILE = "ingester.json"

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
        return (scheme in self.schemes and self.matches_host(host)
                and (self.path is None or self.path.fullmatch(path_query) is not None))


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
        return (any(p.matches(scheme, host, path_query) for p in self.include)
                and not any(p.matches(scheme, host, path_query) for p in self.exclude))

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
        """The host is the provider's domain or a subdomain of it: urlPattern has no host boundary (§3)."""
        return self.host is None or self.host.fullmatch(host) is not None

    def applies(self, url: str) -> bool:
        """The urlPattern matches (on a host that passed `guards`)."""
        return self.host_only or self.url.search(url) is not None

    def excepted(self, url: str) -> bool:
        return self.exceptions is not None and self.exceptions.search(url) is not None


def _any_of(patterns: Iterable[str]) -> re.Pattern[str] | None:
    patterns = list(patterns)
    return re.compile("|".join(f"(?:{p})" for p in patterns), re.I) if patterns else None


def split_host_pattern(url_pattern: str) -> tuple[str, str] | None:
    """The host part of a ClearURLs urlPattern and the rest, or None if it does not start with a scheme."""
    start = _CLEARURLS_SCHEME.match(url_pattern)
    if start is None:
        return None
    text = url_pattern[start.end():]
    end = _HOST_PART.match(text).end()  # type: ignore[union-attr]  (it matches the empty string)
    return text[:end], text[end:]


def host_tokens(host_pattern: str) -> tuple[frozenset[str], frozenset[str]] | None:
    """(whole labels, label prefixes) one of which any host matching `host_pattern` has; None if unknown."""
    text = host_pattern[_SUBDOMAIN_GROUPS.match(host_pattern).end():]  # type: ignore[union-attr]
    alternatives = [text]
    if (group := _GROUP.match(text)) is not None:  # `(youtube\.com|youtu\.be)`: one token per alternative
        alternatives = _TOP_LEVEL_BAR.split(group.group(1))
        if len(alternatives) == 1 or not text[group.end():].startswith(("", "\\.", "\\/")):
            return None
    whole, prefixes = set(), set()
    for alternative in alternatives:
        literal = _LITERAL.match(alternative)
        if literal is None:
            return None
        token, rest = literal.group().replace("\\-", "-").lower(), alternative[literal.end():]
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
        rules=_any_of([*data.get("rules", ()), *data.get("referralMarketing", ())]),
        raw_rules=tuple(re.compile(r, re.I) for r in data.get("rawRules", ())),
        exceptions=_any_of(data.get("exceptions", ())),
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
    compiled, by_label, by_prefix, everywhere = [], {}, [], []
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
    return ProviderIndex(tuple(compiled), {k: tuple(v) for k, v in by_label.items()}, tuple(by_prefix),
                         tuple(everywhere))


# --- Our own rules -------------------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class Classifier:
    """Recognises links that must never be cleaned or resolved (§1 rule 3), or view-online links.

    `host`, `path`, `scheme` and `scope` must all hold; then any one of `segments`, `keys`, `query`
    or `pattern` (if none is given, the first part decides alone).
    """

    kind: str
    name: str
    scheme: str = ""
    host: re.Pattern[str] | None = None
    path: re.Pattern[str] | None = None
    scope: str = ""
    segments: frozenset[str] = frozenset()
    keys: frozenset[str] = frozenset()
    query: Mapping[str, tuple[str, ...]] | None = None
    pattern: re.Pattern[str] | None = None
    has_evidence: bool = False  # any of segments, keys, query, pattern


def classifier(entry: Mapping[str, Any]) -> Classifier:
    def optional(key: str) -> re.Pattern[str] | None:
        return re.compile(entry[key], re.I) if entry.get(key) else None

    query = {k.lower(): tuple(v.lower() for v in values) for k, values in entry.get("query", {}).items()}
    return Classifier(
        kind=entry["kind"], name=entry["name"], scheme=entry.get("scheme", ""), host=optional("host"),
        path=optional("path"), scope=entry.get("scope", ""),
        segments=frozenset(s.lower() for s in entry.get("segments", ())),
        keys=frozenset(k.lower() for k in entry.get("keys", ())), query=query or None, pattern=optional("pattern"),
        has_evidence=any(entry.get(k) for k in ("segments", "keys", "query", "pattern")),
    )


@dataclass(frozen=True)
class HostPathRule:
    """A host regex and a path regex, both searched; empty means any."""

    name: str
    host: re.Pattern[str] | None
    path: re.Pattern[str] | None
    strip: frozenset[str] = frozenset()
    exclude_host: re.Pattern[str] | None = None

    def matches_host(self, host: str) -> bool:
        return ((self.host is None or self.host.search(host) is not None)
                and (self.exclude_host is None or self.exclude_host.search(host) is None))

    def matches_path(self, path: str) -> bool:
        return self.path is None or self.path.search(path) is not None


def host_path_rule(name: str, entry: Mapping[str, Any]) -> HostPathRule:
    def optional(key: str, flags: int = 0) -> re.Pattern[str] | None:
        return re.compile(entry[key], flags) if entry.get(key) else None

    return HostPathRule(name, optional("host", re.I), optional("path"), frozenset(entry.get("strip", ())),
                        optional("exclude_host", re.I))


@dataclass(frozen=True, eq=False)
class TrackerImages:
    """Pixel signals 1, 4 and 6 of §7, matched on a URL without its scheme."""

    patterns: re.Pattern[str]  # host + path + query
    content: re.Pattern[str]  # content CDNs: real images, whatever their path looks like
    paths: re.Pattern[str]
    query: re.Pattern[str]
    host_labels: frozenset[str]
    gmail_proxy: re.Pattern[str]


def tracker_images(entry: Mapping[str, Any]) -> TrackerImages:
    return TrackerImages(
        patterns=_any_of(entry["patterns"]) or re.compile("(?!)"),
        content=_any_of(entry["content"]) or re.compile("(?!)"),
        paths=_any_of(entry["paths"]) or re.compile("(?!)"),
        query=_any_of(entry["query"]) or re.compile("(?!)"),
        host_labels=frozenset(entry["host_labels"]),
        gmail_proxy=re.compile(entry["gmail_proxy"], re.I),
    )


# --- Everything together -------------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class Rules:
    """All rule data, compiled and indexed."""

    providers: ProviderIndex
    strip: HostIndex  # ParamRule: Brave lists and ours
    keep: HostIndex  # ParamRule
    substack_rules: tuple[ParamRule, ...]  # ours with scope "substack", applied to publication hosts too
    debounce: HostIndex  # DebounceRule
    never_global: frozenset[str]
    classifiers: tuple[Classifier, ...]
    # Every segment and parameter name any classifier looks for: most URLs have none and skip the classifiers.
    evidence_segments: frozenset[str]
    evidence_keys: frozenset[str]
    wrappers: Mapping[str, HostPathRule]
    wrapper_names: Mapping[str, str]
    opaque: tuple[HostPathRule, ...]
    images: TrackerImages


def _read_json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def load_rules(rules_dir: Path = RULES_DIR) -> Rules:
    """Read and compile every rule file (no caching: see `rules()`)."""
    clearurls = _read_json(rules_dir / CLEARURLS_FILE)["providers"]
    ours = _read_json(rules_dir / INGESTER_FILE)
    brave = [
        param_rule(entry, source, casefold=False)
        for source, name in (("brave:clean-urls", BRAVE_CLEAN_URLS_FILE), ("brave:query-filter", BRAVE_QUERY_FILTER_FILE))
        for entry in _read_json(rules_dir / name)
    ]
    our_params = [param_rule(entry, f"ingester:{entry['name']}", casefold=True) for entry in ours["params"]]
    debounce = [debounce_rule(e) for e in _read_json(rules_dir / BRAVE_DEBOUNCE_FILE)]
    classifiers = tuple(classifier(e) for e in ours["classify"])
    return Rules(
        providers=build_provider_index(clearurls.items()),
        strip=build_host_index([*our_params, *brave]),
        keep=build_host_index(param_rule(e, f"keep:{e['name']}", casefold=True) for e in ours["keep"]),
        substack_rules=tuple(r for r in our_params if r.scope == "substack"),
        debounce=build_host_index(debounce),
        never_global=frozenset(ours["never_global"]),
        classifiers=classifiers,
        evidence_segments=frozenset(s for c in classifiers for s in c.segments),
        evidence_keys=frozenset(k for c in classifiers for k in (*c.keys, *(c.query or {}))),
        wrappers={name: host_path_rule(name, e) for name, e in ours["wrappers"].items()},
        wrapper_names=dict(ours["wrapper_names"]),
        opaque=tuple(host_path_rule(e["name"], e) for e in ours["opaque"]),
        images=tracker_images(ours["tracker_images"]),
    )


@functools.cache
def rules() -> Rules:
    """The packaged rules, loaded on first use and kept for the life of the process."""
    return load_rules()


@dataclass(frozen=True, eq=False)
class HostPlan:
    """Everything in the rules that depends only on a URL's host, worked out once per host."""

    providers: tuple[Provider, ...]  # ClearURLs providers whose host guard passed, in file order
    classifiers: tuple[Classifier, ...]  # web classifiers whose host condition holds
    plain_classifiers: tuple[Classifier, ...]  # those of them that need no evidence (host or path decide)
    wrappers: tuple[HostPathRule, ...]  # our decoders whose host pattern matches
    opaque: tuple[HostPathRule, ...]
    strip: NameTable  # Brave's and our parameter rules
    keep: NameTable
    debounce: tuple[tuple[DebounceRule, bool], ...]  # (rule, applies whatever the path)


@dataclass(frozen=True, eq=False)
class NameTable:
    """Parameter rules on one host: the path-independent ones folded into lookups, the others kept as rules."""

    exact: Mapping[str, str]  # name → rule source (Brave compares names exactly)
    folded: Mapping[str, str]  # lower-cased name → rule source (ours)
    prefixes: tuple[tuple[str, str], ...]  # (lower-cased prefix, rule source)
    dynamic: tuple[ParamRule, ...]  # rules that depend on the path or on the value

    def lookup(self, name: str) -> str | None:
        """The source of the first path-independent rule naming `name`."""
        folded = name.lower()
        return (self.folded.get(folded) or next((s for p, s in self.prefixes if folded.startswith(p)), None)
                or self.exact.get(name))


def name_table(rules: Iterable[ParamRule], host: str, never_global: frozenset[str]) -> NameTable:
    exact: dict[str, str] = {}
    folded: dict[str, str] = {}
    prefixes: list[tuple[str, str]] = []
    dynamic: list[ParamRule] = []
    for rule in rules:
        status = rule.on_host(host)
        if status is False:
            continue
        if status is None or rule.value is not None:
            dynamic.append(rule)
            continue
        allowed = [n for n in rule.names if not (rule.anywhere and n in never_global)]
        for name in allowed:
            (folded if rule.casefold else exact).setdefault(name, rule.source)
        prefixes += [(p, rule.source) for p in rule.prefixes]
    return NameTable(exact, folded, tuple(prefixes), tuple(dynamic))


@functools.lru_cache(maxsize=4096)
def host_plan(host: str) -> HostPlan:
    """The rules that may apply on `host` (cached: a newsletter links to the same few hosts again and again)."""
    r = rules()
    classifiers = tuple(c for c in r.classifiers if not c.scheme and (c.host is None or c.host.search(host)))
    return HostPlan(
        providers=tuple(p for p in r.providers.candidates(host) if p.guards(host)),
        classifiers=classifiers,
        plain_classifiers=tuple(c for c in classifiers if not c.has_evidence),
        wrappers=tuple(w for w in r.wrappers.values() if w.matches_host(host)),
        opaque=tuple(o for o in r.opaque if o.matches_host(host)),
        strip=name_table((x for x in r.strip.candidates(host) if x.scope != "substack"), host, r.never_global),
        keep=name_table(r.keep.candidates(host), host, frozenset()),
        debounce=tuple((d, status is True) for d in r.debounce.candidates(host)
                       if (status := d.on_host(host)) is not False),
    )
