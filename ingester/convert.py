"""Article HTML (or plain text) → Markdown. Pure; the only module that imports html2text."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

import html2text
from html2text.utils import escape_md_section

from ingester.chrome import FOOTER_LINE, FOOTER_TEXT
from ingester.clean import Event
from ingester.links import URL_IN_TEXT, CleanedUrl, LinkContext, clean_text_urls
from ingester.markdown import HASHTAG, link_text, neutralise, strip_invisible
from ingester.textchrome import without_chrome
from ingester.textheads import find_headings, with_headings

# nothing to see: blanks, soft hyphens, zero-width marks, a lone hard break, empty emphasis ("__", "****"),
# an empty heading ("##")
INVISIBLE_LINE = re.compile(r"[\s\u00ad\u034f\u200b-\u200f\u2060\ufeff\\]*|\s*(?:__|\*\*){1,2}\s*|\s*#{1,6}\s*")
LONE_SEPARATOR = re.compile(r"^\s*\|\s+(?=\S)|(?<=\S)\s+\|\s*$")
EMPHASIS = frozenset({"b", "strong", "i", "em", "u", "s", "strike", "del"})  # what html2text writes `**`, `_`, `~~` for
SHORT_LINE = 50  # characters: lines shorter than this keep their break (wrapped prose runs ~65-78)
MARKDOWN_SPECIAL = re.compile(r"[\\`*_\[\]<]")
# A sender's `*`, and a `_` that could open or close emphasis (not the one inside `snake_case`)
SENDER_EMPHASIS = re.compile(r"\*|(?<![^\W_])_|_(?![^\W_])")
# What any of those escapes needs (a backslash, a `+`, `-`, `*` or `_`, a number's dot): most text has none
MAY_ESCAPE = re.compile(r"[\\+*_-]|\d\.")
HEADING_LINE = re.compile(r"(?m)^(#{1,6} )(.*)$")
# A text part's list item: a bullet (written "* ", "• ", "- "…) or a number, then text
PLAIN_BULLET = re.compile(r"[*•·‣◦-]\s+(?=[^\s*]*\w)")
PLAIN_ITEM = re.compile(r"- (?=\S)|\d{1,3}[.)]\s+(?=\S)")
RULE_LINE = re.compile(r"(?<![-_=*~\s])\s*[-_=*~]{5,}\s*")
RULE_AT_START = re.compile(r"\A(?:\s*(?:\* \* \*|-{3,}|_{3,})\s*\n)+")
RULE_TOKEN = re.compile(r"\* \* \*|-{3,}|_{3,}")
# Invisible, and joining nothing at a line's start: a soft hyphen, zero-width marks, a word joiner, a BOM
ZERO_WIDTH = ("\u00ad", "\u034f", "\u200b", "\u200c", "\u200d", "\u2060", "\ufeff")
# What starts a block in CommonMark: indented code, a heading, a quote, a list item, a rule, a fence, HTML
BLOCK_START = re.compile(r" {4}|#{1,6}(?:\s|$)|>|[-+*](?:\s|$)|\d{1,9}[.)](?:\s|$)|[-_*=]{3}|```|~~~|<")
# Elements that make a block of their own, whatever element holds them
BLOCKS = frozenset(
    {
        *("h1", "h2", "h3", "h4", "h5", "h6", "p", "div", "ul", "ol", "li", "dl", "dt", "dd", "table", "tr"),
        *("blockquote", "pre", "hr", "center", "section", "article", "header", "footer", "figure", "address"),
    }
)
BLOCK_TAGS = frozenset(("p", "div"))  # html2text starts a paragraph for them, and does nothing else
# Every tag html2text's `handle_tag` does something for (h1-h9 too); any other tag it only notes as its
# current tag, and lets open a pending automatic link (tests/test_clean.py reads its source for this list).
HANDLED_TAGS = frozenset(
    {
        *("p", "div", "br", "hr", "head", "style", "script", "body", "blockquote", "em", "i", "u", "strong", "b"),
        *("del", "strike", "s", "kbd", "code", "tt", "abbr", "q", "a", "img", "dl", "dt", "dd", "ol", "ul", "li"),
        *("table", "tr", "td", "th", "pre", "sup", "sub"),
        *(f"h{n}" for n in range(1, 10)),
    }
)


def _converter() -> html2text.HTML2Text:
    """One configured converter: no line wrapping, inline links, images kept with their alt text."""
    h = html2text.HTML2Text()
    h.body_width = 0  # never wrap paragraphs: the reviewer's editor does that
    h.unicode_snob = True  # keep “quotes” and non-ASCII as they are
    h.inline_links = True
    h.wrap_links = False
    h.protect_links = False
    h.ignore_images = False
    h.images_to_alt = False
    h.ignore_tables = False
    h.single_line_break = False
    h.skip_internal_links = True
    h.mark_code = False
    return h


def events_to_markdown(events: Iterable[Event], shortcut: bool = True) -> str:
    """Markdown for the cleaned article given as parser events (`clean.Event`): html2text is driven
    with them directly, so the HTML is parsed once per message, not written out and parsed again.
    (`shortcut=False` feeds html2text the whitespace between blocks too: the tests compare the two.)"""
    h = _converter()
    events = tuple(events)
    holding = links_holding_blocks(events)
    open_links: list[bool] = []  # for each open `a`: whether it holds a block
    gap = False  # a space is pending for a block's edge inside a link
    closed_at = -1  # the length of html2text's output when an emphasis was last closed
    after_block = False  # the last event opened or closed a paragraph (html2text then ignores whitespace)
    keeps_space = 0  # open a, pre and table elements, where html2text does not start paragraphs
    for i, (kind, name, *attrs) in enumerate(events):
        if kind != "text" and name in BLOCKS and any(open_links) and h.maybe_automatic_link is None and not h.space:
            # html2text starts no paragraph inside a link: a block's edge there is a word's edge, once the
            # link's text has begun (and not at its end: `[Title ](…)`)
            h.space = gap = True
        elif kind == "text" and name.strip():
            gap = False
        if kind == "text":
            if shortcut and after_block and not keeps_space and not h.stressed and not name.strip():
                # Whitespace between blocks: most of an email's text events. Do what handle_data()
                # would do with it, without its four regex passes (test_whitespace_shortcut_changes_no_note
                # guards this against a new html2text).
                h.preceding_stressed, h.preceding_data, h.space = False, name, True
                continue
            just_closed = len(h.outtextlist) == closed_at and not (h.p_p or h.space)
            feed_text(h, name, _closing(h) if just_closed else "")
            after_block = False
            continue
        if kind == "start":
            if name == "a":
                closed_at = -1  # the link's `[` comes first, written with its text
                open_links.append(i in holding)
                if open_links[-1]:
                    h.p()  # a link holding a block (`<a><h2>…</h2></a>`) starts its own block
            elif name in EMPHASIS:
                h.preceding_data = _written_before(h)  # html2text's own is the last text, not the last marker
        after_block = name in BLOCK_TAGS
        if after_block or name not in HANDLED_TAGS:
            # What html2text's handle_tag does for these, without its chain of ~40 tests (and the dict of
            # attributes it makes first): most of an email's tags are <div>s and <span>s (the guard is
            # the same test as the whitespace shortcut's; HANDLED_TAGS is checked against html2text's source)
            h.current_tag = name
            if after_block:
                if not h.astack and not h.split_next_td:
                    h.p()
            elif kind == "start" and h.maybe_automatic_link is not None:
                h.o("[")
                h.maybe_automatic_link = None
                h.empty_link = False
        elif kind == "start":
            reopened = name in EMPHASIS and closed_at == len(h.outtextlist)
            h.handle_starttag(name, list(attrs[0]))
            out = h.outtextlist
            if reopened and len(out) == closed_at + 1 and len(out) >= 2 and out[-1] and out[-1] == out[-2]:
                # `<i>…</i><i>.` : the marker just closed opens again at once ("__"): one run goes on instead
                del out[-2:]
                closed_at = -1
        else:
            if name == "a" and gap:
                h.space = gap = False
            written = len(h.outtextlist)
            h.handle_endtag(name)
            if name == "a" and open_links and open_links.pop():
                h.p()  # and what follows it starts another
            elif name in EMPHASIS and len(h.outtextlist) > written:
                closed_at = len(h.outtextlist)
        if name in ("a", "pre", "table"):
            keeps_space += 1 if kind == "start" else -1
    return finish(h)


def _written_before(h: html2text.HTML2Text) -> str:
    """What html2text must know of the character before an emphasis it opens: "" at a line's start or
    after a blank (where any marker opens), "." after punctuation (`(_x_`, `„_x_`, `[_x_`: no blank
    needed), else the character itself (a letter: `_` needs a blank before it; `*`: so does `**`)."""
    if h.p_p or h.start or h.space:
        return ""
    last = next((piece[-1] for piece in reversed(h.outtextlist) if piece), "")
    if not last or last.isspace():
        return ""
    return "." if _punctuation(last) and last not in "*~" else last


def _closing(h: html2text.HTML2Text) -> str:
    """The emphasis marker html2text has just written to close a run, with the character before it."""
    out = h.outtextlist
    before = next((out[i][-1] for i in range(len(out) - 2, -1, -1) if out[i]), "")  # no copy of the output
    return before + out[-1] if out else ""


def _punctuation(char: str) -> bool:
    """A punctuation mark or symbol as CommonMark's flanking rules read it (Unicode P* and S*)."""
    return unicodedata.category(char)[0] in "PS"


