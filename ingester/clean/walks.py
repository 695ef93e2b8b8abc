"""Walks over the article tree where bs4's search machinery would be slow: a tag's strings, its tags of some
names, its text cut short. Plain loops over `next_element`, each giving what the bs4 call it replaces gives
(tests/test_dom_walks.py compares them on every element of the fixtures and of the corpus). Pure."""

from __future__ import annotations

import re

from ingester.clean.dom import ROOTS, TEXT_TYPES, NavigableString, PageElement, Tag


def span(tag: Tag) -> tuple[PageElement | None, PageElement | None]:
    """The tag's first descendant and the node after its last (where `tag.descendants` stops)."""
    if not tag.contents:
        return None, None
    return tag.contents[0], tag._last_descendant().next_element  # type: ignore[union-attr]


def strings_of(tag: Tag) -> list[NavigableString]:
    """`list(tag.strings)`: the strings `get_text` joins (of the tag's own string types), in order; one loop
    over the tag's elements, without bs4's generators."""
    types = tag.interesting_string_types or TEXT_TYPES
    node, stop = span(tag)
    found = []
    while node is not stop and node is not None:
        if node.__class__ in types:
            found.append(node)
        node = node.next_element
    return found  # type: ignore[return-value]


def tags_of(tag: Tag, names: frozenset[str], href: bool = False, limit: int = 0) -> list[Tag]:
    """`tag.find_all(names, href=True if href else None, limit=limit)` for plain tag names, without bs4's
    matching machinery (most of a `find_all`'s time)."""
    node, stop = span(tag)
    found: list[Tag] = []
    while node is not stop and node is not None:
        if node.__class__ is Tag and node.name in names and (not href or node.attrs.get("href") is not None):
            found.append(node)
            if len(found) == limit:
                break
        node = node.next_element
    return found


def first_tag(tag: Tag, names: frozenset[str], href: bool = False) -> Tag | None:
    """`tag.find(names, href=True if href else None)` for plain tag names (`tags_of`)."""
    found = tags_of(tag, names, href, 1)
    return found[0] if found else None


def text_of(tag: Tag | None) -> str:
    """The tag's text on one line, single-spaced ("" for None)."""
    return " ".join(" ".join(strings_of(tag)).split()) if tag else ""


def short_text(tag: Tag, limit: int) -> str | None:
    """`text_of(tag)` if it is at most `limit` characters, else None, reading no more of the tag than that:
    asked of the block around each link, a digest whose one cell holds everything is not read whole each time."""
    types = tag.interesting_string_types or TEXT_TYPES
    node, stop = span(tag)
    words: list[str] = []
    size = -1
    while node is not stop and node is not None:
        if node.__class__ in types:
            for word in node.split():  # type: ignore[attr-defined]
                words.append(word)
                size += len(word) + 1
                if size > limit:
                    return None
        node = node.next_element
    return " ".join(words)


def stripped_within(block: Tag, limit: float) -> str | None:
    """`block.get_text(" ", strip=True)` if it is at most `limit` characters long, else None, reading no
    more of the block than that (the climb from a link ends at a block with much text: the whole mail)."""
    types = block.interesting_string_types or TEXT_TYPES
    node, stop = span(block)
    strings: list[str] = []
    size = -1
    while node is not stop and node is not None:
        if node.__class__ in types and (string := node.strip()):  # type: ignore[attr-defined]
            size += len(string) + 1
            if size > limit:
                return None
            strings.append(string)
        node = node.next_element
    return " ".join(strings)


def row_of(
    anchor: Tag, blocks: frozenset[str], looked: set[int], climb: int, limit: int, at_least: int
) -> tuple[Tag, list[Tag]] | None:
    """The nearest block (of `blocks`) above `anchor` with `at_least` links and at most `limit` characters of
    text, with its links; None when the climb meets a longer text, a root or a block `looked` at before (each
    block is looked at once for all the links of a mail), or the first block of `blocks` with that many
    links is the row (then none further up is)."""
    node: Tag | None = anchor.parent
    for _ in range(climb):
        if node is None or node.name in ROOTS or id(node) in looked:
            return None
        looked.add(id(node))
        if short_text(node, limit) is None:
            return None  # a row has little text; its ancestors have more
        if node.name in blocks:
            links = tags_of(node, frozenset({"a"}), href=True)
            if len(links) >= at_least:
                return node, links
        node = node.parent
    return None


def outermost(tag: Tag) -> Tag:
    """The outermost block around `tag` that holds nothing but it (its wrappers: a button's, a row's, a line's),
    reading no more of each ancestor than `tag`'s own text."""
    best, text = tag, text_of(tag)
    for parent in tag.parents:
        if parent.name in ROOTS or short_text(parent, len(text) + 1) != text:
            break
        best = parent
    return best


def only_links(block: Tag, links: list[Tag], separators: re.Pattern[str]) -> bool:
    """Whether `block` holds nothing but `links` and what `separators` matches between them."""
    text = text_of(block)
    for link in links:
        text = text.replace(text_of(link), " ", 1)
    return separators.fullmatch(text) is not None
