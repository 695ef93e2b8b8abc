"""Markdown hygiene (issue #14): after CommonMark rendering no note shows a literal `**`, `__` or `~~`
that its sender did not write, images are not glued into link text, alt text cannot break its image.

Checked the way a reader sees it: the note is rendered with markdown-it-py (CommonMark, plus
strikethrough as GitHub and Obsidian read `~~`), and every text node of the result is searched.
"""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st
from markdown_it import MarkdownIt
from markdown_it.token import Token

from ingester import convert, markdown
from ingester.clean import clean_html
from ingester.convert import events_to_markdown
from tests.conftest import (
    EMAILS,
    body_of,
    corpus_message,
    corpus_note,
    fixture_note,
    make_note,
    manifest_newsletters,
    needs_corpus,
    retention,
)

MARKDOWN = MarkdownIt("commonmark").enable("strikethrough")
MARKER = re.compile(r"\*\*|__|~~")
AROUND = re.compile(r"\S*(?:\*\*|__|~~)\S*")


def literal_markers(markdown: str) -> list[str]:
    """The words of rendered text nodes that hold a literal `**`, `__` or `~~`."""
    body = markdown.split("\n---\n", 1)[1] if markdown.startswith("---\n") else markdown
    found: list[str] = []

    def walk(tokens: list[Token]) -> None:
        for token in tokens:
            if token.type == "text" and MARKER.search(token.content):
                found.extend(AROUND.findall(token.content))
            walk(token.children or [])

    walk(MARKDOWN.parse(body))
    return found


def markdown_of(html: str) -> str:
    return events_to_markdown(clean_html(f"<html><body>{html}</body></html>").events)


CASES = {
    # empty emphasis, strike and whitespace-only emphasis
    "empty-strong": ("<p>a <b></b> b</p>", "a  b"),
    "space-only-em": ("<p>tags:<em> </em>next</p>", "tags: next"),
    "empty-strike": ("<p><s></s>x</p>", "x"),
    # bold across a line break or blocks: each line its own run
    "bold-across-br": ("<p><b>one<br>two</b></p>", "**one**\\\n**two**"),
    "bold-around-blocks": ("<div><strong><p>Head</p><p>more</p></strong></div>", "**Head**\n\n**more**"),
    # nested and adjacent emphasis of one kind: one run
    "nested-bold": ("<p><b>x <b>y</b> z</b></p>", "**x y z**"),
    "adjacent-bold": ("<p>a<b>mi</b><b>nutes</b> b</p>", "a**minutes** b"),
    # spaces and punctuation at the edges, where CommonMark cannot open or close
    "space-inside-edges": ("<p>x <b>&nbsp;GDIY :&nbsp;</b>y</p>", "x **GDIY :** y"),
    "punctuation-after-a-word": (
        "<p><span>Netflix</span><strong>. J'ai adoré. </strong>On</p>",
        "Netflix. **J'ai adoré.** On",
    ),
    # the space before a link inside emphasis (html2text strips the emphasis' first text at both ends)
    "space-before-link-in-italic": (
        '<p><em>You can check out <a href="https://x.example/">the archives</a> here.</em></p>',
        "_You can check out [the archives](https://x.example/) here._",
    ),
    "nbsp-before-link-in-italic": (
        '<p><em>the 20&nbsp;<a href="https://x.example/">Breaking Smart</a> essays</em></p>',
        "_the 20 [Breaking Smart](https://x.example/) essays_",
    ),
    "space-before-link-in-bold": (
        '<p><b>the annual <a href="https://x.example/">JavaScript January</a></b></p>',
        "**the annual [JavaScript January](https://x.example/)**",
    ),
    # bold of italic after a word, bold inside italic after a space
    "bold-of-italic": ("<p>x<b><i>Ein.</i></b>y</p>", "x _**Ein**_.y"),
    "bold-of-italic-through-spans": ("<p>x<b><span><i>Ein</i></span></b>y</p>", "x _**Ein**_ y"),
    "bold-of-italic-first-in-a-block": ("<p>word</p><p><b><span><u>Da</u></span></b> x</p>", "word\n\n_**Da**_ x"),
    # a blank after a closing marker only where CommonMark needs one to close the run
    "italic-before-a-letter": ("<p><i>it</i>alic</p>", "_it_ alic"),
    "bold-before-a-letter": ("<p><b>Bold</b>face</p>", "**Bold**face"),
    "italic-before-an-apostrophe": ("<p><i>Bridgerton</i>'s</p>", "_Bridgerton_'s"),
    "bold-before-a-star": ("<p><b>10%</b>* ein</p>", "**10%**\\* ein"),
    "italic-before-a-link": (
        '<p><i>too. (</i><a href="https://x.example/">NBC</a>)</p>',
        "_too. (_[NBC](https://x.example/))",
    ),
    "bold-inside-italic": ("<p><i>profitez de </i><strong><i>-10%</i></strong><i> avec</i></p>", None),
    # an image is no emphasis, and no part of a link's text
    "bold-image": ('<p><b><img src="https://x.example/a.png" alt="">Title</b></p>', None),
    "image-in-link-text": (
        '<p><a href="https://x.example/"><img src="https://x.example/a.png" alt="Logo">Read more</a></p>',
        "![Logo](https://x.example/a.png)[Read more](https://x.example/)",
    ),
}


