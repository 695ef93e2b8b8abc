"""Memory across issues (#14): blocks a publication repeats at the head or tail of its issues are chrome.

Real issues of the same publications from ../shared/corpus/n2rss, filed in the order they were sent.
"""

from __future__ import annotations

import email
import email.message
import email.policy
from collections import Counter
from pathlib import Path

import pytest

from ingester import memory
from ingester.compose import note_text
from ingester.config import Config
from ingester.memory import Memory
from ingester.recall import publication_of
from ingester.rerender import rerender
from ingester.runs import run_local
from ingester.store.ledger import Ledger
from ingester.store.notes import read_note
from tests.conftest import (
    CORPUS,
    EMAILS,
    body_of,
    corpus_message,
    corpus_note,
    make_note,
    manifest_newsletters,
    needs_corpus,
    run_ingest,
    write_config,
)

KOTLIN = [f"n2rss/kotlin-weekly/{n}.eml" for n in (388, 389, 390, 400, 462)]
# (Pointer's issues were the second case: their rating row by mail now goes in each issue on its own, see
# tests/test_votes.py, and nothing repeated is left at their ends.)
TECH_READERS = [f"n2rss/tech-readers/{n}.eml" for n in (116, 117, 120)]


def remembered(paths: list[str]) -> Memory:
    """What the ledger would know after filing these issues (each counted once per end)."""
    counts: Counter[tuple[str, str]] = Counter(b for path in paths for b in corpus_note(path).blocks)
    head = {p: n for (end, p), n in counts.items() if end == "head" and n >= memory.MIN_ISSUES}
    tail = {p: n for (end, p), n in counts.items() if end == "tail" and n >= memory.MIN_ISSUES}
    return Memory(corpus_note(paths[0]).fields.publication_id, head, tail)


def test_normalised_text_ignores_numbers_dates_links_case_and_spacing() -> None:
    one = "**Issue #431** · Monday, 3 March 2025 · [View online](https://x.example/t?u=1&id=aa)"
    other = "**ISSUE #432**  ·  Sunday, 10 August 2025 · [View  online](https://x.example/t?u=1&id=bb)"

    assert memory.fingerprint(one) == memory.fingerprint(other)
    assert memory.fingerprint("A market for money") != memory.fingerprint("A # for #")  # no word just *starts* a date
    assert memory.fingerprint("![](https://x.example/logo.png?v=1)") == memory.fingerprint(
        "![logo](https://x.example/logo.png?v=2)"
    )
    assert memory.fingerprint("![](https://x.example/logo.png)") != memory.fingerprint("![](https://x.example/b.png)")


@needs_corpus
@pytest.mark.parametrize("issues", [KOTLIN, TECH_READERS], ids=["kotlin-weekly", "tech-readers"])
def test_a_later_issue_loses_repeated_head_and_tail_and_keeps_the_middle(issues: list[str]) -> None:
    *earlier, latest = issues
    markdown = body_of(corpus_note(latest).text)
    parts = memory.blocks(markdown)
    known = remembered(earlier)

    forgotten = memory.forget(markdown, known)

    kept = memory.blocks(forgotten.markdown)
    start = parts.index(kept[0])
    assert kept == parts[start : start + len(kept)]  # one contiguous run of the article: nothing from its middle
    gone = parts[:start] + parts[start + len(kept) :]
    assert gone and len(forgotten.removed) == len(gone)
    assert all(memory.fingerprint(p) in {**known.head, **known.tail} for p in gone)
    assert sum(map(len, kept)) > sum(map(len, gone))
    assert all(line.startswith("repeated in ") for line in forgotten.removed)


@needs_corpus
def test_a_repeated_block_in_the_middle_is_never_removed() -> None:
    markdown = body_of(corpus_note(KOTLIN[-1]).text)
    parts = memory.blocks(markdown)
    middle = {memory.fingerprint(p): 5 for p in parts[3:-3]}  # every block but the first and last three

    assert memory.forget(markdown, Memory("x", middle, middle)).markdown == markdown


