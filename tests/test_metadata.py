"""Metadata with its sources, forwards, confirmation mails, per-sender rules, `ingest explain`."""

from __future__ import annotations

import json
from datetime import UTC
from pathlib import Path

import pytest
import yaml

from ingester import compose, message, metadata
from ingester.clean import PostHeader
from ingester.config import Config, Rule
from ingester.links import LinkContext
from ingester.message import RawMessage
from tests.conftest import EMAILS, email_bytes, notes_in, run_ingest


def note(name: str, config: Config | None = None) -> compose.Note:
    config = config or Config()
    raw = RawMessage(email_bytes(name), source=name)
    return compose.make_note(raw, message.parse(raw.raw), compose.Settings.of(config))


def front(text: str) -> dict[str, object]:
    return yaml.safe_load(text.split("---\n")[1])


def test_substack_metadata_and_sources() -> None:
    made = note("substack-post.eml")

    assert dict(made.metadata.sources) == {
        "title": "post-title",
        "author": "byline",
        "publication_id": "list-id",
        "publication": "from-name after ' from '",
        "date": "date-header",
        "url": "list-post",
    }
    assert (made.metadata.author, made.metadata.publication) == ("Jane Doe", "Field Notes")
    assert made.metadata.publication_id == "fieldnotes.substack.com"


def test_mailchimp_publication_identity_is_the_list_id_not_the_display_name() -> None:
    made = note("mailchimp-spamscope-13.eml")

    assert made.metadata.publication_id.endswith(".list-id.mcsv.net")
    assert made.metadata.source("url") == "view-online"
    assert "e=" not in made.metadata.url


def test_text_only_newsletter_has_no_url_and_says_so() -> None:
    made = note("text-only-newsletter.eml")

    assert (made.metadata.url, made.metadata.url_source) == ("", "none")
    assert front(made.text)["url_source"] == "none"


def test_list_post_that_is_a_mailing_list_address_is_not_the_canonical_url() -> None:
    letter = message.parse(email_bytes("mailman-wine-announce-spamassassin.eml"))

    url, source = metadata.canonical_url(letter, LinkContext(), "", "")

    assert (url, source) == ("", "none")  # List-Post is <mailto:wine-announce@winehq.com>


def test_forwarded_newsletter_is_credited_to_the_original_sender() -> None:
    letter = message.parse(email_bytes("forwarded-substack-gmail.eml"))

    assert letter.forwarded_by == "reader@example.org"
    assert (letter.from_name, letter.from_addr) == ("Mara Lindqvist from Soil & Light", "soilandlight@substack.com")
    assert letter.subject == "Notes from a small kitchen garden"
    assert letter.date is not None and (letter.date.year, letter.date.month, letter.date.day) == (2025, 3, 3)
    assert letter.text is not None and letter.text.lstrip().startswith("Spring arrived early")


def test_forwarded_note_has_no_forward_header_block_and_clean_links() -> None:
    made = note("forwarded-substack-gmail.eml")
    data = front(made.text)

    assert (data["author"], data["publication"], data["platform"]) == ("Mara Lindqvist", "Soil & Light", "substack")
    assert data["forwarded_by"] == "[reader]"  # the reader forwarded it: their address is in no note
    assert "reader@example.org" not in made.text
    assert "Forwarded message" not in made.text
    assert "548 Market Street" not in made.text and "disable_email" not in made.text
    assert "(https://soilandlight.substack.com/p/notes-from-a-small-kitchen-garden)" in made.text


@pytest.mark.parametrize(
    ("name", "reason", "link"),
    [
        (
            "kit-confirm-subscription.eml",
            "confirm subscription",
            "https://app.kit.com/forms/123456/subscriptions/987654321/confirm?token=zQ81x",
        ),
        (
            "gmail-forwarding-verification.eml",
            "Gmail forwarding verification",
            "https://mail-settings.google.com/mail/vf-%5BANGjdJ9example%5D-confirm",
        ),
    ],
)
def test_confirmation_mails_are_listed_as_needing_action_not_filed(
    tmp_path: Path, name: str, reason: str, link: str
) -> None:
    result = run_ingest("import", EMAILS / name, "--json")

    summary = json.loads(result.stdout)
    assert (summary["filed"], summary["skipped"]) == (0, 1)
    assert summary["needs_action"] == [
        {
            "source": str(EMAILS / name),
            "subject": message.parse(email_bytes(name)).subject,
            "reason": reason,
            "link": link,
        }
    ]  # the link exactly as sent, not cleaned
    assert notes_in(tmp_path / "archive") == []


def test_confirmation_is_shown_in_plain_output() -> None:
    result = run_ingest("import", EMAILS / "kit-confirm-subscription.eml")

    assert result.stdout.splitlines()[0] == (
        "action  confirm subscription: 'Confirm your subscription to Harbour Notes' → "
        "https://app.kit.com/forms/123456/subscriptions/987654321/confirm?token=zQ81x"
    )


def test_rules_add_tags_category_and_folder() -> None:
    rules = (
        Rule(sender="*@substack.com", tags=("substack-reads",)),
        Rule(publication="field notes", category="AI", tags=("ai",), folder="ai"),
    )
    made = note("substack-post.eml", Config(rules=rules))

    assert front(made.text)["tags"] == [
        "newsletter",
        "newsletter/substack",
        "field-notes",
        "substack-reads",
        "ai",
    ]
    assert "- **文章类别**：AI" in made.text
    assert made.folder == "ai"