def needs_separator(closing: str, after: str) -> bool:
    """Whether a closing marker (given with the character before it, `n_`, `.**`) must be kept from `after`,
    the character that follows it, by a blank for CommonMark to close the run: before a letter or digit, `_`
    cannot close (`_x_y`), nor can `**` or `~~` after punctuation (`**x.**y`). Before a blank or punctuation
    (`_Bridgerton_'s`, `**10%**\\*`) every run closes."""
    if len(closing) < 2 or not after or after.isspace() or _punctuation(after):
        return False
    return closing.endswith("_") or _punctuation(closing[0])


def links_holding_blocks(events: tuple[Event, ...]) -> frozenset[int]:
    """The indexes of the `a` start events whose link holds a block-level element (a heading, paragraph,
    list or table): html2text writes such a block inside the line it is in (`…Newswire](…)## [Title](…)`)."""
    found: set[int] = set()
    links: list[int] = []  # the start events of the open links
    for i, (kind, name, *_) in enumerate(events):
        if name == "a":
            if kind == "start":
                links.append(i)
            elif links:
                links.pop()
        elif kind == "start" and name in BLOCKS and links:
            found.update(links)
    return frozenset(found)


def feed_text(h: html2text.HTML2Text, text: str, closing: str = "") -> None:
    """One text event, as html2text's `handle_data` takes it but for what it gets wrong. `closing`: the
    emphasis marker written just before this text, if any, with the character before it."""
    # html2text puts a blank before any text that follows an emphasis' first text unless it starts with
    # a bracket or .!? ("**10%** \\* ein", "_Bridgerton_ 's", and "**x y**" for `<b>x<span>y</span></b>`):
    # a blank goes only where CommonMark needs one to close the run
    h.preceding_stressed = False
    if closing and needs_separator(closing, text[:1]):
        text = " " + text
    if h.stressed and text.strip() and text[-1:].isspace():
        # The first text in an emphasis is stripped at both ends by html2text, so its space before a
        # link or another inline element went ("check out[the archives](…)"): the start is stripped
        # (the marker must touch the text), the space at its end is kept.
        _data(h, text.rstrip())
        text = " "
    _data(h, text)