@pytest.mark.parametrize(("html", "want"), CASES.values(), ids=CASES.keys())
def test_no_literal_emphasis_marker(html: str, want: str | None) -> None:
    markdown = markdown_of(html)
    assert literal_markers(markdown) == [], markdown
    if want is not None:
        assert markdown.strip() == want


ALTS = {
    "blank-lines": "line1\n\nline2",
    "closing-bracket": "](javascript:alert(1))",
    "emphasis": "**b** `c` <x>",
    "long": "word " * 100,
}


@pytest.mark.parametrize("alt", ALTS.values(), ids=ALTS.keys())
def test_alt_text_cannot_break_its_image(alt: str) -> None:
    html = f'<p><img src="https://x.example/a.png" alt="{alt}">after</p>'
    tokens = MARKDOWN.parseInline(markdown_of(html).strip())[0].children or []

    images = [t for t in tokens if t.type == "image"]
    assert len(images) == 1 and images[0].attrs["src"] == "https://x.example/a.png"
    assert "\n" not in images[0].content and len(images[0].content) <= 121
    assert [t.content for t in tokens if t.type == "text"] == ["after"]


@pytest.mark.parametrize("name", sorted(p.name for p in EMAILS.glob("*.eml")))
def test_fixture_notes_show_no_literal_marker(name: str) -> None:
    assert literal_markers(make_note((EMAILS / name).read_bytes(), name, "en").text) == []


def sender_text(path: str) -> str:
    """What the message shows its reader (the retention bench's reference), single-spaced."""
    bench = retention()
    kind, body = bench.reference_body(corpus_message(path))
    lines = bench.visible_lines(body) if kind == "html" else bench.text_lines(body)
    return " ".join(" ".join(lines).split())


@needs_corpus
@pytest.mark.parametrize("path", sorted(manifest_newsletters()))
def test_corpus_notes_show_no_literal_marker_the_sender_did_not_write(path: str) -> None:
    """`F**king` or a digest's `****` are the sender's own text; any other literal marker is ours."""
    found = literal_markers(corpus_note(path).text)
    if found:
        written = sender_text(path)
        found = [word for word in found if not all(m in written for m in MARKER.findall(word))]
    assert found == []


# What Obsidian reads as a tag in a note's text: `#` at the start of a word, then tag characters with a letter.
VAULT_TAG = re.compile(r"(?<![^\s*_\[(>~|])#([\w/-]*[^\W\d][\w/-]*)")
HASHTAG_SENDERS = ["n2rss/tech-readers/123.eml", "n2rss/gdiy/ces-projets-secondaires.eml", "n2rss/gdiy/cet-episode.eml"]


