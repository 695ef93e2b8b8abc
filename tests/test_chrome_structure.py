"""Chrome found by structure (issue #14): the footer after the article (fine print, the unsubscribe link
by its identity, the reader's own address), rows of icon links, navigation bars, marked ads, the
view-online line by its link, and outlines without salutations or numbers. Real messages
(tests/fixtures, ../shared/corpus); each test names what a broken rule would get wrong."""

from __future__ import annotations

import re

import pytest

from ingester import classify, message, metadata, privacy
from ingester.clean import clean_html
from ingester.clean.dom import index
from ingester.clean.ends import Styles, footer_start, shares_identity, usual, visible_strings
from ingester.clean.tally import Tally
from ingester.render import _outlines
from tests.conftest import body_of, corpus_message, corpus_note, email_bytes, fixture_note, needs_corpus

HUBSPOT = "reader-identity-hubspot-style.eml"


def removed(note_removed: tuple[str, ...], why: str) -> list[str]:
    return [line for line in note_removed if line.startswith(why)]


# --- The footer after the article --------------------------------------------------------------------------------


@needs_corpus
@pytest.mark.parametrize("path", ["n2rss/gdiy/ces-projets-secondaires.eml", "n2rss/gdiy/une-vie-en-11-heures.eml"])
def test_grey_small_print_after_the_article_goes_in_any_wording(path: str) -> None:
    """Kessel's footer says "Vous recevez ce mail car…" and "Pour gérer votre abonnement, cliquez ici" on an
    opaque tracked link: its 12px grey print marks it as fine print whatever it says. (The French wording is a
    phrase hint now too, so which step took the line no longer shows in the note: the footer walk's reading of
    the print is asserted on the message itself.) The sign-off above it stays."""
    body = body_of(corpus_note(path).text)
    assert "Vous recevez ce mail car" not in body
    assert "Pour gérer votre abonnement" not in body
    assert "Bisous" in body  # the article's last lines
    ix = index(message.parse(corpus_message(path)).html or "")
    strings = visible_strings(ix.soup.body, Styles())
    seen = usual(strings)
    footer = [style for string, style in strings if "Vous recevez ce mail car" in string]
    assert footer and all(seen.fine_print(style) for style in footer)
    assert not any(seen.fine_print(style) for string, style in strings if "Bisous" in string)


@needs_corpus
def test_the_footer_link_that_carries_the_list_unsubscribe_identity_takes_its_line() -> None:
    """Brevo's footer link ("cliquez ici") is /mk/un/v2/sh/<ids>, List-Unsubscribe /mk/un/li/sh/<same ids>;
    the article's links on the same host carry other ids and stay."""
    raw = corpus_message("n2rss/gdiy/fwd-magma-brevo.eml")
    letter = message.parse(raw)
    listed = tuple(re.findall(r"<(https?://[^>]+)>", letter.header("List-Unsubscribe")))
    hrefs = re.findall(r'href="(https://g08dc\.r\.a\.d\.sendibm1\.com/[^"]+)"', letter.html or "")
    footer = [h for h in hrefs if "/mk/un/" in h]
    article = [h for h in hrefs if "/mk/cl/" in h]
    assert footer and len(article) > 20
    assert all(shares_identity(h, listed) for h in footer)
    assert not any(shares_identity(h, listed) for h in article)  # same host, one shared id at most
    body = body_of(corpus_note("n2rss/gdiy/fwd-magma-brevo.eml").text)
    assert "vous désinscrire de notre newsletter" not in body
    assert "/mk/un/" not in body
    assert "Stickerbox" in body  # the article's last section


@needs_corpus
def test_the_last_link_spelling_out_the_readers_address_takes_its_line_and_the_fine_print() -> None:
    """Avertinoo ends with "Pour vous désinscrire, merci de vous rendre ici:<br><a>…?A=<reader>…</a>" in the
    body itself (no block around it) after a 10px grey line: both go, the article before them stays."""
    body = body_of(corpus_note("mailcore2/avertinoo-newsletter-5.eml").text)
    assert "Pour vous désinscrire" not in body and "mailing.cgi" not in body
    assert "Cette newsletter vous est envoyée" not in body
    assert "Un moyen pratique pour augmenter le nombre de suricates" in body
    assert "Offrir Avertinoo depuis iTunes" in body  # grey 11px captions inside the article are no footer


