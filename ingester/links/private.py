"""`clean` with the message's reader in mind: `engine.clean`, then wrappers recognised by shape and the
personal parts of the result removed (`personal`). Pure, offline.

Two kinds join `engine`'s: "credential" (the link logs the reader in or names them where it cannot be
removed: never in a note, its text is kept) and "personal" (it holds an id shared with the unsubscribe
link: kept or unlinked as `[links] personal` says; never the note's `url`).
"""

from __future__ import annotations

from dataclasses import replace

from ingester.links import engine
from ingester.links.engine import DROPPED_KINDS, URL_IN_TEXT, CleanedUrl, LinkContext, Step
from ingester.links.personal import find, has_opaque_id, may_hold, shaped_target
from ingester.links.url import split

NO_CONTEXT = LinkContext()
PRIVATE_KINDS = frozenset({"credential", "personal"})
OPAQUE_STEP = "opaque wrapper:"  # how the classify step of an opaque wrapper begins (engine's and ours)
SHAPE_WRAPPER = "shape-wrapper"
MAX_DEPTH = 3  # redirects decoded here, one inside another


def clean(url: str, context: LinkContext | None = None, depth: int = 0) -> CleanedUrl:
    """`engine.clean`, then (when the message says who reads it or which hosts wrap clicks) wrappers
    recognised by shape decoded or counted, and what identifies the reader removed."""
    context = context or NO_CONTEXT
    result = engine.clean(url, context)
    if (context.reader is None and not context.wrapper_hosts) or result.kind in DROPPED_KINDS:
        return result
    wrapped = bool(context.wrapper_hosts) and result.kind == "link" and _host(result.url) in context.wrapper_hosts
    if not wrapped and not may_hold(result.url, context.reader):
        return result  # the usual case, decided without splitting the URL
    u = split(result.url)
    if wrapped and u is not None and u.host in context.wrapper_hosts:
        result = _by_shape(result, context)
        if result.kind in DROPPED_KINDS:
            return result
        u = split(result.url)
    found = find(result.url, context.reader, u)
    if found is None:
        return result
    # a redirect to a personal target (in a parameter, or the path): go there, cleaned
    if found.target and found.link in ("", "redirect") and depth < MAX_DEPTH:
        inner = clean(found.target, context, depth + 1)
        why = f"→ {found.target} (a redirect whose target held {', '.join(found.why)}; cleaned below)"
        return CleanedUrl(
            result.original,
            inner.url,
            inner.kind,
            (*result.decoded, "redirect-with-personal-target", *inner.decoded),
            tuple(dict.fromkeys(result.removed + inner.removed)),
            (*result.steps, Step("decode", "ingester:personal", why), *inner.steps),
        )
    steps = list(result.steps)
    if found.removed:
        steps.append(Step("strip", "ingester:personal", "removed " + ", ".join(dict.fromkeys(found.removed))))
    steps += [Step("classify", "ingester:personal", why) for why in found.why if not _is_param(why, found.removed)]
    kind = result.kind
    if found.link in ("credential", "reader", "redirect"):
        kind = "credential"
        steps.append(Step("classify", "ingester:personal", "the link itself is personal: unlinked, its text kept"))
    elif found.link == "shared":
        kind = "personal"
        what = "unlinked, its text kept" if context.unlink_personal else "kept ([links] personal = keep)"
        steps.append(Step("classify", "ingester:personal", f"personal link (shares an id with unsubscribe): {what}"))
    removed = tuple(dict.fromkeys(result.removed + found.removed))
    return CleanedUrl(result.original, found.url, kind, result.decoded, removed, tuple(steps))


def _host(url: str) -> str:
    """The host of a web URL, lower-case (no user info or port): enough to look it up in a set."""
    rest = url.partition("//")[2]
    authority = rest[: next((i for i, c in enumerate(rest) if c in "/?#"), len(rest))]
    return authority.rpartition("@")[2].partition(":")[0].lower().rstrip(".")


def _is_param(why: str, removed: tuple[str, ...]) -> bool:
    return any(why.startswith(f"{name}: ") for name in removed)


def _by_shape(result: CleanedUrl, context: LinkContext) -> CleanedUrl:
    """A link on a host that wraps this message's clicks: decoded when its target is written in it, else
    opaque when it carries an opaque id."""
    u = split(result.url)
    if u is None or u.host not in context.wrapper_hosts:
        return result
    target = shaped_target(u)
    if target is not None and split(target) is not None:
        inner = clean(target, context, MAX_DEPTH)
        step = Step("decode", f"ingester:{SHAPE_WRAPPER}", f"→ {target} (on a host that wraps this message's clicks)")
        return CleanedUrl(
            result.original,
            inner.url,
            inner.kind,
            (*result.decoded, SHAPE_WRAPPER, *inner.decoded),
            tuple(dict.fromkeys(result.removed + inner.removed)),
            (*result.steps, step, *inner.steps),
        )
    shared = context.reader.shared if context.reader is not None else frozenset()
    if has_opaque_id(u) or any(s in shared for s in u.path.split("/")) or any(v in shared for _, v in u.pairs):
        step = Step(
            "classify",
            f"ingester:{SHAPE_WRAPPER}",
            f"{OPAQUE_STEP} on a host that wraps this message's clicks (List-Unsubscribe or tracking pixel), "
            "with an opaque or personal id; the destination is not in the URL",
        )
        return replace(result, kind="opaque", steps=(*result.steps, step))
    return result


def clean_url(url: str, context: LinkContext | None = None) -> str:
    """`clean(url, context).url`."""
    return clean(url, context).url


WITHHELD = "[personal link removed]"  # what a withheld URL's place says


def withheld(result: CleanedUrl, context: LinkContext | None) -> bool:
    """A URL written in text that gives the reader away with no clean form (a login, or a personal link with
    `[links] personal = "unlink"`): its place says so instead of the URL."""
    return result.kind == "credential" or (
        result.kind in PRIVATE_KINDS and context is not None and context.unlink_personal
    )


def clean_text_urls(text: str, context: LinkContext | None = None, found: list[CleanedUrl] | None = None) -> str:
    """Clean every http(s) URL found in plain text; personal ones the reader's identity cannot be
    removed from are left out (their place says so). Each result is added to `found` (to be counted)."""

    def one(url: str) -> str:
        result = clean(url, context)
        if found is not None:
            found.append(result)
        if withheld(result, context):
            return WITHHELD
        return result.url

    return URL_IN_TEXT.sub(lambda m: one(m.group(0)), text)


def explain(url: str, context: LinkContext | None = None) -> str:
    """A multi-line account of what `clean` does to `url`, for `ingest clean-url --explain`."""
    result = clean(url, context)
    lines = [result.original.strip(), *(f"  {s.kind:<9} {s.rule}: {s.detail}" for s in result.steps)]
    if not result.steps:
        lines.append("  kept: not recognised (nothing to clean)")
    lines.append(f"= {result.url}  ({result.kind}{'' if result.changed else ', unchanged'})")
    return "\n".join(lines)


def is_opaque(result: CleanedUrl) -> bool:
    """An opaque wrapper, personal or not (a personal one keeps the kind "personal")."""
    return result.kind == "opaque" or any(
        s.kind == "classify" and s.detail.startswith(OPAQUE_STEP) for s in result.steps
    )
