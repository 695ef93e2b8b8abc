"""One message → one note: the stages of a message in order (classify the platform, clean the HTML,
convert, decide the metadata, apply the config's rules, render). Pure unless the opt-in resolver is
given. Used by the pipeline for new mail and by `rerender` for notes already filed.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from ingester import classify, fidelity, identity, memory, metadata, parts, privacy, render, tags
from ingester.clean import CleanedHtml, clean_html, text_counts
from ingester.config import Config, Rule
from ingester.convert import events_to_markdown, text_to_markdown
from ingester.links import CleanedUrl, LinkContext, Resolver
from ingester.message import Newsletter, RawMessage, parse

NO_VERDICT = fidelity.Verdict()


@dataclass(frozen=True)
class Note:
    """A rendered note, the fields it was made from, and the decisions behind them."""

    fields: render.NoteFields
    text: str
    metadata: metadata.Metadata
    cleaned: CleanedHtml
    folder: str = ""
    verdict: fidelity.Verdict = NO_VERDICT
    blocks: memory.Blocks = ()  # what to remember of this issue once it is filed (`memory.signature`)
    repeated: int = 0  # blocks removed because earlier issues of the publication had them (`memory.forget`)
    markdown: str = ""  # the cleaned article, before the template (what `ingest fill` sends)
    saved: tuple[parts.Saved, ...] = ()  # the files to save beside the note (`[archive] attachments`)


@dataclass(frozen=True)
class Settings:
    """What making a note needs from the config (picklable, for worker processes)."""

    template: str
    language: str = "zh"
    rules: tuple[Rule, ...] = ()
    max_html: int = 2_000_000
    privacy: privacy.Privacy = field(default_factory=privacy.Privacy)
    filename: str = "{date}-{slug}"  # [archive] filename: the note's stem names the folder of its files
    parts: parts.Policy = field(default_factory=parts.Policy)

    @classmethod
    def of(cls, config: Config) -> Settings:
        """The settings of a configuration; reads the note template (`ConfigError` if it cannot)."""
        return cls(
            render.template_text(config.language, config.template),
            config.language,
            config.rules,
            config.limits.html_bytes,
            privacy.Privacy(
                tuple(dict.fromkeys((*config.identities, *(a.username for a in config.accounts if a.username)))),
                config.redact_names,
                config.personal_links == "unlink",
            ),
            config.filename,
            parts.Policy(config.attachments, config.limits.attachment_bytes, config.limits.attachments_bytes),
        )


def make_note(
    raw: RawMessage,
    letter: Newsletter,
    settings: Settings,
    resolve: Resolver | None = None,
    remembered: memory.Memory | None = None,
) -> Note:
    """Turn one parsed newsletter into its note; `remembered` is what the ledger knows of its publication."""
    platform = classify.detect_platform(letter)
    context = privacy.message_context(letter, metadata.link_context(letter, platform), platform, settings.privacy)
    verdict = NO_VERDICT
    nonce = letter.content_hash[:16]
    in_html: frozenset[int] = frozenset()
    found: list[CleanedUrl] = []  # the URLs cleaned in the text part, when the note is made from it
    if letter.html is not None:
        html, in_html = parts.mark_inline(letter.html, letter.attachments, nonce)
        cleaned = clean_html(html[: settings.max_html], platform, context, resolve, letter.subject)
        verdict = fidelity.judge(cleaned, letter.text)
        if verdict.use_text:
            markdown = text_to_markdown(letter.text or "", context, found)
            cleaned = replace(cleaned, counts=text_counts(found, context))  # the note's links are the text's
        else:
            markdown = events_to_markdown(cleaned.events)
    else:
        markdown = text_to_markdown(letter.text or "", context, found)
        cleaned = CleanedHtml(counts=text_counts(found, context))
    meta = metadata.decide(letter, cleaned.header, context, raw.internaldate)
    if context.reader is not None:  # the reader's address (and, if asked, name) in the text: a neutral mark
        markdown, in_text = identity.redact_text(markdown, context.reader)
        title, in_title = identity.redact_text(meta.title, context.reader)
        meta = replace(meta, title=title)
        if in_text or in_title:
            cleaned = replace(cleaned, counts=replace(cleaned.counts, reader_redacted=in_text + in_title))
    placed = parts.Placed(markdown)
    if letter.attachments or in_html:
        stem = render.file_stem(meta.title, meta.date, settings.filename)
        words = render.LABELS[settings.language].image_words
        placed = parts.place(markdown, letter.attachments, in_html, nonce, stem, settings.parts, words)
        markdown = placed.markdown
    blocks, repeated = memory.signature(markdown), 0
    if remembered and remembered.publication_id == meta.publication_id:
        forgotten = memory.forget(markdown, remembered)
        markdown, repeated = forgotten.markdown, len(forgotten.removed)
        cleaned = replace(
            cleaned, removed=cleaned.removed + forgotten.removed, refused=cleaned.refused + forgotten.refused
        )
    matching = matching_rules(settings.rules, letter, meta)
    fields = replace(
        note_fields(raw, letter, platform, meta, cleaned, matching, verdict),
        listed=placed.listed,
        forwarded_by=_forwarder(letter.forwarded_by, context),
    )
    folder = next((rule.folder for rule in matching if rule.folder), "")
    text = render.render_note(fields, markdown, settings.template, settings.language)
    return Note(fields, text, meta, cleaned, folder, verdict, blocks, repeated, markdown, placed.saved)


def note_fields(
    raw: RawMessage,
    letter: Newsletter,
    platform: str,
    meta: metadata.Metadata,
    cleaned: CleanedHtml,
    matching: list[Rule],
    verdict: fidelity.Verdict | None = None,
) -> render.NoteFields:
    """What the note says: the decided metadata, the message's identity, the rules' tags and category."""
    return render.NoteFields(
        title=meta.title,
        original_title=meta.title,
        url=meta.url,
        url_source=meta.url_source,
        author=meta.author,
        publication=meta.publication,
        publication_id=meta.publication_id,
        subtitle=cleaned.header.subtitle,
        platform=platform,
        category=next((rule.category for rule in reversed(matching) if rule.category), ""),
        date=meta.date,
        message_id=letter.message_id,
        source=raw.source,
        forwarded_by=letter.forwarded_by,
        tags=note_tags(platform, meta.publication, [t for rule in matching for t in rule.tags]),
        counts=cleaned.counts,
        fidelity=verdict.fidelity if verdict else "",
        attachments=tuple(part.describe() for part in letter.attachments),
    )


def note_tags(platform: str, publication: str, rule_tags: list[str]) -> tuple[str, ...]:
    """`newsletter` on every note (one tag finds them all), `newsletter/<platform>` when the platform is
    known, the publication's own tag (`newsletter-1440` when its name is only digits), then the rules' tags."""
    name = render.slug(publication, 40)
    own = (tags.as_tag(name) or tags.as_tag(f"newsletter-{name}")) if name != "note" else ""  # "note": no name
    nested = f"newsletter/{platform}" if platform and platform != "newsletter" else ""
    found = ("newsletter", nested, own, *rule_tags)
    return tuple(dict.fromkeys(t for t in found if t and tags.is_valid(t)))


def matching_rules(rules: tuple[Rule, ...], letter: Newsletter, meta: metadata.Metadata | None = None) -> list[Rule]:
    """The config rules that apply to this message, in config order."""
    publications = (
        classify.publication_name(letter),
        classify.list_id_key(letter),
        *((meta.publication, meta.publication_id) if meta else ()),
    )
    return [rule for rule in rules if rule.matches(letter.from_addr, publications)]


def note_text(raw: bytes, source: str, config: Config) -> str:
    """The note one message gives under `config` (for tests, benchmarks and tools)."""
    return make_note(
        RawMessage(raw, source), parse(raw, config.limits.parts, config.limits.header_chars), Settings.of(config)
    ).text


def _forwarder(address: str, context: LinkContext) -> str:
    """Who forwarded the mail, for the front matter: the neutral mark when it is the reader (Gmail's forwarding
    of their own mailbox, or their own forward to the archive), so the note never holds their address."""
    reader = context.reader
    return identity.MARK if address and reader is not None and address.lower() in reader.addresses else address
