"""What one message says about its reader, for link cleaning: who they are (`identity.Reader`), the ids
its unsubscribe URLs and open pixels carry, the hosts that wrap its clicks, and its platform. Pure.

The unsubscribe URLs are List-Unsubscribe's and the footer's (a link whose text or URL says
"unsubscribe" and that `links.clean` classifies so). An open-tracking pixel exists to tell the sender
who opened the mail: an id-like value it shares with a link names the reader just as one the
unsubscribe URL shares does (ids the list's headers or the message's real images hold stay the
sender's). The click-wrapping hosts are theirs and those of
the message's tracking pixels and a host most of its links go through with opaque ids, minus the sender's own
publication hosts.
"""

from __future__ import annotations

import html as htmllib
import re
from dataclasses import dataclass, replace

from ingester.identity import header_urls, reader_of
from ingester.links import LinkContext, clean, is_tracker_image
from ingester.links.personal import has_opaque_id
from ingester.links.url import split
from ingester.message import Newsletter

# Tags are found with str.find (linear whatever the input); these read one tag's text, at most MAX_TAG long.
TAG_START = re.compile(r"<(a|img)[\s/]", re.I)
ATTRIBUTE = {
    "a": re.compile(r"\shref\s*=\s*[\"']?([^\"'\s>]+)", re.I),
    "img": re.compile(r"\ssrc\s*=\s*[\"']?([^\"'\s>]+)", re.I),
}
MAX_TAG = 4000
# The lookahead names every first letter (in any case, as re.I matches them): a position that cannot start a
# match is passed over at once, not tried against each word (half the time on link texts and URLs).
UNSUBSCRIBE_HINT = re.compile(
    r"(?=[uoad退取])(?:unsub|opt.?out|abmeld|abbestell|d[ée]sinscri|désabonn|退订|取消订阅)", re.I
)
SUBSTACK_POST = re.compile(r"/p/[^/?#]+")
MAX_SCANNED = 2000  # anchors and images looked at per message
MAX_HTML = 2_000_000  # characters of HTML scanned
MIN_WRAPPED = 5  # links through one host before it counts as the message's click wrapper


@dataclass(frozen=True)
class Privacy:
    """The reader-related settings of the config (`compose.Settings` carries them to every message).

    :ivar identities: `[privacy] identities` and the accounts' usernames
    :ivar redact_names: `[privacy] redact_names`
    :ivar unlink_personal: `[links] personal = "unlink"`
    """

    identities: tuple[str, ...] = ()
    redact_names: bool = False
    unlink_personal: bool = False


def message_context(letter: Newsletter, base: LinkContext, platform: str, privacy: Privacy) -> LinkContext:
    """`base` with this message's reader, unsubscribe ids, click-wrapping hosts and platform."""
    list_addresses = (letter.from_addr, *re.findall(r"mailto:([^>?\s]+)", letter.list_post, re.I))
    # a forward's forwarder is the reader who received it
    identities = (*privacy.identities, *((letter.forwarded_by,) if letter.forwarded_by else ()))
    reader = reader_of(list(letter.headers), list_addresses, identities)
    reader = replace(reader, redact_names=privacy.redact_names)
    html = (letter.html or "")[:MAX_HTML]
    header = header_urls(letter.header("List-Unsubscribe"))  # its mailto address carries the id too
    listed = tuple(url for url in header if not url.lower().startswith("mailto:"))
    unsubscribe = list(header)
    # once for both scans (a long mail's lower() costs as much as a scan), shared with platform detection
    lowered = letter.html_lower if len(html) == len(letter.html or "") else html.lower()
    hrefs = anchors(html, lowered)
    unsubscribe += footer_unsubscribe(hrefs, base)
    pixels, images = tracking_images(html, lowered)
    # ids the list's headers, the campaign's (X-Campaign, X-CampaignID: one campaign for every reader) or the
    # message's real images hold are the sender's: Mailchimp's campaign id is in its archive URL and in
    # List-Unsubscribe, and names the issue, not the reader. (Not Feedback-ID: a sender may put a recipient
    # list's id or worse there, and a miss here would keep a reader's id in links.)
    campaign = [value for name, value in letter.headers if "campaign" in name.lower()]
    the_list = " ".join((letter.list_id, letter.from_addr, letter.header("Sender"), *campaign, *images))
    # an open pixel is there to tell who opened: what it shares with a link names the reader, as the
    # unsubscribe URL's ids do
    reader = reader.with_shared(unsubscribe, the_list, tuple(pixels))
    hosts = {u.host for url in [*unsubscribe, *pixels] if (u := split(url)) is not None} | click_hosts(hrefs)
    publication_hosts = base.publication_hosts
    if platform == "substack":  # its own host on any domain, forwarded or not: where its posts (/p/…) are
        publication_hosts |= {u.host for href, _ in hrefs if (u := split(href)) and SUBSTACK_POST.match(u.path)}
    return replace(
        base,
        publication_hosts=publication_hosts,
        substack=base.substack or platform == "substack",
        reader=reader if reader else None,
        wrapper_hosts=frozenset(hosts - publication_hosts),
        unlink_personal=privacy.unlink_personal,
        unsubscribe_urls=listed,
    )


