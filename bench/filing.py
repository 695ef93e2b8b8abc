"""What filing costs the parent process, part by part (issue #19), on the corpus mix.

    .venv/bin/python bench/filing.py                 # 300 messages of the corpus mix into a fresh temp archive
    .venv/bin/python bench/filing.py -n 1000         # more messages
    .venv/bin/python bench/filing.py --dir /some/fs  # the temp archive on another file system (fsync costs differ)
    .venv/bin/python bench/filing.py --level 6       # the raw copy's gzip level (default: the ingester's own)

With `ingest --since -j N`, workers convert and this one process files every message in turn: the look-ups
before a message goes to a worker (already filed? what its publication repeated) and `Pipeline.commit` (raw
copy, note, ledger rows). The messages are those of `bench/backfill.py --mix corpus`, each converted here
(untimed) with what the ledger remembers, then filed with the real `Pipeline.commit`; each part is timed by
wrapping the function that does it. Prints ms per message for each part, wall clock, and the fsyncs.
"""

from __future__ import annotations

import argparse
import functools
import gzip
import importlib.util
import os
import sys
import tempfile
import time
import types
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from ingester import pipeline
from ingester.compose import Settings
from ingester.config import Config
from ingester.message import RawMessage
from ingester.recall import recall
from ingester.store import files, ledger
from ingester.store import raw as raw_copies

spent: dict[str, float] = {}
spent_cpu: dict[str, float] = {}  # CPU time: what takes a core from the workers
calls: dict[str, int] = {}
raw_in = raw_out = 0
filing = False  # in Pipeline.commit (the parent's serial part), not converting


