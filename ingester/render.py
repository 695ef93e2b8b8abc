"""Note fields + article Markdown → the skeleton note: YAML front matter and the template body. Pure.

The body layout is a `string.Template` file (`templates/note.zh.md`, `templates/note.en.md` inside
the package) that a user can copy and change (`[archive] template`); the front matter is written
here so it is always valid YAML.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime
from importlib import resources
from pathlib import Path
from string import Template

from ingester import gate, tags
from ingester.chrome import CHROME_TEXT, GREETING, VIEW_ONLINE
from ingester.clean import LinkCounts
from ingester.errors import ConfigError
from ingester.frontmatter import yaml_value
from ingester.identity import MARK
from ingester.markdown import FENCE, escape_line, escape_link_text, link_text, strip_invisible, web_url, word_count
from ingester.parts import Listed


@dataclass(frozen=True)
class Labels:
    """The words a note's layout uses in one language."""

    intro: str  # the heading of the text before the post's first heading
    none: str  # a value that is missing
    tag_sep: str
    categories: dict[str, str]  # by platform
    category: str  # any other platform
    attachments: str = "Attachments"  # the heading of the list of attached files
    image_words: tuple[str, str] = ("image", "not saved")  # an inline image's placeholder: `[image: alt]`
    no_sections: str = "(no section headings)"  # the outline of a post without any


LABELS = {
    "zh": Labels(
        "引言",
        "（无）",
        " ， ",
        {"substack": "博客文章", "ghost": "博客文章", "mailing-list": "邮件列表"},
        "新闻简报",
        "附件",
        ("图片", "未保存"),
        "（无章节标题）",
    ),
    "en": Labels(
        "Introduction",
        "(none)",
        ", ",
        {"substack": "Blog post", "ghost": "Blog post", "mailing-list": "Mailing list"},
        "Newsletter",
    ),
}
# A `#` that a vault would read as a tag (`#AI`) unless escaped; the backslashes before it decide that.
HASH = re.compile(r"(?<!\\)(\\*)#(?=[\w/-])")  # from the start of a run of backslashes: linear
HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
MAX_LEAD = 3  # outline candidates at the top of the article where a salutation may sit
MAX_SALUTATION_WORDS = 5  # a salutation is a short line ("Liebe Leserinnen und Leser,")
# In a heading: an escaped character (kept, without its backslash), or an emphasis or code marker (dropped);
# a `_` inside a word (`snake_case`) is no marker
MARKUP = re.compile(r"\\([!-/:-@\[-`{-~])|\*+|~~+|`+|(?<![^\W_])_+|_+(?![^\W_])")
MAX_SLUG_BYTES = 180  # + "YYYY-MM-DD-", "-NN" and ".md" stays well under 255 bytes
UNSAFE_IN_NAMES = frozenset('/\\:*?"<>|#^[]')  # file systems, and vault links ([[name#heading|alias]])
# An inline image not shown as one (`parts.place`): `\[image: alt\]`; as an image, it outlines nothing
PLACEHOLDER = re.compile(rf"[ \t]?\\\[(?:{'|'.join(re.escape(w.image_words[0]) for w in LABELS.values())}): .*?\\\]")
WINDOWS_RESERVED = re.compile(r"con|prn|aux|nul|com[0-9¹²³]|lpt[0-9¹²³]", re.I)


@dataclass(frozen=True)
class NoteFields:
    """Everything a note says about its message (`compose.note_fields` fills it)."""

    title: str
    original_title: str
    url: str
    url_source: str
    author: str
    publication: str
    platform: str
    date: datetime | None
    message_id: str
    source: str
    publication_id: str = ""
    subtitle: str = ""
    category: str = ""
    forwarded_by: str = ""
    tags: tuple[str, ...] = ()
    counts: LinkCounts = field(default_factory=LinkCounts)
    fidelity: str = ""  # "partial": the content-loss guard found the note may miss part of the article
    attachments: tuple[str, ...] = ()  # "name (type, size)" of each attached file and inline image
    listed: tuple[Listed, ...] = ()  # the files the body lists at its end (`[archive] attachments`)


