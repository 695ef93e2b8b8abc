"""Headings from styling and outlines that mean something (issue #14).

`android-weekly-605.eml` is Android Weekly #605 (n2rss, MIT) byte for byte: sent through Constant
Contact, it has no `<h1>`–`<h6>`; its sections are bold large-font lines alone in their table cells.
"""

from __future__ import annotations

import re

import pytest

from ingester.clean import clean_html
from ingester.render import outline, split_sections
from tests.conftest import EMAILS, make_note

SECTIONS = ["Articles & Tutorials", "News", "Tools", "Videos & Podcasts"]


def outline_of(note: str) -> list[str]:
    block = note[note.index("## Outline") : note.index("## Tags")]
    return [line[2:] for line in block.splitlines() if line.startswith("- ")]


def test_bold_large_lines_alone_in_their_cells_become_the_sections() -> None:
    note = make_note((EMAILS / "android-weekly-605.eml").read_bytes(), "android-weekly-605.eml", "en").text

    assert all(section in outline_of(note) for section in SECTIONS)
    assert all(f"\n### {section}\n" in note for section in SECTIONS)  # the note's sections follow them


def test_a_document_with_heading_elements_keeps_its_own() -> None:
    html = "<h2>Real</h2><p>text " * 3 + "<p><b>Bold line one</b></p><p>" + "x" * 200 + "</p>"
    assert "<h2>Bold line one</h2>" not in clean_html(html).html


STYLED = (
    "<p><b>First section</b></p><p>{body}</p>"
    '<p><span style="font-size:20px">Second section</span></p><p>{body}</p>'
    '<td style="font-weight:700">Third section</td><p>{body}</p>'
)
BODY = "A paragraph of the article, long enough to be one, with a few sentences in it. " * 2


def test_short_bold_or_large_lines_become_h2() -> None:
    html = clean_html(STYLED.format(body=BODY)).html
    headings = [re.sub(r"<[^>]*>", "", h) for h in re.findall(r"<h2>(.*?)</h2>", html)]
    assert headings == ["First section", "Second section", "Third section"]


NOT_HEADINGS = {
    "linked title": '<p><a href="https://x.example/"><b>Linked title</b></a></p>',
    "sentence": "<p><b>This is a sentence.</b></p>",
    "salutation": "<p><b>Hi Anna,</b></p>",
    "web address": "<p><b>github.com</b></p>",
    "repeated label": "<p><b>Sponsor</b></p><p>{body}</p><p><b>Sponsor</b></p>",
    "long line": "<p><b>" + "word " * 20 + "</b></p>",
}


@pytest.mark.parametrize("line", NOT_HEADINGS.values(), ids=NOT_HEADINGS.keys())
def test_what_is_not_a_heading(line: str) -> None:
    html = clean_html(STYLED.format(body=BODY) + line.format(body=BODY) + f"<p>{BODY}</p>").html
    assert len(re.findall(r"<h2>", html)) == 3


def test_one_or_two_bold_lines_are_emphasis_not_structure() -> None:
    html = f"<p><b>Only one</b></p><p>{BODY}</p><p><b>And two</b></p><p>{BODY}</p>"
    assert "<h2>" not in clean_html(html).html


def test_a_sign_off_heads_no_section() -> None:
    html = STYLED.format(body=BODY) + "<p><b>Your newsletter team</b></p><p>Berlin</p>"
    assert "<h2>Your newsletter team</h2>" not in clean_html(html).html


OUTLINE_NOISE = {"salutation": "Hi Anna,", "escaped number": "17\\.", "price": "0,99 €"}


def test_the_outline_skips_salutations_numbers_and_chrome() -> None:
    markdown = "\n\n".join(
        f"## {line}\n\ntext"
        for line in [*OUTLINE_NOISE.values(), "View this email in your browser.", "The real first point."]
    )
    assert outline(split_sections(markdown)) == "- The real first point."


def test_outline_headings_are_plain_text() -> None:
    markdown = "## **Bold heading**\n\ntext\n\n## [Linked](https://x.example/)\n\ntext"
    assert outline(split_sections(markdown)) == "- Bold heading\n- Linked"
