"""Shared fixtures: a clean environment and working directory per test, one Dovecot per session."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import pytest

from tests.imapserver import DovecotServer

REPO = Path(__file__).resolve().parent.parent
EMAILS = REPO / "tests" / "fixtures" / "emails"
EXPECTED = REPO / "tests" / "fixtures" / "expected"


def load_bench(script: str, name: str) -> ModuleType:
    """bench/<script> imported as module `name` (the bench scripts are not a package)."""
    spec = importlib.util.spec_from_file_location(name, REPO / "bench" / script)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up by name
    spec.loader.exec_module(module)
    return module


def email_bytes(name: str) -> bytes:
    """A fixture message, byte for byte."""
    return (EMAILS / name).read_bytes()


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Each test runs in its own empty working directory with no INGEST_* variables set."""
    for name in list(os.environ):
        if name.startswith("INGEST_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


@pytest.fixture(scope="session")
def dovecot() -> Iterator[DovecotServer]:
    """A real Dovecot on 127.0.0.1 (plain and TLS), started once per test run."""
    with DovecotServer.start() as server:
        yield server


@dataclass
class Mailbox:
    """A fresh, empty IMAP user on the session's Dovecot, and a config file that reads it."""

    server: DovecotServer
    user: str
    password: str
    config: Path
    archive: Path

    def append(self, name_or_raw: str | bytes, **kwargs: object) -> int:
        raw = email_bytes(name_or_raw) if isinstance(name_or_raw, str) else name_or_raw
        return self.server.append(self.user, raw, password=self.password, **kwargs)  # type: ignore[arg-type]


def write_config(path: Path, archive: Path, account: str = "", language: str = "zh") -> Path:
    path.write_text(f'[archive]\npath = "{archive}"\nlanguage = "{language}"\n{account}', encoding="utf-8")
    return path


def account_toml(
    server: DovecotServer,
    user: str,
    password: str,
    tls: bool = False,
    name: str = "test",
    ca_file: bool = True,
    port: int | None = None,
    folders: str = '["INBOX"]',
    starttls: bool = False,
) -> str:
    security = "tls" if tls else "starttls" if starttls else "plain"
    port = port or (server.imaps_port if tls else server.port)
    lines = [
        "[[accounts]]",
        f'name = "{name}"',
        f'host = "{server.host}"',
        f"port = {port}",
        f'security = "{security}"',
        f'username = "{user}"',
        # a password command that prints a trailing newline, as `pass` does: it must be trimmed
        f"password_command = \"printf '%s\\\\n' '{password}'\"",
        f"folders = {folders}",
    ]
    if (tls or starttls) and ca_file:
        lines.append(f'ca_file = "{server.ca_file}"')
    return "\n".join(lines) + "\n"


@pytest.fixture
def mailbox(dovecot: DovecotServer, tmp_path: Path) -> Mailbox:
    user, password = dovecot.new_user()
    archive = tmp_path / "archive"
    config = write_config(tmp_path / "ingester.toml", archive, account_toml(dovecot, user, password))
    config.chmod(0o600)
    return Mailbox(dovecot, user, password, config, archive)


def run_ingest(
    *args: str | os.PathLike[str], env: dict[str, str] | None = None, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    """Run the real `ingest` command (python -m ingester) as a user would."""
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("INGEST_")}
    full_env.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "ingester", *map(str, args)],
        capture_output=True,
        text=True,
        env=full_env,
        cwd=cwd,
        timeout=120,
    )


def notes_in(archive: Path) -> list[Path]:
    """Every note in an archive (not the ledger)."""
    return sorted(
        p for p in archive.rglob("*.md") if not any(part.startswith(".") for part in p.relative_to(archive).parts)
    )
