"""The order of the stages: source → message → clean (links) → convert → render → archive → ledger.

The only module that knows that order. A failure while handling one message is recorded in the
ledger with its error and counted; it never stops the run. Errors about the whole source (cannot
connect, wrong password) stop that account only and are reported in `RunSummary.errors`.
"""

from __future__ import annotations

import dataclasses
import logging
import multiprocessing
import os
import signal
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timezone
from pathlib import Path

from ingester import archive, message, metadata, render
from ingester.chrome import CONFIRM_HINT
from ingester.clean import CleanedHtml, clean_html, confirm_link
from ingester.config import Account, Config, Rule
from ingester.convert import events_to_markdown, text_to_markdown
from ingester.errors import ArchiveError, ConfigError, SourceError
from ingester.resolve import Resolver, make_resolver
from ingester.source import ImapSession, RawMessage, local_messages
from ingester.state import Ledger, Location

logger = logging.getLogger(__name__)

TEMPLATE_DIR = Path(__file__).resolve().parent.parent / "config"
NOT_A_MESSAGE = "not an email message (no header)"
NOT_A_NEWSLETTER = "not a newsletter (no List-Unsubscribe/List-Id/List-Post header, sender not in allow_senders)"


@dataclass
class RunSummary:
    """What a run did: counts, the notes it filed, and what went wrong."""

    filed: int = 0
    skipped: int = 0
    duplicates: int = 0
    failed: int = 0
    notes: list[str] = field(default_factory=list)
    failures: list[dict[str, str]] = field(default_factory=list)
    needs_action: list[dict[str, str]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    stopped: bool = False

    @property
    def seen(self) -> int:
        return self.filed + self.skipped + self.duplicates + self.failed

    def as_dict(self) -> dict[str, object]:
        return {"seen": self.seen, **asdict(self)}


@dataclass(frozen=True)
class Note:
    """A rendered note, the fields it was made from, and the decisions behind them."""

    fields: render.NoteFields
    text: str
    metadata: metadata.Metadata
    cleaned: CleanedHtml
    folder: str = ""


def load_template(config: Config) -> str:
    """The note template: `[archive] template`, else `config/note.<language>.md` of this checkout."""
    path = config.template or TEMPLATE_DIR / f"note.{config.language}.md"
    try:
        return path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"[archive] template: cannot read {path} ({exc.strerror}); set it to an existing file") from None


def make_note(raw: RawMessage, letter: message.Newsletter, template: str, language: str,
              rules: tuple[Rule, ...] = (), resolve: Resolver | None = None, max_html: int = 2_000_000) -> Note:
    """Turn one parsed newsletter into its note. Pure unless the opt-in `resolve` is given."""
    platform = message.detect_platform(letter)
    context = metadata.link_context(letter, platform)
    if letter.html is not None:
        cleaned = clean_html(letter.html[:max_html], platform, context, resolve)
        markdown = events_to_markdown(cleaned.events)
    else:
        cleaned = CleanedHtml()
        markdown = text_to_markdown(letter.text or "", context)
    meta = metadata.decide(letter, cleaned, context, raw.internaldate)
    matching = matching_rules(rules, letter, meta)
    tags = (platform, render.slug(meta.publication, 40), *(t for rule in matching for t in rule.tags))
    fields = render.NoteFields(
        title=meta.title,
        original_title=meta.title,
        url=meta.url,
        url_source=meta.url_source,
        author=meta.author,
        publication=meta.publication,
        publication_id=meta.publication_id,
        subtitle=cleaned.subtitle,
        platform=platform,
        category=next((rule.category for rule in reversed(matching) if rule.category), ""),
        date=meta.date,
        message_id=letter.message_id,
        source=raw.source,
        forwarded_by=letter.forwarded_by,
        tags=tuple(dict.fromkeys(t for t in tags if t and t != "note")),
        links_cleaned=cleaned.links_cleaned,
        wrappers_decoded=cleaned.wrappers_decoded,
        opaque_links=cleaned.opaque_links,
        pixels_removed=cleaned.pixels_removed,
    )
    folder = next((rule.folder for rule in matching if rule.folder), "")
    return Note(fields, render.render_note(fields, markdown, template, language), meta, cleaned, folder)


