"""Smoke test of bench/backfill.py: a 20-message run prints every row of the table and every target."""

from __future__ import annotations

import pytest

from tests.conftest import REPO, load_bench

CORPUS = REPO.parent / "shared" / "corpus"

pytestmark = [
    pytest.mark.skipif(not (CORPUS / "MANIFEST.tsv").is_file(), reason="../shared/corpus is not beside the repository"),
    pytest.mark.slow,
]

ROWS = (
    "raw fetch ceiling",
    "our fetch stage",
    "html2text alone",
    "our message → note work",
    "ingest --since, default",
    "ingest --since --jobs 1",
    "NAIVE PEER",
)


def test_backfill_bench_prints_every_row(capsys: pytest.CaptureFixture[str]) -> None:
    backfill = load_bench("backfill.py", "bench_backfill")

    result = backfill.main(["--n", "20", "--fetch-repeats", "1"])

    out = capsys.readouterr().out
    table = [line for line in out.splitlines() if line[:2].strip().isdigit()]
    assert len(table) == len(ROWS), out
    for number, (line, label) in enumerate(zip(table, ROWS, strict=True), start=1):
        assert line.split()[0] == str(number) and label in line, line
    rows = result["rows"]
    for key in ("raw", "ours", "h2t", "work", "e2e", "one", "naive"):
        assert rows[key]["messages"] == 20, (key, rows[key])
        assert rows[key]["wall"] > 0
    for key in ("e2e", "one", "naive"):  # measured subprocesses: CPU of the tree and peak memory
        assert rows[key]["cpu"] > 0 and rows[key]["tree_pss_mb"] > 0 and rows[key]["max_rss_mb"] > 0
    assert "Dovecot" in out or "dovecot" in out
    targets = [t["target"] for t in result["targets"]]
    assert any("raw fetch" in t for t in targets) and any("naive peer" in t for t in targets)
    assert any("one worker" in t for t in targets) and any("html2text" in t for t in targets)
    assert all(t["hold"] in (True, False, None) for t in result["targets"])
    assert "targets (issue #8)" in out
