"""The order of the stages and the failure policy: source → compose (message, clean, convert, metadata,
render) → archive → ledger.

`prepare` does everything about one message that needs no archive and no ledger (in worker
processes when there are several, see `workers`); `Pipeline.commit` files what it found: a note,
a skip or a failure, always recorded in the ledger after the note is on disk. A failure while
handling one message is recorded with its error and counted; it never stops the run (`runs` walks the
sources: an error about a whole account stops that account only, in `RunSummary.errors`). A full disk
fails the message in hand and ends the run (the next would fail the same way): said in
`RunSummary.errors`, nothing half-written, nothing of it recorded, so the next run with space files it
and what came after.
"""

from __future__ import annotations

import dataclasses
import functools
import logging
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import datetime

from ingester import message, parts, render
from ingester.compose import Settings, make_note
from ingester.config import Config
from ingester.errors import (
    ArchiveError,
    DiskFull,
    MessageTooSlow,
)
from ingester.frontmatter import yaml_value
from ingester.links import Resolver, make_resolver
from ingester.memory import Blocks, Memory
from ingester.message import RawMessage
from ingester.recall import recall
from ingester.store import attached, files
from ingester.store import raw as raw_copies
from ingester.store.ledger import GIVEN_UP, About, Ledger, Location
from ingester.triage import HEAD_BYTES, NOT_A_MESSAGE, is_mail, oversized, skip_reason
from ingester.workers import Workers, time_limit

logger = logging.getLogger(__name__)


