"""Link hygiene, offline: every URL that reaches a note goes through `clean` (see `engine` for the steps).

The public face of the package; its parts, in the order they are used:
`url` (split a URL without normalising it) → `formats` (ClearURLs and match-pattern rules compiled) →
`rules` (the packaged rule files in `data/`, indexed by host) → `wrappers` (our offline decoders) →
`engine` (classify, decode, strip) → `personal` (what identifies the reader or logs them in) →
`private` (`clean` as callers use it: engine, then wrappers by shape and the personal parts).
`resolve` is the one opt-in network lookup of opaque wrappers.
"""

from __future__ import annotations

from ingester.links.engine import (
    DROPPED_KINDS,
    URL_IN_TEXT,
    CleanedUrl,
    LinkContext,
    Step,
    is_tracker_image,
)
from ingester.links.private import (
    PRIVATE_KINDS,
    WITHHELD,
    clean,
    clean_text_urls,
    clean_url,
    explain,
    is_opaque,
    withheld,
)
from ingester.links.resolve import Resolver, make_resolver

__all__ = [
    "DROPPED_KINDS",
    "PRIVATE_KINDS",
    "URL_IN_TEXT",
    "WITHHELD",
    "CleanedUrl",
    "LinkContext",
    "Resolver",
    "Step",
    "clean",
    "clean_text_urls",
    "clean_url",
    "explain",
    "is_opaque",
    "is_tracker_image",
    "make_resolver",
    "withheld",
]
