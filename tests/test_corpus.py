"""Every message of the shared real-mail corpus gives a note or a recorded reason; nothing crashes."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from ingester import message
from ingester.source import local_messages
from ingester.store import notes
from tests.conftest import REPO, run_ingest
from tests.test_vault import assert_vault_note

CORPUS = REPO.parent / "shared" / "corpus"

pytestmark = [
    pytest.mark.skipif(not CORPUS.is_dir(), reason="../shared/corpus is not beside the repository"),
    pytest.mark.slow,
]


def test_whole_corpus_is_accounted_for(tmp_path: Path) -> None:
    files = sorted(p for p in CORPUS.rglob("*") if p.is_file())

    result = run_ingest("import", CORPUS, "--all", "--json")

    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    summary = json.loads(result.stdout)
    not_mail = set(summary["not_mail"])  # the manifest, the README, bare HTML pages: named, never recorded
    assert {Path(p).suffix for p in not_mail} <= {".tsv", ".md", ".html", ".json", ".txt"}, not_mail
    assert summary["seen"] + len(not_mail) == len(files)
    assert summary["filed"] + summary["skipped"] + summary["duplicates"] + summary["failed"] == summary["seen"]
    ledger = sqlite3.connect(tmp_path / "archive" / ".ingest" / "ledger.sqlite3")
    outcomes = dict(ledger.execute("SELECT key, outcome FROM messages"))
    for file in files:  # every message is in the ledger under its identity: nothing silently lost
        for raw in local_messages(file):
            assert raw.source in not_mail or message.parse(raw.raw).key in outcomes, raw.source
    assert summary["filed"] == len(summary["notes"]) == sum(o == "filed" for o in outcomes.values())
    for note in notes.scan(
        tmp_path / "archive", notes.filed_notes(tmp_path / "archive" / ".ingest")
    ):  # the vault conventions hold for every real note
        assert_vault_note(note)
