"""Chrome by principle, not by phrase lists (issue #14, review round): one notion of the ids an unsubscribe
link shares, the reader in every encoded form, sites as registrable domains of unwrapped destinations, one
reading of image sizes, each link cleaned once per message, salutations found by position. Each test
names what the phrase- or shortcut-based rule it replaces got wrong."""

from __future__ import annotations

import base64
import hashlib
import re

import pytest

from ingester import message
from ingester.clean import clean_html, tally
from ingester.clean.dom import index
from ingester.clean.ends import chrome_link, names_reader, shares_identity
from ingester.clean.rows import icon_rows
from ingester.clean.tally import Tally
from ingester.identity import derive
from ingester.links import CleanedUrl, LinkContext
from ingester.links.sites import SUFFIX_FILE, site
from ingester.render import _outlines, outline, split_sections
from tests.conftest import body_of, corpus_message, corpus_note, needs_corpus

READER = "anna.reader@example.org"


# --- The unsubscribe link's identity: ids, not words ------------------------------------------------------------


def test_words_two_urls_share_are_no_identity() -> None:
    """ "weekly-digest" and "articles" are 8+ characters each: the old token rule took them for ids and an
    article link on the sender's host for the unsubscribe link. `identity.unsubscribe_ids` knows words."""
    listed = ("https://news.example.com/weekly-digest/articles/unsubscribe?u=9f3a71c2e8&list=4b7d19e0a2",)
    assert not shares_identity("https://news.example.com/weekly-digest/articles", listed)
    assert shares_identity("https://news.example.com/weekly-digest/articles/optout?u=9f3a71c2e8&l=4b7d19e0a2", listed)


@needs_corpus
def test_a_mailchimp_click_link_with_the_accounts_and_readers_ids_is_no_unsubscribe_link() -> None:
    """Every Mailchimp click link carries u=<account> and e=<reader>, both in List-Unsubscribe; its own click
    id (id=c84ddcbb09) is not there: the article's first link is no view-online line."""
    letter = message.parse(corpus_message("n2rss/kotlin-weekly/388.eml"))
    listed = tuple(re.findall(r"<(https?://[^>]+)>", letter.header("List-Unsubscribe")))
    href = (
        "https://kotlinweekly.us12.list-manage.com/track/click?u=f39692e245b94f7fb693b6d82&id=c84ddcbb09&e=8523a5b059"
    )
    assert not shares_identity(href, listed)
    assert "Comparing coroutines, by example, in Kotlin and Python" in corpus_note("n2rss/kotlin-weekly/388.eml").text


# --- The reader's address in any form ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "form",
    [
        hashlib.md5(READER.encode()).hexdigest(),  # noqa: S324 - what trackers use
        hashlib.sha256(READER.encode()).hexdigest(),
        base64.urlsafe_b64encode(READER.encode()).decode().rstrip("="),
        "anna.reader%2540example.org",  # %-encoded twice
    ],
)
def test_the_last_link_holding_the_readers_address_in_an_encoded_form_is_chrome(form: str) -> None:
    """A footer's "manage your subscription" link carries the reader hashed or base64-encoded as often as
    plainly; the old test looked for the plain address only."""
    context = LinkContext(reader=derive((READER,)))
    href = f"https://lists.example.net/profile?sub={form}"
    assert names_reader(href, context)
    anchor = index(f'<html><body><p><a href="{href}">Your profile</a></p></body></html>').named("a")[0]
    assert chrome_link(anchor, Tally(), context, last=True)
    assert not names_reader("https://lists.example.net/profile?sub=0123456789abcdef", context)


# --- Sites: registrable domains of where links really go --------------------------------------------------------