def template_text(language: str, custom: Path | None = None) -> str:
    """The note layout: the user's own file (`[archive] template`), else the packaged one for `language`."""
    if custom is None:
        return resources.files("ingester").joinpath("templates", f"note.{language}.md").read_text(encoding="utf-8")
    try:
        return custom.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(
            f"[archive] template: cannot read {custom} ({exc.strerror}); set it to an existing file"
        ) from exc


def render_note(fields: NoteFields, markdown: str, template: str, language: str = "zh") -> str:
    """The complete note text: front matter, then the template filled in."""
    labels = LABELS[language]
    sections = split_sections(markdown)
    url = web_url(fields.url)
    link = f"[{no_tags(escape_link_text(fields.original_title or fields.title))}]({url})" if url else labels.none
    body = Template(template).safe_substitute(
        title=no_tags(escape_line(fields.title)),
        original_title=no_tags(escape_line(fields.original_title)),
        subtitle=no_tags(escape_line(fields.subtitle)),
        link=link,
        url=url or labels.none,
        category=escape_line(fields.category) or labels.categories.get(fields.platform, labels.category),
        author=escape_line(fields.author) or labels.none,
        publication=escape_line(fields.publication) or labels.none,
        date=format_date(fields.date, language) or labels.none,
        outline=outline(sections, labels),
        tags=labels.tag_sep.join(f"#{t}" for t in note_tags(fields)) or labels.none,
        sections=render_sections(sections, labels.intro),
    )
    body = body.rstrip("\n") + attached_list(fields.listed, labels)
    # the article's words: a placeholder is the note's, not the post's (it begins "\[", which most notes lack)
    words = word_count(PLACEHOLDER.sub("", markdown) if "\\[" in markdown else markdown)
    return front_matter(fields, words) + gate.safe_body(body) + "\n"


def attached_list(listed: tuple[Listed, ...], labels: Labels) -> str:
    """The attached files to end a body with: a link to each saved one, why each other was not saved ("" if none)."""
    if not listed:
        return ""
    lines = ["", "", f"### {labels.attachments}", ""]
    for item in listed:
        name = f"[{escape_link_text(item.name)}]({item.link})" if item.link else escape_line(item.name)
        why = f", {labels.image_words[1]}: {item.not_saved}" if item.not_saved else ""
        lines.append(f"- {name} ({escape_line(item.detail)}{why})")
    return "\n".join(lines)


def no_tags(escaped: str) -> str:
    """Escaped Markdown text in which no `#` starts a tag (`Issue #AI` stays text in a vault)."""
    return HASH.sub(lambda m: m.group(0) if len(m.group(1)) % 2 else f"{m.group(1)}\\#", escaped)


def note_tags(fields: NoteFields) -> list[str]:
    """The note's tags that every vault reads as tags (the others are left out)."""
    return [t for t in fields.tags if tags.is_valid(t)]


def front_matter(fields: NoteFields, words: int = 0) -> str:
    """YAML front matter whose values a YAML parser reads back exactly (JSON-style quoted scalars).

    `aliases` makes a vault show the title rather than the file name; `published` is the day alone,
    unquoted, so vault tools read it as a date (`date` keeps the exact time and zone); `words` counts
    the article only, not the template's labels.
    """
    values: list[tuple[str, object]] = [
        ("title", fields.title),
        ("original_title", fields.original_title),
        ("aliases", list(dict.fromkeys(t for t in (fields.title, fields.original_title) if t.strip()))),
        *((("subtitle", fields.subtitle),) if fields.subtitle else ()),
        ("url", fields.url),
        ("url_source", fields.url_source),
        ("author", fields.author),
        ("publication", fields.publication),
        ("publication_id", fields.publication_id),
        ("platform", fields.platform),
        ("date", fields.date.isoformat() if fields.date else ""),
        *((("published", Day(fields.date)),) if fields.date else ()),
        ("message_id", fields.message_id),
        ("status", "draft"),
        ("tags", note_tags(fields)),
        ("source", fields.source),
        *((("forwarded_by", fields.forwarded_by),) if fields.forwarded_by else ()),
        ("words", words),
        ("links_cleaned", fields.counts.links_cleaned),
        ("wrappers_decoded", fields.counts.wrappers_decoded),
        ("opaque_links", fields.counts.opaque_links),
        ("pixels_removed", fields.counts.pixels_removed),
        # written only when something personal was found, so other notes stay as they were
        *((("personal_links", fields.counts.personal_links),) if fields.counts.personal_links else ()),
        *((("links_unlinked", fields.counts.links_unlinked),) if fields.counts.links_unlinked else ()),
        *((("reader_redacted", fields.counts.reader_redacted),) if fields.counts.reader_redacted else ()),
        *((("fidelity", fields.fidelity),) if fields.fidelity else ()),
        *((("attachments", list(fields.attachments)),) if fields.attachments else ()),
    ]
    lines = [
        "---",
        *(f"{key}: {value if isinstance(value, Day) else yaml_value(value)}" for key, value in values),
        "---",
        "",
    ]
    return "\n".join(lines) + "\n"