def timed(name: str, function: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        started, cpu = time.perf_counter(), time.process_time()
        try:
            return function(*args, **kwargs)
        finally:
            spent[name] = spent.get(name, 0.0) + time.perf_counter() - started
            spent_cpu[name] = spent_cpu.get(name, 0.0) + time.process_time() - cpu
            calls[name] = calls.get(name, 0) + 1

    return wrapper


def instrument(level: int | None) -> None:
    """Time each part where the ingester does it (nested parts are subtracted when printed)."""

    def compress(data: bytes, compresslevel: int = 9, mtime: float | None = None) -> bytes:
        global raw_in, raw_out
        out = gzip.compress(data, compresslevel=compresslevel if level is None else level, mtime=mtime)
        raw_in, raw_out = raw_in + len(data), raw_out + len(out)
        return out

    filing_compress = timed("gzip in filing", compress)
    worker_compress = timed("gzip in worker", compress)

    def where_compress(data: bytes, compresslevel: int = 9, mtime: float | None = None) -> bytes:
        return (filing_compress if filing else worker_compress)(data, compresslevel, mtime)

    timed_gzip = types.SimpleNamespace(**{**vars(gzip), "compress": where_compress})
    raw_copies.gzip = timed_gzip  # type: ignore[attr-defined]  # where this version compresses
    os.fsync = timed("fsync", os.fsync)  # the file's and the folder's, wherever they are made
    raw_copies.keep = timed("raw copy", raw_copies.keep)
    files.write_note = timed("note", files.write_note)
    files.note_sha256 = timed("note hash", files.note_sha256)
    ledger.Ledger.record = timed("ledger row", ledger.Ledger.record)  # type: ignore[method-assign]
    ledger.Ledger.remember_blocks = timed("blocks", ledger.Ledger.remember_blocks)  # type: ignore[method-assign]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("-n", type=int, default=300, help="messages filed (default 300)")
    parser.add_argument("--dir", type=Path, default=None, help="where the temp archive goes (default: $TMPDIR)")
    parser.add_argument("--level", type=int, default=None, help="gzip level of the raw copy (default: as shipped)")
    args = parser.parse_args()
    spec = importlib.util.spec_from_file_location("bench_backfill", REPO / "bench" / "backfill.py")
    assert spec is not None and spec.loader is not None
    backfill = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = backfill
    spec.loader.exec_module(backfill)
    bases = backfill.corpus_bases(backfill.CORPUS, "corpus")
    instrument(args.level)
    with tempfile.TemporaryDirectory(prefix="filing-", dir=args.dir) as where:
        config = Config(archive_path=Path(where) / "archive")
        job = pipeline.Job(config, Settings.of(config))
        with ledger.Ledger(config.state_dir) as led:
            filer = pipeline.Pipeline(config, led, jobs=1)
            lookups = timed("look-ups", lambda raw: None if filer._known_duplicate(raw) else recall(led, raw.raw))
            timed_commit = timed("commit", filer.commit)

            def commit(raw: RawMessage, prepared: pipeline.Prepared) -> None:
                global filing
                filing = True
                try:
                    timed_commit(raw, prepared)
                finally:
                    filing = False

            convert = [0.0, 0.0]
            for copy in backfill.copies(bases, args.n, 1.0, "filing"):
                raw = backfill._raw_message(copy)
                memory = lookups(raw)
                started, cpu = time.perf_counter(), time.process_time()
                prepared = pipeline.prepare(raw, job, memory)
                convert[0] += time.perf_counter() - started
                convert[1] += time.process_time() - cpu
                commit(raw, prepared)
            filer.close()
            summary = filer.summary
    n = args.n

    def part(name: str, minus: tuple[str, ...] = ()) -> tuple[float, float]:
        wall = spent.get(name, 0.0) - sum(spent.get(m, 0.0) for m in minus)
        cpu = spent_cpu.get(name, 0.0) - sum(spent_cpu.get(m, 0.0) for m in minus)
        return wall, cpu

    inner = ("raw copy", "note", "note hash", "ledger row", "blocks")
    raw_copy = part("raw copy", ("gzip in filing",))
    rows = [
        ("look-ups before converting (ledger.get, recall)", part("look-ups"), calls.get("look-ups", 0)),
        ("raw copy: gzip", part("gzip in filing"), calls.get("gzip in filing", 0)),
        ("raw copy: temp, write, fsync, rename, fsync dir", raw_copy, calls.get("raw copy", 0)),
        ("note: temp file, write, fsync, link, fsync dir", part("note"), calls.get("note", 0)),
        ("note read back + sha256", part("note hash"), calls.get("note hash", 0)),
        ("ledger row (one SQLite transaction)", part("ledger row"), calls.get("ledger row", 0)),
        ("memory blocks (one SQLite transaction)", part("blocks"), calls.get("blocks", 0)),
        ("rest of Pipeline.commit", part("commit", inner), n),
    ]
    total = (part("look-ups")[0] + part("commit")[0], part("look-ups")[1] + part("commit")[1])
    rows += [
        ("filing total (parent process, serial)", total, n),
        ("  of which in fsync (files and folders)", part("fsync"), calls.get("fsync", 0)),
        ("conversion in a worker (pipeline.prepare), for scale", (convert[0], convert[1]), n),
        ("  of which raw copy gzip", part("gzip in worker"), calls.get("gzip in worker", 0)),
    ]
    level = "as shipped" if args.level is None else str(args.level)
    command = f"$ .venv/bin/python bench/filing.py -n {n}" + (f" --dir {args.dir}" if args.dir else "")
    print(command + (f" --level {args.level}" if args.level is not None else ""))
    print(
        f"{n} messages of the corpus mix ({len(bases)} files): {summary.filed} filed, {summary.skipped} skipped, "
        f"{summary.failed} failed; archive in {args.dir or tempfile.gettempdir()}"
    )
    print(f"{'part':56} {'wall ms/msg':>11} {'CPU ms/msg':>10} {'calls':>6}")
    for label, (wall, cpu), count in rows:
        print(f"{label:56} {1000 * wall / n:11.2f} {1000 * cpu / n:10.2f} {count:6}")
    if raw_in:
        print(f"raw copy gzip level {level}: {raw_in / 1e6:.1f} MB → {raw_out / 1e6:.1f} MB ({raw_out / raw_in:.1%})")


if __name__ == "__main__":
    main()
