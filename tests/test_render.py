"""Rendering: front matter that YAML reads back exactly, sections, outline, slugs."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st
from markdown_it import MarkdownIt

from ingester import render

HOSTILE = [
    "COP30: a guide",
    'He said "no" \\ and left',
    "---",
    "line one\nline two",
    "# not a heading",
    "emoji 🎉 and 中文",
    "right-to-left: \u202eשלום\u202c עולם",
    "tab\there, NUL\x00, bell\x07, nel\x85, ls\u2028, bom\ufeff",
    "- [ ] yes: {a: b}, &anchor *alias !tag %directive @at `tick`",
]


def fields(title: str) -> render.NoteFields:
    return render.NoteFields(
        title=title,
        original_title=title,
        url="https://example.com/p/x",
        url_source="list-post",
        author=title,
        publication=title,
        platform="substack",
        date=datetime(2025, 1, 27, 13, 5, tzinfo=UTC),
        message_id="<a@b>",
        source=title,
        tags=(title, "plain"),
    )


@pytest.mark.parametrize("title", HOSTILE)
def test_front_matter_round_trips_hostile_values(title: str) -> None:
    head = render.front_matter(fields(title))
    data = yaml.safe_load(head.split("---\n")[1])
    assert data["title"] == title
    assert data["author"] == title
    assert data["aliases"] == [title]
    assert data["tags"] == ["plain"]  # a tag no vault would read as one is left out
    assert data["published"] == datetime(2025, 1, 27).date()  # a YAML date, which vault tools read as one
    assert head.count("\n---\n") == 1  # nothing in a value closed the front matter early


@given(st.text())
def test_front_matter_round_trips_any_text(title: str) -> None:
    data = yaml.safe_load(render.front_matter(fields(title)).split("---\n")[1])
    assert data["title"] == title
    assert data["aliases"] == ([title] if title.strip() else [])


def test_sections_split_at_top_level_headings_and_demote_the_rest() -> None:
    markdown = "Intro text.\n\n## One\n\nA\n\n### One.a\n\nB\n\n```\n## not a heading\n```\n\n## Two\n\nC\n"
    sections = render.split_sections(markdown)

    assert [(s.heading, s.body) for s in sections] == [
        (None, "Intro text."),
        ("One", "A\n\n#### One.a\n\nB\n\n```\n## not a heading\n```"),
        ("Two", "C"),
    ]
    assert render.outline(sections) == "- One\n  - One.a\n- Two"


@pytest.mark.parametrize("language", ["en", "zh"])
def test_an_outline_without_headings_lists_no_paragraph_openings(language: str) -> None:
    """Paragraph openings are no sections ("Photo by …", "To play, simply reply to this email.")."""
    markdown = "Waymo disclosed the figure in a letter to Sen.\n\nPhoto by M. Vi / iStock\n\nTo play, reply.\n"
    labels = render.LABELS[language]
    assert render.outline(render.split_sections(markdown), labels) == labels.no_sections
    note = render.render_note(fields("Title"), markdown, render.template_text(language), language)
    assert f"```markdown\n\n{labels.no_sections}\n\n```" in note
    assert "Photo by" not in note.split("```markdown", 1)[1].split("```", 1)[0]


OUTLINE_TEXT = {
    "escaped hash": ("## \\#Favorites", "#Favorites"),
    "escaped asterisks": ("## \\*\\*\\*RELEASES\\*\\*\\*", "***RELEASES***"),
    "escaped underscores": ("## \\_\\_END\\_\\_", "__END__"),
    "emphasis and code": ("## **Bold** _it_ `code` ~~old~~ snake_case", "Bold it code old snake_case"),
    "a fence in a heading": ("## ``` not a fence ~~~", "not a fence"),
    "invisible edges": ("## \ufeffWeekly picks\u200b", "Weekly picks"),
}


@pytest.mark.parametrize(("heading", "item"), OUTLINE_TEXT.values(), ids=OUTLINE_TEXT.keys())
def test_outline_items_are_the_headings_as_a_reader_reads_them(heading: str, item: str) -> None:
    """The outline is inside a code fence, where Markdown escapes and markers would show as typed."""
    markdown = f"{heading}\n\ntext\n"
    assert render.outline(render.split_sections(markdown)) == f"- {item}"


def test_nothing_in_a_heading_breaks_out_of_the_outline_fence() -> None:
    markdown = "## ```\n\ntext\n\n## ~~~~ Part two ```\n\nmore\n\n## Three\n"
    note = render.render_note(fields("Title"), markdown, render.template_text("en"), "en")
    fences = [t for t in MarkdownIt("commonmark").parse(note.split("\n---\n", 1)[1]) if t.type == "fence"]
    assert fences[0].info == "markdown" and fences[0].content.strip() == "- Part two\n- Three"


def test_link_text_brackets_are_escaped() -> None:
    assert render.escape_link_text("[Draft] the [x] plan") == "\\[Draft\\] the \\[x\\] plan"


@pytest.mark.parametrize(
    ("title", "expected"),
    [
        ("The quiet year of small models", "the-quiet-year-of-small-models"),
        ("../../etc/passwd", "etc-passwd"),
        ("CON", "con-note"),
        ("lpt1", "lpt1-note"),
        ('a/b\\c:d*e?f"g<h>i|j\x00k', "a-b-c-d-e-f-g-h-i-jk"),  # control characters are dropped
        ("【开源周刊 第42期】本地小模型", "开源周刊-第42期-本地小模型"),
        ("", "note"),
        ("!!!", "note"),
        ("x" * 300, "x" * 60),
    ],
)
def test_slug_is_safe_file_name(title: str, expected: str) -> None:
    assert render.slug(title) == expected


@given(st.text())
def test_slug_never_escapes_or_hides(title: str) -> None:
    value = render.slug(title)
    assert value and "/" not in value and "\\" not in value and "\x00" not in value
    assert not value.startswith((".", "-")) and len(value) <= 60


@pytest.mark.parametrize(("language", "expected"), [("zh", "2025年1月27日"), ("en", "January 27, 2025")])
def test_date_format(language: str, expected: str) -> None:
    assert render.format_date(datetime(2025, 1, 27, tzinfo=UTC), language) == expected
