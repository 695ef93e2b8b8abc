"""`ingest explain`: every decision taken for one message, as lines of text. Writes nothing."""

from __future__ import annotations

from ingester import classify, message
from ingester.compose import Settings, make_note, matching_rules
from ingester.config import Config
from ingester.message import RawMessage
from ingester.pipeline import NOT_A_NEWSLETTER


def explain(config: Config, raw: RawMessage) -> list[str]:
    """Newsletter or not and why, platform, each metadata field and its source, what cleaning did."""
    letter = message.parse(raw.raw)
    lines = [
        f"message:        {raw.source}",
        f"message id:     {letter.message_id or '(none: identity is the content hash)'}",
    ]
    if letter.forwarded_by:
        lines.append(f"forwarded by:   {letter.forwarded_by} (credited to the original sender)")
    reason = classify.newsletter_reason(letter, config.allow_senders)
    lines.append(f"newsletter:     {'yes, ' + reason if reason else 'no: ' + NOT_A_NEWSLETTER}")
    action = classify.needs_action(letter)
    if action:
        lines.append(f"needs action:   {action.reason} (not filed as a note)")
    if any(rule.skip for rule in matching_rules(config.rules, letter)):
        lines.append("rules:          skipped by a [[rules]] entry")
    note = make_note(raw, letter, Settings.of(config))
    meta, cleaned, fields = note.metadata, note.cleaned, note.fields
    lines.append(f"platform:       {fields.platform}")
    for name, value in (
        ("title", meta.title),
        ("author", meta.author),
        ("publication", meta.publication),
        ("publication_id", meta.publication_id),
        ("date", meta.date.isoformat() if meta.date else ""),
        ("url", meta.url),
    ):
        lines.append(f"{name + ':':<16}{value or '-'}  [{meta.source(name)}]")
    lines.append(f"category:       {fields.category or '(by platform)'}; tags: {', '.join(fields.tags) or '-'}")
    counts = cleaned.counts
    lines.append(
        f"links:          {counts.links_cleaned} cleaned, {counts.wrappers_decoded} wrappers decoded, "
        f"{counts.opaque_links} opaque kept, {counts.links_dropped} dropped; "
        f"{counts.pixels_removed} tracking pixels removed"
    )
    lines.extend(f"removed:        {item}" for item in cleaned.removed)
    lines.extend(f"guard:          {item}" for item in cleaned.refused)
    lines.extend(f"attachment:     {part}" for part in fields.attachments)
    if note.verdict.why:
        lines.append(f"fidelity:       {note.verdict.fidelity or 'text/plain part'}: {note.verdict.why}")
    return lines
