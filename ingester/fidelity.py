"""The content-loss guard after cleaning: did the note keep the article? Pure.

Cleaning refuses any single removal that would take most of the document (`clean.tally.Tally.drop`).
What is left is judged here, by size only (no phrase lists): when the cleaned article keeps less than
MIN_KEPT_SHARE of the message's visible text and the difference is a real loss (MIN_LOST characters
or more), the note takes the message's text/plain part instead, if that part holds the text; else
the note is filed all the same, marked `fidelity: partial`, counted in the run summary and in
`ingest status`, and `ingest explain` says why.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ingester.clean import CleanedHtml

MIN_KEPT_SHARE = 0.2  # of the visible text; real notes keep 40 % or more (chrome is rarely more than half a mail)
MIN_LOST = 1000  # characters: a short mail whose few lines were mostly footer is no loss worth a warning

PARTIAL = "partial"
URL = re.compile(r"<?\b(?:https?|mailto):[^\s>]*>?", re.I)  # the text part spells out its links; the HTML hides them


@dataclass(frozen=True)
class Verdict:
    """What the guard decided for one message.

    :ivar use_text: the note's article is the text/plain part, not the cleaned HTML
    :ivar fidelity: "" (the note holds the article) or "partial" (it may not: see `why`)
    :ivar why: one line for `ingest explain` ("" when there was nothing to say)
    """

    use_text: bool = False
    fidelity: str = ""
    why: str = ""


def judge(cleaned: CleanedHtml, plain: str | None) -> Verdict:
    """Keep the cleaned HTML, take the text/plain part, or file a partial note."""
    visible, kept = cleaned.document_size, cleaned.text_size
    if visible - kept < MIN_LOST or kept >= MIN_KEPT_SHARE * visible:
        return Verdict()
    lost = f"the cleaned HTML kept {kept:,} of {visible:,} characters of text ({kept / visible:.0%})"
    text = text_size(URL.sub("", plain or ""))
    if text - kept >= MIN_LOST and text >= MIN_KEPT_SHARE * visible:
        return Verdict(use_text=True, why=f"{lost}: the note has the text/plain part ({text:,} characters)")
    part = f"the text/plain part has {text:,}" if plain else "there is no text/plain part"
    return Verdict(fidelity=PARTIAL, why=f"{lost}, and {part}: the note may miss part of the article")


def text_size(text: str) -> int:
    """Characters of text, single-spaced (as `CleanedHtml.document_size` counts them)."""
    return len(" ".join(text.split()))
