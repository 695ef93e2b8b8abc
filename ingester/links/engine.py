"""Pure URL functions: every link that reaches a note goes through `clean`.

For each URL, without any network access:

1. **Classify.** Unsubscribe, preferences, action (like, restack, share, webview) and confirm links
   are returned unchanged with their kind: callers drop them from notes, and cleaning or resolving
   them could act on the reader's subscription. View-online links are cleaned and flagged.
2. **Decode** redirect wrappers offline (ClearURLs redirections, Brave debounce, then our decoders:
   Substack, Mailgun, Kit, Buttondown, Outlook, Medium, Mandrill, Proofpoint, SendGrid, Sailthru),
   classifying again after each step, until nothing changes. Only absolute http(s) results count.
3. **Strip** tracking parameters: ClearURLs rules ∪ Brave clean-urls/query-filter ∪ our rules, minus
   the keep-lists. Kept parameters, the fragment and everything else stay byte for byte: when
   nothing is removed the input comes back as it was (only surrounding blanks trimmed).
4. **Opaque** wrappers whose destination is not in the URL (Mailchimp track/click, SendGrid,
   Ghost `/r/`, …) keep working, minus the parameters that identify the reader.

The rule data, its indexes and the per-host plans live in `links.rules` (formats compiled by
`links.formats`); the decoders of step 2 that are our own, in `links.wrappers`; URL splitting in `links.url`.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import unquote

from ingester.identity import Reader
from ingester.links.formats import DebounceRule, ParamRule, Provider, host_suffixes
from ingester.links.rules import Classifier, HostPathRule, NameTable, host_plan, rules
from ingester.links.url import SplitUrl, split
from ingester.links.wrappers import absolute_http, b64_text, decode

# Links a note never shows: acting on them unsubscribes, confirms or likes on the reader's behalf.
DROPPED_KINDS = frozenset({"unsubscribe", "preferences", "action", "confirm"})
MAX_ROUNDS = 5  # wrappers nest (Safe Links around Google around SES); five is more than real mail needs
# A URL in running text; sentence punctuation right after it is not part of it.
URL_IN_TEXT = re.compile(r"https?://[^\s<>\"')\]]+(?<![.,;:!?])", re.I)
_SUBSTACK_POST = re.compile(r"/p/[^/]+/?|/@[^/]+/note/c-\d+/?")

Decoded = tuple[str, "Step", str]  # (destination, step, wrapper kind)
Remover = tuple[str, Callable[[str, str], bool]]  # (rule credited, test on a parameter's name and value)


@dataclass(frozen=True)
class LinkContext:
    """What the message says about itself, for rules scoped by sender."""

    publication_hosts: frozenset[str] = frozenset()  # hosts of the sender's own Substack publication, lower-case
    substack: bool = False  # sent by Substack (headers, HTML): its post links carry its parameters on any host
    reader: Reader | None = None  # who reads this message (`links.private` removes it from every URL)
    wrapper_hosts: frozenset[str] = frozenset()  # hosts that wrap clicks in this message (List-Unsubscribe, pixels)
    unlink_personal: bool = False  # `[links] personal = "unlink"`
    unsubscribe_urls: tuple[str, ...] = ()  # List-Unsubscribe's web URLs: the footer's link shares their identity


@dataclass(frozen=True)
class Step:
    """One thing done to a URL, for `explain` and the note's counts."""

    kind: str  # "decode" | "strip" | "rewrite" | "classify"
    rule: str  # e.g. "substack-redirect-2", "clearurls:google", "brave-debounce", "ingester:substack-post"
    detail: str  # what changed, e.g. "removed utm_source, r" or "→ https://…"


@dataclass(frozen=True)
class CleanedUrl:
    """The result of `clean`.

    :ivar url: the cleaned URL; for unsubscribe/preferences/action/confirm links the input unchanged
    :ivar kind: "link" | "opaque" | "view-online" | "unsubscribe" | "preferences" | "action" | "confirm"
    :ivar decoded: wrapper kinds decoded, in order (e.g. ("outlook-safelinks", "google-url"))
    :ivar removed: parameter names removed
    """

    original: str
    url: str
    kind: str
    decoded: tuple[str, ...]
    removed: tuple[str, ...]
    steps: tuple[Step, ...]

    @property
    def changed(self) -> bool:
        return self.url != self.original


# --- Public API ----------------------------------------------------------------------------------------------------


def clean(url: str, context: LinkContext | None = None) -> CleanedUrl:
    """Classify, unwrap and strip one URL (see the module docstring); never raises, never goes online."""
    return _process(url, context or LinkContext(), classify=True)


