"""The parts of a message that are neither body: attached files and inline images. Pure.

What the note says of them: each listed (name, type, size) in the front matter; an inline image shown by
`cid:` where the HTML shows it, either as a Markdown image of the file saved beside the note
(`[archive] attachments = true`) or as a visible placeholder from its alt text or name (the default).
With saving on, what is saved and under which name is decided here, from the part alone: the name the
sender gave is untrusted (no path, no `..`, no control or bidi characters, no leading dot, no device name
Windows reserves, not overlong, unique within the message, case-insensitively), the declared type never
decides where a file goes, and sizes are capped (`[limits]`). The filing process only writes what this
decided (`store.attached`), beside the note: `<note stem>.files/<name>`.

An inline image reaches the note through the HTML cleaning, which keeps only web images: its `cid:` source
is swapped for a stand-in URL under the reserved `.invalid` domain, unique to the message (`mark_inline`),
which `place` replaces in the Markdown. The stand-in is never requested and never left in a note.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from urllib.parse import quote, unquote

FOLDER_SUFFIX = ".files"  # `2025-01-03-some-title.md` keeps its files in `2025-01-03-some-title.files/`
MAX_NAME_BYTES = 100  # a saved file's name, its extension included: well under every file system's 255
MAX_EXTENSION = 16
UNSAFE_IN_NAMES = re.compile(r'[<>:"|?*#^\[\]%`$!{}=;&\'~]')  # file systems, shells, Markdown and vault links
WINDOWS_DEVICES = re.compile(r"(?:con|prn|aux|nul|conin\$|conout\$|com[0-9¹²³]|lpt[0-9¹²³])", re.I)
IMG_CID = re.compile(r"(<img\b[^<>]*?\ssrc\s*=\s*)([\"']?)cid:([^\"'\s<>]+)\2", re.I)
STAND_IN = "https://cid.invalid/"
STAND_IN_IMAGE = re.compile(rf"(?<!\\)!\[((?:\\.|[^\[\]\\])*)\]\({re.escape(STAND_IN)}([^()\s]*)\)")
MARKUP = re.compile(r"[\\`*_<\[\]]")  # what a file name must escape to show as typed inside a placeholder
EXTENSIONS = {"image/jpeg": ".jpg", "image/png": ".png", "image/gif": ".gif", "image/webp": ".webp"}
IMAGE_EXTENSIONS = frozenset({".jpg", ".jpeg", ".png", ".gif", ".webp", ".svg", ".bmp", ".tif", ".tiff", ".avif"})


@dataclass(frozen=True)
class Attachment:
    """A part that is neither body: an attached file, or an inline image the HTML shows by `cid:`.

    :ivar size: bytes once decoded
    :ivar content_id: the Content-ID without its angle brackets ("" when none)
    :ivar data: the decoded bytes
    """

    name: str
    content_type: str
    size: int
    inline: bool = False
    content_id: str = ""
    data: bytes = field(default=b"", repr=False)

    def describe(self) -> str:
        """`report.pdf (application/pdf, 120 kB)`; inline images say so."""
        return f"{self.name} ({self.content_type}, {size_text(self.size)}{', inline' if self.inline else ''})"


def size_text(size: int) -> str:
    """`120 kB`, `3 MB`, `374 bytes`."""
    if size >= 1_000_000:
        return f"{size / 1_000_000:.0f} MB"
    return f"{size / 1000:.0f} kB" if size >= 1000 else f"{size} bytes"


@dataclass(frozen=True)
class Saved:
    """One part to save beside the note: its safe file name, its bytes, and the link the note holds to it
    (`<stem>.files/<name>`, %-encoded), which the filing process rewrites if the names must change."""

    name: str
    data: bytes
    link: str


@dataclass(frozen=True)
class Listed:
    """One line of the note's list of attached files: a link to the saved file, or why it was not saved."""

    name: str
    detail: str  # "application/pdf, 120 kB"
    link: str = ""
    not_saved: str = ""  # the reason, when it was not saved