def matching_rules(rules: tuple[Rule, ...], letter: message.Newsletter, meta: metadata.Metadata | None = None,
                   ) -> list[Rule]:
    """The config rules that apply to this message, in config order."""
    publications = (message.publication_name(letter), message.list_id_key(letter), *(
        (meta.publication, meta.publication_id) if meta else ()))
    return [rule for rule in rules if rule.matches(letter.from_addr, publications)]


@dataclass(frozen=True)
class Prepared:
    """What the CPU-heavy part found for one message (parse, decide, clean, convert, render).

    Made in a worker process when there are several; the main process files it: duplicate check,
    note write, ledger row.
    """

    key: str
    message_id: str = ""
    content_hash: str = ""
    skip: str = ""
    action: tuple[tuple[str, str], ...] = ()
    text: str = ""
    date: datetime | None = None
    title: str = ""
    folder: str = ""
    error: str = ""


def prepare(raw: RawMessage, config: Config, template: str, all_messages: bool,
            resolve: Resolver | None = None) -> Prepared:
    """Everything about one message that needs no archive and no ledger. Never raises."""
    limits = config.limits
    if len(raw.raw) > limits.message_bytes:
        return Prepared(key=f"oversized:{raw.source}", skip=oversized(len(raw.raw), config))
    try:
        letter = message.parse(raw.raw, limits.parts, limits.header_chars)
    except Exception as exc:  # noqa: BLE001 - any parser failure is this message's, not the run's
        return Prepared(key=f"sha256:{message.content_hash(raw.raw)}", content_hash=message.content_hash(raw.raw),
                        error=_error_line(exc))
    ids = {"key": letter.key, "message_id": letter.message_id, "content_hash": letter.content_hash}
    try:
        skip, action = skip_reason(raw, letter, config, all_messages)
        if skip:
            return Prepared(**ids, skip=skip, action=action)
        note = make_note(raw, letter, template, config.language, config.rules, resolve, limits.html_bytes)
    except Exception as exc:  # noqa: BLE001 - recorded with its error, retried on a later run
        return Prepared(**ids, error=_error_line(exc))
    return Prepared(**ids, text=note.text, date=note.fields.date, title=note.fields.title, folder=note.folder)


def _error_line(exc: Exception) -> str:
    return f"{type(exc).__name__}: {exc}".splitlines()[0][:500]


def oversized(size: int, config: Config) -> str:
    return f"too large: {size:,} bytes > [limits] message_bytes = {config.limits.message_bytes:,}"


def skip_reason(raw: RawMessage, letter: message.Newsletter, config: Config,
                all_messages: bool) -> tuple[str, tuple[tuple[str, str], ...]]:
    """(why this message gets no note, the needs-action entry) — ("", ()) to file it."""
    if not letter.headers:
        return NOT_A_MESSAGE, ()
    action = message.needs_action(letter)
    if action:
        link = confirm_link(letter.html) if letter.html else message.first_url(letter.text or "", CONFIRM_HINT)
        entry = (("source", raw.source), ("subject", letter.subject), ("reason", action), ("link", link))
        return f"needs action: {action}" + (f": {link}" if link else ""), entry
    if any(rule.skip for rule in matching_rules(config.rules, letter)):
        return "skipped by a [[rules]] entry in the config", ()
    if not all_messages and message.newsletter_reason(letter, config.allow_senders) is None:
        return NOT_A_NEWSLETTER, ()
    return "", ()


# Per worker process: built once, used for every message it converts.
_WORKER: dict[str, object] = {}


def _worker_init(config: Config, template: str, all_messages: bool) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the main process decides when to stop
    threading.Thread(target=_exit_with_parent, args=(os.getppid(),), daemon=True).start()
    resolve = make_resolver(config.resolve_hosts, config.resolve_timeout) if config.resolve_opaque else None
    _WORKER.update(config=config, template=template, all_messages=all_messages, resolve=resolve)


def _exit_with_parent(parent: int) -> None:
    """A worker whose ingest was killed (even by SIGKILL) exits too: the pool's queues never tell it."""
    while os.getppid() == parent:
        time.sleep(1.0)
    os._exit(1)