def clean_url(url: str, context: LinkContext | None = None) -> str:
    """`clean(url, context).url`."""
    return clean(url, context).url


@functools.lru_cache(maxsize=4096)  # asked of each image by `privacy` and again by the pixel step
def is_tracker_image(url: str) -> bool:
    """A known tracker or beacon URL (the caller checks the image's size and visibility too)."""
    return _is_tracker_image(url, proxied=False)


def _is_tracker_image(url: str, proxied: bool) -> bool:
    u = split(url.strip())
    if u is None:
        return False
    images, where = rules().images, u.host + u.path_query
    if not proxied and images.gmail_proxy.match(where) and u.fragment and _is_tracker_image(u.fragment, True):
        return True  # a forwarded message: Gmail's image proxy keeps the original URL in the fragment
    if images.patterns.search(where):
        return True
    if images.content.search(where):
        return False  # real images on content CDNs, whatever their path looks like
    return (
        images.paths.search(u.path) is not None
        or images.query.search(u.query or "") is not None
        or not images.host_labels.isdisjoint(u.host.split(".")[:-1])
    )


def explain(url: str, context: LinkContext | None = None) -> str:
    """A multi-line account of what `clean` does to `url`, for `ingest clean-url --explain`."""
    result = clean(url, context)
    lines = [result.original.strip(), *(f"  {s.kind:<9} {s.rule}: {s.detail}" for s in result.steps)]
    if not result.steps:
        lines.append("  nothing to do")
    lines.append(f"= {result.url}  ({result.kind}{'' if result.changed else ', unchanged'})")
    return "\n".join(lines)


# --- The pipeline ---------------------------------------------------------------------------------------------------


def _process(url: str, context: LinkContext, classify: bool) -> CleanedUrl:
    """`_process_once` again on its result while that changes: removing a parameter can switch a ClearURLs
    exception off, or drop the blank that kept a decoder from accepting its result. So `clean` is idempotent."""
    result, before = _process_once(url, context, classify), url.strip()
    for _ in range(3):
        if result.url == before or result.kind in DROPPED_KINDS:
            break
        again, before = _process_once(result.url, context, classify), result.url
        if again.url == result.url:
            break
        result = CleanedUrl(
            url,
            again.url,
            again.kind,
            result.decoded + again.decoded,
            tuple(dict.fromkeys(result.removed + again.removed)),
            result.steps + again.steps,
        )
    return result


def _process_once(url: str, context: LinkContext, classify: bool) -> CleanedUrl:
    text = url.strip()
    u = split(text)
    if u is None:  # mailto:, tel:, relative…: not unwrapped, but an unsubscribe mailto: is still one
        hit = _classify_other(text) if classify else None
        return CleanedUrl(url, text, hit.kind if hit else "link", (), (), (_classify_step(hit),) if hit else ())
    steps: list[Step] = []
    decoded: list[str] = []
    for round_ in range(MAX_ROUNDS + 1):
        hit = _classify(u, context) if classify else None
        if hit is not None and hit.kind in DROPPED_KINDS:
            return CleanedUrl(url, text, hit.kind, tuple(decoded), (), (*steps, _classify_step(hit)))
        kind = "link" if hit is None else hit.kind
        if hit is not None and _classify_step(hit) not in steps:
            steps.append(_classify_step(hit))
        found = _decode_once(u) if round_ < MAX_ROUNDS else None
        target = split(found[0]) if found is not None else None
        if found is None or target is None:
            break
        steps.append(found[1])
        decoded.append(found[2])
        u = target
    opaque = next((o for o in host_plan(u.host).opaque if o.matches_path(u.path)), None)
    if opaque is not None and kind == "link":
        kind = "opaque"
        steps.append(
            Step(
                "classify",
                f"ingester:{opaque.name}",
                "opaque wrapper: the destination is not in the URL; kept, minus what identifies the reader",
            )
        )
    cleaned, strip_steps, removed = _strip(u, context, opaque)
    steps += strip_steps
    return CleanedUrl(url, cleaned.strip(), kind, tuple(decoded), tuple(dict.fromkeys(removed)), tuple(steps))


def _classify_step(hit: Classifier) -> Step:
    if hit.kind == "view-online":
        return Step("classify", f"ingester:{hit.name}", "view-online link: cleaned; a canonical-URL candidate")
    return Step("classify", f"ingester:{hit.name}", f"{hit.kind} link: left as it is, never cleaned or resolved")


