"""The article's layout made plain: tables that lay out the email become blocks (data tables stay),
figure captions get their own line, and embedded tweets become quotes with their link.
"""

from __future__ import annotations

import re

from ingester.chrome import TWEET_COUNTS
from ingester.clean.dom import ByClass, Tag, gone, live, new_tag
from ingester.clean.hygiene import INVISIBLE, tidy_one
from ingester.links import clean_url


def quote_tweets(by_class: ByClass) -> None:
    """An embedded tweet or post (Substack's static tweets) becomes a quote of its text with its link."""
    for _, tweet in by_class.get("tweet", ()):
        if gone(tweet):
            continue
        outer = tweet.find_parent("a", href=True)  # Substack wraps the whole tweet in its link
        hrefs = [clean_url(str(a["href"])) for a in ([outer] if outer else []) + tweet.find_all("a", href=True)]
        href = next((h for h in hrefs if re.search(r"//(?:www\.)?(?:twitter|x)\.com/[^/]+/status/", h)), "")
        if outer is not None:
            outer.unwrap()
        for img in tweet.find_all("img"):
            img.decompose()  # avatars and badges
        texts = [t for t in tweet.stripped_strings if not TWEET_COUNTS.fullmatch(t)]
        quote = tweet.wrap(new_tag("blockquote"))
        tweet.replace_with(*[_paragraph(text) for text in texts])
        if href:
            source = new_tag("a", href=href)
            source.string = href
            para = new_tag("p")
            para.append(source)
            quote.append(para)


def _paragraph(text: str) -> Tag:
    para = new_tag("p")
    para.string = text
    return para


def flatten_layout_tables(by_name: dict[str, list[Tag]]) -> None:
    """Tables that lay out the email become plain blocks; tables that hold data stay tables."""
    tables = live(by_name.get("table", []))
    owned: dict[int, list[Tag]] = {id(t): [] for t in tables}
    not_data: set[int] = set()
    table_at: dict[int, Tag | None] = {}  # id(tag) → the nearest table that is the tag or holds it
    for tag in live([t for name in TABLE_PARTS | NOT_IN_DATA_TABLES for t in by_name.get(name, ())]):
        owner = _table_at(tag.parent, table_at)
        if owner is None:
            continue
        if tag.name in TABLE_PARTS:
            owned[id(owner)].append(tag)
        if tag.name in NOT_IN_DATA_TABLES:
            not_data.add(id(owner))
    for table in reversed(tables):
        cells = owned[id(table)]
        if id(table) not in not_data and _is_data_table(cells):
            for cell in cells:
                if cell.name in ("td", "th"):
                    _inline(cell)
            continue
        if (outer := _table_at(table.parent, table_at)) is not None:
            not_data.add(id(outer))
        for tag in [table, *cells]:
            tag.name = "div"
            tag.attrs = {}


def _table_at(tag: Tag | None, memo: dict[int, Tag | None]) -> Tag | None:
    """`tag` if it is a table, else its nearest table ancestor (what `find_parent` finds, without
    bs4's generic matching, and each ancestor chain walked once)."""
    chain = []
    while tag is not None and tag.name != "table" and id(tag) not in memo:
        chain.append(tag)
        tag = tag.parent
    found = memo[id(tag)] if tag is not None and id(tag) in memo else tag
    for seen in chain:
        memo[id(seen)] = found
    return found


TABLE_PARTS = frozenset({"thead", "tbody", "tfoot", "tr", "td", "th"})
HEADINGS = frozenset({"h1", "h2", "h3", "h4", "h5", "h6"})
# What a Markdown table row cannot hold: a line break or a block of its own
CELL_BREAKS = frozenset({"br", "hr", "p", "pre", "li", "dl", "dt", "dd", "center", "section", "article", "figure"})


# A table holding any of these (or another table) lays out the email; it does not hold data.
NOT_IN_DATA_TABLES = frozenset({"table", "img", "h1", "h2", "h3", "div", "ul", "ol", "blockquote"})


def _inline(cell: Tag) -> None:
    """A data table's cell as one line of inline content, as a Markdown table row must be: a heading in it is
    a bold label (no section of the article, no outline item), and line breaks and paragraphs become spaces."""
    for tag in cell.find_all(True):
        if tag.name in HEADINGS:
            tag.name = "strong"
            tag.attrs = {}
            tidy_one(tag)
        elif tag.name in CELL_BREAKS:
            if tag.previous_sibling is not None:
                tag.insert_before(" ")
            if tag.next_sibling is not None:
                tag.insert_after(" ")
            if tag.name in ("br", "hr"):
                tag.decompose()
            else:
                tag.unwrap()


def _is_data_table(cells: list[Tag]) -> bool:
    """A grid: at least two rows with the same number (two or more) of cells, and at least two rows in which
    two or more cells show something (a row of spacer cells around one title is layout)."""
    rows = [c for c in cells if c.name == "tr"]
    widths = {sum(1 for c in row.children if isinstance(c, Tag) and c.name in ("td", "th")) for row in rows}
    if len(rows) < 2 or len(widths) != 1 or widths.pop() < 2:
        return False
    filled = [
        sum(1 for c in row.children if isinstance(c, Tag) and c.name in ("td", "th") and _shows(c)) for row in rows
    ]
    return sum(1 for count in filled if count >= 2) >= 2


def _shows(cell: Tag) -> bool:
    return bool(INVISIBLE.sub("", cell.get_text()))