def test_fine_print_is_relative_to_the_mails_own_text() -> None:
    """A mail whose every line is small and grey has no fine print: the footer walk finds nothing there,
    where the same mail in its own style loses its small-print footer."""
    raw = email_bytes(HUBSPOT)
    letter = message.parse(raw)
    html = letter.html or ""
    context = privacy.message_context(
        letter, metadata.link_context(letter, "hubspot"), classify.detect_platform(letter), privacy.Privacy()
    )
    small = html.replace("<body>", '<body><div style="font-size:11px;color:#999999">').replace(
        "</body>", "</div></body>"
    )
    small = small.replace('<p style="font-size:11px">', "<p>")
    for source, expected in ((html, True), (small, False)):
        ix = index(source)
        tally = Tally(document_size=ix.document_size)
        strings = visible_strings(ix.soup.body, Styles())
        start = footer_start(strings, tally, context)
        found = start is not None and "Cet e-mail a été envoyé" in str(strings[start][0])
        assert found is expected, source[:0]


def test_the_footer_guard_refuses_a_footer_holding_most_of_the_mail() -> None:
    """Every footer text in small grey print after a one-line "article": the walk may not take it all."""
    html = (
        "<html><body><p>Short.</p>"
        + "".join(
            f'<p style="font-size:10px;color:#999">Fine print line number {i} of the mail.</p>' for i in range(60)
        )
        + "</body></html>"
    )
    cleaned = clean_html(html)
    assert "Fine print line number 59" in cleaned.html  # the usual text *is* the fine print: nothing goes
    assert not removed(cleaned.removed, "footer after the article")


# --- Rows of icon links, navigation, ads, view online ----------------------------------------------------------


@needs_corpus
@pytest.mark.parametrize(
    ("path", "icon"),
    [
        ("omnivore/ttso-newsletter.html", "social-whatsapp.png"),  # image links, all through one click tracker
        ("mailcore2/travelro-promo.eml", "ico_02.gif"),  # small images to different sites
        ("omnivore-readability/forte-labs/source.html", "(https://twitter.com/fortelabs)"),  # one word each
    ],
)
def test_rows_of_icon_only_links_go(path: str, icon: str) -> None:
    note = corpus_note(path)
    assert icon not in note.text
    assert removed(note.cleaned.removed, "row of icon links")


def test_a_row_of_article_links_with_words_is_no_icon_row() -> None:
    """Three links of several words each, in one paragraph near the top: headlines, not icons nor navigation."""
    html = (
        "<html><body><p>Intro paragraph of the article that says what follows in some words.</p>"
        '<p><a href="https://a.example/1">the first long story of today</a> | '
        '<a href="https://b.example/2">the second long story of today</a> | '
        '<a href="https://c.example/3">the third long story of today</a></p></body></html>'
    )
    cleaned = clean_html(html)
    assert "the third long story of today" in cleaned.html
    assert not removed(cleaned.removed, "row of icon links") and not removed(cleaned.removed, "navigation bar")


def test_a_navigation_bar_at_the_top_goes_and_the_same_links_lower_down_stay() -> None:
    nav = (
        '<p><a href="https://site.example/">Home</a> | <a href="https://site.example/archive">Archive</a> | '
        '<a href="https://site.example/jobs">Jobs</a> | <a href="https://site.example/about">About us</a></p>'
    )
    article = "<p>" + "The article begins here and goes on for a while with real sentences. " * 8 + "</p>"
    top = clean_html(f"<html><body>{nav}{article}</body></html>")
    assert "Archive" not in top.html and "The article begins here" in top.html
    assert removed(top.removed, "navigation bar")
    lower = clean_html(f"<html><body>{article}{nav}{article}</body></html>")
    assert "Archive" in lower.html  # after 200 characters of text it is no bar at the top


@needs_corpus
def test_blocks_marked_as_ads_go_and_so_do_the_items_a_marked_badge_labels() -> None:
    money = corpus_note("omnivore-readability/money-stuff/source.html")
    assert "sli.bloomberg.com/imp" not in money.text  # LiveIntent's `liveintent-flex-ad` blocks
    assert removed(money.cleaned.removed, "ad block (marked)")
    # Cooperpress marks a sponsored item by a badge on its byline line ("Mux <span class=tag-sponsor>"):
    # the badge holds no link, the item around that line (one offer: logo, title, text) goes whole
    golang = corpus_note("omnivore-readability/golang-weekly/source.html")
    assert len(removed(golang.cleaned.removed, "ad item (marked badge)")) == 2
    assert "Mux sponsor" not in golang.text and "Build Video for Go That Just Works" not in golang.text
    assert "Buildkite sponsor" not in golang.text
    assert "[Go’s Version Control History]" in golang.text and "Russ Cox" in golang.text  # the editors' items stay


