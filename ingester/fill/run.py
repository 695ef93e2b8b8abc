"""`ingest fill`: which notes, what is sent, when the note is written. Safe like `rerender`.

Per note: under the ledger's write lock, the note is read again and must be an untouched draft (the
hash rule of `rerender.skip_reason`; already filled ones only with `force`); its article is made again
from the raw message kept in the ledger (cleaned: no headers, no reader identity, no links at all).
The model is asked without holding the lock (it may take minutes). Under the lock again, the note is
written atomically only if its file is still byte for byte what was read; the ledger's hash of it is
updated, so the filled note counts as untouched (`--force` may fill it again, `rerender` may make the
skeleton again) until a person edits or accepts it. A failed, timed-out or invalid answer leaves the
note as it was and is recorded (`ingest status`, `ingest log --failed`).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from ingester import message
from ingester.compose import Note, Settings, make_note
from ingester.config import Config, is_loopback
from ingester.errors import ArchiveError, ConfigError, FillError
from ingester.fill.client import Client
from ingester.fill.prompt import Prompt, load_prompt
from ingester.fill.schema import parse_answer
from ingester.fill.settings import FillSettings
from ingester.fill.writer import filled_note
from ingester.markdown import link_text
from ingester.message import RawMessage
from ingester.render import headings
from ingester.rerender import skip_reason
from ingester.store import attached, files
from ingester.store import notes as notes_on_disk
from ingester.store import raw as raw_copies
from ingester.store.ledger import Ledger
from ingester.store.notes import NoteFile

logger = logging.getLogger(__name__)
LOCK_WAIT = 60.0
# A web address written out in the text (an autolink, a plain-text newsletter's links): not sent either.
BARE_URL = re.compile(r"<?\b(?:https?://|www\.)[^\s<>]+>?", re.I)
RETRY_FIRST = timedelta(minutes=5)  # the daemon tries a failed fill again after 5 min, 10, 20, … up to
RETRY_MAX = timedelta(hours=12)
RETRY_TRIES = 8  # then it stops trying; `ingest fill ID` still does


@dataclass(frozen=True)
class Filled:
    """What `fill` did with one note: `filled`, `skipped` or `failed`, and why."""

    note: NoteFile
    outcome: str
    reason: str = ""


def check(settings: FillSettings) -> None:
    """FillError unless filling is configured; the warning every run gives when text leaves the machine."""
    if not settings.enabled:
        raise ConfigError(
            "filling is off: set [fill] endpoint and model in the config "
            "(`ingest config init` writes an annotated example)"
        )
    if not is_loopback(settings.host):
        logger.warning("[fill] allow_remote: the text of each article filled is sent to %s", settings.host)


def open_client(config: Config) -> Client:
    check(config.fill)
    return Client(config.fill, load_prompt(config.fill.prompt))


def request(prompt: Prompt, settings: FillSettings, language: str, made: Note) -> list[dict[str, str]]:
    """The chat messages for one article: its title, its headings and its text without links, web addresses
    or images."""
    article = BARE_URL.sub("[link]", link_text(made.markdown)).strip()
    if len(article) > settings.max_input_chars:
        article = article[: settings.max_input_chars] + "\n[…]"
    titles = [BARE_URL.sub("[link]", link_text(text)) for _, text in headings(made.markdown)]
    title = BARE_URL.sub("[link]", made.fields.original_title or made.fields.title)
    return prompt.messages(language, title, titles, article)


def fill(
    config: Config,
    ledger: Ledger,
    notes: Iterable[NoteFile],
    client: Client,
    force: bool = False,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> Iterator[Filled]:
    """Fill each untouched draft; skip (saying why) every other note; record each failure. With
    `[fill] jobs` above 1, that many notes are asked for at once (results in the order given)."""
    settings = Settings.of(config)

    def one(listed: NoteFile) -> Filled:
        return _fill_one(config, ledger, listed, client, settings, force, now)

    if config.fill.jobs == 1:
        yield from map(one, notes)
        return
    with ThreadPoolExecutor(config.fill.jobs, thread_name_prefix="fill") as pool:
        yield from pool.map(one, notes)


def _fill_one(
    config: Config,
    ledger: Ledger,
    listed: NoteFile,
    client: Client,
    settings: Settings,
    force: bool,
    now: Callable[[], datetime],
) -> Filled:
    with ledger.writing(LOCK_WAIT):
        prepared = _prepare(config, ledger, listed, settings, force)
    if isinstance(prepared, Filled):
        return prepared
    note, key, made = prepared
    language = config.fill.language or config.language
    try:
        answer = parse_answer(client.complete(request(client.prompt, config.fill, language, made)))
        text = filled_note(note.text, made.fields, made.markdown, answer, config.language, config.fill.filled_by, now())
        if made.saved:  # the links to the files saved beside the note, as they are named there
            names = attached.choose_names(attached.folder_of(note.path), made.saved)
            text = attached.relink(text, made.saved, note.path, names)
    except FillError as exc:
        with ledger.writing(LOCK_WAIT):
            ledger.record_fill(key, note.relative, "failed", str(exc), config.fill.filled_by)
        return Filled(note, "failed", str(exc))
    with ledger.writing(LOCK_WAIT):
        try:
            current = notes_on_disk.reread(config.archive_path, note)
        except ArchiveError:
            current = None
        if current is None or current.text != note.text:
            return Filled(note, "skipped", "edited while it was being filled: left as you saved it")
        files.write_atomic(note.path, text.encode("utf-8"))
        ledger.set_note(key, note.relative, files.note_sha256(text))
        ledger.record_fill(key, note.relative, "filled", "", config.fill.filled_by)
    return Filled(note, "filled")


def _prepare(
    config: Config, ledger: Ledger, listed: NoteFile, settings: Settings, force: bool
) -> Filled | tuple[NoteFile, str, Note]:
    """The note as it is now, its ledger key and its article made again; or why it is skipped."""
    try:
        note = notes_on_disk.reread(config.archive_path, listed)
    except ArchiveError as exc:
        return Filled(listed, "skipped", str(exc).removeprefix(f"{listed.relative}: "))
    record = notes_on_disk.ledger_record(ledger, note)
    reason = skip_reason(note, record)
    if not reason and note.field("filled_by") and not force:
        reason = f"filled already by {note.field('filled_by')} (--force fills it again)"
    if reason or record is None:
        return Filled(note, "skipped", reason)
    raw = raw_copies.read(ledger.state_dir, record.content_hash)
    if raw is None:
        return Filled(note, "skipped", "the raw message is not kept in the ledger")
    try:
        made = make_note(RawMessage(raw, record.source, internaldate=note.date), message.parse(raw), settings)
    except Exception as exc:  # noqa: BLE001 - one message's failure, reported with the others
        return Filled(note, "failed", f"{type(exc).__name__}: {exc}".splitlines()[0][:300])
    return note, record.key, made


def fill_filed(config: Config, ledger: Ledger, filed: Iterable[str], now: datetime | None = None) -> list[Filled]:
    """The daemon's `[fill] auto`: fill the drafts a poll just filed (paths), and try again the fills that
    failed whose backoff has passed (5 min, doubling, at most 12 h; RETRY_TRIES times)."""
    now = now or datetime.now(UTC)
    due = [
        Path(config.archive_path) / note
        for note, _, when, attempts in ledger.fill_failures()
        if attempts < RETRY_TRIES and datetime.fromisoformat(when) + retry_delay(attempts) <= now
    ]
    listed = []
    for path in dict.fromkeys([*map(Path, filed), *due]):
        try:
            note = notes_on_disk.read_note(config.archive_path, path) if path.is_file() else None
        except ArchiveError as exc:
            logger.warning("%s", exc)
            continue
        if note is not None:
            listed.append(note)
    if not listed:
        return []
    with open_client(config) as client:
        return list(fill(config, ledger, listed, client))


def retry_delay(attempts: int) -> timedelta:
    return min(RETRY_FIRST * (1 << min(max(attempts - 1, 0), 16)), RETRY_MAX)