def test_sites_are_registrable_domains() -> None:
    readme = (SUFFIX_FILE.parents[1] / "README.md").read_text(encoding="utf-8")
    digest = re.search(r"public_suffix_list\.dat.*?sha256\s+`([0-9a-f]{64})`", readme, re.S)
    assert digest and hashlib.sha256(SUFFIX_FILE.read_bytes()).hexdigest() == digest.group(1)  # vendored as is
    assert site("news.bbc.co.uk") == "bbc.co.uk" != site("www.itv.co.uk")
    assert site("a.github.io") != site("b.github.io")  # a hosted site is a site of its own
    assert site("www.example.com") == site("example.com") == "example.com"


def icon_row_html(hrefs: list[str]) -> str:
    links = " ".join(f'<a href="{h}"><img src="https://cdn.example.com/i{n}.png"></a>' for n, h in enumerate(hrefs))
    return f"<html><body><p>{'An article paragraph of some length. ' * 10}</p><p>{links}</p></body></html>"


@pytest.mark.parametrize(
    "hrefs",
    [
        # three sites under one public suffix: "last two labels" saw one ("co.uk")
        ["https://www.bbc.co.uk/news", "https://www.itv.co.uk/", "https://www.channel4.co.uk/"],
        # three sites behind one redirector that `links` unwraps offline: the wrapper's host saw one
        [
            "https://eur01.safelinks.protection.outlook.com/?url=https%3A%2F%2Ftwitter.com%2Fx&data=1",
            "https://eur01.safelinks.protection.outlook.com/?url=https%3A%2F%2Fwww.facebook.com%2Fx&data=2",
            "https://eur01.safelinks.protection.outlook.com/?url=https%3A%2F%2Fwww.linkedin.com%2Fx&data=3",
        ],
    ],
)
def test_an_icon_row_to_different_sites_is_found_by_their_registrable_domains(hrefs: list[str]) -> None:
    """Unsized images (nothing says they are small): only their distinct sites make the row a social row."""
    html = icon_row_html(hrefs)
    ix = index(html)
    assert icon_rows(ix.named("a"), Tally(document_size=ix.document_size), LinkContext())
    assert "row of icon links" in " ".join(clean_html(html).removed)


def test_icons_on_one_site_are_no_social_row() -> None:
    """Three unsized image links to one site (a product gallery) stay."""
    html = icon_row_html(["https://shop.example.co.uk/a", "https://www.example.co.uk/b", "https://example.co.uk/c"])
    assert "row of icon links" not in " ".join(clean_html(html).removed)


# --- One reading of an image's size -----------------------------------------------------------------------------


@needs_corpus
@pytest.mark.parametrize("path", ["n2rss/gdiy/cet-episode.eml", "n2rss/kessel/diplomatie.eml"])
def test_a_share_row_of_icons_sized_in_px_attributes_goes(path: str) -> None:
    """Kessel's share row is five `<img width="40px" height="40px">` links: the icon test read only bare
    digits ("40"), the pixel test "40px" too; one reading of sizes (`prune.declared_sizes`) serves both."""
    note = corpus_note(path)
    assert "static/tw.png" not in body_of(note.text)
    assert any(line.startswith("row of icon links") for line in note.cleaned.removed)


# --- Each link cleaned once per message --------------------------------------------------------------------------


@needs_corpus
def test_chrome_steps_clean_each_href_once_per_message(monkeypatch: pytest.MonkeyPatch) -> None:
    """The view-online pass, the footer walk and the icon rows all look at links: `Tally.peek` cleans each
    href once for the whole message (the footer walk used to clean it again on every pass)."""
    calls: dict[str, int] = {}
    real = tally.clean

    def counting(url: str, context: LinkContext | None = None) -> CleanedUrl:
        calls[url] = calls.get(url, 0) + 1
        return real(url, context)

    monkeypatch.setattr(tally, "clean", counting)
    monkeypatch.setattr("ingester.clean.ends.clean", counting, raising=False)
    letter = message.parse(corpus_message("n2rss/gdiy/cet-episode.eml"))
    clean_html(letter.html or "", "newsletter", LinkContext())
    assert calls and max(calls.values()) == 1, [u for u, n in calls.items() if n > 1][:3]