@needs_corpus
def test_memory_never_takes_most_of_the_article() -> None:
    """An issue of short lines only (the chrome-shaped blocks of a real one), every one of them repeated."""
    shaped = [part for part in memory.blocks(body_of(corpus_note(KOTLIN[-1]).text)) if memory.removable(part)]
    markdown = "\n\n".join(shaped) + "\n"
    assert len(shaped) > 20
    everything = {memory.fingerprint(p): 5 for p in memory.blocks(markdown)}

    forgotten = memory.forget(markdown, Memory("x", everything, everything))

    assert forgotten.markdown == markdown and not forgotten.removed
    assert forgotten.refused and "refused" in forgotten.refused[0]


@needs_corpus
def test_blocks_need_two_earlier_issues_and_count_within_one_backfill(tmp_path: Path) -> None:
    config = Config(archive_path=tmp_path / "archive")
    summaries = [run_local(config, [CORPUS / path]) for path in KOTLIN[:2]]
    backfill = run_local(config, [CORPUS / path for path in KOTLIN[2:]])  # one run: each issue counts for the next

    assert [s.repeated for s in summaries] == [0, 0]  # one earlier issue is not enough
    assert backfill.filed == 3 and backfill.repeated >= 3 * 2
    first = Path(summaries[0].notes[0]).read_text(encoding="utf-8")
    assert first == corpus_note_text(config, KOTLIN[0])  # no memory yet: the note of a single issue
    latest = Path(backfill.notes[-1]).read_text(encoding="utf-8")
    assert "Thanks to JetBrains for their support" not in latest and "Thanks to JetBrains for their support" in first
    assert "We rely on sponsors" in latest  # a paragraph of sentences, repeated or not, is the article's


def corpus_note_text(config: Config, path: str) -> str:
    return note_text((CORPUS / path).read_bytes(), str(CORPUS / path), config)


@needs_corpus
def test_rerender_applies_the_memory_as_it_stands(tmp_path: Path) -> None:
    config = Config(archive_path=tmp_path / "archive")
    first = run_local(config, [CORPUS / KOTLIN[0]])
    run_local(config, [CORPUS / path for path in KOTLIN[1:3]])
    note = Path(first.notes[0])
    before = note.read_text(encoding="utf-8")

    listed = read_note(config.archive_path, note)
    assert listed is not None
    with Ledger(config.state_dir) as ledger:
        done = list(rerender(config, ledger, [listed]))

    assert [d.outcome for d in done] == ["rerendered"]
    after = note.read_text(encoding="utf-8")
    assert "Thanks to JetBrains for their support" in before and "Thanks to JetBrains for their support" not in after
    assert len(after) > len(before) // 2


@needs_corpus
def test_import_counts_and_explain_lists_the_blocks_earlier_issues_repeated(tmp_path: Path) -> None:
    config = write_config(tmp_path / "config.toml", tmp_path / "archive")
    runs = [run_ingest("--config", config, "import", CORPUS / path) for path in KOTLIN[:3]]
    shown = run_ingest("--config", config, "explain", CORPUS / KOTLIN[3]).stdout

    assert "repeated blocks removed" not in runs[1].stdout and "2 repeated blocks removed" in runs[2].stdout
    assert "removed:        repeated in 3 earlier issues: 'Thanks to JetBrains for their support" in shown
    elsewhere = write_config(tmp_path / "other.toml", tmp_path / "other")  # an archive with no ledger: no memory
    assert "repeated in" not in run_ingest("--config", elsewhere, "explain", CORPUS / KOTLIN[3]).stdout


@needs_corpus
@pytest.mark.slow  # every corpus note
def test_the_publication_read_from_the_header_is_the_notes_unless_forwarded() -> None:
    differ = [
        path
        for path in manifest_newsletters()
        if path.endswith(".eml")
        and publication_of(corpus_message(path)) != corpus_note(path).fields.publication_id
        and not corpus_note(path).fields.forwarded_by
    ]
    assert differ == []


