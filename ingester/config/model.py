"""The validated configuration as frozen dataclasses, and the constants the validators share."""

from __future__ import annotations

import fnmatch
import os
from dataclasses import dataclass, field
from pathlib import Path

from ingester.config.password import run_password_command
from ingester.errors import SourceError
from ingester.fill.settings import FillSettings

ENV_VAR = "INGEST_CONFIG"
OLD_DEFAULT_PATH = Path("config/ingester.toml")  # the default place once (working directory); now pointed at
LANGUAGES = ("zh", "en")
FILENAMES = ("{date}-{slug}", "{title}")  # [archive] filename: the default first
SECURITY_MODES = ("tls", "starttls", "plain")
DEFAULT_PORTS = {"tls": 993, "starttls": 143, "plain": 143}
PERSONAL_POLICIES = ("keep", "unlink")
PASSWORD_KEYS = ("password_command", "password_env", "password")


@dataclass(frozen=True)
class Account:
    """One IMAP account: where it is, how to log in, which folders to read."""

    name: str
    host: str
    username: str
    port: int = 993
    security: str = "tls"
    folders: tuple[str, ...] = ("INBOX",)
    password_command: str | None = field(default=None, repr=False)
    password_env: str | None = None
    password: str | None = field(default=None, repr=False)
    ca_file: Path | None = None
    allow_insecure: bool = False
    idle: bool = True

    def resolve_password(self) -> str:
        """The password, from the command, the environment or the file (in that order of preference)."""
        if self.password_command:
            return run_password_command(self.name, self.password_command)
        if self.password_env:
            value = os.environ.get(self.password_env)
            if value is None:
                raise SourceError(
                    f"account {self.name!r}: environment variable {self.password_env} is not set; "
                    "export it or use password_command"
                )
            return value
        return self.password or ""


@dataclass(frozen=True)
class Limits:
    """Bounds on untrusted input, so any message finishes in bounded time and memory."""

    message_bytes: int = 25_000_000  # larger messages are skipped (IMAP: not even fetched)
    html_bytes: int = 2_000_000  # HTML beyond this is cut (a note says so)
    parts: int = 200  # MIME parts looked at per message
    header_chars: int = 16_000  # longer header values are cut before decoding
    message_seconds: int = 20  # converting one message takes longer: it is stopped and recorded as failed
    attachment_bytes: int = 10_000_000  # `[archive] attachments`: a larger part is not saved (listed, with why)
    attachments_bytes: int = 20_000_000  # nor the parts of one message past this many bytes in all


LIMIT_KEYS = {
    "message_bytes",
    "html_bytes",
    "parts",
    "header_chars",
    "message_seconds",
    "attachment_bytes",
    "attachments_bytes",
}


@dataclass(frozen=True)
class Rule:
    """Per-sender or per-publication choices: extra tags, a category, skipping, a target folder."""

    sender: str = ""  # shell-style pattern on the sender address, e.g. "*@substack.com"
    publication: str = ""  # shell-style pattern on the publication name or List-Id, case-insensitive
    tags: tuple[str, ...] = ()
    category: str = ""
    skip: bool = False
    folder: str = ""  # a sub-folder of the archive for these notes

    def matches(self, sender: str, publications: tuple[str, ...]) -> bool:
        if self.sender and not fnmatch.fnmatchcase(sender.lower(), self.sender.lower()):
            return False
        return not self.publication or any(
            fnmatch.fnmatchcase(p.lower(), self.publication.lower()) for p in publications if p
        )


@dataclass(frozen=True)
class Config:
    """The whole validated configuration."""

    archive_path: Path = Path("archive")
    language: str = "zh"
    template: Path | None = None
    filename: str = "{date}-{slug}"
    attachments: bool = False  # [archive] attachments: save attached files and inline images beside the note
    accounts: tuple[Account, ...] = ()
    allow_senders: tuple[str, ...] = ()
    forwarders: tuple[str, ...] = ()  # addresses whose forwards are credited to the original sender
    rules: tuple[Rule, ...] = ()
    resolve_opaque: bool = False
    resolve_hosts: tuple[str, ...] = ()
    resolve_timeout: float = 3.0
    personal_links: str = "keep"  # [links] personal: "keep" | "unlink"
    identities: tuple[str, ...] = ()  # [privacy] identities: the reader's other addresses and name
    redact_names: bool = False  # [privacy] redact_names
    interval: float = 900.0
    limits: Limits = Limits()
    fill: FillSettings = field(default_factory=FillSettings)
    source_file: Path | None = None

    @property
    def state_dir(self) -> Path:
        """Machine state (ledger, lock) lives beside the notes, in `<archive>/.ingest/`."""
        return self.archive_path / ".ingest"

    @property
    def readers(self) -> tuple[str, ...]:
        """The reader's own addresses: whose forwards are credited to the original sender."""
        return (*self.forwarders, *(a.username for a in self.accounts if "@" in a.username))

    @property
    def archive_shown(self) -> Path:
        """The archive as messages name it: absolute, so "No drafts in …" says where it looked."""
        return self.archive_path.absolute()