@needs_corpus
def test_the_view_online_line_at_the_top_goes_by_its_link() -> None:
    """Kessel's top "Ouvrir dans le navigateur" link leads to the issue's own page (`…/posts/pst_…`): its line
    goes before the article and the page is the note's `url`, minus the reader's referral code."""
    note = corpus_note("n2rss/kessel/spermatozoides.eml")
    assert note.fields.url_source == "view-online"
    assert note.fields.url.startswith("https://hypertextes.kessel.media/posts/pst_9a4c993afbaf4568a728a09e2e8b7bb0")
    assert "source_referral" not in note.fields.url
    body = body_of(note.text)
    assert "Gérer mon abonnement" not in body and "Ouvrir dans le navigateur" not in body


def test_a_first_link_to_the_issues_own_page_is_its_view_online_line_whatever_it_says() -> None:
    """ "View on fieldnotes.example" is in no phrase list; it leads to `…/field-notes-weekly-issue-42/`, the
    subject as a slug: the issue's web copy. It gives the note its `url` and its line goes; the next link,
    to issue 41, is an article link and stays."""
    note = fixture_note("web-copy-link.eml")
    assert note.fields.url == "https://fieldnotes.example/field-notes-weekly-issue-42/"
    assert note.fields.url_source == "view-online"
    assert removed(note.cleaned.removed, "view-online line (by its link)")
    body = body_of(note.text)
    assert "View on fieldnotes.example" not in body
    assert "[Issue #41 is here](https://fieldnotes.example/field-notes-weekly-issue-41/)" in body


def test_an_article_link_carrying_the_readers_address_at_the_top_stays() -> None:
    """The HubSpot-style fixture's first paragraph links a blog post with ?email=<reader>: an article link."""
    note = fixture_note(HUBSPOT)
    assert "Cette semaine, trois lectures sur la lenteur" in note.text
    assert not removed(note.cleaned.removed, "view-online line")


# --- The outline ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("item", "kept"),
    [
        ("Hi ,", False),
        ("Hello", False),
        ("Hallo zusammen!", False),
        ("Chers Suricates,", False),
        ("17\\.", False),
        ("1** **…** **2", False),
        ("View this email in your browser", False),
        ("Hello World: a new framework for building apps", True),
        ("Offrez Avertinoo pour les fêtes", True),
    ],
)
def test_outline_items_are_never_salutations_chrome_or_numbers(item: str, kept: bool) -> None:
    assert _outlines(item, lead=True) is kept  # at the top of the article, where salutations sit


@needs_corpus
def test_a_styled_salutation_heading_is_not_in_the_outline() -> None:
    outline = corpus_note("mailcore2/avertinoo-newsletter-5.eml").text.split("## Outline", 1)[1].split("## Tags")[0]
    assert "Chers Suricates" not in outline
    assert "Offrez Avertinoo pour les fêtes" in outline


def test_a_share_row_of_small_icons_with_one_word_captions_goes() -> None:
    """Mailchimp's default share block: each 24 px icon beside its caption link ("Share", "Tweet",
    "Forward"), fourteen tables deep, every link through the same click tracker (so no distinct sites):
    the small images make it a row of icons. The article's paragraphs stay."""
    note = fixture_note("mailchimp-captioned-share-row.eml")
    assert removed(note.cleaned.removed, "row of icon links (social or share): 'Share Tweet Forward'")
    body = body_of(note.text)
    assert "Tweet" not in body and "color-facebook-48.png" not in body
    assert "the training takes one afternoon and tea is included" in body


@needs_corpus
def test_a_substack_preamble_is_the_writers_and_stays() -> None:
    """Substack's `.preamble` holds the email header the writer sets above the post ("this is a header test" in
    a test post whose article is one word): removing it as chrome emptied the note."""
    body = body_of(corpus_note("omnivore/substack-newsletter-new.html").text)
    assert "this is a header test" in body
    assert "content" in body
    assert "Open in app" not in body
