"""`ingest explain`: every decision taken for one message, as (field, value) pairs that print as lines of
text or a JSON object. Writes nothing."""

from __future__ import annotations

from typing import Any

from ingester import classify, message
from ingester.compose import Settings, make_note, matching_rules
from ingester.config import Config
from ingester.links import CleanedUrl
from ingester.memory import Memory
from ingester.message import RawMessage
from ingester.triage import NOT_A_NEWSLETTER


def explain(config: Config, raw: RawMessage, remembered: Memory | None = None) -> list[str]:
    """Newsletter or not and why, platform, each metadata field and its source, what cleaning did
    (with `remembered`, the ledger's memory of the publication, what earlier issues repeated)."""
    return [f"{name + ':':<16}{value}" for name, value in decisions(config, raw, remembered)]


def explain_json(config: Config, raw: RawMessage, remembered: Memory | None = None) -> dict[str, Any]:
    """The same decisions as one object: a field per line, `removed` a list."""
    found: dict[str, Any] = {"removed": []}
    for name, value in decisions(config, raw, remembered):
        key = name.replace(" ", "_")
        if key == "removed":
            found["removed"].append(value)
        else:
            found[key] = value
    return found


def decisions(config: Config, raw: RawMessage, remembered: Memory | None = None) -> list[tuple[str, str]]:
    """(what, decision) pairs, in the order they are taken."""
    letter = message.judge_forward(message.parse(raw.raw), config.readers)
    lines = [
        ("message", raw.source),
        ("message id", letter.message_id or "(none: identity is the content hash)"),
    ]
    if letter.forwarded_by:
        lines.append(("forwarded by", f"{letter.forwarded_by} (credited to the original sender)"))
    reason = classify.newsletter_reason(letter, config.allow_senders)
    lines.append(("newsletter", "yes, " + reason if reason else "no: " + NOT_A_NEWSLETTER))
    action = classify.needs_action(letter)
    if action:
        lines.append(("needs action", f"{action.reason} (not filed as a note)"))
    if any(rule.skip for rule in matching_rules(config.rules, letter)):
        lines.append(("rules", "skipped by a [[rules]] entry"))
    note = make_note(raw, letter, Settings.of(config), remembered=remembered)
    meta, cleaned, fields = note.metadata, note.cleaned, note.fields
    lines.append(("platform", fields.platform))
    for name, value in (
        ("title", meta.title),
        ("author", meta.author),
        ("publication", meta.publication),
        ("publication_id", meta.publication_id),
        ("date", meta.date.isoformat() if meta.date else ""),
        ("url", meta.url),
    ):
        lines.append((name, f"{value or '-'}  [{meta.source(name)}]"))
    lines.append(("category", f"{fields.category or '(by platform)'}; tags: {', '.join(fields.tags) or '-'}"))
    counts = cleaned.counts
    lines.append(
        (
            "links",
            (
                f"{counts.links_cleaned} cleaned, {counts.wrappers_decoded} wrappers decoded, "
                f"{counts.opaque_links} opaque kept, {counts.links_dropped} dropped; "
                f"{counts.pixels_removed} tracking pixels removed"
            ),
        )
    )
    lines.append(
        (
            "privacy",
            (
                f"{counts.personal_links} personal links, {counts.links_unlinked} unlinked, "
                f"reader's address or name replaced {counts.reader_redacted} times in the text"
            ),
        )
    )
    lines.extend(("removed", item) for item in cleaned.removed)
    lines.extend(("link", link_decision(result)) for result in cleaned.links)
    lines.extend(("guard", item) for item in cleaned.refused)
    lines.extend(("attachment", part) for part in fields.attachments)
    if note.verdict.why:
        lines.append(("fidelity", f"{note.verdict.fidelity or 'text/plain part'}: {note.verdict.why}"))
    return lines


def link_decision(result: CleanedUrl) -> str:
    """One line per distinct link: its kind, what was done and by which rules; "kept: not recognised" if nothing."""
    if not result.steps:
        return f"kept: not recognised  {_short(result.original)}"
    done = "; ".join(f"{s.kind} {s.rule}: {s.detail}" for s in result.steps)
    return f"{result.kind}: {_short(result.original)}  [{done}]"


def _short(url: str, limit: int = 100) -> str:
    url = url.strip()
    return url if len(url) <= limit else url[: limit - 1] + "…"
