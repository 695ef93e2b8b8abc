"""Every link of the article cleaned (`links.clean`): chrome links (unsubscribe, preferences, actions)
go with their line, opaque wrappers are counted (or resolved, when the user opted in), non-web links
are unwrapped, and footnote references read "[1]". A URL written out in the text is cleaned too.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable

from ingester.chrome import CHROME_TEXT
from ingester.clean.dom import NavigableString, Tag, gone
from ingester.clean.prune import smallest_block
from ingester.clean.tally import Tally
from ingester.clean.walks import first_tag
from ingester.links import (
    DROPPED_KINDS,
    PRIVATE_KINDS,
    URL_IN_TEXT,
    WITHHELD,
    CleanedUrl,
    LinkContext,
    clean,
    is_opaque,
    withheld,
)
from ingester.markdown import safe_url

Resolver = Callable[[str], "str | None"]
LINK = frozenset({"a"})


def clean_links(anchors: list[Tag], counts: Tally, context: LinkContext, resolve: Resolver | None) -> None:
    for anchor in anchors:
        if gone(anchor):
            continue
        if first_tag(anchor, LINK, href=True) is not None:
            anchor.unwrap()  # a link around a link (an embed card): Markdown has no such thing, the inner one leads
            continue
        href = str(anchor.get("href", "")).strip()
        if not anchor.get_text(strip=True) and not any(
            isinstance(t, Tag) and t.name == "img" for t in anchor.descendants
        ):
            anchor.decompose()  # empty links render as `[](url)`
            continue
        if not href or href.startswith("#") or not re.match(r"(?:https?:)?//", href, re.I):
            if href.lower().startswith("mailto:") and CHROME_TEXT.search(href):
                counts.links_dropped += 1
                counts.drop(smallest_block(anchor, counts.document_size), "unsubscribe mailto link", anchor)
            elif href.lower().startswith(("mailto:", "tel:")):
                anchor.attrs = {"href": safe_url(href)}
            elif href.startswith("#") and (mark := _footnote_mark(anchor)) is not None:
                if mark:
                    anchor.string = f"[{mark}]"  # a reference: "土路[1]", not "土路1"
                    anchor.unwrap()
                else:
                    anchor.decompose()  # the definition's "↩" back to the text: nowhere to go in a note
            else:
                anchor.unwrap()  # javascript:, data:, cid:, relative: nothing a note can open
            continue
        result = counts.cleaned(href, context)
        if result.kind in DROPPED_KINDS:
            counts.links_dropped += 1
            counts.drop(smallest_block(anchor, counts.document_size), f"{result.kind} link", anchor)
            continue
        if result.kind in PRIVATE_KINDS or (result.kind == "opaque" and context.unlink_personal):
            counts.personal_links += result.kind in PRIVATE_KINDS
            if result.kind == "credential" or context.unlink_personal:
                counts.links_unlinked += 1
                counts.opaque_links += is_opaque(result)
                counts.removed.append(
                    f"{result.kind} link unlinked, its text kept: {anchor.get_text(' ').strip()[:60]!r}"
                )
                anchor.unwrap()
                continue
        url = result.url
        if result.kind == "opaque" and resolve is not None and (target := resolve(url)):
            resolved = clean(target, context)
            if resolved.kind not in DROPPED_KINDS and resolved.kind != "opaque":
                url = resolved.url
        if url == result.url and is_opaque(result) and (shown := _shown_url(anchor, context)):
            url = shown  # the wrapper is opaque, but the link says where it goes: its own text is the URL
            counts.wrappers_decoded += 1
        elif url == result.url and is_opaque(result):
            counts.opaque_links += 1
        anchor.attrs = {"href": safe_url(url)}


def _shown_url(anchor: Tag, context: LinkContext) -> str:
    """The link's text when it is a web address on its own ("https://example.com/post"), cleaned, and a plain
    link once cleaned; else ""."""
    text = anchor.get_text(strip=True)
    if " " in text or not re.match(r"https?://[^/\s]+\.[^/\s]+", text, re.I):
        return ""
    shown = clean(text, context)
    plain = shown.kind not in DROPPED_KINDS and shown.kind not in PRIVATE_KINDS and not is_opaque(shown)
    return shown.url if plain else ""


def _footnote_mark(anchor: Tag) -> str | None:
    """ "1" for a footnote reference (`<sup><a href="#fn:1">1</a></sup>`), "" for a footnote's link
    back to the text ("↩"), None for any other in-page link."""
    text = anchor.get_text(strip=True)
    href = str(anchor.get("href", ""))
    if BACK_MARK.fullmatch(text) and re.match(r"#fn", href, re.I):
        return ""
    if re.fullmatch(r"\[?(\d{1,3})\]?", text) and (
        (anchor.parent is not None and anchor.parent.name == "sup") or re.match(r"#fn|#footnote", href, re.I)
    ):
        return text.strip("[]")
    return None


BACK_MARK = re.compile(r"[↩↑^]\ufe0e?")


def clean_written_urls(strings: list[NavigableString], counts: Tally, context: LinkContext) -> None:
    """A URL written out in the text ("Find us at https://facebook.com/x?ref=bookmarks") is a link too: a
    Markdown viewer makes it one. It is cleaned like an href and counted once, where it is no link's own text
    (a link's href is counted already); one that gives the reader away with no clean form is replaced."""
    for string in strings:
        if gone(string):
            continue
        in_link = any(parent.name == "a" for parent in string.parents)
        text = URL_IN_TEXT.sub(functools.partial(_written, counts=counts, context=context, in_link=in_link), string)
        if text != string:
            string.replace_with(text)


def _written(match: re.Match[str], counts: Tally, context: LinkContext, in_link: bool) -> str:
    url = match.group(0)
    result = counts.peek(url, context) if in_link else counts.cleaned(url, context)
    if not in_link:
        count_written(result, counts, context)
    return WITHHELD if withheld(result, context) else result.url


def count_written(result: CleanedUrl, counts: Tally, context: LinkContext) -> None:
    """Count a URL written in the text that was cleaned (`counts.cleaned` counts what cleaning changed)."""
    replaced = withheld(result, context)  # it gave the reader away with no clean form: its place says so
    counts.personal_links += result.kind in PRIVATE_KINDS
    counts.links_unlinked += replaced
    counts.opaque_links += is_opaque(result) and not replaced


def written_counts(found: list[CleanedUrl], context: LinkContext) -> Tally:
    """The counts of a note made from a text part, from each URL `links.clean_text_urls` cleaned in it."""
    counts = Tally()
    for result in found:
        counts.links_cleaned += result.changed
        counts.wrappers_decoded += len(result.decoded)
        count_written(result, counts, context)
    return counts
