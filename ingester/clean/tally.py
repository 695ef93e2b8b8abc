"""What cleaning removed and changed, counted for the note and listed for `ingest explain`: the one
`Tally` a message's cleaning steps share, with the content-loss guard every removal goes through."""

from __future__ import annotations

from dataclasses import dataclass, field

from ingester.clean.dom import Tag
from ingester.links import CleanedUrl, LinkContext, clean

# No single removal may take more than this share of the document's text: a block that large is the
# article (or holds it), whatever its class or its view-online line says. The step is refused and logged.
MAX_REMOVAL_SHARE = 0.5
MIN_GUARDED = 500  # characters: below this a removal is small, whatever its share (a footer in a three-line mail)


@dataclass
class Tally:
    """What cleaning removed and changed, counted for the note and listed for `ingest explain`."""

    pixels_removed: int = 0
    links_cleaned: int = 0
    wrappers_decoded: int = 0
    opaque_links: int = 0
    links_dropped: int = 0
    personal_links: int = 0
    links_unlinked: int = 0
    seen: dict[str, CleanedUrl] = field(default_factory=dict)
    looked: dict[str, CleanedUrl] = field(default_factory=dict)  # cleaned only to be looked at (`peek`)
    removed: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    document_size: int = 0

    def drop_hidden(self, tag: Tag) -> None:
        """Remove a hidden block (nobody sees it: no guard), and count the rest of the text as the document."""
        text = " ".join(tag.get_text(" ").split())
        self.document_size = max(0, self.document_size - len(text))
        self.removed.append(_described("hidden text (preheader)", text))
        tag.decompose()

    def drop(self, tag: Tag, why: str, or_else: Tag | None = None) -> bool:
        """Remove a tag and say what went, for `ingest explain`; unless it holds more than
        MAX_REMOVAL_SHARE of the document's text: then it stays, the refusal is logged, and only
        `or_else` (the chrome link itself, say) goes."""
        text = " ".join(tag.get_text(" ").split())
        if len(text) > MIN_GUARDED and len(text) > MAX_REMOVAL_SHARE * self.document_size:
            share = min(1.0, len(text) / self.document_size)
            self.refused.append(_described(f"{why} refused, it would remove {share:.0%} of the text", text))
            return or_else is not None and or_else is not tag and self.drop(or_else, why)
        self.removed.append(_described(why, text))
        tag.decompose()
        return True

    def peek(self, url: str, context: LinkContext) -> CleanedUrl:
        """A URL cleaned once per message without counting it (chrome steps look at links that may
        never reach the note); `cleaned` reuses the result."""
        result = self.seen.get(url) or self.looked.get(url)
        if result is None:
            result = self.looked[url] = clean(url, context)
        return result

    def cleaned(self, url: str, context: LinkContext) -> CleanedUrl:
        """Clean once per distinct URL (a newsletter repeats its links) and count what changed."""
        result = self.seen.get(url) or self.looked.get(url) or clean(url, context)
        self.seen[url] = result
        self.links_cleaned += result.changed
        self.wrappers_decoded += len(result.decoded)
        return result


def _described(why: str, text: str) -> str:
    """`why: 'the text…'` (70 characters of it at most), for `ingest explain`."""
    return f"{why}: {text[:70] + '…' if len(text) > 70 else text!r}" if text else why
