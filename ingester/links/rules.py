"""The rule data behind `ingester.links`: loaded once, compiled, and indexed by host.

Three sources, each kept in its own file under `data/` (see `data/README.md` for provenance and
licences) and merged here at load time (their formats are compiled by `formats`):

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
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ingester.links.formats import (
    DebounceRule,
    HostIndex,
    ParamRule,
    Provider,
    ProviderIndex,
    any_of,
    build_host_index,
    build_provider_index,
    debounce_rule,
    param_rule,
)

RULES_DIR = Path(__file__).parent / "data"
CLEARURLS_FILE = "clearurls/data.min.json"
BRAVE_CLEAN_URLS_FILE = "brave/clean-urls.json"
BRAVE_QUERY_FILTER_FILE = "brave/query-filter.json"
BRAVE_DEBOUNCE_FILE = "brave/debounce.json"
INGESTER_FILE = "ingester.json"


# --- Our own rules -------------------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class Classifier:
    """Recognises links that must never be cleaned or resolved (acting on them would change the reader's
    subscription or act in their name), or view-online links.

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
        kind=entry["kind"],
        name=entry["name"],
        scheme=entry.get("scheme", ""),
        host=optional("host"),
        path=optional("path"),
        scope=entry.get("scope", ""),
        segments=frozenset(s.lower() for s in entry.get("segments", ())),
        keys=frozenset(k.lower() for k in entry.get("keys", ())),
        query=query or None,
        pattern=optional("pattern"),
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
        return (self.host is None or self.host.search(host) is not None) and (
            self.exclude_host is None or self.exclude_host.search(host) is None
        )

    def matches_path(self, path: str) -> bool:
        return self.path is None or self.path.search(path) is not None


def host_path_rule(name: str, entry: Mapping[str, Any]) -> HostPathRule:
    def optional(key: str, flags: int = 0) -> re.Pattern[str] | None:
        return re.compile(entry[key], flags) if entry.get(key) else None

    return HostPathRule(
        name,
        optional("host", re.I),
        optional("path"),
        frozenset(entry.get("strip", ())),
        optional("exclude_host", re.I),
    )


@dataclass(frozen=True, eq=False)
class TrackerImages:
    """What gives a tracking image away in its URL (without its scheme): a known tracker host or path, a
    tracking query, a host label such as `pixel` or `open`; content CDNs are real images whatever their path."""

    patterns: re.Pattern[str]  # host + path + query
    content: re.Pattern[str]  # content CDNs: real images, whatever their path looks like
    paths: re.Pattern[str]
    query: re.Pattern[str]
    host_labels: frozenset[str]
    gmail_proxy: re.Pattern[str]


def tracker_images(entry: Mapping[str, Any]) -> TrackerImages:
    return TrackerImages(
        patterns=any_of(entry["patterns"]) or re.compile("(?!)"),
        content=any_of(entry["content"]) or re.compile("(?!)"),
        paths=any_of(entry["paths"]) or re.compile("(?!)"),
        query=any_of(entry["query"]) or re.compile("(?!)"),
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
        for source, name in (
            ("brave:clean-urls", BRAVE_CLEAN_URLS_FILE),
            ("brave:query-filter", BRAVE_QUERY_FILTER_FILE),
        )
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
        return (
            self.folded.get(folded)
            or next((s for p, s in self.prefixes if folded.startswith(p)), None)
            or self.exact.get(name)
        )


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
        debounce=tuple(
            (d, status is True) for d in r.debounce.candidates(host) if (status := d.on_host(host)) is not False
        ),
    )