def test_rule_skip_and_folder_through_the_cli(tmp_path: Path) -> None:
    config = tmp_path / "rules.toml"
    config.write_text(
        '[[rules]]\nsender = "*@substack.com"\nfolder = "reads/substack"\n\n'
        '[[rules]]\npublication = "*mcsv.net"\nskip = true\n'
    )

    result = run_ingest(
        "--config", config, "import", EMAILS / "substack-post.eml", EMAILS / "mailchimp-spamscope-13.eml", "--json"
    )

    summary = json.loads(result.stdout)
    assert (summary["filed"], summary["skipped"]) == (1, 1)
    assert summary["notes"] == ["archive/reads/substack/2025/01/2025-01-27-the-quiet-year-of-small-models.md"]


def test_rule_without_a_matcher_is_a_config_error(tmp_path: Path) -> None:
    config = tmp_path / "rules.toml"
    config.write_text('[[rules]]\ntags = ["x"]\nfolder = "../out"\n')

    result = run_ingest("--config", config, "import", EMAILS / "substack-post.eml")

    assert result.returncode == 2
    assert "[[rules]] #1: set sender or publication" in result.stderr
    assert "[[rules]] #1 folder: must be a relative folder inside the archive, not '../out'" in result.stderr


def test_explain_prints_every_decision_and_files_nothing(tmp_path: Path) -> None:
    result = run_ingest("explain", EMAILS / "substack-post.eml")

    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert "newsletter:     yes, List-Unsubscribe header" in lines
    assert "platform:       substack" in lines
    assert "title:          The quiet year of small models  [post-title]" in lines
    assert "author:         Jane Doe  [byline]" in lines
    assert "url:            https://fieldnotes.substack.com/p/the-quiet-year-of-small-models  [list-post]" in lines
    assert any(line.startswith("removed:        hidden text (preheader)") for line in lines)
    assert any(line.startswith("removed:        email chrome .footer") for line in lines)
    assert not (tmp_path / "archive").exists()


def test_explain_of_a_non_newsletter_says_why() -> None:
    result = run_ingest("explain", EMAILS / "personal-plain-no-ctype-flanker.eml")

    assert "newsletter:     no: not a newsletter (no List-Unsubscribe/List-Id/List-Post header" in result.stdout


def test_metadata_falls_back_to_internaldate() -> None:
    letter = message.parse(b"From: a@example.com\nSubject: s\nList-Id: <x.example.com>\n\nbody\n")
    from datetime import datetime

    when = datetime(2025, 5, 1, tzinfo=UTC)
    meta = metadata.decide(letter, PostHeader(), LinkContext(), when)

    assert (meta.date, meta.source("date")) == (when, "internaldate")


def test_a_subject_tag_that_names_the_mailing_list_is_not_the_title() -> None:
    """Mailman's subject prefix "[HC Announce]" (List-Id `announce.helixcode.com`) names the list, which is
    the note's publication; the title is the rest of the Subject."""
    made = note("ximian-announce-spamassassin-001.eml")
    assert made.metadata.title == 'Ximian Evolution 0.10 "Tasmanian Devil" is Now Available!'
    assert front(made.text)["original_title"] == made.metadata.title


LIST_TAGS = {
    "mailman prefix": ("[intheloop@tacticaltech] In The Loop", "X <intheloop.lists.tacticaltech.org>", "In The Loop"),
    "yahoo group": ("[frieNDA] Digest Number 2057", "<frieNDA.yahoogroups.com>", "Digest Number 2057"),
    "a tag saying more than the list": (
        "[Bug 381598] Re: crash",
        "Ubuntu bug tracker changes",
        "[Bug 381598] Re: crash",
    ),
    "a tag of the sender's own": ("[Draft] Plans", "<news.example.org>", "[Draft] Plans"),
    "the top-level domain is no name": ("[ORG] New team", "<team.example.org>", "[ORG] New team"),
    "no List-Id": ("[news] Issue 4", "", "[news] Issue 4"),
    "the sender's name": ("[ElixirWeekly] Issue #130", "", "Issue #130"),
    "a tag and nothing else": ("[news]", "<news.example.org>", "[news]"),
    "a BOM at the edge": ("\ufeffIssue 4\u200b", "", "Issue 4"),
}


@pytest.mark.parametrize(("subject", "list_id", "title"), LIST_TAGS.values(), ids=LIST_TAGS.keys())
def test_subject_title_drops_the_list_tag_only(subject: str, list_id: str, title: str) -> None:
    sender = "ElixirWeekly <newsletter@elixirweekly.net>" if "Elixir" in subject else "a@example.org"
    raw = f"From: {sender}\nList-Id: {list_id}\nSubject: {subject}\n\nbody\n".encode()
    assert metadata.subject_title(message.parse(raw)) == title


def test_a_by_line_of_its_own_before_the_article_names_the_author() -> None:
    """Mailchimp's "The Download"-style issue: "By Ada Park • 06.25.24" under the masthead is the writer; the
    From name is the publication's, and a story's own byline further down is not the issue's author."""
    made = note("mailchimp-byline-top.eml")
    assert made.fields.author == "Ada Park"
    assert made.metadata.source("author") == "byline"


def test_the_campaign_id_the_campaign_headers_name_stays_in_the_archive_url() -> None:
    """Mailchimp's archive URL is `?u=<account>&id=<campaign>` plus the reader's `e`; the campaign id is also in
    List-Unsubscribe (`c=`), but X-Campaign names it for every reader: it is the issue's, the url keeps it."""
    made = note("mailchimp-campaign-archive-url.eml")
    assert made.fields.url == "https://us11.campaign-archive.example/?u=5d2a9c0b1e7f4c3a8b6d9e0f1&id=4b8e9b68ed"
    assert "9a8b7c6d5e" not in made.text