def _worker_prepare(raw: RawMessage) -> Prepared:
    return prepare(raw, _WORKER["config"], _WORKER["template"], _WORKER["all_messages"],  # type: ignore[arg-type]
                   _WORKER["resolve"])  # type: ignore[arg-type]


POOL_AFTER = 8  # messages: fewer are converted in-process (starting workers costs more than it saves)


class Pipeline:
    """Files messages against one archive and its ledger, converting in `jobs` worker processes."""

    def __init__(self, config: Config, ledger: Ledger, all_messages: bool = False,
                 stop: threading.Event | None = None, jobs: int = 1,
                 progress: Callable[[int, int], None] | None = None) -> None:
        self.stop = stop or threading.Event()
        self.config = config
        self.ledger = ledger
        self.all_messages = all_messages
        self.jobs = max(1, jobs)
        self.progress = progress
        self.template = load_template(config)
        self.resolve = make_resolver(config.resolve_hosts, config.resolve_timeout) if config.resolve_opaque else None
        self.summary = RunSummary()
        self._pool: ProcessPoolExecutor | None = None

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    def handle(self, raw: RawMessage) -> None:
        """File, skip or record the failure of one message (in this process)."""
        if not self._known_duplicate(raw):
            self.commit(raw, prepare(raw, self.config, self.template, self.all_messages, self.resolve))

    def handle_all(self, messages: Iterable[RawMessage]) -> list[int]:
        """Handle messages until they run out or a stop is requested; the UIDs handled (IMAP only).

        Conversion runs ahead in the pool (a bounded window, so memory does not grow with the
        mailbox) while this process fetches the next messages and files results in order.
        """
        handled: list[int] = []
        window: deque[tuple[RawMessage, Future[Prepared] | Prepared]] = deque()
        seen = 0

        def file_until(limit: int) -> None:
            while len(window) > limit:
                raw, result = window.popleft()
                self.commit(raw, result.result() if isinstance(result, Future) else result)
                if raw.uid is not None:
                    handled.append(raw.uid)

        for raw in messages:
            if self.stopping:
                self.summary.stopped = True
                break
            seen += 1
            if self._known_duplicate(raw):
                if raw.uid is not None and not window:
                    handled.append(raw.uid)
                elif raw.uid is not None:
                    window.append((raw, Prepared(key="", skip="duplicate")))
                continue
            pool = self._pool_for(seen)
            if pool is None:
                window.append((raw, prepare(raw, self.config, self.template, self.all_messages, self.resolve)))
                file_until(0)
            else:
                window.append((raw, pool.submit(_worker_prepare, raw)))
                file_until(self.jobs * 4)
        file_until(0)
        return handled

    def _pool_for(self, seen: int) -> ProcessPoolExecutor | None:
        if self.jobs == 1 or seen <= POOL_AFTER:
            return self._pool
        if self._pool is None:
            # spawn: workers never inherit the daemon's threads, sockets or SQLite handle, and they
            # exit when this process dies (even by SIGKILL: their task pipe closes)
            self._pool = ProcessPoolExecutor(self.jobs, mp_context=multiprocessing.get_context("spawn"),
                                             initializer=_worker_init,
                                             initargs=(self.config, self.template, self.all_messages))
        return self._pool

    def _known_duplicate(self, raw: RawMessage) -> bool:
        """Already filed (by the cheap identity read from the raw headers): skip all the work."""
        record = self.ledger.get(message.quick_key(raw.raw))
        if record is None or record.outcome != "filed":
            return False
        self.summary.duplicates += 1
        if raw.uid is not None:
            self.ledger.add_location(record.key, Location(raw.account, raw.folder, raw.uidvalidity, raw.uid))
        self._tick()
        return True

    def commit(self, raw: RawMessage, prepared: Prepared) -> None:
        """File what `prepare` found: a note (unless a duplicate), a skip or a failure; record it."""
        if prepared.skip == "duplicate" and not prepared.key:
            return  # counted when it was seen
        self._tick()
        location = Location(raw.account, raw.folder, raw.uidvalidity, raw.uid) if raw.uid is not None else None
        ledger, summary = self.ledger, self.summary
        known = ledger.get(prepared.key) if prepared.key else None
        if known is not None and known.outcome == "filed":
            summary.duplicates += 1
            if location is not None:
                ledger.add_location(prepared.key, location)
            return
        if prepared.error:
            self._fail(prepared, raw, location)
            return
        if prepared.skip:
            summary.skipped += 1
            if prepared.action:
                summary.needs_action.append(dict(prepared.action))
            ledger.record(prepared.key, prepared.message_id, prepared.content_hash, "skipped", prepared.skip,
                          raw.source, location)
            return
        root = self.config.archive_path / archive.safe_folder(prepared.folder)
        path = archive.note_path(root, prepared.date, render.slug(prepared.title))
        try:
            written = archive.write_note(path, prepared.text, f"message_id: {render.yaml_value(prepared.message_id)}"
                                         if prepared.message_id else f"source: {render.yaml_value(raw.source)}")
        except (ArchiveError, OSError, ValueError) as exc:  # e.g. a name too long for this file system
            self._fail(dataclasses.replace(prepared, error=_error_line(exc)), raw, location)
            return
        ledger.store_raw(prepared.content_hash, raw.raw)
        ledger.record(prepared.key, prepared.message_id, prepared.content_hash, "filed",
                      str(written.relative_to(self.config.archive_path)), raw.source, location,
                      note_sha256=archive.note_sha256(written.read_text(encoding="utf-8")))
        summary.filed += 1
        summary.notes.append(str(written))
        logger.info("filed %s", written)

    def skip_oversized(self, raw: RawMessage, size: int, location: Location | None) -> None:
        """Too large to parse safely: recorded as skipped, with its size, under its source."""
        self.summary.skipped += 1
        self.ledger.record(f"oversized:{raw.source}", "", "", "skipped", oversized(size, self.config), raw.source,
                           location)

    def _fail(self, prepared: Prepared, raw: RawMessage, location: Location | None) -> None:
        logger.debug("message %s failed: %s", raw.source, prepared.error)
        self.ledger.store_raw(prepared.content_hash, raw.raw)
        self.ledger.record(prepared.key, prepared.message_id, prepared.content_hash, "failed", prepared.error,
                           raw.source, location)
        self.summary.failed += 1
        self.summary.failures.append({"source": raw.source, "error": prepared.error})

    def _tick(self) -> None:
        if self.progress is not None:
            self.progress(1, 0)

    def expect(self, count: int) -> None:
        """Tell the progress display how many more messages are coming (IMAP knows; files don't)."""
        if self.progress is not None:
            self.progress(0, count)

    @property
    def stopping(self) -> bool:
        return self.stop.is_set()


