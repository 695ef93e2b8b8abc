"""The one exception tree of the ingester.

* IngesterError              anything the user should see as "Error: …", no traceback
  + ConfigError   (exit 2)   the config file or a command-line value is wrong; may list several problems
  + SourceError   (exit 1)   the mailbox can't be read: unreachable host, TLS failure, wrong password,
                             missing folder, unreadable local file
  + ArchiveError  (exit 1)   the archive or its ledger can't be written or read

A failure while handling one message is not an exception that escapes: the pipeline records it in
the ledger and counts it (see `pipeline.MessageOutcome`).
"""

from __future__ import annotations


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


class ConfigError(IngesterError):
    """The configuration (file, environment or command line) is invalid; lists every problem."""

    exit_code = 2


class SourceError(IngesterError):
    """Messages can't be read from the source: network, TLS, login, folder or local file."""


class ArchiveError(IngesterError):
    """The archive folder or its ledger can't be used."""