def tags(html: str, name: str, lowered: str | None = None) -> list[tuple[str, str]]:
    """(the URL attribute, the start of the text after the tag) of the first `MAX_SCANNED` `<a>` or `<img>`;
    `lowered` is `html.lower()` if the caller has it."""
    found: list[tuple[str, str]] = []
    lowered, start = html.lower() if lowered is None else lowered, 0
    while len(found) < MAX_SCANNED:
        start = lowered.find(f"<{name}", start)
        end = lowered.find(">", start) if start >= 0 else -1
        if end < 0:
            break
        tag = html[start : min(end, start + MAX_TAG)]
        match = TAG_START.match(tag + " ")
        value = ATTRIBUTE[name].search(tag) if match and match.group(1).lower() == name else None
        if value is not None:
            text_end = lowered.find("<", end, end + 200)
            found.append(
                (htmllib.unescape(value.group(1)).strip(), html[end + 1 : text_end if text_end > 0 else end + 200])
            )
        start = end
    return found


def anchors(html: str, lowered: str | None = None) -> list[tuple[str, str]]:
    """(href, start of the text) of the message's web links."""
    return [(href, text) for href, text in tags(html, "a", lowered) if href.lower().startswith(("http://", "https://"))]


def footer_unsubscribe(hrefs: list[tuple[str, str]], context: LinkContext) -> list[str]:
    """The URLs of the links that unsubscribe (their text says so, or their URL does and `clean` agrees)."""
    return [
        href
        for href, text in hrefs
        if UNSUBSCRIBE_HINT.search(text)
        or (UNSUBSCRIBE_HINT.search(href) and clean(href, context).kind in ("unsubscribe", "preferences"))
    ]


def click_hosts(hrefs: list[tuple[str, str]]) -> set[str]:
    """A host most links of the message go through, nearly all with an opaque id: a click wrapper."""
    by_host: dict[str, list[bool]] = {}
    for href, _ in hrefs:
        if (u := split(href)) is not None:
            by_host.setdefault(u.host, []).append(has_opaque_id(u))
    return {
        host
        for host, ids in by_host.items()
        if len(ids) >= MIN_WRAPPED and len(ids) * 2 >= len(hrefs) and sum(ids) * 5 >= len(ids) * 4
    }


def tracking_images(html: str, lowered: str | None = None) -> tuple[list[str], list[str]]:
    """The URLs of the message's known tracking pixels, and the paths of its other images."""
    pixels, images = [], []
    for src, _ in tags(html, "img", lowered):
        u = split(src)
        if u is None:
            continue
        if is_tracker_image(src):
            pixels.append(src)
        else:
            images.append(u.path)
    return pixels, images
