"""Newsletters a mailing list relayed (a team's group address subscribed to them), and members' posts to a list:
who wrote them, whose publication they are, and the memory key the pipeline recalls before conversion."""

from __future__ import annotations

import pytest

from ingester import classify, compose, message, metadata, recall
from ingester.config import Config
from ingester.message import RawMessage
from tests.conftest import email_bytes


def made(name: str) -> compose.Note:
    raw = RawMessage(email_bytes(name), source=name)
    return compose.make_note(raw, message.parse(raw.raw), compose.Settings.of(Config()))


@pytest.mark.parametrize(
    ("name", "author", "publication", "publication_id", "source"),
    [
        # Google Groups rewrote From to its own address: the sender is X-Original-From, a bulk sender's (Feedback-ID)
        (
            "google-group-relayed-newsletter.eml",
            "Harbour Notes",
            "Harbour Notes",
            "harbour-notes@mail.example-esp.net",
            "relayed sender",
        ),
        # Mailman kept the sender's From; its Feedback-ID and X-Mailer sit under the list's headers
        (
            "mailman-relayed-newsletter.eml",
            "Orchard Supplies",
            "Orchard Supplies",
            "news@orchard-supplies.example.com",
            "relayed sender",
        ),
        # a member's post: the list is the publication, the member its author (not "'Alice Example' via …")
        ("google-group-member-post.eml", "Alice Example", "Team Reading", "team-reading.googlegroups.com", "list-id"),
    ],
)
def test_relayed_mail_is_credited_to_its_writer(
    name: str, author: str, publication: str, publication_id: str, source: str
) -> None:
    note = made(name)
    assert (note.metadata.author, note.metadata.publication) == (author, publication)
    assert note.metadata.publication_id == publication_id
    assert note.metadata.source("publication_id") == source
    assert f'publication_id: "{publication_id}"' in note.text
    # the memory of the publication is read from the header alone, before conversion: the same key
    raw = email_bytes(name)
    assert recall.publication_of(raw) == publication_id == metadata.publication_key(message.parse(raw))


def test_a_relayed_newsletter_is_not_a_mailing_list_post() -> None:
    relayed = message.parse(email_bytes("mailman-relayed-newsletter.eml"))
    post = message.parse(email_bytes("google-group-member-post.eml"))
    assert classify.relayed_newsletter(relayed) and not classify.relayed_newsletter(post)
    assert classify.detect_platform(relayed) == "newsletter"
    assert 'platform: "mailing-list"' not in made("mailman-relayed-newsletter.eml").text


def test_a_list_that_sends_its_own_announcements_stays_the_publication() -> None:
    """Mailman's announce list (no bulk sender's marks, From a person at the project): unchanged."""
    letter = message.parse(email_bytes("mailman-wine-announce-spamassassin.eml"))
    assert not classify.relayed_newsletter(letter)
    assert metadata.publication_key(letter) == classify.list_id_key(letter) != ""