def run_local(config: Config, paths: list[Path], all_messages: bool = False,
              stop: threading.Event | None = None, jobs: int = 1,
              progress: Callable[[int, int], None] | None = None) -> RunSummary:
    """File the newsletters found in local files (mbox, Maildir, .eml, folders of them)."""
    with Ledger(config.state_dir) as ledger, ledger.writing():
        pipeline = Pipeline(config, ledger, all_messages, stop, jobs, progress)
        try:
            for path in paths:
                pipeline.handle_all(local_messages(path))
        finally:
            pipeline.close()
        return pipeline.summary


def run_imap(config: Config, since: date | None = None, all_messages: bool = False,
             stop: threading.Event | None = None, jobs: int = 1,
             progress: Callable[[int, int], None] | None = None) -> RunSummary:
    """File the newsletters in every configured account's folders (since a date, or new since last run)."""
    if not config.accounts:
        where = config.source_file or "config/ingester.toml"
        raise ConfigError(f"no account is configured in {where}; add an [[accounts]] section "
                          "(see config/ingester.example.toml) or use `ingest import PATH`")
    with Ledger(config.state_dir) as ledger, ledger.writing():
        pipeline = Pipeline(config, ledger, all_messages, stop, jobs, progress)
        try:
            for account in config.accounts:
                run_account(pipeline, account, since)
        finally:
            pipeline.close()
        return pipeline.summary


