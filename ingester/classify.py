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
MAX_SCANNED_HTML = 200_000  # characters of HTML looked at for a platform's fingerprints


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
    whole = len(letter.html or "") <= MAX_SCANNED_HTML
    html = letter.html_lower if whole else (letter.html or "")[:MAX_SCANNED_HTML].lower()
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
    if (letter.header("List-Post").lower().startswith("<mailto:") or "mailman" in headers) and not relayed_newsletter(
        letter
    ):
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
    """A human label for the publication: Substack's "Author from Publication", else the From name (a relayed
    newsletter's sender's; the list's own label when the list sent the message under its own address)."""
    name = letter.from_name
    if " from " in name and is_substack_sender(letter):
        return name.split(" from ", 1)[1].strip()
    list_label = re.sub(r"<[^>]*>", "", letter.list_id).strip().strip('"')
    if relayed_newsletter(letter):
        return original_sender(letter)[0] or name or list_label
    if rewritten_from(letter):  # "'Alice' via Team" from the list's address: the list is the publication
        return list_label or VIA.sub(r"\g<list>", name) or name
    return name or list_label or letter.from_addr


def author_name(letter: Newsletter) -> str:
    """The author as the From header gives it (Substack: the part before " from "; a list's "'Alice' via
    Team": Alice, or the name its X-Original-From gives)."""
    name = letter.from_name
    if " from " in name and is_substack_sender(letter):
        return name.split(" from ", 1)[0].strip()
    return original_sender(letter)[0] or name


# Headers a bulk sender's platform sets on its own mail (the feedback-loop id mailbox providers ask bulk senders
# for, a newsletter id): a mailing list relaying such a mail keeps them; a member's post to a list has none.
BULK_MARKS = ("Feedback-ID", "X-Newsletter-Id", "X-Newsletter")
# Headers a mailing list adds to every message it relays (Mailman, Google Groups, Sympa…)
RELAY_MARKS = ("X-BeenThere", "X-Original-From")
# A list that sends a message under its own address names its author "'Alice' via Team" (Google Groups)
# or "Alice via Team" (Mailman's DMARC mitigation)
VIA = re.compile(r"^'?(?P<name>.+?)'? via (?P<list>.+)$")


def list_address(letter: Newsletter) -> str:
    """The mailing list's own address (X-BeenThere, else List-Post's mailto), lower-cased, or ""."""
    been = re.search(r"[^\s<>;,]+@[^\s<>;,]+", letter.header("X-BeenThere"))
    post = re.search(r"mailto:([^>?\s]+)", letter.list_post, re.I)
    return (been.group(0) if been else post.group(1) if post else "").lower()


def rewritten_from(letter: Newsletter) -> bool:
    """The list sent the message under its own address (its author is only named in From's display name or
    in X-Original-From)."""
    own = list_address(letter)
    return bool(own) and letter.from_addr == own


def original_sender(letter: Newsletter) -> tuple[str, str]:
    """(display name, address) of whoever wrote a message a mailing list sent under its own address
    (X-Original-From, else From's "'Alice' via Team" name); ("", "") when From is the writer's own."""
    if not rewritten_from(letter):
        return "", ""
    original = letter.header("X-Original-From")
    if original:
        name, address = message.parse_from(original)
        return name, address
    via = VIA.match(letter.from_name)
    return (via.group("name").strip(), "") if via else ("", "")


def relayed_newsletter(letter: Newsletter) -> bool:
    """A newsletter a mailing list relayed (a team's group address subscribed to it): it carries a bulk sender's
    own marks under the list's. The list is only the way it came: the publication is its sender's."""
    if not any(letter.header(name) for name in RELAY_MARKS) or not any(letter.header(n) for n in BULK_MARKS):
        return False
    return bool(relayed_sender_address(letter))


def relayed_sender_address(letter: Newsletter) -> str:
    """The address of the sender a list relayed the message for (X-Original-From when the list rewrote From)."""
    if rewritten_from(letter):
        return original_sender(letter)[1]
    return letter.from_addr if letter.from_addr != list_address(letter) else ""
