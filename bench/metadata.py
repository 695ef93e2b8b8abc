"""Metadata benchmark: how often each front-matter field is found across the corpus, and from which source.

Run: `.venv/bin/python bench/metadata.py [--json] [--by manifest|detected] [FILTER ...]`

It is a measurement, not a test: it always exits 0 and prints its figures.

Every `newsletter`-kind message of `../shared/corpus` (from `MANIFEST.tsv`) goes through
`ingester.message.parse` and `ingester.compose.make_note` (English template), exactly as in
`bench/retention.py`, whose `wrap_html` wraps the HTML-only bodies in their platform's headers, in
memory only (they are AGPL and never written anywhere). For each field the note's
`metadata.sources` says where the value came from (`post-title`, `subject`, `byline`, `list-id`,
`from-address`, `date-header`, `list-post`, `x-newsletter`, `view-online`, …) or `none` when no
source had it. A field counts as found when its source is not `none`.

Messages are grouped by the platform `MANIFEST.tsv` gives (`--by detected`: the platform the
ingester recognised), then totalled over the whole corpus.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
from collections import Counter
from pathlib import Path

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
CORPUS = REPO.parent / "shared" / "corpus"
FIELDS = ("title", "author", "publication", "publication_id", "date", "url")


def measure(corpus: Path, filters: list[str], by: str) -> dict[str, object]:
    """{"messages": [{file, platform, detected, sources}], "platforms": {...}, "overall": {...}}."""
    sys.path.insert(0, str(BENCH))
    sys.path.insert(0, str(REPO))
    import retention  # the corpus list and the in-memory wrapping of HTML-only bodies

    from ingester.compose import Settings, make_note
    from ingester.config import Config
    from ingester.message import RawMessage, parse

    settings = Settings.of(Config(language="en"))
    entries = retention.read_manifest(corpus)
    if filters:
        entries = [e for e in entries if any(f in e[0] for f in filters)]
    messages: list[dict[str, object]] = []
    for path, platform in entries:
        data = (corpus / path).read_bytes()
        raw = retention.wrap_html(path, platform, data) if retention.is_html_only(path, data) else data
        row: dict[str, object] = {"file": path, "platform": platform}
        try:
            note = make_note(RawMessage(raw=raw, source=str(corpus / path)), parse(raw), settings)
        except Exception as exc:  # noqa: BLE001 - a measurement reports a failing message and goes on
            row["error"] = f"{type(exc).__name__}: {exc}".splitlines()[0][:300]
            messages.append(row)
            continue
        row["detected"] = note.fields.platform
        row["sources"] = {field: note.metadata.source(field) for field in FIELDS}
        messages.append(row)
    key = "platform" if by == "manifest" else "detected"
    groups: dict[str, list[dict[str, object]]] = {}
    for row in messages:
        if "error" not in row:
            groups.setdefault(str(row[key]), []).append(row)
    ok = [row for row in messages if "error" not in row]
    return {
        "corpus": str(corpus),
        "by": by,
        "messages": messages,
        "platforms": {name: tally(rows) for name, rows in sorted(groups.items())},
        "overall": tally(ok),
        "errors": [{"file": row["file"], "error": row["error"]} for row in messages if "error" in row],
    }


def tally(rows: list[dict[str, object]]) -> dict[str, object]:
    """{"messages": n, "fields": {field: {"found": k, "sources": {source: count}}}}."""
    fields: dict[str, object] = {}
    for field in FIELDS:
        sources = Counter(str(row["sources"][field]) for row in rows)  # type: ignore[index]
        found = sum(count for source, count in sources.items() if source != "none")
        fields[field] = {"found": found, "sources": dict(sources.most_common())}
    return {"messages": len(rows), "fields": fields}


def format_block(title: str, block: dict[str, object]) -> list[str]:
    n = int(block["messages"])  # type: ignore[arg-type]
    lines = [f"{title} ({n} message{'s' if n != 1 else ''})"]
    fields = block["fields"]
    assert isinstance(fields, dict)
    for field in FIELDS:
        entry = fields[field]
        found = entry["found"]
        pct = f"{100.0 * found / n:5.1f}%" if n else "    -"
        sources = ", ".join(f"{source} {count}" for source, count in entry["sources"].items())
        lines.append(f"  {field:<15} {found:>3}/{n:<3} {pct}   {sources}")
    return lines


def main(argv: list[str] | None = None) -> dict[str, object]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("filters", nargs="*", help="only files whose corpus path contains one of these")
    parser.add_argument("--corpus", type=Path, default=CORPUS, help=f"corpus folder (default {CORPUS})")
    parser.add_argument(
        "--by",
        choices=("manifest", "detected"),
        default="manifest",
        help="group by the platform of MANIFEST.tsv (default) or the one the ingester detected",
    )
    parser.add_argument("--json", action="store_true", help="print the results as one JSON object")
    args = parser.parse_args(argv)
    if not (args.corpus / "MANIFEST.tsv").is_file():
        out: dict[str, object] = {"corpus": str(args.corpus), "error": f"no MANIFEST.tsv in {args.corpus}"}
        print(json.dumps(out, indent=2) if args.json else f"Error: {out['error']}")
        return out
    try:
        out = measure(args.corpus, args.filters, args.by)
    except Exception as exc:  # noqa: BLE001 - the package may be mid-edit: report, don't crash
        out = {"corpus": str(args.corpus), "error": f"cannot run the ingester: {type(exc).__name__}: {exc}"}
        print(json.dumps(out, indent=2) if args.json else f"Error: {out['error']}")
        return out
    if args.json:
        print(json.dumps(out, indent=2, ensure_ascii=False))
        return out
    platforms = out["platforms"]
    assert isinstance(platforms, dict)
    print(
        f"Metadata sources per field, by {'MANIFEST.tsv' if args.by == 'manifest' else 'detected'} platform "
        "(found = source is not 'none')\n"
    )
    for name, block in platforms.items():
        print("\n".join(format_block(name, block)) + "\n")
    print("\n".join(format_block("OVERALL", out["overall"])))  # type: ignore[arg-type]
    for error in out["errors"]:  # type: ignore[union-attr]
        print(f"ERROR {error['file']}: {error['error']}")
    return out


if __name__ == "__main__":
    with contextlib.suppress(BrokenPipeError):  # piped into head
        main()
    sys.exit(0)
