"""What ends a mail after its article, found by structure (issue #14): a link bar or site menu at the very
end (short link-only lines, link-dense, after the article's last paragraph), the sending platform's badge
(an image link to the site of the mail's own List-Unsubscribe host, last thing in the mail). Real messages:
`esp-link-bar-badge.eml` (written for this project, mirroring a Constant Contact mail's end, see its
comment), Android Weekly #605 (n2rss, MIT), and the corpus's saved Forte Labs web page. Each test names
what a broken rule gets wrong."""

from __future__ import annotations

from ingester.clean import clean_html
from ingester.clean.dom import index
from ingester.clean.ends import Styles, visible_strings
from ingester.clean.tail import link_bar_start, tail_strings
from ingester.links import LinkContext
from tests.conftest import body_of, corpus_note, fixture_note, needs_corpus

BAR = "esp-link-bar-badge.eml"


def test_a_link_bar_and_the_platforms_badge_ending_the_mail_go() -> None:
    """Four short all-caps links to the dealer's site, after its footer went, and the platform's referral
    badge after them: no phrase names them, their place and shape do."""
    note = fixture_note(BAR)
    body = body_of(note.text)
    for menu in ("LIST A MACHINE", "SOLD LATELY", "IN STOCK NOW", "FAQ", "referralLogos", "espmail"):
        assert menu not in body
    assert any(line.startswith("the sending platform's badge ending the mail") for line in note.cleaned.removed)
    assert any(line.startswith("link bar ending the mail") for line in note.cleaned.removed)


def test_the_article_above_the_bar_stays_with_its_own_short_links_and_logo() -> None:
    """A list of two short links inside the article is no bar (fewer than three, and article text follows
    it); the publication's logo links its own site, not the platform's; the last heading stays."""
    body = body_of(fixture_note(BAR).text)
    assert "[Full specs](https://harbourplant.example/specs/ex-2009)" in body
    assert "(https://harbourplant.example/logo.png)" in body
    assert "we answer the phone on weekends too." in body
    assert "wholesale dealer of heavy equipment" in body


def test_a_sign_off_above_a_bar_is_no_part_of_it() -> None:
    """Short lines above the bar's first link that are not a heading (a sign-off, a name) stay: the bar
    begins at its first link."""
    html = (
        "<html><body><p>"
        + "The article says something long enough to be the article's last paragraph. " * 3
        + "</p><p>Cheers,</p><p>Ana</p>"
        + "".join(f'<p><a href="https://pub.example/{w}">{w}</a></p>' for w in ("Archive", "About", "Jobs"))
        + "</body></html>"
    )
    strings = tail_strings(index(html).soup.body)
    assert strings == [s for s, _ in visible_strings(index(html).soup.body, Styles())][-len(strings) :]
    start = link_bar_start(strings)
    assert start is not None
    assert strings[start].strip() == "Archive"
    # and two links are no bar
    assert link_bar_start(strings[:-1]) is None


def test_a_real_constant_contact_issue_loses_its_closing_menu_not_its_last_item() -> None:
    body = body_of(fixture_note("android-weekly-605.eml").text)
    for menu in ("POST A JOB", "SPONSORED POST", "PATREON", "MERCHANDISE", "[TWITTER]"):
        assert menu not in body
    assert "Nate Ebel explores how to create a new Ktor project" in body  # the issue's last item


@needs_corpus
def test_a_web_pages_site_menus_after_its_address_go_with_the_address() -> None:
    """The saved Forte Labs page ends with its postal address, then column menus ("RESOURCES", "About
    Forte Labs", …), share links and font-probe filler ("word word word …"): the menus are a link bar, and
    once they are gone the address ends the page and the footer walk takes it."""
    body = body_of(corpus_note("omnivore-readability/forte-labs/source.html").text)
    assert "PMB 36973" not in body
    assert "Our Contributors & Collaborators" not in body
    assert "word word word" not in body
    assert "I’ll send you my **Top 10 All-Time Articles** right away as a thank you." in body


# --- Lines about the reader's subscription right above the fine print -------------------------------------------

LINES = "subscribe-lines-above-fine-print.eml"


def test_subscribe_and_contacts_list_lines_above_the_fine_print_go() -> None:
    """Normal-size lines ("Subscribe and read past issues here", "Add our address to your
    contacts list") stood right above the footer: once the footer goes, they end the mail and go too."""
    note = fixture_note(LINES)
    body = body_of(note.text)
    assert "Subscribe and read past issues" not in body
    assert "contacts list" not in body
    assert any(line.startswith("subscription lines ending the mail") for line in note.cleaned.removed)


def test_the_story_above_them_stays_though_it_names_subscribers() -> None:
    """The walk stops at the first line that is not about the reader's subscription: the story's last
    paragraph ("the 4,000 subscribers of the sailing edition") is no such line."""
    assert "the 4,000 subscribers of the sailing edition get the change first." in body_of(fixture_note(LINES).text)


@needs_corpus
def test_a_substack_postscript_offering_the_paid_posts_goes() -> None:
    """Orderflow's closing line links the publication's own /subscribe page ("become a paying subscriber")
    after the post's sign-off; the sign-off and the disclaimer above it stay."""
    body = body_of(corpus_note("omnivore-readability/substack/source.html").text)
    assert "become a paying subscriber" not in body
    assert "~ Tic" in body
    assert "not trading or investment advice" in body


@needs_corpus
def test_a_sign_up_link_to_another_site_is_no_subscription_line() -> None:
    """Axios AM ends with a promotion whose link goes to another site's sign-up page (axioshq.com/signup):
    not the mail's own subscribe page, so the line is no subscription line and stays (it is no article
    either, but no rule here may call it one)."""
    assert "It's called Smart Brevity" in body_of(corpus_note("omnivore-readability/axios-am/source.html").text)


def test_only_an_image_link_to_the_platforms_site_ending_the_mail_is_its_badge() -> None:
    """The badge links the site of the List-Unsubscribe host (the platform's); an image link at the end to
    the publication's own site (where most of its links go) is its logo, and one followed by text is no
    ending."""
    story = "".join(f'<p>Story {n} is long enough. <a href="https://pub.example/{n}">More</a></p>' for n in "abc")
    badge = '<a href="https://www.esp.example/landing"><img src="https://img.esp.example/b.png" width="160"></a>'
    logo = '<a href="https://pub.example/"><img src="https://pub.example/logo.png" width="160"></a>'
    context = LinkContext(unsubscribe_urls=("https://visitor.esp.example/do?p=un&m=001aQ7zK",))

    own_host = LinkContext(unsubscribe_urls=("https://pub.example/unsubscribe?u=001aQ7zK",))

    def removed_of(html: str, context: LinkContext = context) -> tuple[str, ...]:
        return clean_html(f"<html><body>{html}</body></html>", context=context).removed

    assert "the sending platform's badge ending the mail" in removed_of(story + badge)[0]
    assert not removed_of(story + logo)
    assert not removed_of(story + logo, own_host)  # sent from its own domain: its own site is no platform's
    assert not removed_of(story + badge + "<p>A last word from the editor.</p>")
