"""What a note tag may be, so that every vault tool reads it as one (Obsidian, Logseq, anything that
reads front matter): letters, digits, `_`, `-` and `/` (nesting), at least one letter or `_` (a purely
numeric `#1440` is no tag), no empty nesting level. Pure.
"""

from __future__ import annotations

import re
import unicodedata

SHAPE = re.compile(r"[\w-]+(?:/[\w-]+)*")
LETTER = re.compile(r"[^\W\d]")  # a letter or `_`
RULE = "letters, digits, _, - and / only, at least one letter, no spaces"


def is_valid(tag: str) -> bool:
    """True when `tag` is one tag everywhere (no `#`: that is how a body writes it, not the tag)."""
    return SHAPE.fullmatch(tag) is not None and LETTER.search(tag) is not None


def as_tag(text: str) -> str:
    """`text` made a valid tag: spaces and other characters become `-`; "" when nothing is left or
    only digits are (the caller decides what a numeric name becomes)."""
    text = unicodedata.normalize("NFKC", text)
    text = re.sub(r"[^\w/-]+", "-", text)
    text = re.sub(r"-*/[-/]*", "/", re.sub(r"-{2,}", "-", text)).strip("-/")
    return text if is_valid(text) else ""


def suggest(tag: str) -> str:
    """A valid tag close to a rejected one, for an error message ("" when there is none)."""
    return as_tag(tag.lstrip("#").lower())
