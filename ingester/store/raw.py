"""Raw copies: each message as it came, kept gzipped beside the ledger so its note can be made again
without the server (`ingest rerender`, `fill`, `audit`, `retry --now`).

`<archive>/.ingest/raw/<first two hex digits>/<content hash>.eml.gz`, written once (atomically, user-only)
and never changed: the same content hash is the same message.
"""

from __future__ import annotations

import gzip
from pathlib import Path

from ingester.store.files import ensure_dir, write_atomic

__all__ = ["keep", "pack", "path", "read"]


def pack(raw: bytes) -> bytes:
    """A raw message as it is kept: gzip level 1, 25% of its size on the corpus mix (bench/filing.py:
    level 6 gives 21% for 2.4x the CPU). Made where the message is converted, so that the one filing process
    only writes it."""
    return gzip.compress(raw, compresslevel=1, mtime=0)


def keep(state_dir: Path, content_hash: str, raw: bytes, packed: bytes = b"") -> None:
    """Keep the raw message unless it is kept already; `packed` is `pack(raw)` made beforehand (in a worker:
    the filing process is serial). A full disk raises `DiskFull`."""
    target = path(state_dir, content_hash)
    if target.exists():
        return
    ensure_dir(target.parent)
    write_atomic(target, packed or pack(raw))


def read(state_dir: Path, content_hash: str) -> bytes | None:
    """The raw message kept for this content hash, or None (never kept, unreadable or damaged)."""
    try:
        return gzip.decompress(path(state_dir, content_hash).read_bytes())
    except (OSError, EOFError, gzip.BadGzipFile):
        return None


def path(state_dir: Path, content_hash: str) -> Path:
    """Where the raw copy of this content hash is kept under the ledger's folder `state_dir`."""
    return state_dir / "raw" / content_hash[:2] / f"{content_hash}.eml.gz"
