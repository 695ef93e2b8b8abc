"""A draft and the model's answer → the filled note, in the form of `examples/seed-note.md`. Pure.

The body is the packaged `templates/filled.<language>.md`: the translated title as first line and H1,
the original title and the clean link, the answer's outline as a nested list, its topic tags, and under
the details heading one `### section` each with `- **key**：text` bullets; then the original article,
whole, under its own heading, so a person (or `ingest rerender`) can always go back. The front matter
is the draft's, byte for byte, plus `filled_by` and `filled_at`; the status stays `draft`.
"""

from __future__ import annotations

import re
from datetime import datetime
from importlib import resources
from string import Template

from ingester import gate, render
from ingester.errors import ArchiveError
from ingester.fill.schema import Answer
from ingester.frontmatter import yaml_value
from ingester.markdown import escape_line, escape_link_text, web_url

COLON = {"zh": "：", "en": ": "}
FILL_KEYS = ("filled_by", "filled_at")


def filled_template(language: str) -> str:
    return resources.files("ingester").joinpath("templates", f"filled.{language}.md").read_text(encoding="utf-8")


def filled_note(
    draft: str,
    fields: render.NoteFields,
    markdown: str,
    answer: Answer,
    language: str,
    filled_by: str,
    filled_at: datetime,
) -> str:
    """The whole filled note: the draft's front matter (plus who filled it, when) and the filled body."""
    labels = render.LABELS[language]
    url = web_url(fields.url)
    link = f"[{escape_link_text(fields.original_title or fields.title)}]({url})" if url else labels.none
    outline = "\n".join(
        f"- {escape_line(p.point)}" + "".join(f"\n  - {escape_line(s)}" for s in p.subpoints) for p in answer.outline
    )
    colon = COLON[language]
    sections = "\n\n".join(
        f"### {escape_line(s.heading) or labels.intro}\n\n"
        + "\n".join(f"- **{escape_line(p.key)}**{colon}{escape_line(p.text)}" for p in s.points)
        for s in answer.sections
    )
    body = Template(filled_template(language)).safe_substitute(
        title=escape_line(answer.title),
        original_title=escape_line(fields.original_title),
        link=link,
        url=url or labels.none,
        category=escape_line(answer.category) or labels.none,
        author=escape_line(fields.author) or labels.none,
        publication=escape_line(fields.publication) or labels.none,
        date=render.format_date(fields.date, language) or labels.none,
        outline=outline or "-",
        tags=labels.tag_sep.join(f"#{escape_line(t)}" for t in answer.tags) or labels.none,
        sections=sections.rstrip() or labels.none,
        article=render.render_sections(render.split_sections(markdown), labels.intro),
    )
    stamp = {"filled_by": filled_by, "filled_at": filled_at.isoformat(timespec="seconds")}
    body = body.rstrip("\n") + render.attached_list(fields.listed, labels)  # saved files stay linked
    return with_fields(draft, stamp) + gate.safe_body(body) + "\n"


def with_fields(text: str, values: dict[str, str]) -> str:
    """The front matter of `text` (with its closing line and the blank line after it), these keys set last."""
    lines = text.splitlines(keepends=True)
    end = next((n for n, line in enumerate(lines[1:], start=1) if line.rstrip("\r\n") == "---"), None)
    if not lines or lines[0].rstrip("\r\n") != "---" or end is None:
        raise ArchiveError("the note has no front matter")
    eol = lines[0][3:] or "\n"
    kept = [line for line in lines[1:end] if not re.match(rf"(?:{'|'.join(values)})\s*:", line)]
    added = [f"{key}: {yaml_value(value)}{eol}" for key, value in values.items()]
    return "".join([lines[0], *kept, *added, lines[end], eol])