def _data(h: html2text.HTML2Text, text: str) -> None:
    if not (h.code or h.pre or RULE_LINE.fullmatch(text)):  # a line of "____" is a rule as the sender drew it
        # html2text leaves a sender's `*` and `_` as they are: "Leser*innen und Kund*innen" would turn
        # italic between the stars (CommonMark allows `*` emphasis inside words), `<h5>__END__</h5>` bold
        if MAY_ESCAPE.search(text):
            text = SENDER_EMPHASIS.sub(r"\\\g<0>", escape_md_section(text))
        h.handle_data(text, entity_char=True)
    else:
        h.handle_data(text)


def finish(h: html2text.HTML2Text) -> str:
    """The Markdown of everything fed to `h`, tidied; no heading keeps invisible characters at its edges."""
    return tidy(
        drop_footer_tail(
            neutralise(HEADING_LINE.sub(lambda m: m.group(1) + strip_invisible(m.group(2)), h.optwrap(h.finish())))
        )
    )


def drop_footer_tail(markdown: str) -> str:
    """The paragraphs at the end that are the sender's footer go: address, imprint, ©, "you're
    subscribed to…", "if you were forwarded this…", and the short link lines among them
    ("Datenschutz | Impressum | Kontakt"). Walking back from the end, the first paragraph that is
    neither ends the footer: an article's own closing line ("Cheers, Ben") is never taken. (`tidy`
    then removes a rule left at the end.)"""
    paragraphs = re.split(r"\n\s*\n", markdown.strip("\n"))
    cut = len(paragraphs)
    for i in range(len(paragraphs) - 1, 0, -1):
        plain = " ".join(link_text(paragraphs[i]).replace("\\\n", " ").split())  # one line, one space per gap
        hits = len({m.group(0).lower() for m in FOOTER_LINE.finditer(plain)}) if len(plain) <= 1000 else 0
        if hits >= (1 if len(plain) <= MAX_FOOTER_PARAGRAPH else 2):  # a long imprint names several things
            cut = i
        elif not (len(plain) <= MAX_GLUE_LINE or plain.startswith("* * *") or RULE_LINE.fullmatch(plain)):
            break
    while 1 < cut < len(paragraphs) and _label(paragraphs[cut - 1]):
        cut -= 1  # "**KONTAKT & INFORMATIONEN**" over the footer that went: a label of nothing
    return "\n\n".join(paragraphs[:cut])