def forwarded(path: str, number: int) -> bytes:
    """The real issue as its reader forwards it to themselves from a mail client (Gmail's inline forward
    block above the original text and HTML): no List-Id, and the original sender only in the body."""
    original = email.message_from_bytes((CORPUS / path).read_bytes(), policy=email.policy.default)
    block = (
        "---------- Forwarded message ---------\n"
        f"From: {original['From']}\nDate: {original['Date']}\nSubject: {original['Subject']}\n"
        "To: <reader@example.org>\n\n"
    )
    forward = email.message.EmailMessage()
    forward["From"] = forward["To"] = "Reader <reader@example.org>"
    forward["Subject"] = f"Fwd: {original['Subject']}"
    forward["Date"] = original["Date"]
    forward["Message-ID"] = f"<fwd-{number}@mail.example.org>"
    text, html = original.get_body(("plain",)), original.get_body(("html",))
    assert text is not None and html is not None
    forward.set_content(block + text.get_content())
    above = "<div>" + block.replace("\n", "<br>\n") + "</div>"
    forward.add_alternative(html.get_content().replace("<body", above + "<body", 1), "html")
    return forward.as_bytes()


@needs_corpus
def test_forwarded_issues_get_the_memory_of_their_original_publication(tmp_path: Path) -> None:
    """A forward is credited to its original sender once its body is read, after its memory was looked up
    by its header (the forwarder's): the pipeline converts it again with its own publication's memory."""
    for number, path in enumerate(KOTLIN[:4]):
        (tmp_path / f"fwd-{number}.eml").write_bytes(forwarded(path, number))
    config = Config(archive_path=tmp_path / "archive", allow_senders=("mailinglist@kotlinweekly.net",))
    backfill = run_local(config, sorted(tmp_path.glob("fwd-*.eml")))

    notes = [Path(note).read_text(encoding="utf-8") for note in backfill.notes]
    assert backfill.filed == 4 and all('publication_id: "mailinglist@kotlinweekly.net"' in n for n in notes)
    assert (
        "Thanks to JetBrains for their support" in notes[0] and "Thanks to JetBrains for their support" not in notes[-1]
    )
    assert backfill.repeated >= 2 * 1  # issues 3 and 4 each lose the blocks the earlier forwards repeated

    listed = read_note(config.archive_path, Path(backfill.notes[0]))  # filed first, with no memory yet
    assert listed is not None
    with Ledger(config.state_dir) as ledger:
        assert [d.outcome for d in rerender(config, ledger, [listed])] == ["rerendered"]
    assert "Thanks to JetBrains for their support" not in Path(backfill.notes[0]).read_text(encoding="utf-8")


CONFERENCE = [EMAILS / f"conference-issue-{n}.eml" for n in (1, 2, 3)]  # written for this project


def test_a_repeated_call_of_sentences_and_lists_is_the_article_only_the_masthead_goes(tmp_path: Path) -> None:
    """Three issues of a conference's newsletter repeat a call for workshops (a paragraph, bold labels, nested
    lists, a closing sentence) above the footer: memory takes the masthead lines and none of the call."""
    config = Config(archive_path=tmp_path / "archive")
    backfill = run_local(config, CONFERENCE)
    latest = Path(backfill.notes[-1]).read_text(encoding="utf-8")
    first = Path(backfill.notes[0]).read_text(encoding="utf-8")

    assert backfill.repeated == 5  # the third issue's date line, logo, name, dateline and website link
    assert "Visit tidewater.example.org" in first and "Visit tidewater.example.org" not in latest
    for line in (
        "## Call for Workshops",
        "Tentative dates",
        "Publication opportunities",
        "Maximum number of",
        "Provided by the organising committee:",
        "A room with a projector.",
        "Send your proposal by e-mail",
    ):
        assert line in latest, line

    listed = read_note(config.archive_path, Path(backfill.notes[0]))  # filed first, with no memory yet
    assert listed is not None
    with Ledger(config.state_dir) as ledger:
        assert [d.outcome for d in rerender(config, ledger, [listed])] == ["rerendered"]
    again = Path(backfill.notes[0]).read_text(encoding="utf-8")
    assert "Visit tidewater.example.org" not in again and "Send your proposal by e-mail" in again


