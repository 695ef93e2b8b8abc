"""Markdown as the notes write it, shared by clean, convert and render: safe link destinations, escaping of
text that must show as typed, link text without its links, and the neutralising of live HTML and
non-web links. Pure; no Markdown library.
"""

from __future__ import annotations

import re

INVISIBLE = "\u00ad\u034f\u200b\u200c\u200d\u200e\u200f\u2060\ufeff"  # soft hyphen, zero-width marks, BOM
FENCE = re.compile(r"^\s*(```|~~~)")
URL_BREAKERS = re.compile(r"[\s()<>\[\]\"`\\]")
# `<` before something tag-like, unless it opens an autolink (which holds no `<`: each lookahead stops at the next)
LIVE_TAG = re.compile(r"<(?!(?:https?://|mailto:)[^<>\s]*>)(?=[A-Za-z/!?])")
# Links as notes write them: text without unescaped brackets, a destination without blanks, parentheses or
# brackets (`safe_url` encodes them), an optional title. A link never starts at an escaped `\[`, and neither
# part can cross an unescaped bracket, so every attempt that fails stops at the next one and the text is
# scanned a bounded number of times: linear.
_TEXT = r"((?:\\[\s\S]|[^\[\]\\])*)"
_DESTINATION = r"([^()\s\[\]<>]*)(?:[ \t]+\"[^\"\n]*\")?"
# The `](` of a link whose destination is not http(s), mailto or an anchor: escaping its `]` unmakes the link,
# whatever the destination holds (CommonMark allows balanced parentheses in it: `javascript:alert(1)`).
NON_WEB_LINK = re.compile(r"(?<!\\)\]\((?!\s*(?:https?://|mailto:|#))", re.I)
MARKDOWN_IMAGE = re.compile(rf"(?<!\\)!\[{_TEXT}\]\({_DESTINATION}\)")
MARKDOWN_LINK = re.compile(rf"(?<!\\)\[{_TEXT}\]\({_DESTINATION}\)")
# Ideographs and kana count one word each (no spaces between words); other scripts count runs of letters.
_CJK = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
WORD = re.compile(f"[{_CJK}]|[^\\W_{_CJK}]+(?:['’][^\\W_{_CJK}]+)*")
LINK_TARGET = re.compile(r"\]\([^()\s\[\]]*\)")
# A `#` that a vault (Obsidian, Logseq) would read as a tag of the note: at the start of a word (after a
# blank, emphasis or a bracket, never inside a URL or a link's destination) and followed by a run of tag
# characters that is not only digits (`#480` is no tag). The run stops at the next `#`: linear.
HASHTAG = re.compile(r"(?<![^\s*_\[>~|])#(?=[\w/-]*[^\W\d])")


def strip_invisible(text: str) -> str:
    """`text` without blanks or invisible format characters (a BOM, soft hyphen, zero-width and direction
    marks) at its edges: they show as nothing, but stay in a title, a heading and the links to it."""
    edged = ""
    while text != edged:
        edged, text = text, text.strip().strip(INVISIBLE)
    return text


def safe_url(url: str) -> str:
    """The URL with the characters that could end a Markdown link destination percent-encoded."""
    return URL_BREAKERS.sub(lambda m: f"%{ord(m.group(0)):02X}", url)


def web_url(url: str) -> str:
    """A web URL fit for `[text](url)`: only http(s) ("" otherwise), and nothing in it can close the link."""
    return safe_url(url) if re.match(r"https?://", url, re.I) else ""


def escape_line(text: str) -> str:
    """A single line of text that Markdown shows as typed: no block markers at the start, no newlines,
    no HTML (a Subject of `<script>` stays text), no link syntax."""
    text = re.sub(r"([\\<\[\]`*_])", r"\\\1", " ".join(text.split()))
    return re.sub(r"^([#>+\-=]|\d+[.)])", r"\\\1", text)


def escape_link_text(text: str) -> str:
    """Link text with brackets, `<` and backslashes escaped so the link stays a link and holds no HTML."""
    return re.sub(r"([\\\[\]<`])", r"\\\1", " ".join(text.split()))


def word_count(markdown: str) -> int:
    """The words a reader reads in `markdown`: link destinations are not words."""
    return len(WORD.findall(LINK_TARGET.sub("]", markdown)))


def images_as_text(markdown: str) -> str:
    """Images as text that names their address (`image: alt <url>`), for viewers that would drop it;
    a linked image keeps its link's address too."""
    return MARKDOWN_IMAGE.sub(lambda m: f"image: {m.group(1)} {m.group(2)}".replace("  ", " "), markdown)


def link_text(markdown: str) -> str:
    """Markdown with its images removed and its links replaced by their text (images inside links first)."""
    if "](" not in markdown:  # no link and no image (most blocks and headings): nothing to replace
        return markdown
    return MARKDOWN_LINK.sub(r"\1", MARKDOWN_IMAGE.sub("", markdown) if "![" in markdown else markdown)


def neutralise(markdown: str) -> str:
    """No live HTML, no non-web links and no tags in a note, whatever the email's text said.

    html2text turns `&lt;script&gt;` text back into `<script>` and leaves `[x](javascript:…)` text
    as it is; a Markdown previewer would run both. Outside code, `<` before a tag-like character is
    escaped (autolinks `<https://…>` stay), a link whose destination is not http(s), mailto or an
    anchor loses its link syntax, and a `#` that would make the sender's word a tag of the note in a
    vault (`#management`) is escaped: a note's tags are the ones its front matter lists.
    """
    out, in_fence = [], False
    for line in markdown.split("\n"):
        if ("```" in line or "~~~" in line) and FENCE.match(line):
            in_fence = not in_fence
        elif not in_fence and ("<" in line or "](" in line or "#" in line):  # none: no pattern can match
            parts = line.split("`")
            for i in range(0, len(parts), 2):  # even parts are outside inline code
                part = parts[i]  # each pattern only where its first character is (most lines hold links only)
                if "](" in part:
                    part = NON_WEB_LINK.sub(r"\\](", part)
                if "<" in part:
                    part = LIVE_TAG.sub("\\\\<", part)
                if "#" in part:
                    part = HASHTAG.sub(r"\\#", part)
                parts[i] = part
            line = "`".join(parts)
        out.append(line)
    return "\n".join(out)
