"""The cleaned article written out as parser events, for `convert`. Pure."""

from __future__ import annotations

from typing import Any

from ingester.clean.dom import ByClass, PreformattedString, Tag, gone, has_classes

# The cleaned article as an HTML parser reports it: ("start", tag, ((attr, value), …)), ("end", tag),
# ("text", characters). Plain data, so `convert` turns it into Markdown without parsing HTML again.
Event = tuple[Any, ...]


def article_events(soup: Tag, by_class: ByClass) -> tuple[Event, ...]:
    """The article: Substack's `.body.markup` blocks (the post and its postscript), else the whole body."""
    is_body = has_classes("body", "markup")
    blocks = [
        tag for _, tag in by_class.get("body", ()) if not gone(tag) and is_body(tag) and not tag.find_parent(is_body)
    ]
    events: list[Event] = []
    for i, block in enumerate(blocks or [soup.body or soup]):
        if i:
            events.append(("text", "\n"))
        events_of(block, events)
    return tuple(events)


def events_of(root: Tag, out: list[Event]) -> None:
    """The contents of `root` as start/end/text events, in document order: what an HTML parser
    would report for `root.decode_contents()`, without writing the HTML out and parsing it again.
    Recursive (`dom.limit_depth` keeps trees under 200 levels): bs4's `descendants` costs more."""
    for node in root.contents:
        if isinstance(node, Tag):
            name, own = node.name, node.attrs
            attrs = tuple([(k, " ".join(v) if isinstance(v, list) else v) for k, v in own.items()]) if own else ()
            out.append(("start", name, attrs))
            if node.contents:
                events_of(node, out)
            out.append(("end", name))
        elif not isinstance(node, PreformattedString):  # comments, doctypes, CDATA: nothing to show
            out.append(("text", str(node)))