@dataclass
class RunSummary:
    """What a run did: counts, the notes it filed, and what went wrong."""

    filed: int = 0
    skipped: int = 0
    duplicates: int = 0
    failed: int = 0
    notes: list[str] = field(default_factory=list)
    partial: list[str] = field(default_factory=list)  # notes filed with `fidelity: partial`
    repeated: int = 0  # blocks removed because earlier issues of their publication had them (`memory`)
    failures: list[dict[str, str]] = field(default_factory=list)
    needs_action: list[dict[str, str]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    missing: dict[str, str] = field(default_factory=dict)  # configured folder the server lacks → error
    stopped: bool = False
    not_mail: list[str] = field(default_factory=list)  # local files that are no email at all: not recorded

    @property
    def seen(self) -> int:
        return self.filed + self.skipped + self.duplicates + self.failed

    def as_dict(self) -> dict[str, object]:
        return {"seen": self.seen, **asdict(self)}


@dataclass(frozen=True)
class Job:
    """What `prepare` needs besides the message (sent once to each worker process)."""

    config: Config
    settings: Settings
    all_messages: bool = False


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
    about: About = field(default_factory=About)
    fidelity: str = ""
    publication_id: str = ""
    blocks: Blocks = ()  # remembered once the note is filed
    repeated: int = 0
    raw_gz: bytes = b""  # the raw copy to keep, compressed here: the one filing process only writes it
    saved: tuple[parts.Saved, ...] = ()  # files to save beside the note (`[archive] attachments`)


DUPLICATE = Prepared(key="", skip="duplicate")  # already filed: counted when seen, nothing to commit


def prepare(raw: RawMessage, job: Job, remembered: Memory | None = None) -> Prepared:
    """Everything about one message that needs no archive and no ledger, in at most `[limits]
    message_seconds` (then it is a failure, recorded). Never raises."""
    try:
        with time_limit(job.config.limits.message_seconds):
            return _prepare(raw, job, remembered)
    except MessageTooSlow as exc:  # the alarm may go off outside `_prepare`'s own handlers
        return unprepared(raw, exc)


def unprepared(raw: RawMessage, exc: BaseException) -> Prepared:
    """A failure for a message whose conversion did not finish (too slow, or its worker died)."""
    digest = message.content_hash(raw.raw)
    return Prepared(key=message.quick_key(raw.raw), content_hash=digest, error=_error_line(exc))


def prepare_item(item: tuple[RawMessage, Memory], job: Job) -> Prepared:
    """`prepare` for the workers: each message travels with the ledger's memory of its publication."""
    return prepare(item[0], job, item[1])


def _prepare(raw: RawMessage, job: Job, remembered: Memory | None = None) -> Prepared:
    limits = job.config.limits
    if len(raw.raw) > limits.message_bytes:
        if not is_mail(message.parse(raw.raw[:HEAD_BYTES], limits.parts, limits.header_chars)):
            return Prepared(key=f"oversized:{raw.source}", skip=NOT_A_MESSAGE)  # a big file that is no mail
        return Prepared(key=f"oversized:{raw.source}", skip=oversized(len(raw.raw), job.config))
    try:
        letter = message.judge_forward(message.parse(raw.raw, limits.parts, limits.header_chars), job.config.readers)
    except Exception as exc:  # noqa: BLE001 - any parser failure is this message's, not the run's
        digest = message.content_hash(raw.raw)
        return Prepared(key=f"sha256:{digest}", content_hash=digest, error=_error_line(exc))
    key, message_id, digest = letter.key, letter.message_id, letter.content_hash
    about = About(letter.from_addr[:320], letter.subject[:300], letter.date.isoformat() if letter.date else "")
    try:
        skip, action = skip_reason(raw, letter, job.config, job.all_messages)
        if skip:
            return Prepared(key, message_id, digest, skip=skip, action=action, about=about)
        note = make_note(raw, letter, job.settings, _resolver(job.config), remembered)
    except Exception as exc:  # noqa: BLE001 - recorded with its error, retried on a later run
        return Prepared(key, message_id, digest, error=_error_line(exc), about=about)
    return Prepared(
        key,
        message_id,
        digest,
        text=note.text,
        date=note.fields.date,
        title=note.fields.title,
        folder=note.folder,
        about=about,
        fidelity=note.fields.fidelity,
        publication_id=note.fields.publication_id,
        blocks=note.blocks,
        repeated=note.repeated,
        raw_gz=raw_copies.pack(raw.raw),
        saved=note.saved,
    )


@functools.cache
def _resolver(config: Config) -> Resolver | None:
    """The opt-in resolver of opaque wrappers, one per process (its cache is per process too)."""
    return make_resolver(config.resolve_hosts, config.resolve_timeout) if config.resolve_opaque else None


def _error_line(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}".splitlines()[0][:500]


class Pipeline:
    """Files messages against one archive and its ledger, converting in `jobs` worker processes."""

    def __init__(
        self,
        config: Config,
        ledger: Ledger,
        all_messages: bool = False,
        stop: threading.Event | None = None,
        jobs: int = 1,
        progress: Callable[[int, int], None] | None = None,
    ) -> None:
        self.stop = stop or threading.Event()
        self.config = config
        self.ledger = ledger
        self.all_messages = all_messages
        self.progress = progress
        self.summary = RunSummary()
        job = Job(config, Settings.of(config), all_messages)
        self.workers = Workers(prepare_item, job, lambda item, exc: unprepared(item[0], exc), jobs)

    def close(self) -> None:
        self.workers.close()

    def handle_all(self, messages: Iterable[RawMessage]) -> list[int]:
        """Handle messages until they run out or a stop is requested; the UIDs handled (IMAP only).

        Conversion runs ahead in the workers while this process fetches the next messages and files
        results in order.
        """
        handled: list[int] = []
        for (raw, sent_with), prepared in self.workers.run(self._unless_filed(messages)):
            self.commit(raw, self._with_own_memory(raw, sent_with, prepared))
            if raw.uid is not None:
                handled.append(raw.uid)
        return handled

    def _unless_filed(
        self, messages: Iterable[RawMessage]
    ) -> Iterator[tuple[tuple[RawMessage, Memory], Prepared | None]]:
        """The messages to convert (None), each with what the ledger remembers of its publication as it
        stands (issues filed earlier in this run count), and those already filed (`DUPLICATE`), until a stop."""
        for raw in messages:
            if self.stopping:
                self.summary.stopped = True
                return
            if self._known_duplicate(raw):
                yield (raw, Memory()), DUPLICATE
            else:
                yield (raw, recall(self.ledger, raw.raw)), None

    def _with_own_memory(self, raw: RawMessage, sent_with: Memory, prepared: Prepared) -> Prepared:
        """A forward's publication shows only once it is converted (its original sender is in the body):
        when it went to the worker with another's memory and the ledger remembers its own, convert it once
        more with that (messages that are no forward are never converted twice)."""
        publication_id = prepared.publication_id
        if not publication_id or publication_id == sent_with.publication_id:
            return prepared
        own = recall(self.ledger, raw.raw, publication_id)
        if not own:
            return prepared
        ((_, again),) = self.workers.run([((raw, own), None)])
        return again

    def _known_duplicate(self, raw: RawMessage) -> bool:
        """Already filed or given up (by the cheap identity read from the raw headers): skip all the work."""
        record = self.ledger.get(message.quick_key(raw.raw))
        if record is None or not (record.outcome == "filed" or record.retry_after == GIVEN_UP):
            return False  # a message given up after MAX_TRIES failures is not converted again either:
        self.summary.duplicates += record.outcome == "filed"  # counted as a skip (`ingest retry` for one more try)
        self.summary.skipped += record.outcome != "filed"
        if raw.uid is not None:
            self.ledger.add_location(record.key, Location(raw.account, raw.folder, raw.uidvalidity, raw.uid))
        self._tick()
        return True

    def commit(self, raw: RawMessage, prepared: Prepared) -> None:
        """File what `prepare` found: a note (unless a duplicate), a skip or a failure; record it.

        No space left: the message fails with that reason, unrecorded (a full disk is no fault of the
        message's, it must not use up its tries), and `DiskFull` ends the run."""
        seen = self.summary.seen
        try:
            self._commit(raw, prepared)
        except DiskFull as exc:
            if self.summary.seen == seen:  # not counted yet: no room for its raw copy, note or row
                self.summary.failed += 1
                self.summary.failures.append({"source": raw.source, "error": str(exc)})
            raise

    def _commit(self, raw: RawMessage, prepared: Prepared) -> None:
        if prepared is DUPLICATE:
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
        if prepared.skip == NOT_A_MESSAGE and location is None:
            summary.not_mail.append(raw.source)  # a local file that is no mail: nothing to remember
            return
        if prepared.skip:
            logger.info("skipped %s: %s", raw.source, prepared.skip)
            summary.skipped += 1
            if prepared.action:
                summary.needs_action.append(dict(prepared.action))
            ledger.record(
                prepared.key,
                prepared.message_id,
                prepared.content_hash,
                "skipped",
                prepared.skip,
                raw.source,
                location,
                about=prepared.about,
            )
            return
        root = self.config.archive_path / files.safe_folder(prepared.folder)
        stem = render.file_stem(prepared.title, prepared.date, self.config.filename)
        path = files.note_path(root, prepared.date, stem)
        # first: no space for the raw copy, and no note either
        raw_copies.keep(ledger.state_dir, prepared.content_hash, raw.raw, prepared.raw_gz)
        message_id_line = f"message_id: {yaml_value(prepared.message_id)}" if prepared.message_id else None
        try:
            if prepared.saved:
                written, saved = attached.write_note(path, prepared.text, message_id_line, prepared.saved)
            else:
                written, saved = files.write_note(path, prepared.text, message_id_line), []
        except DiskFull:
            raise
        except (ArchiveError, OSError, ValueError) as exc:  # e.g. a name too long for this file system
            self._fail(dataclasses.replace(prepared, error=_error_line(exc)), raw, location)
            return
        attached.record(ledger, prepared.key, self.config.archive_path, saved)  # before the message counts as filed
        ledger.record(
            prepared.key,
            prepared.message_id,
            prepared.content_hash,
            "filed",
            str(written.relative_to(self.config.archive_path)),
            raw.source,
            location,
            note_sha256=files.note_sha256(written.read_text(encoding="utf-8")),
            about=prepared.about,
            fidelity=prepared.fidelity,
        )
        summary.filed += 1
        summary.repeated += prepared.repeated
        summary.notes.append(str(written))
        if prepared.fidelity:
            summary.partial.append(str(written))
            logger.warning("filed %s with fidelity: %s (ingest explain says why)", written, prepared.fidelity)
        logger.info("filed %s", written)
        if prepared.publication_id:  # last: filed even if there is no room left to remember its blocks
            ledger.remember_blocks(prepared.publication_id, prepared.key, prepared.blocks)

    def skip_oversized(self, source: str, size: int, location: Location | None) -> None:
        """Too large to parse safely: recorded as skipped, with its size, under its source."""
        self.summary.skipped += 1
        self.ledger.record(f"oversized:{source}", "", "", "skipped", oversized(size, self.config), source, location)

    def _fail(self, prepared: Prepared, raw: RawMessage, location: Location | None) -> None:
        logger.debug("message %s failed: %s", raw.source, prepared.error)
        raw_copies.keep(self.ledger.state_dir, prepared.content_hash, raw.raw)
        self.ledger.record(
            prepared.key,
            prepared.message_id,
            prepared.content_hash,
            "failed",
            prepared.error,
            raw.source,
            location,
            about=prepared.about,
        )
        self.summary.failed += 1
        self.summary.failures.append({"source": raw.source, "error": prepared.error})

    def _tick(self) -> None:
        if self.progress is not None:
            self.progress(1, 0)

    def expect(self, count: int) -> None:
        """Tell the progress display how many more messages are coming (IMAP searches, local files are counted)."""
        if self.progress is not None:
            self.progress(0, count)

    @property
    def stopping(self) -> bool:
        return self.stop.is_set()


def run(
    config: Config,
    work: Callable[[Pipeline], object],
    all_messages: bool = False,
    stop: threading.Event | None = None,
    jobs: int = 1,
    progress: Callable[[int, int], None] | None = None,
) -> RunSummary:
    """Do `work` with a pipeline on the locked archive; a full disk ends it, said in the summary's errors."""
    summary = RunSummary()
    try:
        with Ledger(config.state_dir) as ledger, ledger.writing():
            pipeline = Pipeline(config, ledger, all_messages, stop, jobs, progress)
            pipeline.summary = summary
            try:
                work(pipeline)
            finally:
                pipeline.close()
    except DiskFull as exc:
        summary.stopped = True
        summary.errors.append(f"{exc}: the run stopped there; free some space and run again to file the rest")
    return summary