def run_account(pipeline: Pipeline, account: Account, since: date | None = None) -> None:
    """Read every folder of one account; an account-wide failure is recorded, not raised."""
    try:
        with ImapSession(account) as session:
            for folder in account.folders:
                if pipeline.stopping:
                    return
                _run_folder(pipeline, session, folder, since)
    except SourceError as exc:
        logger.debug("account %s failed", account.name, exc_info=True)
        pipeline.summary.errors.append(str(exc))
        pipeline.ledger.account_result(account.name, str(exc))
    else:
        pipeline.ledger.account_result(account.name)


def _run_folder(pipeline: Pipeline, session: ImapSession, folder: str, since: date | None) -> None:
    ledger, summary, name = pipeline.ledger, pipeline.summary, session.account.name
    uidvalidity = session.select(folder)
    mark = ledger.folder_mark(name, folder)
    previous = mark[1] if mark and mark[0] == uidvalidity else 0
    if since is None and previous:
        retry = ledger.failed_uids_due(name, folder, uidvalidity, datetime.now(timezone.utc))
        uids = sorted(set(session.search(above_uid=previous)) | set(retry))
    else:
        uids = session.search(since=since)
    known = ledger.known_uids(name, folder, uidvalidity, uids)
    wanted = []
    for uid in uids:
        outcome = known.get(uid)
        if outcome == "filed":
            summary.duplicates += 1
        elif outcome == "skipped" and not pipeline.all_messages:
            summary.skipped += 1
        else:
            wanted.append(uid)
    limit = pipeline.config.limits.message_bytes
    for uid, size in session.sizes(wanted).items() if wanted else ():
        if size > limit:
            wanted.remove(uid)
            pipeline.skip_oversized(RawMessage(b"", session.source(folder, uidvalidity, uid), account=name,
                                                folder=folder, uidvalidity=uidvalidity, uid=uid), size,
                                     Location(name, folder, uidvalidity, uid))
    logger.info("%s/%s: %d messages, %d to fetch", name, folder, len(uids), len(wanted))
    pipeline.expect(len(wanted))
    handled = set(pipeline.handle_all(session.fetch(folder, uidvalidity, wanted)))
    # The mark only moves past UIDs that are all done, so a run stopped half-way resumes where it was.
    last = previous
    for uid in uids:
        if uid in wanted and uid not in handled:
            break
        last = max(last, uid)
    ledger.set_folder_mark(name, folder, uidvalidity, last)


def explain(config: Config, raw: RawMessage) -> list[str]:
    """Every decision the pipeline takes for one message, as lines for `ingest explain`. Writes nothing."""
    letter = message.parse(raw.raw)
    lines = [f"message:        {raw.source}",
             f"message id:     {letter.message_id or '(none: identity is the content hash)'}"]
    if letter.forwarded_by:
        lines.append(f"forwarded by:   {letter.forwarded_by} (credited to the original sender)")
    reason = message.newsletter_reason(letter, config.allow_senders)
    lines.append(f"newsletter:     {'yes, ' + reason if reason else 'no: ' + NOT_A_NEWSLETTER}")
    action = message.needs_action(letter)
    if action:
        lines.append(f"needs action:   {action} (not filed as a note)")
    skipped_by_rule = any(rule.skip for rule in matching_rules(config.rules, letter))
    if skipped_by_rule:
        lines.append("rules:          skipped by a [[rules]] entry")
    note = make_note(raw, letter, load_template(config), config.language, config.rules)
    meta, cleaned, fields = note.metadata, note.cleaned, note.fields
    lines.append(f"platform:       {fields.platform}")
    for name, value in (("title", meta.title), ("author", meta.author), ("publication", meta.publication),
                        ("publication_id", meta.publication_id),
                        ("date", meta.date.isoformat() if meta.date else ""), ("url", meta.url)):
        lines.append(f"{name + ':':<16}{value or '-'}  [{meta.source(name)}]")
    lines.append(f"category:       {fields.category or '(by platform)'}; tags: {', '.join(fields.tags) or '-'}")
    lines.append(f"links:          {cleaned.links_cleaned} cleaned, {cleaned.wrappers_decoded} wrappers decoded, "
                 f"{cleaned.opaque_links} opaque kept, {cleaned.links_dropped} dropped; "
                 f"{cleaned.pixels_removed} tracking pixels removed")
    lines.extend(f"removed:        {item}" for item in cleaned.removed)
    return lines
