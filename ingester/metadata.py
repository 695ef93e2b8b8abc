"""What a note says about its post, each value with where it came from. Pure.

Sources, best first (../shared/reference/newsletters.md): title from the post's own heading, else
the Subject; author from the byline, else Substack's "Author from Publication", else the From
name (a list's "'Alice' via Team": Alice); publication identity from List-Id, else the From address
(never the display name), but a newsletter a mailing list relayed is its sender's; date
from the Date header (a forward's own block for forwards), else the server's INTERNALDATE;
canonical URL from a post-shaped List-Post, X-Newsletter, the title link, or "view in browser".
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

from ingester import classify
from ingester.clean import PostHeader
from ingester.links import LinkContext, clean, clean_url
from ingester.links.sites import site
from ingester.markdown import strip_invisible
from ingester.message import Newsletter


@dataclass(frozen=True)
class Metadata:
    """The decided values and, for each, its source (a short tag shown by `ingest explain`)."""

    title: str
    author: str
    publication: str
    publication_id: str
    date: datetime | None
    url: str
    sources: tuple[tuple[str, str], ...]

    def source(self, name: str) -> str:
        return dict(self.sources).get(name, "none")

    @property
    def url_source(self) -> str:
        return self.source("url")


def link_context(letter: Newsletter, platform: str) -> LinkContext:
    """The sender's own publication host (a Substack custom domain), from List-Post."""
    hosts = set()
    if platform == "substack":
        for url in re.findall(r"https?://[^>\s,]+", letter.list_post):
            if host := urlsplit(url).hostname:
                hosts.add(host.lower())
    return LinkContext(publication_hosts=frozenset(hosts))


def decide(
    letter: Newsletter, header: PostHeader, context: LinkContext, internaldate: datetime | None = None
) -> Metadata:
    """Pick every metadata value from the best source that has it."""
    sources: list[tuple[str, str]] = []

    def pick(name: str, *candidates: tuple[str, object]) -> object:
        for source, value in candidates:
            if value:
                sources.append((name, source))
                return value
        sources.append((name, "none"))
        return None

    forwarded = " (forwarded)" if letter.forwarded_by else ""
    substack_split = " from " in letter.from_name and classify.is_substack_sender(letter)
    title = pick("title", ("post-title", strip_invisible(header.title)), ("subject" + forwarded, subject_title(letter)))
    own, own_source = own_name(letter)
    person = letter.from_name.split(" from ", 1)[0].strip() if own_source.startswith("from-name") else ""
    author = pick(
        "author",
        ("byline", header.author),
        ("from-name before ' from '" + forwarded, person),  # "Marco" of "Marco from CloudSecList"
        (
            "from-name before ' from '" + forwarded if substack_split else "from-name" + forwarded,
            classify.author_name(letter),
        ),
    )
    substack_local = letter.from_addr.split("@")[0] if letter.from_addr.endswith("@substack.com") else ""
    publication_id = pick(
        "publication_id",
        # a newsletter a mailing list relayed is its sender's: the list is only the way it came
        ("relayed sender", relayed_key(letter)),
        ("list-id", classify.list_id_key(letter)),
        # a forwarded copy has no List-Id: the same identity as a direct copy's
        ("substack sender", f"{substack_local}.substack.com" if substack_local else ""),
        ("from-address" + forwarded, letter.from_addr),
    )
    publication = pick(
        "publication",
        (own_source, own),
        ("from-name after ' from '" if substack_split else "from-name" + forwarded, classify.publication_name(letter)),
    )
    date = pick(
        "date", ("date-header" if not forwarded else "forward block", letter.date), ("internaldate", internaldate)
    )
    url, url_source = canonical_url(letter, context, header.title_url, header.view_online_url)
    sources.append(("url", url_source))
    return Metadata(
        title=str(title or "(no subject)"),
        author=str(author or ""),
        publication=str(publication or ""),
        publication_id=str(publication_id or ""),
        date=date if isinstance(date, datetime) else None,
        url=url,
        sources=tuple(sources),
    )


# A bracketed tag opening a Subject ("[intheloop@tacticaltech] …", "[HC Announce] …"), and the words in it
LEADING_TAG = re.compile(r"\[([^\[\]]{1,60})\]\s*(?=\S)")
TAG_WORD = re.compile(r"[^\W_]{3,}")


def subject_title(letter: Newsletter) -> str:
    """The Subject as a title: without a leading tag that names the mailing list or the sender (Mailman's
    subject prefix, "[intheloop@tacticaltech]" for List-Id `intheloop.lists.tacticaltech.org`;
    "[ElixirWeekly]" from "ElixirWeekly <newsletter@elixirweekly.net>"): that is the note's publication,
    not part of the post's title. Every word of three or more characters in the tag must be one of the
    List-Id's, the From name's or the From address's (top-level domains aside); a tag that says more
    ("[Bug 381598]" on the "Ubuntu bug tracker" list, "[Draft]") is the sender's own and stays."""
    subject = strip_invisible(letter.subject)
    tag = LEADING_TAG.match(subject)
    names = (letter.list_id, letter.from_name, letter.from_addr)  # the list's and the sender's, without the TLD
    list_words = {w.lower() for name in names for w in TAG_WORD.findall(name.rsplit(".", 1)[0])}
    tag_words = {w.lower() for w in TAG_WORD.findall(tag.group(1))} if tag else set()
    if tag and tag_words and tag_words <= list_words:
        return subject[tag.end() :]
    return subject