class Day(str):
    """A day written as a bare YAML date (`2025-01-27`), which YAML and vault tools read as a date."""

    def __new__(cls, when: datetime) -> Day:
        return super().__new__(cls, f"{when.year:04d}-{when.month:02d}-{when.day:02d}")


def format_date(date: datetime | None, language: str) -> str:
    """`2025年1月27日` or `January 27, 2025`, in the sender's own time zone."""
    if date is None:
        return ""
    if language == "zh":
        return f"{date.year}年{date.month}月{date.day}日"
    return f"{date:%B} {date.day}, {date.year}"


@dataclass(frozen=True)
class Section:
    """A top-level section of the post: its heading (None for text before the first one) and Markdown."""

    heading: str | None
    level: int
    body: str
    subheadings: tuple[tuple[int, str], ...]


def headings(markdown: str) -> list[tuple[int, str]]:
    """(level, text) of every ATX heading outside code fences."""
    found = []
    in_fence = False
    for line in markdown.split("\n"):
        if FENCE.match(line):
            in_fence = not in_fence
        elif not in_fence and (m := HEADING.match(line)) and m.group(2):
            found.append((len(m.group(1)), m.group(2)))
    return found


def split_sections(markdown: str) -> list[Section]:
    """Cut the post at its top-level headings; deeper headings move under `###` (the note's section level)."""
    found = headings(markdown)
    top = min((level for level, _ in found), default=1)
    sections: list[Section] = []
    heading: str | None = None
    body: list[str] = []
    subs: list[tuple[int, str]] = []
    in_fence = False

    def close() -> None:
        text = "\n".join(body).strip("\n")
        if text or heading is not None:
            sections.append(Section(heading, top, text, tuple(subs)))

    for line in markdown.split("\n"):
        if FENCE.match(line):
            in_fence = not in_fence
        match = None if in_fence else HEADING.match(line)
        if match and match.group(2):
            level = len(match.group(1))
            if level == top:
                close()
                heading, body, subs = match.group(2), [], []
                continue
            subs.append((level, match.group(2)))
            line = "#" * min(6, 3 + level - top) + " " + match.group(2)
        body.append(line)
    close()
    return sections


def outline(sections: list[Section], labels: Labels = LABELS["en"]) -> str:
    """The post's headings as a nested list of plain text (the template shows it in a code fence, where
    Markdown is not read); a post without section headings has no outline: `labels.no_sections` says so
    (paragraph openings are no sections: "Photo by …", "To play, simply reply to this email.")."""
    listed: list[tuple[int, str]] = []
    lead = _Lead()
    for section in sections:
        found = ((section.level, section.heading),) if section.heading is not None else ()
        for level, text in (*found, *section.subheadings):
            if lead.outlines(plain := _plain_heading(text)):
                listed.append((level, plain))
    return "\n".join(f"{'  ' * depth}- {text}" for depth, text in nest(listed)) or labels.no_sections


def nest(listed: list[tuple[int, str]]) -> list[tuple[int, str]]:
    """(depth, text) of outline items given as (heading level, text): nesting is relative, so the list
    starts at depth 0 whatever level comes first, and an item is at most one deeper than the one before
    it (a `####` after a `##` is its child, not its grandchild; text before the first `##` is no orphan)."""
    open_levels: list[int] = []  # the levels of the items the next one may be nested in
    nested = []
    for level, text in listed:
        while open_levels and open_levels[-1] >= level:
            open_levels.pop()
        nested.append((len(open_levels), text))
        open_levels.append(level)
    return nested


