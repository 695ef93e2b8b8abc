"""The publication's name when the From display name is a person's (issue #14): the mail's own site (the
From address's registrable domain) names it, in the Subject's opening words or after " from " in the From
name. `person-from-site-subject.eml` was written for this project (see its text); its From name is varied
with `dataclasses.replace` for the other cases. The publication_id (the memory key) never changes."""

from __future__ import annotations

from dataclasses import replace

from ingester import message, metadata
from ingester.clean import PostHeader
from ingester.links import LinkContext
from tests.conftest import email_bytes

LETTER = message.parse(email_bytes("person-from-site-subject.eml"))


def decided(**changes: str) -> metadata.Metadata:
    return metadata.decide(replace(LETTER, **changes), PostHeader(), LinkContext())


def test_a_persons_from_name_yields_to_the_subjects_name_for_the_mails_own_site() -> None:
    meta = decided()
    assert meta.publication == "Harbour Weekly"  # "Harbour Weekly Issue #212" spells harbourweekly
    assert dict(meta.sources)["publication"] == "subject (the site's name)"
    assert meta.author == "Dana Rivers"  # the author is still the person


def test_the_memory_key_is_unchanged() -> None:
    assert decided().publication_id == metadata.publication_key(LETTER)
    assert decided().publication_id.endswith("list-id.mcsv.net")


def test_a_from_name_that_names_the_site_stays() -> None:
    """ "Harbour Weekly Dispatch" holds the site's name: it is the publication's own, longer name."""
    assert decided(from_name="Harbour Weekly Dispatch").publication == "Harbour Weekly Dispatch"


def test_a_person_from_the_publication() -> None:
    meta = decided(from_name="Dana from HarbourWeekly")
    assert (meta.publication, meta.author) == ("HarbourWeekly", "Dana")
    assert decided(from_name="Dana from Elsewhere").author == "Dana from Elsewhere"  # not the site: as written


def test_a_subject_that_does_not_spell_the_site_changes_nothing() -> None:
    """A Subject opening with other words ("Harbour news this week") is no name for the site."""
    assert decided(subject="Harbour news this week").publication == "Dana Rivers"