MAX_NAME_WORDS = 6  # words of a publication's name at the start of a Subject


def own_name(letter: Newsletter) -> tuple[str, str]:
    """The publication's name as the mail's own site spells it, and where it was found; ("", "") when no
    better name than the From display name is found. The site is the registrable domain of the From
    address ("sreweekly" of lex@sreweekly.com). The part of the From name after " from " when it spells
    the site ("Marco from CloudSecList": a person from the publication); else a From name that holds the
    site's name is the name ("Hacker Newsletter" for hackernewsletter.com, "Blendle Weekoverzicht" for
    blendle.com); else a run of words opening the Subject that spells it ("SRE Weekly Issue #154" from "Lex Neva
    <lex@sreweekly.com>"): a person's name in From is no publication when the mail names its own site.
    Substack senders are left to `classify.publication_name` (their site is substack.com's)."""
    if classify.is_substack_sender(letter) or "@" not in letter.from_addr:
        return "", ""
    label = site(letter.from_addr.rsplit("@", 1)[1]).split(".", 1)[0]
    forwarded = " (forwarded)" if letter.forwarded_by else ""
    after = letter.from_name.split(" from ", 1)[1].strip() if " from " in letter.from_name else ""
    if after and _squashed(after) == label:
        return after, "from-name after ' from ' (the site's name)" + forwarded
    if len(label) < 3 or label in _squashed(letter.from_name):
        return "", ""
    words = [w for w in subject_title(letter).split() if any(c.isalnum() for c in w)]
    for k in range(1, min(MAX_NAME_WORDS, len(words)) + 1):
        if _squashed(" ".join(words[:k])) == label:
            return " ".join(words[:k]).strip(" :-–—|#"), "subject (the site's name)" + forwarded
    return "", ""


def _squashed(text: str) -> str:
    """Letters and digits only, case-folded: "SRE Weekly" and "sreweekly" are one name."""
    return "".join(c for c in text.casefold() if c.isalnum())


def publication_key(letter: Newsletter) -> str:
    """The `publication_id` `decide` gives this message (List-Id, Substack sender, From address), from
    its header alone: the pipeline asks the ledger's memory of the publication before conversion."""
    substack_local = letter.from_addr.split("@")[0] if letter.from_addr.endswith("@substack.com") else ""
    return (
        relayed_key(letter)
        or classify.list_id_key(letter)
        or (f"{substack_local}.substack.com" if substack_local else letter.from_addr)
    )


def relayed_key(letter: Newsletter) -> str:
    """The `publication_id` of a newsletter a mailing list relayed: its sender's address, or ""."""
    return classify.relayed_sender_address(letter) if classify.relayed_newsletter(letter) else ""


# A "view online" link carrying a long opaque value (Inxmail's `params=…`) is this reader's copy: not a
# link to keep in a note, nor one to share.
PERSONAL_TOKEN = re.compile(r"[?&;][^=&#]*=[A-Za-z0-9%+/_.~-]{40,}")
NOT_CANONICAL = frozenset({"opaque", "personal", "credential"})
SUBSTACK_APP_LINK = re.compile(r"https://substack\.com/app-link/post\b")
SUBSTACK_ON_WEB = re.compile(r"View this post on the web at (https?://\S+/p/\S+)")


def canonical_url(letter: Newsletter, context: LinkContext, title_url: str, view_online_url: str) -> tuple[str, str]:
    """(clean URL, where it came from): List-Post when post-shaped, X-Newsletter, title link, view online."""
    list_post = re.search(r"<(https?://[^>]+)>", letter.list_post)
    found = clean(list_post.group(1), context) if list_post else None
    if (
        list_post
        and found
        and found.kind not in NOT_CANONICAL
        and not re.search(r"/post/?$|groups\.google\.", found.original)
    ):
        return found.url, "list-post"
    x_newsletter = re.search(r"https?://[^\s<>]+", letter.header("X-Newsletter"))
    found = clean(x_newsletter.group(0), context) if x_newsletter else None
    if found and found.kind not in NOT_CANONICAL:
        return found.url, "x-newsletter"
    # A forwarded Substack issue's title links to the app (`substack.com/app-link/post?…`); its text
    # part names the post itself: "View this post on the web at https://…/p/…".
    on_web = SUBSTACK_ON_WEB.search(letter.text or "") if SUBSTACK_APP_LINK.match(title_url) else None
    if on_web:
        return clean_url(on_web.group(1), context), "view-online"
    # an opaque click wrapper is no canonical link: it only says "someone clicked" to the sender
    # nor is a link that identifies the reader (a per-reader "view in browser" copy)
    if title_url.startswith(("http://", "https://")) and clean(title_url, context).kind not in NOT_CANONICAL:
        return title_url, "title-link"
    if (
        view_online_url.startswith(("http://", "https://"))
        and clean(view_online_url, context).kind not in NOT_CANONICAL
        and not PERSONAL_TOKEN.search(view_online_url)
    ):
        return view_online_url, "view-online"
    return "", "none"