@dataclass(frozen=True)
class Policy:
    """What to do with the parts: save them or not (`[archive] attachments`), and the size caps (`[limits]`)."""

    save: bool = False
    max_bytes: int = 10_000_000
    max_total: int = 20_000_000


@dataclass(frozen=True)
class Placed:
    """The Markdown with its inline images placed, the files to save and the list that ends the note."""

    markdown: str
    saved: tuple[Saved, ...] = ()
    listed: tuple[Listed, ...] = ()


def stand_in(nonce: str, index: int) -> str:
    """The stand-in URL of part `index` of the message whose content hash starts with `nonce`."""
    return f"{STAND_IN}{nonce}/{index}"


def mark_inline(html: str, parts: Sequence[Attachment], nonce: str) -> tuple[str, frozenset[int]]:
    """`html` with the `cid:` source of each image swapped for its part's stand-in URL, and the parts so shown.

    A `cid:` naming no part gets a stand-in too (its placeholder then says what the image was); every other
    source is left as it was."""
    if "cid:" not in html.lower():
        return html, frozenset()
    by_id: dict[str, int] = {}
    for index, part in enumerate(parts):
        if part.content_id:
            by_id.setdefault(part.content_id, index)
            by_id.setdefault(part.content_id.lower(), index)
    shown: set[int] = set()

    def swap(match: re.Match[str]) -> str:
        cid = unquote(match.group(3))
        index = by_id.get(cid, by_id.get(cid.lower(), len(parts)))
        shown.add(index)
        return f'{match.group(1)}"{stand_in(nonce, index)}"'

    return IMG_CID.sub(swap, html), frozenset(shown)


def place(
    markdown: str,
    parts: Sequence[Attachment],
    in_html: frozenset[int],
    nonce: str,
    stem: str,
    policy: Policy,
    words: tuple[str, str] = ("image", "not saved"),
) -> Placed:
    """Each stand-in image of `markdown` becomes the Markdown image of its saved file (saving on) or a visible
    placeholder, `\\[image: alt\\]` (saving off, or the part was not saved); the files to save, and the list.

    `in_html`: the parts the HTML showed (`mark_inline`). Of those, a part whose image the cleaning removed
    (chrome, a tracking pixel) is neither saved nor listed in the body; an inline part the HTML never shows
    is saved and listed like an attached file. `words`: the placeholder's words for "image", "not saved".
    """

    def index_of(match: re.Match[str]) -> int:  # a stand-in of another message, or cut short: no part
        ours = re.fullmatch(rf"{nonce}/(\d{{1,4}})", match.group(2))
        return int(ours.group(1)) if ours else len(parts)

    in_note = {index_of(m) for m in STAND_IN_IMAGE.finditer(markdown)}
    names = unique_names(parts)
    saved: list[Saved] = []
    listed: list[Listed] = []
    refused: dict[int, str] = {}
    total = 0
    for index, part in enumerate(parts):
        if not policy.save or (index in in_html and index not in in_note):
            continue
        reason = too_big(len(part.data), total, policy)
        if reason:
            refused[index] = reason
        else:
            total += len(part.data)
            saved.append(Saved(names[index], part.data, link_to(stem, names[index])))
        if index not in in_note:
            link = "" if reason else link_to(stem, names[index])
            listed.append(Listed(names[index], f"{part.content_type}, {size_text(part.size)}", link, reason))

    def image(match: re.Match[str]) -> str:
        alt, index = match.group(1), index_of(match)
        if policy.save and index < len(parts) and index not in refused:
            return f"![{alt}]({link_to(stem, names[index])})"
        what = alt.strip() or (MARKUP.sub(r"\\\g<0>", names[index]) if index < len(parts) else "cid")
        why = f", {words[1]}: {refused[index]}" if index in refused else ""
        space = " " if match.start() and markdown[match.start() - 1].isalnum() else ""  # "section![](…)"
        return f"{space}\\[{words[0]}: {what}{why}\\]"

    return Placed(STAND_IN_IMAGE.sub(image, markdown), tuple(saved), tuple(listed))


