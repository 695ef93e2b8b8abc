"""NAIVE PEER (a baseline for bench/backfill.py, not part of the ingester): what most small tools do.

    .venv/bin/python bench/naive_peer.py --host 127.0.0.1 --port 143 --user alice --out notes/ [--since 2000-01-01]

Plain imaplib, one `UID FETCH <uid> (BODY.PEEK[])` round trip per message, sequential stdlib
`email` parse, `html2text` on the first HTML body (else the plain-text body as is), one `.md` file
per message. No cleaning of any kind: tracking links, pixels, footers and chrome stay; no
newsletter detection, no duplicate check, no ledger, no fsync, no parallelism. The password comes
from $NAIVE_PEER_PASSWORD (default "test"). Prints one JSON line: {"messages": n, "written": n}.
"""

from __future__ import annotations

import argparse
import email
import email.policy
import imaplib
import json
import os
import re
from datetime import datetime
from pathlib import Path

import html2text


def body_markdown(raw: bytes) -> tuple[str, str]:
    """(subject, Markdown) of one message: html2text of the HTML body, else the text body."""
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    subject = str(msg.get("Subject", "") or "")
    part = msg.get_body(preferencelist=("html", "plain"))
    if part is None:
        return subject, ""
    try:
        content = part.get_content()
    except (LookupError, UnicodeError):  # unknown or wrong charset label
        content = (part.get_payload(decode=True) or b"").decode("utf-8", "replace")
    if part.get_content_subtype() == "html":
        converter = html2text.HTML2Text()
        converter.body_width = 0
        return subject, converter.handle(content)
    return subject, content


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=143)
    parser.add_argument("--user", required=True)
    parser.add_argument("--folder", default="INBOX")
    parser.add_argument("--since", help="YYYY-MM-DD (IMAP SINCE); default: all messages")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)

    args.out.mkdir(parents=True, exist_ok=True)
    imap = imaplib.IMAP4(args.host, args.port)
    imap.login(args.user, os.environ.get("NAIVE_PEER_PASSWORD", "test"))
    imap.select(args.folder, readonly=True)
    criteria = ("SINCE", datetime.strptime(args.since, "%Y-%m-%d").strftime("%d-%b-%Y")) if args.since else ("ALL",)
    _, data = imap.uid("SEARCH", *criteria)
    uids = data[0].split()
    written = 0
    for uid in uids:
        _, data = imap.uid("FETCH", uid.decode(), "(BODY.PEEK[])")
        raw = next((item[1] for item in data if isinstance(item, tuple)), None)
        if raw is None:
            continue
        subject, markdown = body_markdown(raw)
        slug = re.sub(r"[^\w]+", "-", subject.lower()).strip("-")[:60] or "message"
        (args.out / f"{uid.decode()}-{slug}.md").write_text(f"# {subject}\n\n{markdown}", encoding="utf-8")
        written += 1
    imap.logout()
    print(json.dumps({"messages": len(uids), "written": written}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
