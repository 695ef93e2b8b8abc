"""Which messages get no note, and why: not mail at all, too large, a request to act (confirm a
subscription), skipped by a rule, or no newsletter. Pure: the pipeline records what this decides."""

from __future__ import annotations

from ingester import classify, message
from ingester.compose import matching_rules
from ingester.config import Config
from ingester.message import RawMessage

NOT_A_MESSAGE = "not an email message (no header of the mail format: From, To, Subject, Date, Received, MIME …)"
# The header fields of the Internet Message Format (RFC 5322: originator, destination, identification,
# informational and trace fields), of MIME (RFC 2045) and of news articles (RFC 5536): a file whose header
# block holds none of them is no mail (a config file, a picture, a web page), whatever else it holds.
MAIL_HEADERS = frozenset((
    "from", "sender", "reply-to", "to", "cc", "bcc", "message-id", "in-reply-to", "references", "subject", "date",
    "return-path", "received", "mime-version", "content-type", "content-transfer-encoding", "newsgroups",
))  # fmt: skip
HEAD_BYTES = 65_536  # of a message over the size limit, read to tell whether it is mail at all
NOT_A_NEWSLETTER = "not a newsletter (no List-Unsubscribe/List-Id/List-Post header, sender not in allow_senders)"


def oversized(size: int, config: Config) -> str:
    return f"too large: {size:,} bytes > [limits] message_bytes = {config.limits.message_bytes:,}"


def is_mail(letter: message.Newsletter) -> bool:
    """Whether the message has at least one header field of the mail format (see MAIL_HEADERS)."""
    return any(name.lower() in MAIL_HEADERS for name, _ in letter.headers)


def skip_reason(
    raw: RawMessage, letter: message.Newsletter, config: Config, all_messages: bool
) -> tuple[str, tuple[tuple[str, str], ...]]:
    """(why this message gets no note, the needs-action entry) — ("", ()) to file it."""
    if not is_mail(letter):
        return NOT_A_MESSAGE, ()
    action = classify.needs_action(letter)
    if action:
        entry = (("source", raw.source), ("subject", letter.subject), ("reason", action.reason), ("link", action.link))
        return f"needs action: {action.reason}" + (f": {action.link}" if action.link else ""), entry
    if any(rule.skip for rule in matching_rules(config.rules, letter)):
        return "skipped by a [[rules]] entry in the config", ()
    if not all_messages and classify.newsletter_reason(letter, config.allow_senders) is None:
        return NOT_A_NEWSLETTER, ()
    return "", ()
