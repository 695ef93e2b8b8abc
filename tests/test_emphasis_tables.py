"""Emphasis CommonMark can close, data tables that stay one table, outlines nested by relative level (issue #14).

Two fixtures written for this project on the structure of real mail the ingester had not seen: a conference call
whose bold runs are split across `<span>`s and punctuation (`**to** **[x](mailto:x)****.**`, `ISBN**.**`,
`(**ONLINE (****6 May**`) and whose dates table holds a lone bold line, a line break and two paragraphs in its
cells; and a shop mail whose heading has bold runs around an emoji and a comma and whose first headings are
deeper than its later sections.
"""

from __future__ import annotations

import itertools
import re

from markdown_it import MarkdownIt

from tests.conftest import body_of, fixture_note
from tests.test_markdown_hygiene import literal_markers

TABLES = MarkdownIt("commonmark").enable("table")


def outline_lines(note: str) -> list[str]:
    block = re.search(r"^## Outline\n\n```markdown\n(.*?)\n```", note, re.M | re.S)
    assert block is not None
    return [line for line in block.group(1).split("\n") if line.strip()]


def test_split_bold_runs_render_without_literal_markers() -> None:
    body = body_of(fixture_note("conference-call-styled.eml").text)
    assert literal_markers(body) == []
    # one run for what the sender made bold piece by piece, the full stop inside it
    assert "**by 2 April 2026 to [call@harbour-symposium.example](mailto:call@harbour-symposium.example).**" in body
    assert "(**ONLINE (6 and 7 May) and IN PERSON, not required, 8 May**)" in body
    assert "with ISBN. Authors" in body  # a bold full stop is a full stop


def test_heading_bold_around_an_emoji_and_a_comma_closes() -> None:
    body = body_of(fixture_note("heading-emphasis-levels.eml").text)
    assert literal_markers(body) == []
    html = TABLES.render(body)
    assert "<strong>looking for a desk lamp?</strong>" in html


def test_data_table_with_block_cells_stays_one_table() -> None:
    body = body_of(fixture_note("conference-call-styled.eml").text)
    tokens = TABLES.parse(body)
    assert [t.type for t in tokens].count("table_open") == 1
    rows = [t for t in tokens if t.type == "tr_open"]
    assert len(rows) == 6  # the six rows of the mail, the first as the head: none fell out of the table
    cells = [t.content for t in tokens if t.type == "inline" and "Until 27 April" in t.content]
    assert cells == ["**Until 27 April**"]  # in its cell, not a heading after the table
    assert "Acceptance or rejection sent by e-mail" in body  # a line break in a cell is a space
    assert "Registration fee (120 per author)" in body  # so is a paragraph boundary


def test_heading_in_a_table_cell_is_no_section() -> None:
    note = fixture_note("conference-call-styled.eml").text
    assert not any("Until" in line for line in outline_lines(note))
    assert not re.search(r"^#+ .*Until", body_of(note), re.M)
    assert "- Key dates" in outline_lines(note)  # the styled headings outside the table still are


def test_outline_nesting_is_relative() -> None:
    """Headings deeper than the later sections come first: they start the outline at its top level, and no
    item is ever more than one level below the one before it."""
    lines = outline_lines(fixture_note("heading-emphasis-levels.eml").text)
    depths = [(len(line) - len(line.lstrip(" "))) // 2 for line in lines]
    assert depths[0] == 0
    assert all(after <= before + 1 for before, after in itertools.pairwise(depths))
    assert lines == [
        "- Hello ❤️ friends of the studio ❤️, looking for a desk lamp?",
        "- The spring collection is here",
        "- This week in the shop",
        "  - Three finishes",
        "- From the workshop",
    ]