@needs_corpus
@pytest.mark.parametrize("path", HASHTAG_SENDERS)
def test_the_senders_hashtags_are_no_tags_of_the_note(path: str) -> None:
    """`**#management • 10 minutes**`, `**#RecoPodcast :**`: the sender's words show as written, but a vault
    tags the note only with the tags its front matter lists (a `#` in a link's destination stays as it is)."""
    note = corpus_note(path)
    body = body_of(note.text)
    ours = {f"#{tag}" for tag in note.fields.tags}
    prose = re.sub(r"(?ms)^```.*?^```$", "", body)  # a vault reads no tag in a code block (the outline)
    tags = [m.group(0) for m in VAULT_TAG.finditer(prose) if m.group(0) not in ours]
    assert tags == []
    shown = "".join(t.content for t in MARKDOWN.parseInline(body)[0].children or [] if t.type == "text")
    assert re.search(r"#[^\W\d]", shown)  # the words themselves are kept
    assert "\\#" not in "".join(re.findall(r"\]\(([^)\s]*)\)", body))  # link destinations untouched


HEADINGS = {
    "underscores": ("<h5>__END__</h5>", "__END__"),
    "asterisks": ("<h2>***RELEASES***</h2>", "***RELEASES***"),
    "snake_case and a backslash": ("<h2>my_var \\_x</h2>", "my_var \\_x"),
    "a BOM and zero-width marks at the edges": ("<h2>\ufeff Weekly picks\u200b</h2>", "Weekly picks"),
    "emphasis the sender marked up": ("<h2><b>Bold</b> __x__</h2>", "Bold __x__"),
}


@pytest.mark.parametrize(("html", "shown"), HEADINGS.values(), ids=HEADINGS.keys())
def test_a_heading_shows_its_senders_characters_as_typed(html: str, shown: str) -> None:
    """`<h5>__END__</h5>` is no bold END; invisible characters at a heading's edges go."""
    tokens = MARKDOWN.parse(markdown_of(html))
    assert [t.type for t in tokens[:3]] == ["heading_open", "inline", "heading_close"]
    inline = tokens[1].children or []
    assert "".join(t.content for t in inline if t.type == "text") == shown
    assert [t.type for t in inline if t.type.endswith("_open")] == (["strong_open"] if "<b>" in html else [])


END_RULES = re.compile(r"\A(?:\s*(?:\* \* \*|-{3,}|_{3,})\s*\n)+|(?:\n\s*(?:\* \* \*|-{3,}|_{3,})\s*)+\Z")


RULE_PIECES = ["---", "* * *", "___", "--", "* *", "-", "*", "_", "\n", " ", "\r", "\u3000", "a", "b\n"]


@given(st.lists(st.sampled_from(RULE_PIECES), max_size=16))
def test_rules_at_the_ends_go_as_one_pattern_over_the_whole_text_removes_them(pieces: list[str]) -> None:
    text = "".join(pieces)
    assert convert._without_end_rules(text) == END_RULES.sub("", text)


def neutralised_line_by_line(text: str) -> str:
    """`markdown.neutralise` as it was before lines without `<`, `](` or `#` were passed over: the oracle."""
    out, in_fence = [], False
    for line in text.split("\n"):
        if markdown.FENCE.match(line):
            in_fence = not in_fence
        elif not in_fence:
            parts = line.split("`")
            for i in range(0, len(parts), 2):
                parts[i] = markdown.LIVE_TAG.sub("\\\\<", markdown.NON_WEB_LINK.sub(r"\\](", parts[i]))
                parts[i] = markdown.HASHTAG.sub(r"\\#", parts[i])
            line = "`".join(parts)
        out.append(line)
    return "\n".join(out)


@given(
    st.lists(
        st.sampled_from(["<b>", "](javascript:x)", "](https://a)", "`", "```", "\n", "a", "\\", " #tag", "#"]),
        max_size=14,
    )
)
def test_neutralise_passes_over_only_lines_neither_pattern_can_change(pieces: list[str]) -> None:
    text = "".join(pieces)
    assert markdown.neutralise(text) == neutralised_line_by_line(text)


def test_an_emphasis_run_closed_and_opened_again_at_once_goes_on() -> None:
    """`<i>…</i><strong><i>Acmepay</i></strong><i>.</i>`: the italic closed after "Acmepay" opened again before
    the full stop, and "__" rendered as text (a Kessel issue); one italic run goes on over both."""
    from markdown_it import MarkdownIt

    body = body_of(fixture_note("adjacent-italic-runs.eml").text)
    assert "_**Acmepay**._" in body
    html = MarkdownIt("commonmark").render(body)
    assert "__" not in html and "Acmepay</strong>.</em>" in html
