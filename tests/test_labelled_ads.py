"""Labelled ads by structure (issue #14, held-out review H2): the label ("ADVERTISEMENT", "Anzeige", an
affiliate disclosure) is a hint; the block it opens, or the blocks after a label standing alone, must agree."""

from __future__ import annotations

import pytest

from ingester.chrome import AD_LABEL
from ingester.clean import clean_html
from tests.conftest import body_of, fixture_note

FIXTURE = "labelled-ads-own-blocks.eml"


def test_a_label_in_a_block_of_its_own_takes_the_blocks_after_it_up_to_the_divider() -> None:
    """Mailchimp's "ADVERTISEMENT" is a text block alone; the sponsor line, logo, card and button follow in
    their own blocks, up to a divider block: all of them go."""
    note = fixture_note(FIXTURE)
    body = body_of(note.text)
    for gone in ("ADVERTISEMENT", "Sponsored by", "brightwire", "Wiring that outlasts", "thirty-year guarantee"):
        assert gone not in body
    assert any(what.startswith("sponsored block (a label line, then") for what in note.cleaned.removed)


def test_a_bare_label_over_the_senders_own_offer_takes_it() -> None:
    """ "Advertisement" alone names no sponsor: the publisher's own offer under it is an ad, although its
    links go to the mail's own site."""
    body = body_of(fixture_note(FIXTURE).text)
    assert "winter offer" not in body and "Take the offer" not in body


def test_an_affiliate_disclosure_labels_the_product_card_under_it() -> None:
    body = body_of(fixture_note(FIXTURE).text)
    assert "may earn a commission" not in body and "Storm Lantern No. 4" not in body


def test_the_stories_and_the_sign_off_around_the_ads_stay() -> None:
    body = body_of(fixture_note(FIXTURE).text)
    for kept in (
        "three towns still light a few by hand",
        "[Read the full story](https://lamplighter.example/stories/canal-lamps)",
        "The last gas main",
        "[More on the vote](https://lamplighter.example/stories/gas-main)",
        "Our restorer recommends a storm lantern:",
        "That is all for this week.",
        "[write to us](https://lamplighter.example/contact)",
        "—Maren",
    ):
        assert kept in body


STORY = "".join(
    f'<p>Story {n} of the week, told at some length. <a href="https://news.example.com/{n}">Read it</a></p>'
    for n in range(6)
)
LABEL = '<table><tr><td><p style="font-size:12px">Advertisement</p></td></tr></table>'
CARD = (
    '<table><tr><td><a href="https://acme.example.org/offer"><img src="https://cdn.example.org/a.png" width="300"></a>'
    "<p>Acme makes the widgets every team needs.</p></td></tr></table>"
)


@pytest.mark.parametrize(
    ("after", "goes"),
    [
        (f"{CARD}<hr>", True),  # a rule ends the ad
        (f"<p></p>{CARD}<table><tr><td> </td></tr></table>", True),  # a spacer before it is skipped, one after ends it
        (CARD, False),  # no separator: the stories after it may be the ad's, nothing is taken
        (f"{CARD}<h2>Next story</h2><p>More.</p><hr>", True),  # a heading ends the ad, and stays
        ("<p>Acme makes the widgets every team needs.</p><hr>", False),  # no link: no ad
    ],
)
def test_the_blocks_after_a_lone_label_go_only_up_to_a_separator(after: str, goes: bool) -> None:
    cleaned = clean_html(f"<html><body><div>{STORY}{LABEL}{after}{STORY}</div></body></html>")
    assert ("Acme makes the widgets" not in cleaned.html) is goes
    assert "Story 5 of the week" in cleaned.html
    assert "Next story" in cleaned.html or "Next story" not in after


@pytest.mark.parametrize(
    ("line", "label"),
    [
        ("G/O Media might get a commision", True),  # the sender's own spelling
        ("We may earn a commission", True),
        ("Bei einem Kauf erhalten wir eine Provision", True),
        ("The council may earn more from parking", False),
    ],
)
def test_affiliate_disclosures_are_ad_labels(line: str, label: bool) -> None:
    assert (AD_LABEL.fullmatch(line) is not None) is label
