"""Benchmark and measure `ingester.links` over every link of the shared corpus (stdlib only).

Run from the repository: `.venv/bin/python bench/links.py [--passes N]`.

Extracts every href/src value from ../shared/corpus (MIME text parts of the messages, or the file
itself for bare HTML), cleans them all several times in one warm process, and prints throughput
plus what the cleaning did. "Tracking" means: a known tracking parameter from the rule data is
present, or a wrapper that decodes offline (measured with classification off, so links that
callers drop are measured too).
"""

from __future__ import annotations

import argparse
import email
import email.policy
import html
import os
import re
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ingester import identity, links
from ingester.links import rules as linkrules

# $INGEST_CORPUS points elsewhere (a git worktree does not sit beside ../shared)
CORPUS = Path(os.environ.get("INGEST_CORPUS") or Path(__file__).resolve().parents[2] / "shared" / "corpus")
ATTRIBUTE = re.compile(r"""\b(?:href|src)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+))""", re.I)
WEB = re.compile(r"(?:https?:)?//", re.I)


def texts(path: Path) -> Iterator[str]:
    """The text of a corpus file: its text/* MIME parts, or the whole file when it is bare HTML."""
    raw = path.read_bytes()
    if path.suffix in (".html", ".htm"):
        yield raw.decode("utf-8", "replace")
        return
    message = email.message_from_bytes(raw, policy=email.policy.default)
    for part in message.walk():
        if part.get_content_maintype() != "text":
            continue
        try:
            yield part.get_content()
        except (LookupError, ValueError, AssertionError):  # broken charsets and encodings are the corpus's point
            payload = part.get_payload(decode=True)
            yield payload.decode("latin-1") if isinstance(payload, bytes) else str(payload)


def corpus_links(root: Path) -> list[str]:
    found = []
    for path in sorted(p for p in root.rglob("*") if p.is_file() and p.name not in ("README.md", "MANIFEST.tsv")):
        for text in texts(path):
            found.extend(html.unescape(next(g for g in m.groups() if g is not None)) for m in ATTRIBUTE.finditer(text))
    return found


def tracking(url: str) -> bool:
    """Known tracking parameters or an offline-decodable wrapper, whatever the link's kind."""
    result = links.engine._process(url, links.LinkContext(), classify=False)
    return bool(result.decoded or result.removed)


def timed(label: str, function, urls: list[str], passes: int) -> None:
    start = time.perf_counter()
    for _ in range(passes):
        for url in urls:
            function(url)
    elapsed = time.perf_counter() - start
    count = passes * len(urls)
    print(
        f"{label:<34} {count / elapsed:>10,.0f} URLs/s  {elapsed / count * 1e6:6.1f} µs/URL  "
        f"({passes} passes × {len(urls)})"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--passes", type=int, default=20)
    args = parser.parse_args()
    if not CORPUS.is_dir():
        print(f"no corpus at {CORPUS}", file=sys.stderr)
        return 1
    urls = corpus_links(CORPUS)
    web = [u for u in urls if WEB.match(u.strip())]
    print(f"corpus: {CORPUS}")
    print(f"links seen: {len(urls)} href/src values ({len(web)} web URLs, {len(set(urls))} distinct)")

    start = time.perf_counter()
    linkrules.rules()
    print(f"rules loaded and compiled in {(time.perf_counter() - start) * 1e3:.0f} ms (once per process)")
    start = time.perf_counter()
    results = [links.clean(u) for u in urls]
    elapsed = time.perf_counter() - start
    rate, each = len(urls) / elapsed, elapsed / len(urls) * 1e6
    print(f"first pass (cold host caches)      {rate:>10,.0f} URLs/s  {each:6.1f} µs/URL")
    timed("clean(), warm", links.clean, urls, args.passes)
    timed("clean_url() per URL, warm", links.clean_url, urls, args.passes)
    timed("clean(), warm, web URLs only", links.clean, web, args.passes)
    # the reader known, as every message gives it (their address in all its forms): what `ingest` runs
    reader = links.LinkContext(reader=identity.derive(("reader.one@example.net",)))
    timed("clean() with a reader, warm", lambda url: links.clean(url, reader), urls, args.passes)

    before = sum(tracking(u) for u in urls)
    dropped = [r for r in results if r.kind in links.DROPPED_KINDS]
    kept = [r for r in results if r.kind not in links.DROPPED_KINDS]
    after_kept = sum(tracking(r.url) for r in kept)
    after_dropped = sum(tracking(r.url) for r in dropped)
    print()
    print(f"carrying tracking before: {before} / {len(urls)} = {before / len(urls):.1%}")
    print(
        f"carrying tracking after:  {after_kept} / {len(kept)} kept links = {after_kept / max(len(kept), 1):.1%}; "
        f"plus {after_dropped} of {len(dropped)} links returned unchanged for callers to drop "
        f"(all links: {(after_kept + after_dropped) / len(urls):.1%})"
    )
    print(f"changed: {sum(r.changed for r in results)}; parameters removed: {sum(len(r.removed) for r in results)}")
    print("kinds:", dict(Counter(r.kind for r in results).most_common()))
    print("wrappers decoded by kind:", dict(Counter(w for r in results for w in r.decoded).most_common()))
    opaque = Counter(
        s.rule.removeprefix("ingester:") for r in results if r.kind == "opaque" for s in r.steps if s.kind == "classify"
    )
    print("opaque wrappers left:", dict(opaque.most_common()))
    print("top removed parameters:", dict(Counter(n for r in results for n in r.removed).most_common(12)))
    images = [u for u in urls if is_image(u)]
    print(f"tracker images among {len(images)} image-looking URLs: {sum(links.is_tracker_image(u) for u in images)}")
    return 0


def is_image(url: str) -> bool:
    return bool(re.search(r"\.(?:png|jpe?g|gif|webp)(?:[?#]|$)|/open|/o/|pixel|beacon|\.php\?", url, re.I))


if __name__ == "__main__":
    raise SystemExit(main())
