"""Chrome in a text/plain mail, found by the links it holds, as in an HTML mail. Pure.

A text part writes its links out: "Unsubscribe (https://…)", "Update your preferences: https://…". A
paragraph that holds an unsubscribe, preferences, action or confirm link (what the link cleaner classifies
them as, whatever the words say) is chrome, as such a link's line is in HTML: a short one goes whole, and
from the first of them near the end, everything after it goes too (the postal address, the other footer
links), when that is a small part of the text. In a long paragraph only the link's line goes (only the
link, from a long line). A view-online
paragraph among the first ones goes. Those links carry the reader's ids: none of them reaches the note.
"""

from __future__ import annotations

import re

from ingester.chrome import VIEW_ONLINE
from ingester.links import DROPPED_KINDS, URL_IN_TEXT, LinkContext, clean

MAX_CHROME_BLOCK = 400  # characters: a longer paragraph is article text; only its chrome lines go
MAX_CHROME_LINE = 200  # characters: a line of a long paragraph holding a chrome link goes whole, else only the link
MAX_FOOTER = 2000  # characters from a chrome paragraph to the end, for all of it to be the footer
MAX_FOOTER_SHARE = 0.5  # of the text: a "footer" larger than this is the mail
HEAD_BLOCKS = 3  # paragraphs at the start where a view-online paragraph is chrome
LINK_IN_PARENS = re.compile(r"\(\s*(https?://[^\s)]+)\s*\)|<(https?://[^\s>]+)>")


def without_chrome(lines: list[str], context: LinkContext | None) -> list[str]:
    """`lines` (a text part's, as written) without its chrome paragraphs and footer."""
    blocks = _paragraphs(lines)
    if not blocks:
        return lines
    texts = ["\n".join(lines[start:end]) for start, end in blocks]
    sizes = [_size(t) for t in texts]
    total = sum(sizes)
    chrome = [_is_chrome(t, context) for t in texts]
    head = [i < HEAD_BLOCKS and sizes[i] <= MAX_CHROME_BLOCK and _view_online(t) for i, t in enumerate(texts)]
    cut = len(blocks)
    for i, is_chrome in enumerate(chrome):
        after = sum(sizes[i:])
        if is_chrome and sizes[i] <= MAX_CHROME_BLOCK and after <= min(MAX_FOOTER, MAX_FOOTER_SHARE * total):
            cut = i
            break
    kept: list[str] = lines[: blocks[0][0]]
    for i, (start, end) in enumerate(blocks[:cut]):
        if head[i] or (chrome[i] and sizes[i] <= MAX_CHROME_BLOCK):
            continue
        block = lines[start:end]
        if chrome[i]:
            block = [out for line in block if (out := _without_chrome_links(line, context)) is not None]
        kept += block
        kept += lines[end : blocks[i + 1][0]] if i + 1 < len(blocks) else []
    return kept


def _paragraphs(lines: list[str]) -> list[tuple[int, int]]:
    """(start, end) of each run of non-blank lines."""
    found, start = [], None
    for i, line in enumerate([*lines, ""]):
        if line.strip() and start is None:
            start = i
        elif not line.strip() and start is not None:
            found.append((start, i))
            start = None
    return found


def _size(text: str) -> int:
    """The characters a reader reads: without the URLs written out (a tracked one is hundreds long)."""
    return len(URL_IN_TEXT.sub("", text)) if "://" in text else len(text)


def _is_chrome(text: str, context: LinkContext | None) -> bool:
    return "://" in text and any(clean(url, context).kind in DROPPED_KINDS for url in URL_IN_TEXT.findall(text))


def _view_online(text: str) -> bool:
    return "://" in text and bool(VIEW_ONLINE.search(URL_IN_TEXT.sub(" ", text)))


def _without_chrome_links(line: str, context: LinkContext | None) -> str | None:
    """The line without its chrome links (and the parentheses or angle brackets around them); None when the
    line is a short one that holds one ("To unsubscribe, visit: https://…"): it goes whole."""
    if _size(line) <= MAX_CHROME_LINE and _is_chrome(line, context):
        return None

    def drop(match: re.Match[str]) -> str:
        url = next((g for g in match.groups() if g), match.group(0))
        return "" if clean(url, context).kind in DROPPED_KINDS else match.group(0)

    return URL_IN_TEXT.sub(drop, LINK_IN_PARENS.sub(drop, line))
