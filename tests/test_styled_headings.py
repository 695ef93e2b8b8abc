"""Headings from styling and outlines that mean something (issue #14).

`android-weekly-605.eml` is Android Weekly #605 (n2rss, MIT) byte for byte: sent through Constant
Contact, it has no `<h1>`–`<h6>`; its sections are bold large-font lines alone in their table cells.
"""

from __future__ import annotations

import re

import pytest

from ingester.clean import clean_html
from ingester.clean.styled import BYLINE
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
    "lead-in": "<p><b>Here is what you need to know:</b></p><p>{body}</p>",
    "byline": "<p><b>By Ana Ruiz • 12.02.26</b></p><p>{body}</p>",
    "body-sized": '<p><span style="font-size:18px">As large as the text</span></p><p>{body}</p>',
}


@pytest.mark.parametrize("line", NOT_HEADINGS.values(), ids=NOT_HEADINGS.keys())
def test_what_is_not_a_heading(line: str) -> None:
    body = f'<p style="font-size:18px">{BODY}</p>' * 6  # the mail's own text size
    html = clean_html(STYLED.format(body=BODY) + line.format(body=BODY) + body).html
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


# --- Held-out review O1/O3: a heading is set apart from the mail's own text, and heads something -----------------


def body_lines(name: str) -> list[str]:
    note = make_note((EMAILS / name).read_bytes(), name, "en").text
    return note[note.index("## Details") :].splitlines()


def test_lines_as_large_as_the_mails_own_text_are_paragraphs() -> None:
    """Every paragraph of a Kit mail is 18px: 18px is its text size, not a heading's. The lead-in sentences
    ending in ":" and the writer's name are paragraphs; the three larger bold titles are the sections."""
    note = make_note((EMAILS / "large-body-text-kit.eml").read_bytes(), "large-body-text-kit.eml", "en").text
    assert outline_of(note) == ["Die Beete", "Die Gehölze", "Die Vögel"]
    lines = body_lines("large-body-text-kit.eml")
    assert "Nimm dir also eine Stunde und **erledige diese drei Dinge** vor dem Dezember:" in lines
    assert "Der nächste Schritt wäre dann, zwei Fragen zu stellen:" in lines
    assert "Jana" in lines


def test_heading_elements_that_head_nothing_become_paragraphs() -> None:
    """A byline, a tagline and a promo link written smaller than the body text, and kickers ending in ":" right
    above the title they introduce, are no sections; the titles and the section head stay."""
    name = "headings-bylines-kickers.eml"
    note = make_note((EMAILS / name).read_bytes(), name, "en").text
    block = note[note.index("## Outline") : note.index("## Tags")]
    outline = [line.strip()[2:] for line in block.splitlines() if line.strip().startswith("- ")]
    for gone in ("Subscribe & Save 25%", "Your weekly look", "By Ana Ruiz", "New Feature Story:", "New Workshop"):
        assert not any(gone in item for item in outline)
    for kept in ("Why the old lathes still run", "Sharpening a gouge in ten minutes", "From the readers"):
        assert any(kept in item for item in outline)
    lines = body_lines(name)
    assert "**By Ana Ruiz • 12.02.26**" in lines and "New Feature Story:" in lines  # kept, as paragraphs


BYLINES = ["By Charlotte Jee • 06.25.24", "Par Clara-Douce Mcgrath, dans C’est qui la boss ?", "By Ana Ruiz"]
NOT_BYLINES = ["By the numbers: what changed", "Bypass surgery", "By 2030, half of all cars", "By the way"]


@pytest.mark.parametrize(("text", "byline"), [(t, True) for t in BYLINES] + [(t, False) for t in NOT_BYLINES])
def test_a_byline_is_by_and_a_name(text: str, byline: bool) -> None:
    assert (BYLINE.fullmatch(text) is not None) is byline


def test_a_label_over_numbered_headings_heads_them() -> None:
    """ "LES OPPORTUNITÉS :" over headings "1", "2" is their section, no kicker."""
    html = "<h4>LES OPPORTUNITÉS :</h4><h1>1</h1><p>" + BODY + "</p><h1>2</h1><p>" + BODY + "</p>"
    assert "<h4>LES OPPORTUNITÉS :</h4>" in clean_html(html).html


@pytest.mark.parametrize(
    ("heading", "stays"),
    [
        ('<h3 style="font-size:12px;font-weight:normal">A small plain line</h3>', False),
        ('<h3 style="font-size:12px">A small heading, bold by default</h3>', True),
        ('<h3 style="font-size:12px;font-weight:normal"><strong>A small bold line</strong></h3>', True),
        ('<h3 style="font-size:20px;font-weight:normal">A large plain line</h3>', True),
    ],
)
def test_a_heading_element_is_set_apart_by_size_or_weight(heading: str, stays: bool) -> None:
    body = f'<p style="font-size:16px">{BODY}</p>'
    html = clean_html(f"<h2>Section</h2>{body}{heading}{body}{body}").html
    assert (html.count("<h3") == 1) is stays
