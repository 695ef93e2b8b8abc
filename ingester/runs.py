"""Where a run reads its mail: local files, or every folder of every configured account over IMAP.

Each message goes through the same `Pipeline`; this module only walks the sources. An IMAP folder
is read from its mark (the highest UID done) with the failed messages whose backoff has passed; the
mark only moves past UIDs that are all done, so a run stopped half-way resumes where it was. A refused
login holds its account back for hours (`logins`); a missing folder stops that folder only.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path

from ingester import logins
from ingester.config import Account, Config, default_path
from ingester.errors import ConfigError, FolderMissing, LoginRefused, SourceError
from ingester.pipeline import Pipeline, RunSummary, run
from ingester.source import ImapSession, count_messages, local_messages
from ingester.store.ledger import Location

__all__ = ["run_account", "run_imap", "run_local"]

logger = logging.getLogger(__name__)


def run_local(
    config: Config,
    paths: list[Path],
    all_messages: bool = False,
    stop: threading.Event | None = None,
    jobs: int = 1,
    progress: Callable[[int, int], None] | None = None,
) -> RunSummary:
    """File the newsletters found in local files (mbox, Maildir, .eml, folders of them); a folder given
    that holds the archive is read without it (its notes, raw copies and ledger are no mail to import)."""
    archive = config.archive_path

    def work(pipeline: Pipeline) -> None:
        if progress is not None:  # the bar gets its total first: counting costs a read, not a parse
            pipeline.expect(sum(count_messages(path, archive) for path in paths))
        for path in paths:
            pipeline.handle_all(local_messages(path, archive))

    return run(config, work, all_messages, stop, jobs, progress)


def run_imap(
    config: Config,
    since: date | None = None,
    all_messages: bool = False,
    stop: threading.Event | None = None,
    jobs: int = 1,
    progress: Callable[[int, int], None] | None = None,
) -> RunSummary:
    """File the newsletters in every configured account's folders (since a date, or new since last run)."""
    if not config.accounts:
        if config.source_file is None:
            raise ConfigError(
                f"no config file (none at {default_path()}): `ingest config init` writes an annotated one "
                "there; add an [[accounts]] section, or use `ingest import PATH`"
            )
        raise ConfigError(
            f"no account is configured in {config.source_file}; add an [[accounts]] section "
            "(see `ingest config init`) or use `ingest import PATH`"
        )

    def work(pipeline: Pipeline) -> None:
        for account in config.accounts:
            run_account(pipeline, account, since)

    return run(config, work, all_messages, stop, jobs, progress)


def run_account(pipeline: Pipeline, account: Account, since: date | None = None) -> None:
    """Read every folder of one account; an account-wide failure is recorded, not raised. A refused login
    holds the account back for hours (`logins`); a missing folder stops that folder only."""
    state_dir, error = pipeline.config.state_dir, ""
    try:
        if blocked := logins.blocked(state_dir, account):
            pipeline.summary.errors.append(blocked)
            return
        with ImapSession(account) as session:
            logins.accepted(state_dir, account)
            for folder in account.folders:
                if pipeline.stopping:
                    return
                try:
                    _run_folder(pipeline, session, folder, since)
                except FolderMissing as exc:
                    pipeline.summary.errors.append(str(exc))
                    pipeline.summary.missing[folder] = str(exc)
                    error = error or str(exc)
    except SourceError as exc:
        logger.debug("account %s failed", account.name, exc_info=True)
        error = logins.refused(state_dir, account, str(exc))[0] if isinstance(exc, LoginRefused) else str(exc)
        pipeline.summary.errors.append(error)
    pipeline.ledger.account_result(account.name, error)


def _run_folder(pipeline: Pipeline, session: ImapSession, folder: str, since: date | None) -> None:
    ledger, summary, name = pipeline.ledger, pipeline.summary, session.account.name
    uidvalidity = session.select(folder)
    mark = ledger.folder_mark(name, folder)
    previous = mark[1] if mark and mark[0] == uidvalidity else 0
    if since is None and previous:
        retry = ledger.failed_uids_due(name, folder, uidvalidity, datetime.now(UTC))
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
    sizes = session.sizes(wanted) if wanted else {}
    for uid, size in sizes.items():
        if size > limit:
            wanted.remove(uid)
            pipeline.skip_oversized(
                session.source(folder, uidvalidity, uid), size, Location(name, folder, uidvalidity, uid)
            )
    logger.info("%s/%s: %d messages, %d to fetch", name, folder, len(uids), len(wanted))
    pipeline.expect(len(wanted))
    handled = set(pipeline.handle_all(session.fetch(folder, uidvalidity, wanted, sizes)))
    # The mark only moves past UIDs that are all done, so a run stopped half-way resumes where it was.
    last = previous
    for uid in uids:
        if uid in wanted and uid not in handled:
            break
        last = max(last, uid)
    ledger.set_folder_mark(name, folder, uidvalidity, last)