# --- Classification --------------------------------------------------------------------------------------------------


def _classify_other(text: str) -> Classifier | None:
    scheme = text.partition(":")[0].lower()
    return next(
        (
            c
            for c in rules().classifiers
            if c.scheme and c.scheme == scheme and c.pattern is not None and c.pattern.search(text)
        ),
        None,
    )


def _classify(u: SplitUrl, context: LinkContext) -> Classifier | None:
    r, plan, segments = rules(), host_plan(u.host), _segments(u.path)
    # Most URLs hold none of the words any classifier looks for: then only host and path can decide.
    evidence = not r.evidence_segments.isdisjoint(segments) or not r.evidence_keys.isdisjoint(u.names)
    for c in plan.classifiers if evidence else plan.plain_classifiers:
        if (c.scope == "substack" and not _is_substack(u, context)) or (c.path and c.path.search(u.path) is None):
            continue
        if not c.has_evidence or _has_evidence(c, u, segments):
            return c
    return None


def _segments(path: str) -> frozenset[str]:
    """Path segments, lower-cased and percent-decoded, without a file extension (`unsubscribe.html`)."""
    decoded = unquote(path) if "%" in path else path
    return frozenset(s.rpartition(".")[0] or s for s in decoded.lower().split("/") if s)


def _has_evidence(c: Classifier, u: SplitUrl, segments: frozenset[str]) -> bool:
    if not c.segments.isdisjoint(segments) or not c.keys.isdisjoint(u.names):
        return True
    if c.pattern is not None and c.pattern.search(u.text):
        return True
    return c.query is not None and any(
        _value_in(value, wanted) for key, wanted in c.query.items() if key in u.names for value in u.values(key)
    )


def _value_in(value: str, wanted: tuple[str, ...]) -> bool:
    return any(value.startswith(w[:-1]) if w.endswith("*") else value == w for w in wanted)


def _is_substack(u: SplitUrl, context: LinkContext) -> bool:
    """A Substack URL: on substack.com, on the sender's own publication host, or with the post-id signature."""
    return (
        u.host == "substack.com"
        or u.host.endswith(".substack.com")
        or u.host in context.publication_hosts
        or ("publication_id" in u.names and "post_id" in u.names)
        or (context.substack and _SUBSTACK_POST.fullmatch(u.path) is not None)
    )


# --- Decoding -------------------------------------------------------------------------------------------------------


def _decode_once(u: SplitUrl) -> Decoded | None:
    """The first wrapper that decodes offline to a new absolute http(s) URL: ClearURLs, Brave, then ours."""
    for finder in (_clearurls_redirect, _brave_debounce, _our_decoders):
        found = finder(u)
        if found is not None and found[0] != u.text:
            return found
    return None


def _clearurls_redirect(u: SplitUrl) -> Decoded | None:
    for p in host_plan(u.host).providers:
        if not p.redirections or not p.applies(u.match_text) or p.excepted(u.match_text):
            continue
        for redirection in p.redirections:
            match = redirection.search(u.match_text)
            target = absolute_http(unquote(match.group(1))) if match and match.group(1) else None
            if target:
                rule = f"clearurls:{p.name}"
                return target, Step("decode", rule, f"→ {target}"), rules().wrapper_names.get(rule, rule)
    return None


def _brave_debounce(u: SplitUrl) -> Decoded | None:
    for rule, everywhere in host_plan(u.host).debounce:
        target = _debounce_target(rule, u) if everywhere or rule.applies(u.scheme, u.host, u.path_query) else None
        if target:
            names = rules().wrapper_names
            wrapper = next(
                (names[k] for s in host_suffixes(u.host) if (k := f"brave-debounce:{s}") in names), "brave-debounce"
            )
            return target, Step("decode", "brave-debounce", f"→ {target}"), wrapper
    return None


def _debounce_target(rule: DebounceRule, u: SplitUrl) -> str | None:
    if rule.path_re is None:  # "redirect" and "base64,redirect": the destination is a query parameter
        value = u.param(rule.param)
        value = b64_text(value) if value is not None and rule.action.startswith("base64") else value
    else:
        match = rule.path_re.search(u.path)
        value = unquote("".join(g or "" for g in match.groups())) if match else None
        value = rule.template.replace("$1", value) if value and rule.template else value
    if value and rule.prepend_scheme and not value.lower().startswith(("http://", "https://")):
        value = f"{rule.prepend_scheme}://{value}"
    return absolute_http(value)


