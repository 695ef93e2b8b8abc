"""`ingest audit`: every note of the archive checked for what identifies its reader. Reads, never writes.

For each note, the reader is the config's (`[privacy] identities`, account usernames) plus, when the
ledger keeps the note's raw message, the message's own (its Delivered-To/To, the ids its unsubscribe
links carry): the same `privacy.message_context` the note was made with. Each line of the body, and the
`url` of the front matter, is searched for:

- the reader's address (any encoding), their To display name in a salutation or, when `redact_names`
  is on, name, in the text;
- in every link: the reader's identity, a credential, a signed claim (base64url JSON, a JSON Web
  Token), an id shared with unsubscribe (a URL's or a mailto address's) (`links.personal`), tracking
  parameters or a decodable wrapper left (base64, base32, hex: what `links.clean` would still change),
  and opaque or personal links the note does not count.

`ingest rerender --all` then `ingest audit` is how an archive is cleaned after the rules improve.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from ingester import classify, identity, message, metadata, privacy
from ingester.compose import Settings
from ingester.config import Config
from ingester.links import URL_IN_TEXT, LinkContext, clean, is_opaque
from ingester.links.personal import find
from ingester.store import raw as raw_copies
from ingester.store.ledger import Ledger
from ingester.store.notes import NoteFile, ledger_record

# A Markdown link's destination, `](…)`, as notes write it (no blanks or brackets inside).
LINK_TARGET = re.compile(r"\]\((https?://[^()\s\[\]<>]+)\)", re.I)
IMAGE_TARGET = re.compile(r"!\[[^\]\n]{0,300}\]\((https?://[^()\s\[\]<>]+)\)", re.I)  # counted as images, not links


@dataclass(frozen=True)
class Finding:
    """One thing found: the note, its line (1-based, in the whole file) and what."""

    note: NoteFile
    line: int
    what: str


def audit(config: Config, ledger: Ledger | None, notes: Iterable[NoteFile]) -> Iterator[Finding]:
    """Every finding of every note, note by note, line by line."""
    settings = Settings.of(config)
    for note in notes:
        context = reader_context(settings, ledger, note)
        yield from audit_note(note, context)


def reader_context(settings: Settings, ledger: Ledger | None, note: NoteFile) -> LinkContext:
    """The context the note's message gives (its reader and unsubscribe ids), or the config's alone."""
    record = ledger_record(ledger, note) if ledger is not None else None
    raw = raw_copies.read(ledger.state_dir, record.content_hash) if ledger is not None and record is not None else None
    if raw is None:
        reader = identity.derive(
            tuple(i.lower() for i in settings.privacy.identities if identity.ADDRESS.fullmatch(i)),
            tuple(i for i in settings.privacy.identities if not identity.ADDRESS.fullmatch(i)),
            settings.privacy.redact_names,
        )
        return LinkContext(reader=reader if reader else None)
    letter = message.parse(raw)
    platform = classify.detect_platform(letter)
    return privacy.message_context(letter, metadata.link_context(letter, platform), platform, settings.privacy)


def audit_note(note: NoteFile, context: LinkContext) -> Iterator[Finding]:
    """The findings of one note."""
    counted_opaque = _number(note.meta.get("opaque_links"))
    counted_personal = _number(note.meta.get("personal_links"))
    personal_seen: dict[str, int] = {}  # distinct URLs (a heading's link is in the outline too) → first line
    lines = note.text.split("\n")
    body_start = len(lines) - len(note.body.split("\n"))
    opaque_seen: dict[str, int] = {}
    for number, line in enumerate(lines, 1):
        in_body = number > body_start
        if not in_body and not line.startswith("url:"):
            continue
        if context.reader is not None and in_body and identity.redact_text(line, context.reader)[1]:
            yield Finding(note, number, "the reader's address or name in the text")
        images = {m.group(1) for m in IMAGE_TARGET.finditer(line)}
        for url in _urls(line):
            for what in link_findings(url, context):
                yield Finding(note, number, what)
            if url in images:
                continue
            result = clean(url, context)
            if is_opaque(result):
                opaque_seen.setdefault(url, number)
            if result.kind == "personal":
                personal_seen.setdefault(url, number)
    if len(opaque_seen) > counted_opaque:
        yield Finding(
            note,
            min(opaque_seen.values()),
            f"{len(opaque_seen)} opaque wrapper links, the note counts {counted_opaque}",
        )
    if len(personal_seen) > counted_personal:
        yield Finding(
            note,
            min(personal_seen.values()),
            f"{len(personal_seen)} personal links kept, the note counts {counted_personal}",
        )


def link_findings(url: str, context: LinkContext) -> list[str]:
    """What identifies the reader, logs them in or tracks them in one link of a note."""
    found = []
    personal = find(url, context.reader)
    if personal is not None and personal.link != "shared":  # kept personal links are counted (below)
        found += [f"personal link part: {why}" for why in personal.why]
    result = clean(url, context)
    if result.kind not in ("personal", "credential") and result.url != url.strip():
        done = "; ".join(f"{s.rule}: {s.detail}" for s in result.steps if s.kind in ("strip", "decode"))
        found.append(f"tracking left in a link ({done or 'it would change'})")
    return found


def _urls(line: str) -> list[str]:
    found = [m.group(1) for m in LINK_TARGET.finditer(line)]
    rest = LINK_TARGET.sub("]()", line)
    found += [m.group(0) for m in URL_IN_TEXT.finditer(rest)]
    return found


def _number(value: object) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0
