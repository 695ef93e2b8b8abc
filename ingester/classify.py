"""What kind of message this is: a newsletter or not (and why), a mail asking the reader to act
(confirm a subscription, verify forwarding) and its link, the sending platform, and the names of
the publication and its author as the headers give them. Pure.
"""

from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass

from ingester import message
from ingester.chrome import CONFIRM_HINT
from ingester.clean import confirm_link
from ingester.message import Newsletter

LIST_HEADERS = ("List-Unsubscribe", "List-Id", "List-Post")


CONFIRM_SUBJECT = re.compile(
    r"(?:confirm|verify|activate|bestätig|confirme|确认|验证).{0,40}(?:newsletter|subscription|sign\s*-?\s*up|e-?mail|"
    r"address|abonnement|anmeldung|订阅)|gmail forwarding confirmation|please confirm",
    re.I,
)
CONFIRM_BODY = re.compile(r"confirm your subscription|confirm your email|bitte bestätigen sie", re.I)


@dataclass(frozen=True)
class Action:
    """A mail that asks the reader to act: why, and the link to act on, exactly as the sender wrote it.

    Such mails are not filed as notes: the run lists them so a person can act (never opened, never cleaned).
    """

    reason: str  # "confirm subscription" | "Gmail forwarding verification"
    link: str


def needs_action(letter: Newsletter) -> Action | None:
    """The action this message asks of the reader (confirm a subscription, verify forwarding), or None."""
    if letter.from_addr == "forwarding-noreply@google.com":
        reason = "Gmail forwarding verification"
    elif CONFIRM_SUBJECT.search(letter.subject):
        reason = "confirm subscription"
    else:
        body = letter.text or message.visible_text(letter.html or "")
        if len(body) >= 5000 or not CONFIRM_BODY.search(body):
            return None
        reason = "confirm subscription"
    link = confirm_link(letter.html) if letter.html else first_url(letter.text or "", CONFIRM_HINT)
    return Action(reason, link)


def first_url(text: str, hint: re.Pattern[str]) -> str:
    """The first http(s) URL in plain text that matches `hint`, else the first URL at all, else ""."""
    urls = re.findall(r"https?://[^\s<>\"')\]]+", text)
    return next((u for u in urls if hint.search(u)), urls[0] if urls else "")


def newsletter_reason(letter: Newsletter, allow_senders: tuple[str, ...] = ()) -> str | None:
    """Why this message counts as a newsletter (list headers or an allow rule), or None if it doesn't."""
    present = [name for name in LIST_HEADERS if letter.header(name)]
    if present:
        return f"{present[0]} header"
    for pattern in allow_senders:
        if letter.from_addr and fnmatch.fnmatchcase(letter.from_addr, pattern):
            return f"sender matches allow rule {pattern!r}"
    return None


def detect_platform(letter: Newsletter) -> str:
    """The sending platform from headers and HTML fingerprints; "newsletter" when none is recognised."""
    # Only headers that sending platforms set: a Subject mentioning "ConvertKit" says nothing.
    headers = "\n".join(
        f"{k}: {v}" for k, v in letter.headers if k.lower().startswith(("x-", "list-", "feedback-id"))
    ).lower()
    html = (letter.html or "")[:200_000].lower()
    checks = (
        ("substack", is_substack_sender(letter) or "substackcdn.com" in html),
        ("beehiiv", "x-beehiiv-type" in headers or "media.beehiiv.com" in html),
        (
            "mailchimp",
            "list-id.mcsv.net" in letter.list_id.lower()
            or "x-mailer: mailchimp" in headers
            or "list-manage.com" in html,
        ),
        ("convertkit", "convertkit" in headers or "convertkit-mail" in html or "kit-mail" in html),
        ("ghost", "ghost.org" in html or "view-online-link" in html),
        ("buttondown", "buttondown" in letter.from_addr or "buttondown.email" in html or "buttondown.com" in html),
    )
    for name, hit in checks:
        if hit:
            return name
    if letter.header("List-Post").lower().startswith("<mailto:") or "mailman" in headers:
        return "mailing-list"
    return "newsletter"


def list_id_key(letter: Newsletter) -> str:
    """The identifier inside List-Id's angle brackets, lower-cased (`fieldnotes.substack.com`), or ""."""
    match = re.search(r"<([^<>]+)>", letter.list_id)
    key = match.group(1).strip().lower() if match else ""
    # some senders fill List-Id with nothing that identifies them ("0" <15.123.localhost>)
    return "" if not key or key.endswith((".localhost", ".local")) or re.fullmatch(r"[\d.]+", key) else key


def is_substack_sender(letter: Newsletter) -> bool:
    """Sent by Substack itself (its From names read "Author from Publication")."""
    return letter.from_addr.endswith("@substack.com") or "substack.com" in letter.list_id.lower()


def publication_name(letter: Newsletter) -> str:
    """A human label for the publication: Substack's "Author from Publication", else the From name."""
    name = letter.from_name
    if " from " in name and is_substack_sender(letter):
        return name.split(" from ", 1)[1].strip()
    list_label = re.sub(r"<[^>]*>", "", letter.list_id).strip().strip('"')
    return name or list_label or letter.from_addr


def author_name(letter: Newsletter) -> str:
    """The author as the From header gives it (Substack: the part before " from ")."""
    name = letter.from_name
    return name.split(" from ", 1)[0].strip() if " from " in name and is_substack_sender(letter) else name
