"""Every message of the shared real-mail corpus gives a note or a recorded reason; nothing crashes."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from tests.conftest import REPO, run_ingest

CORPUS = REPO.parent / "shared" / "corpus"

pytestmark = pytest.mark.skipif(not CORPUS.is_dir(), reason="../shared/corpus is not beside the repository")


def test_whole_corpus_is_accounted_for(tmp_path: Path) -> None:
    files = sorted(p for p in CORPUS.rglob("*") if p.is_file())

    result = run_ingest("import", CORPUS, "--all", "--json")

    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    summary = json.loads(result.stdout)
    assert summary["seen"] == len(files)
    assert summary["filed"] + summary["skipped"] + summary["duplicates"] + summary["failed"] == len(files)
    ledger = sqlite3.connect(tmp_path / "archive" / ".ingest" / "ledger.sqlite3")
    recorded = {source for (source,) in ledger.execute("SELECT source FROM messages")}
    duplicates_of = {row[0] for row in ledger.execute("SELECT source FROM messages WHERE attempts > 1")}
    # every file is in the ledger under its own name, or is a recorded duplicate of a filed Message-ID
    assert len(recorded) + summary["duplicates"] >= len(files)
    assert summary["duplicates"] == 0 or duplicates_of
    assert summary["filed"] == len(summary["notes"])