class _Lead:
    """The outline's candidates in order: a salutation sits among the first MAX_LEAD that say something
    (after a masthead or a date line, before the article's body)."""

    def __init__(self) -> None:
        self.seen = 0

    def outlines(self, sentence: str) -> bool:
        kept = _outlines(sentence, lead=self.seen < MAX_LEAD)
        self.seen += kept or _outlines(sentence, lead=False)
        return kept


def _plain_heading(heading: str) -> str:
    """A heading as its reader reads it, on one line: link text without targets, no emphasis markers
    (`**44% off**` → `44% off`), escapes undone (`\\#Favorites` → `#Favorites`), no invisible characters
    at its edges; as written when that leaves nothing (an image)."""
    text = " ".join(MARKUP.sub(lambda m: m.group(1) or "", link_text(heading)).split())
    return strip_invisible(text) or " ".join(heading.split())


def _outlines(sentence: str, lead: bool = False) -> bool:
    """An outline item says something: letters (not "17\\."), no email chrome (view online, unsubscribe),
    no salutation. A salutation is found by where it is and what it holds, not by its words: one of the
    article's `lead` lines (its first MAX_LEAD that say something, after a masthead or a date line) when
    short and ending in a comma ("Chers Suricates,", "Hi ,"), or any short line holding the reader's
    redaction mark ("Hi [reader]!"). A known greeting word ("Hello", "Hallo zusammen!": `chrome.GREETING`)
    is a hint, at the lead only."""
    if not any(c.isalpha() for c in sentence):
        return False  # "17\.", "0,99 €"
    words = len(sentence.split())
    if words <= MAX_SALUTATION_WORDS and (
        MARK in sentence.replace("\\", "") or (lead and _salutation(sentence, words))
    ):
        return False
    return not (CHROME_TEXT.search(sentence) or VIEW_ONLINE.search(sentence))


def _salutation(sentence: str, words: int) -> bool:
    return sentence.rstrip().endswith((",", "，")) or (GREETING.match(sentence) is not None and words <= 3)


def render_sections(sections: list[Section], intro_label: str) -> str:
    """One `###` block per section, holding that section's Markdown."""
    blocks = []
    for section in sections:
        title = section.heading if section.heading is not None else intro_label
        blocks.append(f"### {title}\n\n{section.body}".rstrip())
    return "\n\n".join(blocks)


def file_stem(title: str, date: datetime | None, style: str) -> str:
    """The note's file name without `.md`: `YYYY-MM-DD-<slug>` (the folder holds undated notes without a
    date), or with style "{title}" the title itself, made safe on every OS and in vault links."""
    if style != "{title}":
        return f"{date:%Y-%m-%d}-{slug(title)}" if date else slug(title)
    text = unicodedata.normalize("NFC", title)
    text = "".join(" " if unicodedata.category(c)[0] == "C" or c in UNSAFE_IN_NAMES else c for c in text)
    text = " ".join(text.split()).strip(" .")
    while len(text.encode("utf-8")) > MAX_SLUG_BYTES:
        text = text[:-1].rstrip(" .")
    text = text or "note"
    return f"{text} note" if WINDOWS_RESERVED.fullmatch(text.split(".")[0]) else text


def slug(text: str, limit: int = 60) -> str:
    """A file-name slug safe on every OS: letters and digits of any script, joined by `-`."""
    text = unicodedata.normalize("NFKC", text).lower()
    text = "".join(c if c.isalnum() else "-" for c in text if unicodedata.category(c)[0] != "C")
    text = re.sub(r"-{2,}", "-", text).strip("-")
    while len(text.encode("utf-8")) > MAX_SLUG_BYTES:  # file names are limited in bytes (255)
        text = text[:-1]
    if len(text) > limit:  # cut at a word boundary when there is one in the second half
        cut = text[: limit + 1].rfind("-")
        text = text[:cut] if cut > limit // 2 else text[:limit]
    text = text.rstrip("-") or "note"
    # Windows refuses these names whatever the extension (con.md included).
    return f"{text}-note" if WINDOWS_RESERVED.fullmatch(text) else text
