"""The one exception tree of the ingester.

* IngesterError               anything the user should see as "Error: …", no traceback (exit 1 unless below)
  + UsageError    (exit 2)    a command-line value is wrong: an unknown, short or ambiguous note id, …
    + ConfigError (exit 2)    the config file or environment is wrong; may list several problems
  + SourceError   (exit 1)    the mailbox can't be read
    + ConnectError            the server can't be reached or spoken to: unknown host, refused, TLS failure
    + LoginRefused            the server refused the username or password
    + ConnectionLost          an established connection dropped (timeout, server restart, network)
    + FolderMissing           a configured folder does not exist on the server
  + ArchiveError  (exit 1)    the archive or its ledger can't be written or read
    + DiskFull                its file system is full (or the user's quota used up): the run stops there
  + MessageTooSlow            one message took longer than `[limits] message_seconds` (recorded as failed)
  + FillError     (exit 1)    the language model of `ingest fill` can't be reached, or its answer is unusable

Every translation at a boundary chains its cause (`raise SourceError(…) from exc`), so `-v` shows the
whole story. An exception outside this tree is a bug: the CLI reports it on one line with exit code
`EXIT_INTERNAL` and asks for `-v`. A failure while handling one message never escapes: the pipeline
records it in the ledger and counts it (`pipeline.RunSummary.failed`).
"""

from __future__ import annotations

EXIT_INTERNAL = 70  # EX_SOFTWARE (sysexits.h): an unexpected error, a bug in the ingester


class IngesterError(Exception):
    """Base of every error the CLI reports as one line (with `-v`, also the traceback)."""

    exit_code = 1

    def __init__(self, message: str, problems: list[str] | tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.problems = tuple(problems)

    def __str__(self) -> str:
        text = super().__str__()
        for problem in self.problems:
            text += f"\n  - {problem}"
        return text


class UsageError(IngesterError):
    """A value given on the command line is wrong (a note id that names no note, or several)."""

    exit_code = 2


class ConfigError(UsageError):
    """The configuration (file, environment or command line) is invalid; lists every problem."""


class SourceError(IngesterError):
    """Messages can't be read from the source: network, TLS, login, folder or local file."""


class ConnectError(SourceError):
    """The server can't be reached, or the TLS handshake with it failed."""


class LoginRefused(SourceError):
    """The server refused the login: wrong username or password (never retried quickly: lockouts)."""


class ConnectionLost(SourceError):
    """An established connection dropped; trying again later is the cure."""


class FolderMissing(SourceError):
    """A configured folder does not exist on the server (or cannot be selected)."""


class ArchiveError(IngesterError):
    """The archive folder or its ledger can't be used."""


class DiskFull(ArchiveError):
    """No space left on the archive's file system (ENOSPC, EDQUOT, SQLite's "database or disk is full")."""


class MessageTooSlow(IngesterError):
    """Converting one message took longer than `[limits] message_seconds`; it is recorded as failed."""


class FillError(IngesterError):
    """`ingest fill`: the model's server can't be reached, timed out, refused, or answered something unusable."""
