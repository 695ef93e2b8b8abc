"""The last gate of every note body: what a CommonMark viewer would make of it, checked by a CommonMark parser.

The stages before escape what they write, line by line, with regular expressions; a sender who knows
CommonMark better than they do (an odd backtick that ends a code span early, a `<pre>` holding a
fence, a link reference definition, an autolink to `javascript:`) can still get live HTML or a script
link through. Here the body is parsed as a viewer that passes raw HTML would parse it
(markdown-it-py, the only importer of that library), and every block holding raw HTML other than a
few harmless tags, or a link or image to anything but http(s), mailto or an anchor, has its `<`,
`[` and `]` escaped; then it is parsed again. A body still unsafe after a few rounds (nothing real
is) is kept whole as text in a fence. Control characters (terminal escapes, bells) go first. Pure.
"""

from __future__ import annotations

import re

from markdown_it import MarkdownIt
from markdown_it.token import Token

CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")  # all but tab and newline
HARMLESS_TAG = re.compile(r"</?(?:br|sup|sub)\s*/?>", re.I)
# A destination is safe when it is http(s), mailto, or has no scheme at all (an anchor, a file beside the
# note); browsers drop blanks and controls before they read the scheme, so this does too.
SCHEME = re.compile(r"\A([a-z][a-z0-9+.-]*):", re.I)
SAFE_SCHEMES = {"http", "https", "mailto"}
# What any live HTML or non-web link needs somewhere in the text: a `<` before a tag or scheme, a `](` before
# anything but a web URL or anchor, a `]:` of a reference definition; `suspect` wants one unescaped, i.e. after an
# even run of backslashes (a run holds no backtick, so a code span cannot split it: the backslashes are either
# all in a code span, and the `<` or `]` with them, or an escape). `<http(s):` and `<mailto:` start no tag
# (a tag name ends before `:`), only a web autolink. A body with none of these is safe without parsing it
# (most bodies: a parse costs ~5 ms a note, a long digest's far more).
SUSPECT = re.compile(r"<(?!(?:https?|mailto):)[A-Za-z/!?]|\]\((?!https?://|mailto:|#)|\]:", re.I)
UNESCAPED = re.compile(r"(?<!\\)([<\[\]])")
# markdown-it's inline parser is quadratic on long runs of unclosed links (`![a](![a](…`); no paragraph
# a person writes is this long, so one that is has its brackets escaped before the parse (shown as typed).
BLOCK_CHARS = 20_000
BLOCKS = re.compile(r"(\n[ \t]*\n)")
ROUNDS = 4


def _parser() -> MarkdownIt:
    parser = MarkdownIt("commonmark")
    # see every destination: not every viewer filters schemes as markdown-it does
    parser.validateLink = lambda url: True  # type: ignore[method-assign]
    return parser


PARSER = _parser()


def safe_body(markdown: str) -> str:
    """The body with no control character, no live HTML and no non-web link, as any CommonMark viewer reads it."""
    markdown = CONTROLS.sub("", markdown)
    if not suspect(markdown):
        return markdown
    blocks = BLOCKS.split(markdown)
    markdown = "".join(UNESCAPED.sub(r"\\\1", b) if len(b) > BLOCK_CHARS else b for b in blocks)
    for _ in range(ROUNDS):
        lines = unsafe_lines(markdown)
        if not lines:
            return markdown
        rows = markdown.split("\n")
        for number in lines:
            rows[number] = UNESCAPED.sub(r"\\\1", rows[number])
        markdown = "\n".join(rows)
    if not unsafe_lines(markdown):
        return markdown
    fence = "~" * max(3, 1 + max((len(run) for run in re.findall(r"~+", markdown)), default=0))
    return f"{fence}text\n{markdown}\n{fence}"


def suspect(markdown: str) -> bool:
    """Whether the text holds a SUSPECT construct after an even run of backslashes (not escaped)."""
    for match in SUSPECT.finditer(markdown):
        start = before = match.start()
        while before and markdown[before - 1] == "\\":
            before -= 1
        if (start - before) % 2 == 0:
            return True
    return False


def unsafe_lines(markdown: str) -> set[int]:
    """The line numbers of every block that holds live HTML or a link to something else than the web."""
    found: set[int] = set()
    block: list[int] | None = None
    for token in PARSER.parse(markdown):
        if token.map is not None:
            block = token.map
        if block is not None and (_unsafe(token) or any(_unsafe(child) for child in token.children or ())):
            found.update(range(block[0], max(block[1], block[0] + 1)))
    return found


def _unsafe(token: Token) -> bool:
    if token.type in ("html_block", "html_inline"):
        return bool(HARMLESS_TAG.sub("", token.content).strip())
    if token.type in ("link_open", "image"):
        url = re.sub(r"[\x00-\x20]", "", str(token.attrGet("href" if token.type == "link_open" else "src") or ""))
        scheme = SCHEME.match(url)
        return scheme is not None and scheme.group(1).lower() not in SAFE_SCHEMES
    return False
