"""Which site a host belongs to: its registrable domain, the public suffix and one label before it
("news.bbc.co.uk" → "bbc.co.uk", "a.github.io" → "a.github.io"). Pure, offline.

The suffixes are the Public Suffix List (MPL-2.0), vendored unmodified in `data/publicsuffix/` (see
`data/README.md`); it is read once, on first use, and never downloaded. "Last two labels" is wrong for
"co.uk" and for hosted sites ("github.io"): every site on it would look the same.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

SUFFIX_FILE = Path(__file__).parent / "data" / "publicsuffix" / "public_suffix_list.dat"


@lru_cache(maxsize=1)
def _suffixes() -> tuple[frozenset[str], frozenset[str]]:
    """(the list's rules, its exceptions without their "!"); a wildcard rule keeps its "*." prefix."""
    rules, exceptions = set(), set()
    for line in SUFFIX_FILE.read_text(encoding="utf-8").splitlines():
        rule = line.strip().lower()
        if not rule or rule.startswith("//"):
            continue
        rule = rule.split()[0].encode("idna").decode("ascii") if not rule.isascii() else rule.split()[0]
        if rule.startswith("!"):
            exceptions.add(rule[1:])
        else:
            rules.add(rule)
    return frozenset(rules), frozenset(exceptions)


@lru_cache(maxsize=4096)  # bounded: a daemon reads mail for months
def site(host: str) -> str:
    """The registrable domain of `host` (lower-cased); the host itself when it is a suffix or an IP address."""
    host = host.strip(".").lower()
    labels = host.split(".")
    if not host or host.replace(".", "").isdigit() or ":" in host:
        return host
    rules, exceptions = _suffixes()
    for i in range(len(labels)):
        candidate = ".".join(labels[i:])
        if candidate in exceptions:
            return candidate  # "!city.kawasaki.jp": the suffix is one label shorter, so this is the site
        wild = "*." + ".".join(labels[i + 1 :]) if i + 1 < len(labels) else ""
        if candidate in rules or (wild and wild in rules):
            return ".".join(labels[i - 1 :]) if i > 0 else host
    return ".".join(labels[-2:])  # no rule: the default rule "*", a one-label suffix
