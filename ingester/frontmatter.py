"""YAML front matter, both ways: values written so that any YAML parser reads them back exactly, and
front matter a person may have edited read back safely: at most MAX_FRONT_MATTER characters, aliases
refused (never expanded: a few lines of them make gigabytes), a UTF-8 BOM before the first `---`
accepted. The one module that imports PyYAML.
"""

from __future__ import annotations

import json
import re
from typing import Any

import yaml

# Characters YAML forbids raw (PyYAML's printable set) or reads as line breaks inside a scalar.
YAML_UNSAFE = re.compile("[^\x09\x0a\x0d\x20-\x7e\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]|[\u2028\u2029\ufeff]")
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
MAX_FRONT_MATTER = 1024 * 1024  # characters; ingest writes under 2 KB, 60 KB at most (cut headers, thrice)
BOM = "\ufeff"


def yaml_value(value: object) -> str:
    """A YAML flow value: JSON is YAML, once the characters YAML treats specially are escaped."""
    text = json.dumps(value, ensure_ascii=False)
    return YAML_UNSAFE.sub(
        lambda m: "".join(f"\\u{ord(c):04x}" if ord(c) < 0x10000 else f"\\U{ord(c):08x}" for c in m.group(0)), text
    )


def split(text: str) -> tuple[str, str]:
    """(front matter without its `---` lines, the rest); ("", text) when the file has none."""
    lines = text.removeprefix(BOM).splitlines(keepends=True)
    if not lines or lines[0].rstrip("\r\n") != "---":
        return "", text
    for n, line in enumerate(lines[1:], start=1):
        if line.rstrip("\r\n") == "---":
            return "".join(lines[1:n]), "".join(lines[n + 1 :])
    return "", text


class FrontMatterError(ValueError):
    """The front matter is not valid YAML; `line` is the file's line number, when known."""

    def __init__(self, problem: str, line: int | None) -> None:
        super().__init__(problem)
        self.line = line


def load(front: str) -> Any:
    """The front matter parsed with a safe loader (the C one when PyYAML has it), once its size is known
    to be under the cap and its events to hold no alias."""
    if len(front) > MAX_FRONT_MATTER:
        raise FrontMatterError(f"the front matter is over {MAX_FRONT_MATTER // 1024} KB", None)
    try:
        for event in yaml.parse(front, Loader=_Loader):
            if isinstance(event, yaml.AliasEvent):
                line = event.start_mark.line + 2 if event.start_mark is not None else None
                raise FrontMatterError("an alias (*name): ingest reads front matter without aliases", line)
        return yaml.load(front, Loader=_Loader)  # noqa: S506 - _Loader is SafeLoader or its C twin
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 2 if mark is not None else None  # +1 for the `---`, +1 from 0-based
        raise FrontMatterError(str(getattr(exc, "problem", None) or exc), line) from exc