def _label(paragraph: str) -> bool:
    """A paragraph that only names what follows: a heading, or a short line in capitals or ending in ":"."""
    plain = " ".join(link_text(paragraph).split()).strip("*_ ")
    if not plain or len(plain.split()) > MAX_LABEL_WORDS or "](" in paragraph:
        return False
    letters = [c for c in plain if c.isalpha()]
    capitals = len(letters) >= 2 and all(c.isupper() for c in letters)
    return paragraph.startswith("#") or plain.endswith((":", "：")) or capitals


MAX_FOOTER_PARAGRAPH = 400  # characters: longer is article text, whatever it mentions
MAX_GLUE_LINE = 60  # characters: a short line among footer lines ("Kontakt", social links) goes with them
MAX_LABEL_WORDS = 6


def text_to_markdown(text: str, context: LinkContext | None = None, found: list[CleanedUrl] | None = None) -> str:
    """Markdown for a text/plain newsletter that shows the text as the sender wrote it.

    URLs are cleaned (each result added to `found`); Markdown characters in the text are escaped
    (`1024*768` is no emphasis); indentation is dropped (four spaces would make a code block); a short
    line keeps its line break (lists, addresses, price lists), while hard-wrapped prose flows into paragraphs.
    """
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    lines = [line.rstrip() for line in text.split("\n")]
    # A signature delimiter ("-- ") ends the article in plain-text mail; so does a rule line
    # followed by the list footer ("You are receiving this…", "Unsubscribe: …").
    if "--" in lines:
        lines = lines[: lines.index("--")]
    for i in range(len(lines) - 1, -1, -1):
        if RULE_LINE.fullmatch(lines[i]) and FOOTER_TEXT.search("\n".join(lines[i:])):
            lines = lines[:i]
            break
    lines = without_chrome(lines, context)  # unsubscribe/preferences paragraphs and what follows them
    headings = find_headings([line.strip() for line in lines])  # before escaping: the text as written
    lines = [_plain_line(clean_text_urls(line.strip(), context, found)) for line in lines]
    lines = with_headings(lines, headings, _escape_plain)
    out = []
    for i, line in enumerate(lines):
        follows = i + 1 < len(lines) and lines[i + 1]
        # a list item is a block of its own: a hard break at its end (or before one) would show as "\"
        listed = PLAIN_ITEM.match(line) or (follows and PLAIN_ITEM.match(lines[i + 1]))
        short = len(line) < SHORT_LINE and not line.startswith("## ") and not listed  # a text's "## " is escaped
        out.append(line + ("\\" if line and follows and short and not RULE_LINE.fullmatch(line) else ""))
    return tidy(drop_footer_tail("\n".join(out)))  # the address and © lines the chrome links left


