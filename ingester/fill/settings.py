"""The `[fill]` table as a frozen dataclass; no I/O but the API key's command or variable when asked."""

from __future__ import annotations

import os
import re
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from ingester.errors import FillError

KEYS = {
    "endpoint",
    "model",
    "api_key_env",
    "api_key_command",
    "language",
    "auto",
    "timeout",
    "max_input_chars",
    "allow_remote",
    "prompt",
    "jobs",
}


@dataclass(frozen=True)
class FillSettings:
    """Where the model is and how it is asked. Off (`enabled` false) without an endpoint."""

    endpoint: str = ""  # an OpenAI-compatible base URL, e.g. http://127.0.0.1:8080/v1
    model: str = ""
    api_key_env: str = ""
    api_key_command: str = field(default="", repr=False)
    language: str = ""  # "" = the archive's
    auto: bool = False  # the daemon fills each new draft after filing it
    timeout: float = 120.0  # seconds for one answer
    max_input_chars: int = 20_000  # the article is cut to this many characters before it is sent
    allow_remote: bool = False  # a non-loopback endpoint is refused without it
    prompt: Path | None = None  # the user's copy of prompt.toml
    jobs: int = 1  # notes filled at once by `ingest fill --all`

    @property
    def enabled(self) -> bool:
        return bool(self.endpoint)

    @property
    def host(self) -> str:
        return urlsplit(self.endpoint).hostname or ""

    @property
    def filled_by(self) -> str:
        """What front matter records: the endpoint's host and the model (never a key, never the path)."""
        return f"{self.host} {self.model}".strip()

    def api_key(self) -> str:
        """The API key from the command or the variable; "" when none is configured (local servers)."""
        if self.api_key_command:
            try:
                result = subprocess.run(  # noqa: S602 - the user's own command line, like password_command
                    self.api_key_command, shell=True, capture_output=True, text=True, timeout=60
                )
            except subprocess.TimeoutExpired as exc:
                raise FillError("[fill] api_key_command took longer than 60 s; run it in a shell to see why") from exc
            if result.returncode != 0:  # its output is never shown: it may hold the key
                raise FillError(
                    f"[fill] api_key_command exited with status {result.returncode}; run it in a shell to see why"
                )
            return re.sub(r"\r?\n\Z", "", result.stdout)
        if self.api_key_env:
            value = os.environ.get(self.api_key_env)
            if value is None:
                raise FillError(f"[fill] api_key_env: the environment variable {self.api_key_env} is not set")
            return value
        return ""
