"""Measure what link cleaning does for the reader's privacy over ../shared/corpus, per sending service.

Run from the repository: `.venv/bin/python bench/privacy.py [--corpus DIR] [--passes N]`.

Every message of the corpus is made into a note as `ingest import` does (the reader from its own
Delivered-To/To, its unsubscribe ids, its click-wrapping hosts); per sending service (the platform
`classify` recognises, else the List-Unsubscribe host's domain) it prints the distinct links seen and how
many were cleaned, decoded, opaque, personal and unlinked, then what is kept as it was and why, and the
speed of `links.clean` with the reader in the context (compare with bench/links.py, which has none).
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ingester import classify, compose, message, metadata, privacy, render
from ingester.links import LinkContext, clean, is_opaque
from ingester.links.url import split

CORPUS = Path(os.environ.get("INGEST_CORPUS") or Path(__file__).resolve().parents[2] / "shared" / "corpus")
COLUMNS = ("messages", "seen", "cleaned", "decoded", "opaque", "personal", "unlinked", "dropped")


def service(letter: message.Newsletter, platform: str) -> str:
    """The platform, else the domain of the List-Unsubscribe host (the sending service's, usually)."""
    if platform != "newsletter":
        return platform
    match = re.search(r"<https?://([^/>:]+)", letter.header("List-Unsubscribe"))
    return ".".join(match.group(1).lower().split(".")[-2:]) if match else "(no List-Unsubscribe URL)"


def why_kept(url: str) -> str:
    """Why a link was kept as it was: it has nothing to clean, or which parameters were judged harmless."""
    u = split(url)
    if u is None:
        return "not a web URL"
    if not u.pairs:
        return "no query, no wrapper shape, nothing of the reader in it"
    names = ", ".join(sorted({n for n, _ in u.pairs})[:4])
    return f"query kept ({names}): not tracking by the rules, nothing of the reader in it"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=CORPUS)
    parser.add_argument("--passes", type=int, default=5)
    args = parser.parse_args()
    if not args.corpus.is_dir():
        print(f"no corpus at {args.corpus}", file=sys.stderr)
        return 1
    settings = compose.Settings(render.template_text("en"), "en")
    table: dict[str, Counter[str]] = defaultdict(Counter)
    kept: Counter[str] = Counter()
    timed: list[tuple[str, LinkContext]] = []
    for path in sorted(args.corpus.rglob("*.eml")):
        raw = path.read_bytes()
        letter = message.parse(raw)
        platform = classify.detect_platform(letter)
        name = service(letter, platform)
        note = compose.make_note(message.RawMessage(raw, str(path)), letter, settings)
        context = privacy.message_context(letter, metadata.link_context(letter, platform), platform, settings.privacy)
        row = table[name]
        row["messages"] += 1
        for result in note.cleaned.links:
            timed.append((result.original, context))
            row["seen"] += 1
            row["cleaned"] += result.changed and not result.decoded
            row["decoded"] += bool(result.decoded)
            row["opaque"] += is_opaque(result)
            row["personal"] += result.kind in ("personal", "credential")
            row["dropped"] += result.kind in ("unsubscribe", "preferences", "action", "confirm")
            if not result.steps:
                kept[f"{name}: {why_kept(result.url)}"] += 1
        row["unlinked"] += note.cleaned.counts.links_unlinked
    print(f"corpus: {args.corpus}")
    print(f"{'service':<28}" + "".join(f"{c:>9}" for c in COLUMNS))
    for name, row in sorted(table.items(), key=lambda item: -item[1]["seen"]):
        print(f"{name[:27]:<28}" + "".join(f"{row[c]:>9}" for c in COLUMNS))
    total = sum(table.values(), Counter())
    print(f"{'all':<28}" + "".join(f"{total[c]:>9}" for c in COLUMNS))
    print("\nkept as they were, distinct links:")
    for why, count in kept.most_common(30):
        print(f"  {count:>5}  {why}")
    print()
    none = LinkContext()
    for label, with_reader in (("clean() without a context", False), ("clean() with the message's reader", True)):
        start = time.perf_counter()
        for _ in range(args.passes):
            for url, context in timed:
                clean(url, context if with_reader else none)
        elapsed = time.perf_counter() - start
        count = args.passes * len(timed)
        print(f"{label:<36} {count / elapsed:>8,.0f} URLs/s  ({args.passes} passes × {len(timed)} links)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