# --- Salutations by position and by the reader --------------------------------------------------------------------


def test_a_salutation_is_found_where_it_sits_whatever_its_words() -> None:
    """ "Moikka kaikki," (Finnish) is in no greeting list: the article's opening short heading ending in a
    comma is the salutation; the same line lower down, after the article has begun, is no salutation."""
    first = ["## THE DISPATCH -- Issue 118", "## Moikka kaikki,", "Hello there.", "## This week in the garden", "Text."]
    markdown = "\n\n".join(first)
    assert outline(split_sections(markdown)) == "- THE DISPATCH -- Issue 118\n- This week in the garden"
    later = ["## One", "## Two", "## Three", "## Four", "## And so, in short,"]
    markdown = "\n\n".join(f"{line}\n\nText." for line in later)
    assert "- And so, in short," in outline(split_sections(markdown))


@pytest.mark.parametrize("item", ["Moi [reader]!", "Servus \\[reader\\]"])
def test_a_short_line_holding_the_readers_mark_is_a_salutation_anywhere(item: str) -> None:
    """The reader's redacted address in a short line ("Moi [reader]!") greets them, in any language."""
    assert not _outlines(item)
    assert not _outlines(item, lead=True)


# --- Sponsored blocks: a label as the hint, the block's shape as the rule ------------------------------------------


@needs_corpus
@pytest.mark.parametrize(
    ("path", "ad", "before", "after"),
    [
        # Mailchimp, English label; links opaque click trackers
        (
            "n2rss/kotlin-weekly/462.eml",
            "Structured concurrency made Kotlin stand out",
            "proandroiddev.com",
            "Functional Core Imperative Shell",
        ),
        # Constant Contact: the label in a text block of its own, the logo, title and text in the next columns
        (
            "n2rss/android-weekly/606.eml",
            "Mobile engineers need a better way",
            "Improving unit test",
            "A Better Hash Map",
        ),
        # French label ("En partenariat avec …"), SendGrid click trackers
        ("omnivore/ttso-newsletter.html", "Réinventez l’avenir de vos enfants", "Partager sur", "La Q de la semaine"),
    ],
)
def test_a_labelled_self_contained_ad_goes_and_its_neighbours_stay(path: str, ad: str, before: str, after: str) -> None:
    note = corpus_note(path)
    body = body_of(note.text)
    assert ad not in body
    assert any(line.startswith("sponsored block") for line in note.cleaned.removed)
    assert before in body and after in body


@needs_corpus
def test_a_sponsor_label_whose_block_is_no_ad_unit_stays() -> None:
    """Axios' "Presented By Pfizer" sits in the masthead table with the first story (its links go to axios.com,
    the mail's own site; the blocks after it hold no link before the spacer): it stays whole."""
    axios = corpus_note("omnivore-readability/axios-am/source.html")
    assert "Axios AM Thought Bubble" in axios.text and "Presented By Pfizer" in axios.text
    assert not any(line.startswith("sponsored block") for line in axios.cleaned.removed)


@needs_corpus
def test_a_label_alone_in_its_block_takes_the_blocks_after_it_up_to_a_spacer() -> None:
    """ConvertKit's "Sponsored by Royce…" is a table of its own; the logo and the line under it are the
    paragraphs after it, up to an empty one: they go, and the sign-off after the spacer stays."""
    body = body_of(corpus_note("omnivore/convertkit-newsletter.html").text)
    assert "Royce" not in body and "filekitcdn.com" not in body
    assert "Cheers," in body and "Shane" in body


ARTICLE = "".join(
    f'<p>Story {n} of the week, told at some length. <a href="https://news.example.com/{n}">Read it</a></p>'
    for n in range(6)
)