def test_only_chrome_shaped_blocks_are_removable() -> None:
    parts = memory.blocks(make_note(CONFERENCE[2].read_bytes(), str(CONFERENCE[2])).markdown)

    def shaped(start: str) -> bool:
        return memory.removable(next(part for part in parts if part.startswith(start)))

    assert shaped("### June 10 - 12, 2025. Porthaven") and shaped("# Tidewater Workshop on Coastal Sensing")
    assert shaped("[Visit tidewater") and shaped("![](https://media.example.net/uploads/tidewater-logo.png)")
    assert shaped("**Provided by the organising committee:**")  # a label: removable, but only in a run of such
    assert not shaped("  * Title and organisers.")  # a list
    assert not shaped("Researchers and practitioners are invited")  # a paragraph of sentences
    assert not shaped("**Send your proposal by e-mail before")  # a sentence of more than a few words
    assert not memory.removable("      * Tentative dates")  # inside a list item
    # written without spaces, a sentence of Chinese is many words, not one
    assert memory.removable("在浏览器中查看")
    assert not memory.removable("早上好。这里是晨读简报，每个工作日早上七点发送。")


def test_a_tail_run_never_leaves_a_section_heading_without_its_text() -> None:
    """Short lines under a heading of the issue's own (dates, a label) may repeat, dates look alike once
    normalised: they go only with their heading, never leaving it empty."""
    markdown = "A first paragraph of the issue, long enough to be the article's own text here.\n\n"
    markdown += "### Important dates\n\nSubmission: 2 May 2025\n\nNotification: 30 May 2025\n\n© 2025 Tidewater\n"
    tail = {memory.fingerprint(b): 3 for b in memory.blocks(markdown)[2:]}  # every block under the heading

    assert memory.forget(markdown, Memory("x", {}, tail)).markdown == markdown
    with_heading = {**tail, memory.fingerprint("### Important dates"): 3}
    assert memory.blocks(memory.forget(markdown, Memory("x", {}, with_heading)).markdown) == memory.blocks(markdown)[:1]


SIGN_OFF = [EMAILS / f"signoff-issue-{n}.eml" for n in (1, 2, 3)]  # written for this project
PROSE = "We will follow the story in the coming weeks, so write to us if you know more about the old pier."


def test_the_writers_sign_off_is_never_taken_as_repeated_chrome(tmp_path: Path) -> None:
    """Three issues end with the same "—Maren" above the same forwarded-to-you box and sign-up button: memory
    takes the box and the button from the third issue, and stops at the sign-off, the writer's."""
    config = Config(archive_path=tmp_path / "archive")
    backfill = run_local(config, SIGN_OFF)
    latest = Path(backfill.notes[-1]).read_text(encoding="utf-8")
    assert "Rebuilding the north pier" in latest
    assert "Sign up today" not in latest and "Was this newsletter forwarded" not in latest
    assert "—Maren" in latest


@pytest.mark.parametrize(
    ("blocks", "signed"),
    [
        (["A paragraph.", "—Charlotte"], True),
        (["A paragraph.", "Cheers, — Shane"], True),
        (["A paragraph.", "-- Maren"], True),
        ([PROSE, "Ralf"], True),  # a name alone right after the last paragraph
        (["[Home](https://x.example/)", "Ralf"], False),  # not after a paragraph
        ([PROSE, "Follow us"], False),
        (["A paragraph.", "—Sarah T. Roberts, a professor who studies moderation, tells 404 Media"], False),
        (["A paragraph.", "—[Charlotte](https://x.example/charlotte)"], False),  # a link: left to the other rules
    ],
)
def test_a_sign_off_is_a_dash_and_a_name_or_a_name_after_the_last_paragraph(blocks: list[str], signed: bool) -> None:
    assert memory.sign_off(blocks, len(blocks) - 1) is signed
