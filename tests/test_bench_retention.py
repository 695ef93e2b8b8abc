"""Smoke test of bench/retention.py: it runs on two corpus messages and returns results of the right shape."""

from __future__ import annotations

import pytest

from tests.conftest import REPO, load_bench

CORPUS = REPO.parent / "shared" / "corpus"

pytestmark = [
    pytest.mark.skipif(not (CORPUS / "MANIFEST.tsv").is_file(), reason="../shared/corpus is not beside the repository"),
    pytest.mark.slow,
]


def test_retention_runs_on_two_messages(capsys: pytest.CaptureFixture[str]) -> None:
    retention = load_bench("retention.py", "bench_retention")
    # One HTML-only body that the script wraps in platform headers and one full .eml (manifest order).
    files = ["omnivore/hey-world-newsletter.html", "unspy/2023-01-03-oekoligenta.u1.eml"]

    out = retention.main(["--corpus", str(CORPUS), "--json", *files])

    assert "error" not in out, out.get("error")
    messages = out["messages"]
    assert [m["file"] for m in messages] == files
    for m in messages:
        assert m["error"] == ""
        assert m["input"] in ("eml", "wrapped-html")
        assert isinstance(m["article_sentences"], int) and m["article_sentences"] > 0
        assert 0 <= m["article_kept"] <= m["article_sentences"]
        assert m["kept_pct"] is None or 0.0 <= m["kept_pct"] <= 100.0
        assert 0 <= m["chrome_kept"] <= m["chrome_sentences"]
        assert isinstance(m["lost"], list) and isinstance(m["chrome_kept_sentences"], list)
    assert [m["input"] for m in messages] == ["wrapped-html", "eml"]
    for summary in (*out["platforms"].values(), out["overall"]):
        assert {"messages", "sentences", "kept_pct", "chrome_kept"} <= summary.keys()
    assert out["overall"]["messages"] == 2
    assert '"overall"' in capsys.readouterr().out  # --json printed the same results


def test_retention_with_memory_files_issues_in_date_order(capsys: pytest.CaptureFixture[str]) -> None:
    retention = load_bench("retention.py", "bench_retention")
    issues = ["n2rss/pointer/480-mailchimp.eml", "n2rss/pointer/481-mailchimp.eml", "n2rss/pointer/482-mailchimp.eml"]

    alone = retention.main(["--corpus", str(CORPUS), "--json", *issues])
    remembering = retention.main(["--corpus", str(CORPUS), "--json", "--memory", *reversed(issues)])

    assert [m["repeated"] for m in alone["messages"]] == [0, 0, 0]
    by_file = {m["file"]: m["repeated"] for m in remembering["messages"]}
    assert by_file[issues[0]] == by_file[issues[1]] == 0 < by_file[issues[2]]
    assert remembering["overall"]["repeated"] == by_file[issues[2]]
    capsys.readouterr()