def _plain_line(line: str) -> str:
    """A line of a text part as Markdown: a bullet ("* ", "• ", "- ") a list item, the rest escaped."""
    bullet = PLAIN_BULLET.match(line)
    return "- " + _escape_plain(line[bullet.end() :]) if bullet else _escape_plain(line)


def _escape_plain(line: str) -> str:
    """Escape what Markdown would read as markup, outside URLs; keep list bullets and numbers."""
    parts = URL_IN_TEXT.split(line)
    urls = URL_IN_TEXT.findall(line)
    escaped = [HASHTAG.sub(r"\\#", MARKDOWN_SPECIAL.sub(r"\\\g<0>", part)) for part in parts]
    line = "".join(p + (urls[i] if i < len(urls) else "") for i, p in enumerate(escaped))
    if RULE_LINE.fullmatch(line):
        return "\\" + line if line.startswith(("-", "=", "_")) else line
    return re.sub(r"^(#{1,6}\s|>|\+\s|=+\s*$)", r"\\\1", line)


def tidy(markdown: str) -> str:
    """Trailing spaces off, at most one blank line in a row, no blank lines around the text, no line
    of only invisible characters (soft hyphens and zero-width marks that pad email layouts).

    html2text marks `<br>` with two trailing spaces; where another line follows, that hard break
    becomes a backslash (CommonMark), which survives editors that trim trailing whitespace.
    """
    lines = ["" if INVISIBLE_LINE.fullmatch(line) else _visible_start(line) for line in markdown.split("\n")]
    for i, line in enumerate(lines):  # "6 Feb 2025 |" once the "View online" link after the bar is gone
        alone = (i == 0 or not lines[i - 1].strip()) and (i + 1 == len(lines) or not lines[i + 1].strip())
        if alone and line.count("|") == 1:
            lines[i] = LONE_SEPARATOR.sub("", line)
    out = []
    for i, line in enumerate(lines):
        follows = i + 1 < len(lines) and lines[i + 1].strip()
        hard_break = line.endswith("  ") and line.strip() and follows and "|" not in line  # not in table rows
        out.append(line.rstrip() + ("\\" if hard_break else ""))
    text = re.sub(r"\n{3,}", "\n\n", "\n".join(out))
    return _without_end_rules(text.strip("\n")).strip("\n") + "\n"


def _visible_start(line: str) -> str:
    """The line without the zero-width characters at its start (`\u200b[Alle Downloads](…)`, an email
    editor's padding after a line break), unless what follows them would then read as Markdown's block
    syntax (`\u200b1. x` is no list item: the mark keeps it text)."""
    if not line.startswith(ZERO_WIDTH):
        return line
    rest = line.lstrip("".join(ZERO_WIDTH))
    return line if BLOCK_START.match(rest) else rest


def _without_end_rules(text: str) -> str:
    """A rule left at either end once the chrome around it is gone separates nothing: at the start, the lines up
    to the last of its rules, and at the end, the lines from the first of its rules, each line a rule or blank.
    (One pattern did both; tried at every line of a long note, its end half cost more than the rest of `tidy`,
    and its failing tries were quadratic: tests/test_markdown_hygiene.py compares the two.)"""
    start = found.end() if (found := RULE_AT_START.match(text)) else 0
    lines = text[start:].split("\n")
    first, ruled = len(lines), False
    for i in range(len(lines) - 1, 0, -1):  # the first line has no line break of its own before it
        line = lines[i].strip()
        if line and not RULE_TOKEN.fullmatch(line):
            break
        first, ruled = i, ruled or bool(line)
    end = start + len("\n".join(lines[:first])) if ruled else len(text)
    return text[start:end]