def _our_decoders(u: SplitUrl) -> Decoded | None:
    for where in host_plan(u.host).wrappers:
        target = absolute_http(decode(where.name, u)) if where.matches_path(u.path) else None
        if target:
            kind = "rewrite" if where.name in ("substack-open", "substack-app-link") else "decode"
            return target, Step(kind, where.name, f"→ {target}"), where.name
    return None


# --- Parameter stripping ---------------------------------------------------------------------------------------------


def _strip(u: SplitUrl, context: LinkContext, opaque: HostPathRule | None) -> tuple[str, list[Step], list[str]]:
    """The URL without tracking parameters, the steps taken and the names removed."""
    substack = _is_substack(u, context)
    if substack and u.query is not None and _SUBSTACK_POST.fullmatch(u.path):
        names = list(dict.fromkeys(name for name, _ in u.pairs))
        detail = "removed the whole query" + (": " + ", ".join(names) if names else "")
        return u.rebuild(None), [Step("strip", "ingester:substack-post", detail)], names
    removed: dict[str, list[str]] = {}
    text = u.text
    if u.query:
        plan = host_plan(u.host)
        keep = [r for r in plan.keep.dynamic if r.applies(u.scheme, u.host, u.path_query)]
        removers, kept = _removers(u, substack, opaque), []
        for piece in u.query.split("&"):
            name, _, value = piece.partition("=")
            source = None if not name or _kept(plan.keep, keep, name, value) else _remover(u, removers, name, value)
            if source is None:
                kept.append(piece)
            else:
                removed.setdefault(source, []).append(name)
        text = u.rebuild([p for p in kept if p.strip()]) if removed else text
    steps = [Step("strip", source, "removed " + ", ".join(dict.fromkeys(names))) for source, names in removed.items()]
    return _raw_rules(u, text, steps), steps, [name for names in removed.values() for name in names]


def _kept(table: NameTable, dynamic: list[ParamRule], name: str, value: str) -> bool:
    return table.lookup(name) is not None or any(r.names_param(name, value) for r in dynamic)


def _removers(u: SplitUrl, substack: bool, opaque: HostPathRule | None) -> list[Remover]:
    """Tests for tracking parameters, most specific first, so each removal is credited to the rule that explains it.

    Brave's and our path-independent rules are not here: `_remover` looks them up in the host's name table.
    """
    r, plan = rules(), host_plan(u.host)
    found: list[Remover] = []
    if opaque is not None and opaque.strip:
        found.append((f"ingester:{opaque.name}", lambda name, value: name in opaque.strip))
    if substack:  # also on the sender's custom domain, which no include pattern can name
        found += [(rule.source, rule.names_param) for rule in r.substack_rules]
    found += [
        (f"clearurls:{p.name}", _clearurls_test(p, u, r.never_global))
        for p in plan.providers
        if p.rules is not None and p.applies(u.match_text)
    ]
    for rule in plan.strip.dynamic:
        if rule.applies(u.scheme, u.host, u.path_query):
            found.append(
                (rule.source, _unless(rule.names_param, r.never_global) if rule.anywhere else rule.names_param)
            )
    return found


def _remover(u: SplitUrl, removers: list[Remover], name: str, value: str) -> str | None:
    """The rule that removes this parameter, if any."""
    found = next((source for source, test in removers if test(name, value)), None)
    return found or host_plan(u.host).strip.lookup(unquote(name) if "%" in name else name)


def _clearurls_test(p: Provider, u: SplitUrl, never_global: frozenset[str]) -> Callable[[str, str], bool]:
    # An exception turns the whole provider off; it is checked only once a parameter would go, as most never do.
    def test(name: str, value: str) -> bool:
        if p.host is None and name in never_global:
            return False
        names = (name, unquote(name)) if "%" in name else (name,)
        return any(p.rules.fullmatch(n) for n in names) and not p.excepted(u.match_text)  # type: ignore[union-attr]

    return test


def _unless(test: Callable[[str, str], bool], protected: frozenset[str]) -> Callable[[str, str], bool]:
    return lambda name, value: name not in protected and test(name, value)


def _raw_rules(u: SplitUrl, text: str, steps: list[Step]) -> str:
    """ClearURLs rawRules (e.g. Amazon's `/ref=…` path segment), applied to the whole URL."""
    for p in host_plan(u.host).providers:
        for raw in p.raw_rules:
            found = raw.findall(text)
            if found and p.applies(u.match_text) and not p.excepted(u.match_text):
                text = raw.sub("", text)
                steps.append(Step("strip", f"clearurls:{p.name}", "removed " + ", ".join(map(str, found))))
    return text
