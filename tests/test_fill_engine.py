"""`ingest fill` against a real inference engine, offline: llama-cpp-python's OpenAI-compatible server
(`python -m llama_cpp.server`) on 127.0.0.1, serving a tiny random-weight llama model the suite writes
(tests/tinymodel.py). Its answers are nonsense, but schema-constrained decoding makes them valid JSON
of the schema, so the whole path runs for real: the request, the server's refusal of `json_schema`
and the switch to `json_object` with a schema, the answer checked, the note written.

Needs the `llm` extra (`make install` installs it); skipped, saying so, when it is not installed.
"""

from __future__ import annotations

import importlib.util
import json
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from ingester.store import notes
from tests.conftest import QUIET, QUIET_ID, WEEKLY, copy_filed, run_ingest

# Looked up, not imported: llama_cpp opens /dev/null at import and never closes it (a ResourceWarning at exit);
# the server runs in a process of its own.
MISSING = [name for name in ("llama_cpp", "gguf", "uvicorn") if importlib.util.find_spec(name) is None]
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        bool(MISSING), reason=f"the `llm` extra is not installed ({', '.join(MISSING)}): `make install` installs it"
    ),
]

WORDS = {"type": "string", "pattern": "^[a-z]{1,10}( [a-z]{1,10}){0,2}$"}  # nonsense, but printable
SCHEMA = {
    "type": "object",
    "properties": {
        "title": WORDS,
        "category": WORDS,
        "outline": {
            "type": "array",
            "minItems": 1,
            "maxItems": 3,
            "items": {
                "type": "object",
                "properties": {"point": WORDS, "subpoints": {"type": "array", "maxItems": 2, "items": WORDS}},
                "required": ["point", "subpoints"],
            },
        },
        "tags": {"type": "array", "minItems": 1, "maxItems": 3, "items": WORDS},
        "sections": {
            "type": "array",
            "minItems": 1,
            "maxItems": 3,
            "items": {
                "type": "object",
                "properties": {
                    "heading": WORDS,
                    "points": {
                        "type": "array",
                        "minItems": 1,
                        "maxItems": 2,
                        "items": {
                            "type": "object",
                            "properties": {"key": WORDS, "text": WORDS},
                            "required": ["key", "text"],
                        },
                    },
                },
                "required": ["heading", "points"],
            },
        },
    },
    "required": ["title", "category", "outline", "tags", "sections"],
}
PROMPT = f"""max_tokens = 1500
temperature = 0.8
system = "Write the reading note in $language as JSON."
user = "Headings:\\n$headings\\nTitle: $title\\n\\n$article"
schema = '''{json.dumps(SCHEMA)}'''
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The base URL of a llama-cpp-python server serving the tiny model."""
    where = tmp_path_factory.mktemp("engine")
    from tests.tinymodel import write_tiny_llama

    model = write_tiny_llama(where / "tiny.gguf")
    port = free_port()
    log = (where / "server.log").open("wb")
    server = subprocess.Popen(
        [
            *(sys.executable, "-m", "llama_cpp.server", "--model", str(model), "--model_alias", "tiny"),
            *("--host", "127.0.0.1", "--port", str(port), "--n_ctx", "4096", "--n_threads", "1"),
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}/v1"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{base}/models", timeout=2) as answer:  # noqa: S310 - our own server
                    assert answer.status == 200
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"the llama.cpp server did not start: {(where / 'server.log').read_text()[-2000:]}")
                time.sleep(0.3)
        yield base
    finally:
        server.terminate()
        server.wait(timeout=30)
        log.close()


@pytest.fixture
def archive(filed_archive: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    return copy_filed(filed_archive, tmp_path, monkeypatch)


def config(endpoint: str) -> Path:
    Path("prompt.toml").write_text(PROMPT, encoding="utf-8")
    Path("ingester.toml").write_text(
        f'[archive]\npath = "archive"\n[fill]\nendpoint = "{endpoint}"\nmodel = "tiny"\n'
        'prompt = "prompt.toml"\nmax_input_chars = 500\ntimeout = 300\n',
        encoding="utf-8",
    )
    return Path("ingester.toml")


def test_drafts_are_filled_by_a_real_engine(engine: str, archive: Path) -> None:
    before = notes.read_note(archive, archive / WEEKLY)
    assert before is not None
    weekly_id = before.id[:7]

    result = run_ingest("-v", "--config", config(engine), "fill", QUIET_ID, weekly_id, "--json")

    assert result.returncode == 0, result.stdout + result.stderr
    assert "refused response_format json_schema (HTTP 500): asking with json_object and a schema" in result.stderr
    summary = json.loads(result.stdout)
    assert (summary["filled"], summary["failed"], summary["filled_by"]) == (2, 0, "127.0.0.1 tiny")
    for relative in (QUIET, WEEKLY):
        note = notes.read_note(archive, archive / relative)
        assert note is not None
        assert note.status == "draft" and note.field("filled_by") == "127.0.0.1 tiny"
        first, original = note.body.split("\n", 1)[0], note.body.split("\n## 原文\n", 1)[1]
        assert first and first.replace(" ", "").isalpha() and first.isascii()  # the model's (nonsense) title
        assert f"# {first}\n" in note.body
        for heading in ("## 文章信息", "## 文章框架", "## 文章标签", "## 详细内容"):
            assert heading in note.body.split("\n## 原文\n", 1)[0]
        assert "- **" in note.body.split("## 详细内容", 1)[1].split("\n## 原文\n", 1)[0]
        assert note.field("original_title") in note.body.split("\n", 2)[1]  # 原文标题 kept
        assert original.strip()  # the article, kept
    assert "本地小模型" in (archive / WEEKLY).read_text(encoding="utf-8").split("\n## 原文\n", 1)[1]