def too_big(size: int, total: int, policy: Policy) -> str:
    """Why a part of `size` bytes is not saved after `total` bytes of the message were, or ""."""
    if size > policy.max_bytes:
        return f"over {size_text(policy.max_bytes)} ([limits] attachment_bytes)"
    if total + size > policy.max_total:
        return f"over {size_text(policy.max_total)} for the message ([limits] attachments_bytes)"
    return ""


def link_to(stem: str, name: str) -> str:
    """The note's link to a file saved beside it: relative, %-encoded (no blank, bracket or parenthesis)."""
    return quote(f"{stem}{FOLDER_SUFFIX}/{name}", safe="/")


def unique_names(parts: Sequence[Attachment]) -> list[str]:
    """A safe file name for each part (`safe_name`), no two alike, ignoring case (`a.png`, `a-2.png`)."""
    taken: set[str] = set()
    names = []
    for index, part in enumerate(parts):
        name = safe_name(part.name, part.content_type, index + 1)
        names.append(next_free(name, taken))
        taken.add(names[-1].casefold())
    return names


def next_free(name: str, taken: set[str] | frozenset[str]) -> str:
    """`name`, or `stem-2.ext`, `stem-3.ext`… the first whose case-folded form is not in `taken`."""
    stem, ext = split_extension(name)
    candidate, n = name, 1
    while candidate.casefold() in taken:
        n += 1
        candidate = f"{stem}-{n}{ext}"
    return candidate


def split_extension(name: str) -> tuple[str, str]:
    """(stem, `.ext`) of a file name; no extension when it is long or not letters and digits."""
    stem, dot, ext = name.rpartition(".")
    if not dot or not stem or len(ext) > MAX_EXTENSION or not ext.isalnum():
        return name, ""
    return stem, f".{ext}"


def safe_name(name: str, content_type: str = "", number: int = 1) -> str:
    """A file name made from the name a sender gave, safe to create in a folder on any system.

    Only the last part of a path is kept (`../../etc/passwd` → `passwd`, `C:\\x\\y.exe` → `y.exe`); control,
    format (bidi overrides that disguise an extension) and unassigned characters go; characters file systems,
    shells or Markdown links treat specially become `-`; no leading dot (hidden files, `..`), no trailing dot or
    blank (Windows drops them); a device name Windows reserves (`CON.txt`) gets `-file`; at most 100 bytes, the
    extension kept. Nothing left: `attachment-<number>`. The declared type decides only one thing: an image of
    a common type whose name has no image extension (a bare Content-ID) gets one, so that viewers show it.
    """
    text = unicodedata.normalize("NFC", name)
    text = re.split(r"[/\\]", text)[-1]
    text = "".join(" " if unicodedata.category(c)[0] == "Z" else c for c in text)
    text = "".join(c for c in text if unicodedata.category(c)[0] != "C")
    text = UNSAFE_IN_NAMES.sub("-", " ".join(text.split()))
    text = text.lstrip(" .-").rstrip(" .")
    if not text or text == "(no name)":
        text = f"attachment-{number}"
    stem, ext = split_extension(text)
    if content_type.lower() in EXTENSIONS and ext.lower() not in IMAGE_EXTENSIONS:
        stem, ext = stem + ext, EXTENSIONS[content_type.lower()]  # a bare Content-ID (`logo@example.com`)
    first, dot, rest = stem.partition(".")
    if WINDOWS_DEVICES.fullmatch(first.rstrip()):  # Windows reads `CON.tar.gz` as CON: the suffix goes before the dot
        stem = f"{first}-file{dot}{rest}"
    while len((stem + ext).encode("utf-8")) > MAX_NAME_BYTES:
        stem = stem[:-1]
    return (stem.rstrip(" .") or f"attachment-{number}") + ext