@pytest.mark.parametrize(
    ("label", "href", "goes"),
    [
        ("Anzeige", "https://acme.example.org/offer", True),
        ("Sponsored by Acme", "https://www.acme.co.uk/offer", True),
        ("Presented by Acme", "https://news.example.com/offer", False),  # the publication's own site: its own block
        ("Anzeige", "https://news.example.com/offer", True),  # a bare label: the sender's own offer is an ad too
        ("Sponsored posts are how we pay for this newsletter", "https://acme.example.org/", False),  # no label
    ],
)
def test_a_labelled_block_goes_only_when_it_links_elsewhere(label: str, href: str, goes: bool) -> None:
    ad = (
        f'<table><tr><td><p>{label}</p><img src="https://cdn.example.org/acme.png" width="120">'
        f'<p>Acme makes the widgets every team needs. <a href="{href}">Try Acme</a></p></td></tr></table>'
    )
    cleaned = clean_html(f"<html><body>{ARTICLE}{ad}{ARTICLE}</body></html>")
    assert ("Acme makes the widgets" not in cleaned.html) is goes
    assert "Story 5 of the week" in cleaned.html


# --- The sender's postal address goes with the footer, by its shape ----------------------------------------------

STORY = "".join(f"<p>Paragraph {n} of the article, with enough words in it to be read as prose.</p>" for n in range(8))
FOOTER = "<p>You are receiving this because you subscribed at example.net.</p>"
UNSUBSCRIBE = '<p><a href="https://lists.example.net/unsubscribe?u=4b7d19e0a2">Unsubscribe</a></p>'
LISTED = LinkContext(unsubscribe_urls=("https://lists.example.net/unsubscribe?u=4b7d19e0a2",))


@pytest.mark.parametrize(
    "address",
    [
        "Acme Media Ltd, 12 Baker Street, London NW1 6XE, United Kingdom",  # no US or German postcode shape
        "Beispiel AG, Bahnhofstrasse 12, 8001 Zürich, Schweiz",  # a four-digit postcode
        "De Krant BV, Keizersgracht 123, 1015 CJ Amsterdam, Nederland",
    ],
)
def test_a_postal_address_above_the_footer_goes_in_any_country(address: str) -> None:
    """CAN-SPAM's postal address sits just above the unsubscribe line; no phrase list knows every
    country's format, its shape does (a short line of proper nouns and numbers with a postcode)."""
    cleaned = clean_html(f"<html><body>{STORY}<p>{address}</p>{FOOTER}</body></html>")
    assert address.split(",")[1].strip() not in cleaned.html
    assert "Paragraph 7 of the article" in cleaned.html
    # the unsubscribe line goes first (`prune.drop_chrome`, by its words); the address ends a mail sent to a list
    listed = clean_html(f"<html><body>{STORY}<p>{address}</p>{UNSUBSCRIBE}</body></html>", context=LISTED)
    assert address.split(",")[1].strip() not in listed.html and "Paragraph 7 of the article" in listed.html


def test_an_address_in_the_article_or_ending_it_without_a_footer_stays() -> None:
    address = "The Venue, 12 Baker Street, London NW1 6XE"
    middle = clean_html(f"<html><body>{STORY}<p>{address}</p>{STORY}{FOOTER}</body></html>", context=LISTED)
    assert "12 Baker Street" in middle.html  # the walk stops at the article's last paragraph
    last = clean_html(f"<html><body>{STORY}<p>{address}</p></body></html>")
    assert "12 Baker Street" in last.html  # no footer below it: the article's own last line


@pytest.mark.parametrize(
    "line",
    [
        "In 2023 we raised money for 500 kids in the city.",  # prose
        "We sold 12,500 copies of the book this year",  # a number, no postcode
    ],
)
def test_prose_with_numbers_is_no_address(line: str) -> None:
    from ingester.clean.ends import address_shaped

    assert not address_shaped(line)
    assert address_shaped("Long Beach, CA 90803, USA")
