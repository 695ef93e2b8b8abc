"""The content-loss guard (issue #14), on a real newsletter whose whole issue a chrome rule would take.

`kotlin-weekly-footer-class.eml` is Kotlin Weekly #388 (n2rss, MIT) byte for byte, but for one class:
the table that wraps the whole issue is also marked `footer` (a class the chrome rules remove), as a
template that reuses a class name would have it. Without the guard the note would be empty.
"""

from __future__ import annotations

import email
import email.policy
import json
from pathlib import Path

import pytest

from ingester import fidelity
from ingester.clean import tally
from tests.conftest import EMAILS, make_note, run_ingest

FIXTURE = "kotlin-weekly-footer-class.eml"
ARTICLE = ("Comparing coroutines, by example", "Thanks to JetBrains for their support")


def html_only(raw: bytes) -> bytes:
    """The same message without its text/plain alternative (in memory)."""
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    html = msg.get_body(("html",))
    assert html is not None
    msg.set_payload([html])
    return msg.as_bytes()


@pytest.fixture
def no_guard(monkeypatch: pytest.MonkeyPatch) -> None:
    """The first line of defence off: every removal goes through, whatever it takes."""
    monkeypatch.setattr(tally, "MAX_REMOVAL_SHARE", 1.0)


def test_a_removal_that_would_take_the_whole_issue_is_refused() -> None:
    note = make_note((EMAILS / FIXTURE).read_bytes(), FIXTURE, "en")

    assert all(sentence in note.text for sentence in ARTICLE)
    assert [line.split(",")[0] for line in note.cleaned.refused] == ["email chrome .footer refused"]
    assert "fidelity:" not in note.text  # the guard kept the article: nothing to warn about
    assert note.verdict == fidelity.Verdict()


def test_explain_shows_the_refused_removal() -> None:
    result = run_ingest("explain", EMAILS / FIXTURE)

    guard = [line for line in result.stdout.splitlines() if line.startswith("guard:")]
    assert guard and "would remove 100% of the text" in guard[0]


@pytest.mark.usefixtures("no_guard")
def test_when_the_html_keeps_too_little_the_text_part_stands_in() -> None:
    note = make_note((EMAILS / FIXTURE).read_bytes(), FIXTURE, "en")

    assert note.cleaned.text_size < 100  # the whole issue went with the "footer"
    assert note.verdict.use_text and not note.verdict.fidelity
    assert all(sentence in note.text for sentence in ARTICLE)  # from the text/plain part
    assert "fidelity:" not in note.text


@pytest.mark.usefixtures("no_guard")
def test_without_a_text_part_the_note_is_filed_partial_and_counted(tmp_path: Path) -> None:
    mail = tmp_path / "issue.eml"
    mail.write_bytes(html_only((EMAILS / FIXTURE).read_bytes()))

    ran = run_ingest("import", mail, "--json")
    summary = json.loads(ran.stdout)
    status = json.loads(run_ingest("status", "--json").stdout)
    explained = run_ingest("explain", mail).stdout

    assert summary["filed"] == 1 and summary["partial"] == summary["notes"]
    note = Path(summary["notes"][0]).read_text(encoding="utf-8")
    assert '\nfidelity: "partial"\n' in note.split("\n---\n", 1)[0] + "\n"
    assert status["totals"]["partial"] == 1
    assert "fidelity:       partial: the cleaned HTML kept" in explained
    assert "there is no text/plain part" in explained
    assert "1 partial" in run_ingest("status").stdout


def test_a_message_that_keeps_its_article_gets_no_verdict() -> None:
    note = make_note((EMAILS / "kit-post.eml").read_bytes(), "kit-post.eml", "en")
    assert note.verdict == fidelity.Verdict() and not note.cleaned.refused
