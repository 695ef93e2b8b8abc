"""What one message says about its reader, for link cleaning: who they are (`identity.Reader`), the ids
its unsubscribe URLs carry, the hosts that wrap its clicks, and its platform. Pure.

The unsubscribe URLs are List-Unsubscribe's and the footer's (a link whose text or URL says
"unsubscribe" and that `links.clean` classifies so); the click-wrapping hosts are theirs and those of
the message's tracking pixels, minus the sender's own publication hosts.
"""

from __future__ import annotations

import html as htmllib
import re
from dataclasses import dataclass, replace

from ingester.identity import reader_of
from ingester.links import LinkContext, clean, is_tracker_image
from ingester.links.url import split
from ingester.message import Newsletter

HEADER_URL = re.compile(r"<(https?://[^>\s]+)>", re.I)
ANCHOR = re.compile(r"<a\b[^>]{0,2000}?\bhref\s*=\s*[\"']?([^\"'\s>]+)[^>]{0,2000}>([^<]{0,200})", re.I)
IMAGE = re.compile(r"<img\b[^>]{0,2000}?\bsrc\s*=\s*[\"']?([^\"'\s>]+)", re.I)
UNSUBSCRIBE_HINT = re.compile(r"unsub|opt.?out|abmeld|abbestell|d[ée]sinscri|désabonn|退订|取消订阅", re.I)
MAX_SCANNED = 2000  # anchors and images looked at per message


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
    reader = reader_of(list(letter.headers), list_addresses, privacy.identities)
    reader = replace(reader, redact_names=privacy.redact_names)
    html = (letter.html or "")[:2_000_000]
    unsubscribe = HEADER_URL.findall(letter.header("List-Unsubscribe"))
    unsubscribe += footer_unsubscribe(html, base)
    pixels, images = tracking_images(html)
    # ids the list's headers or the message's real images (the same for every reader) hold are the sender's
    the_list = " ".join((letter.list_id, letter.from_addr, letter.header("Sender"), *images))
    reader = reader.with_shared(unsubscribe, the_list)
    hosts = {u.host for url in unsubscribe if (u := split(url)) is not None} | pixels
    return replace(
        base,
        substack=base.substack or platform == "substack",
        reader=reader if reader else None,
        wrapper_hosts=frozenset(hosts - base.publication_hosts),
        unlink_personal=privacy.unlink_personal,
    )


def footer_unsubscribe(html: str, context: LinkContext) -> list[str]:
    """The URLs of the links that unsubscribe (their text or URL says so, and `clean` agrees)."""
    found = []
    for n, match in enumerate(ANCHOR.finditer(html)):
        if n >= MAX_SCANNED:
            break
        href, text = htmllib.unescape(match.group(1)), match.group(2)
        if not href.lower().startswith("http"):
            continue
        if UNSUBSCRIBE_HINT.search(text) or (
            UNSUBSCRIBE_HINT.search(href) and clean(href, context).kind in ("unsubscribe", "preferences")
        ):
            found.append(href)
    return found


def tracking_images(html: str) -> tuple[set[str], list[str]]:
    """The hosts of the message's known tracking pixels, and the paths of its other images."""
    hosts, images = set(), []
    for n, match in enumerate(IMAGE.finditer(html)):
        if n >= MAX_SCANNED:
            break
        src = htmllib.unescape(match.group(1))
        u = split(src)
        if u is None:
            continue
        if is_tracker_image(src):
            hosts.add(u.host)
        else:
            images.append(u.path)
    return hosts, images
