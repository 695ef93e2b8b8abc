"""The model's answer: parsed, checked against the shape the writer needs, cleaned. Pure.

Whatever the server did with the schema, the answer is checked here: a field missing or of the wrong
type, or nothing left of the title once control characters and blank space are removed, is a
`FillError` naming the field, and the note is left as it was.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from ingester.errors import FillError

CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2066-\u2069\ufeff]")
LIMITS = {"title": 300, "category": 60, "point": 200, "tag": 40, "heading": 200, "key": 120, "text": 2000}


@dataclass(frozen=True)
class OutlinePoint:
    point: str
    subpoints: tuple[str, ...]


@dataclass(frozen=True)
class KeyPoint:
    key: str
    text: str


@dataclass(frozen=True)
class AnswerSection:
    heading: str
    points: tuple[KeyPoint, ...]


@dataclass(frozen=True)
class Answer:
    """A valid answer, every text on one line without control characters."""

    title: str
    category: str
    outline: tuple[OutlinePoint, ...]
    tags: tuple[str, ...]
    sections: tuple[AnswerSection, ...]


def parse_answer(content: str) -> Answer:
    """The answer in `content` (the model's message), or FillError saying what is wrong with it."""
    try:
        # strict=False: a small model's strings may hold raw control characters; they are removed below
        data = json.loads(content, strict=False)
    except ValueError as exc:
        start = " ".join(content.split())[:60]
        raise FillError(
            f"the model's answer is not JSON (it starts {start!r}); does the server support structured output?"
        ) from exc
    root = _object(data, "the answer")
    title = _text(root, "title", "title")
    if not title:
        raise FillError("the model's answer has an empty title")
    category = _text(root, "category", "category")
    outline = tuple(
        OutlinePoint(
            _text(item, "point", "point"), tuple(t for t in (_line(s, "point") for s in _list(item, "subpoints")) if t)
        )
        for item in map(_object_item, _list(root, "outline"))
    )
    sections = tuple(
        AnswerSection(
            _text(item, "heading", "heading"),
            tuple(
                KeyPoint(_text(p, "key", "key"), _text(p, "text", "text"))
                for p in map(_object_item, _list(item, "points"))
            ),
        )
        for item in map(_object_item, _list(root, "sections"))
    )
    tags = tuple(dict.fromkeys(t for t in (_tag(s) for s in _list(root, "tags")) if t))
    return Answer(
        title,
        category,
        tuple(p for p in outline if p.point),
        tags,
        tuple(
            AnswerSection(s.heading, tuple(p for p in s.points if p.key and p.text))
            for s in sections
            if s.heading or s.points
        ),
    )


def _object(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise FillError(f"the model's answer: {where} must be a JSON object, not {type(value).__name__}")
    return value


def _object_item(value: Any) -> dict[str, Any]:
    return _object(value, "each item of outline, sections and points")


def _list(data: dict[str, Any], key: str) -> list[Any]:
    value = data.get(key)
    if not isinstance(value, list):
        raise FillError(f"the model's answer has no list {key!r}")
    return value


def _text(data: dict[str, Any], key: str, limit: str) -> str:
    if not isinstance(data.get(key), str):
        raise FillError(f"the model's answer has no text {key!r}")
    return _line(data[key], limit)


def _line(value: Any, limit: str) -> str:
    """One line of text: control characters removed, blank space collapsed, cut to its limit."""
    if not isinstance(value, str):
        raise FillError(f"the model's answer: a {limit} must be text, not {type(value).__name__}")
    text = " ".join(CONTROLS.sub(" ", value).split())
    return text if len(text) <= LIMITS[limit] else text[: LIMITS[limit] - 1].rstrip() + "…"


def _tag(value: Any) -> str:
    """A topic tag as `#tag` needs it: no spaces, no `#`."""
    return "-".join(_line(value, "tag").replace("#", " ").split()) if isinstance(value, str) else ""
