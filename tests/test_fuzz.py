"""Fuzzing the whole message → note work (issue #7): real messages, mutated by hypothesis.

Seeds are every file of tests/fixtures/emails and, when it is beside the repository,
../shared/corpus. Hypothesis mutates them: byte flips, truncation, headers and bodies spliced
between messages, random charset labels and transfer encodings, random RFC 2047 encoded-words
and RFC 2231 parameters, deep or huge HTML fragments, random or missing boundaries, nested
message/rfc822, duplicated and giant headers, mixed line endings.

Properties, for every input:
- `message.parse` and `compose.make_note` never raise;
- the front matter parses with `yaml.safe_load` (and with the project's own reader), has every
  promised key, `status: draft`, and the values the note was made from;
- `files.note_path(root, date, slug(title))` stays inside root;
- the rendered note holds no HTML that would run when previewed (script, iframe, event handlers,
  `javascript:` links): checked by rendering the note with a CommonMark renderer that does not
  sanitise links, as a careless previewer would.

Bounded in `make test` (profile "fuzz-ci": 200 examples per property, derandomised so the suite
is stable); `make fuzz` runs profile "fuzz" (HYPOTHESIS_PROFILE=fuzz, FUZZ_EXAMPLES examples,
random, an example database under .hypothesis/, address space capped at FUZZ_MEMORY_MB) and the
atheris harness bench/fuzz_atheris.py. Every crash found is saved under tests/fixtures/fuzz/ and
replayed by `test_saved_fuzz_input_gives_a_sound_note` (in a child process with a memory cap); a
crash already saved is listed in KNOWN_CRASHES so the fuzz target keeps looking for new ones.
"""

from __future__ import annotations

import base64
import json
import os
import re
import subprocess
import sys
import traceback
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, example, given, reject, settings
from hypothesis import strategies as st
from hypothesis.database import DirectoryBasedExampleDatabase

from ingester import compose, frontmatter, message, render, tags
from ingester.config import Config
from ingester.message import RawMessage
from ingester.store import files
from tests.conftest import EMAILS, REPO, live_html, run_ingest

CORPUS = REPO.parent / "shared" / "corpus"
FUZZ_FIXTURES = REPO / "tests" / "fixtures" / "fuzz"

# --- Profiles -----------------------------------------------------------------------------------------------------
# Registered here (not in conftest.py) and applied only to this file's tests, so the rest of the
# suite keeps hypothesis' defaults whatever HYPOTHESIS_PROFILE says.
_SLOW_OK = [
    HealthCheck.too_slow,
    HealthCheck.data_too_large,
    HealthCheck.large_base_example,
    HealthCheck.filter_too_much,
]
settings.register_profile(
    "fuzz-ci",
    max_examples=200,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=_SLOW_OK,
    print_blob=True,
)
settings.register_profile(
    "fuzz",
    max_examples=int(os.environ.get("FUZZ_EXAMPLES", "20000")),
    deadline=None,
    database=DirectoryBasedExampleDatabase(str(REPO / ".hypothesis" / "fuzz")),
    suppress_health_check=_SLOW_OK,
    print_blob=True,
    report_multiple_bugs=True,
)
PROFILE = os.environ.get("HYPOTHESIS_PROFILE", "fuzz-ci")
FUZZ = settings.get_profile(PROFILE if PROFILE in ("fuzz", "fuzz-ci") else "fuzz-ci")
LONG_RUN = FUZZ.max_examples > 1000
if PROFILE == "fuzz":  # a blow-up becomes a MemoryError that hypothesis reports, not the OOM killer ending the run
    import resource

    _soft, _hard = resource.getrlimit(resource.RLIMIT_AS)
    _limit = int(os.environ.get("FUZZ_MEMORY_MB", "6144")) * 2**20
    if _hard != resource.RLIM_INFINITY:
        _limit = min(_limit, _hard)
    resource.setrlimit(resource.RLIMIT_AS, (_limit, _hard))
HUGE = 2_500_000 if LONG_RUN else 300_000  # bytes of generated HTML: bigger in the long run


# --- Seeds --------------------------------------------------------------------------------------------------------


def _seed_files() -> list[Path]:
    roots = [EMAILS] + ([CORPUS] if CORPUS.is_dir() else [])
    return sorted(
        p for root in roots for p in root.rglob("*") if p.is_file() and p.name not in ("README.md", "MANIFEST.tsv")
    )


SEEDS: list[bytes] = [p.read_bytes() for p in _seed_files()]
SETTINGS = compose.Settings.of(Config())
ROOT = Path("/srv/fuzz-archive")  # never created: note_path only computes
PROMISED_KEYS = {
    "title",
    "original_title",
    "url",
    "url_source",
    "author",
    "publication",
    "publication_id",
    "platform",
    "date",
    "message_id",
    "status",
    "tags",
    "source",
    "links_cleaned",
    "wrappers_decoded",
    "opaque_links",
    "pixels_removed",
}


def split_message(raw: bytes) -> tuple[bytes, bytes, bytes]:
    """(headers, separator, body) at the first blank line; no separator when there is none."""
    found = [(i, sep) for sep in (b"\r\n\r\n", b"\n\n") if (i := raw.find(sep)) >= 0]
    if not found:
        return raw, b"", b""
    i, sep = min(found)
    return raw[:i], sep, raw[i + len(sep) :]


# --- Mutations ----------------------------------------------------------------------------------------------------

CHARSET_LABELS = [
    "utf-8",
    "UTF-8",
    "us-ascii",
    "iso-8859-1",
    "latin1",
    "windows-1252",
    "gb2312",
    "gbk",
    "gb18030",
    "big5",
    "big5-hkscs",
    "shift_jis",
    "euc-jp",
    "iso-2022-jp",
    "euc-kr",
    "ks_c_5601-1987",
    "koi8-r",
    "x-mac-cyrillic",
    "utf-7",
    "utf-16",
    "utf-16le",
    "utf-16-be",
    "utf-32",
    "unicode-1-1-utf-7",
    "idna",
    "punycode",
    "rot13",
    "base64",
    "hex",
    "zlib",
    "bz2",
    "uu",
    "quopri",
    "x-unknown",
    "fakescii",
    "_iso-2022-jp$ESC",
    "",
    '"',
    "utf-8\x00",
    "ascii'en'",
    "utf-8*",
    "cp65001",
    "mbcs",
    "unicode_escape",
    "raw_unicode_escape",
    "undefined",
]
TRANSFER_ENCODINGS = [
    "base64",
    "quoted-printable",
    "7bit",
    "8bit",
    "binary",
    "x-uuencode",
    "uuencode",
    "x-uue",
    "gzip",
    "x-gzip",
    "deflate",
    "BASE64",
    "qUoTeD-pRiNtAbLe",
    "garbage",
    "",
]
HEADER_NAMES = [
    "Subject",
    "From",
    "Date",
    "Message-ID",
    "List-Id",
    "List-Post",
    "List-Unsubscribe",
    "X-Newsletter",
    "X-Forwarded-For",
    "Content-Type",
    "Content-Transfer-Encoding",
    "Content-Disposition",
    "To",
    "Reply-To",
    "Sender",
    "MIME-Version",
]
HOSTILE_HTML = [
    "<script>alert(1)</script>",
    "<iframe src=javascript:alert(1)></iframe>",
    "<img src=x onerror=alert(1)>",
    "<svg onload=alert(1)><p>svg</p></svg>",
    '<a href="javascript:alert(1)">js link</a>',
    '<a href=" JaVa&#x09;ScRiPt:alert(1)">tab link</a>',
    '<img src="javascript:alert(1)" alt="js img">',
    "&lt;script&gt;alert(1)&lt;/script&gt;",
    "&lt;img src=x onerror=alert(1)&gt;",
    "<p>[md link](javascript:alert(1))</p>",
    '<body onload="alert(1)">',
    "<details open ontoggle=alert(1)>",
    "<object data=javascript:alert(1)>",
    "<embed src=javascript:alert(1)>",
    "<math><mi>x</mi></math>",
    "<!--",
    "<![CDATA[ <script>alert(1)</script> ]]>",
    "<style>*{}</style>",
    "</html>",
    "<table><tr><td>",
    '<a href="https://ok.example/">ok</a>',
    "<h1 class=post-title><a href='https://x.example/p/y'>Title</a></h1>",
    "\x00",
    "&#0;",
    "&#xD800;",
    "&#x110000;",
    "&amp;lt;",
    "<",
    ">",
    "&",
    "<<<>>>",
    "<a <b <c",
]
DEEP_TAGS = ["div", "span", "table", "td", "blockquote", "b", "ul", "li", "p", "a", "font", "center"]


def _flip_bytes(draw: st.DrawFn, raw: bytes) -> bytes:
    if not raw:
        return raw
    data = bytearray(raw)
    for _ in range(draw(st.integers(1, 16))):
        data[draw(st.integers(0, len(data) - 1))] = draw(st.integers(0, 255))
    return bytes(data)


def _truncate(draw: st.DrawFn, raw: bytes) -> bytes:
    return raw[: draw(st.integers(0, len(raw)))]


def _splice(draw: st.DrawFn, raw: bytes) -> bytes:
    other = draw(st.sampled_from(SEEDS))
    head, sep, body = split_message(raw)
    other_head, other_sep, other_body = split_message(other)
    how = draw(st.sampled_from(["head+other body", "other head+body", "both heads", "body in body"]))
    if how == "head+other body":
        return head + (sep or b"\n\n") + other_body
    if how == "other head+body":
        return other_head + (other_sep or b"\n\n") + body
    if how == "both heads":  # duplicate headers: two Subjects, two Content-Types, …
        return head + b"\n" + other_head + (sep or b"\n\n") + body
    at = draw(st.integers(0, len(body)))
    return head + sep + body[:at] + other_body + body[at:]


def _charset(draw: st.DrawFn, raw: bytes) -> bytes:
    label = draw(st.sampled_from(CHARSET_LABELS) | st.text(max_size=20))
    encoded = label.encode("utf-8", "surrogatepass")
    if re.search(rb"charset=", raw, re.IGNORECASE) and draw(st.booleans()):
        return re.sub(
            rb'charset="?[^";\s]*"?',
            b'charset="' + encoded.replace(b"\\", b"") + b'"',
            raw,
            count=draw(st.integers(0, 5)),
            flags=re.IGNORECASE,
        )
    ctype = draw(st.sampled_from([b"text/html", b"text/plain", b"multipart/alternative", b"text/x-unknown"]))
    return b"Content-Type: " + ctype + b"; charset=" + encoded + b"\n" + raw


def _transfer_encoding(draw: st.DrawFn, raw: bytes) -> bytes:
    value = draw(st.sampled_from(TRANSFER_ENCODINGS)).encode()
    if re.search(rb"content-transfer-encoding:", raw, re.IGNORECASE) and draw(st.booleans()):
        return re.sub(
            rb"(?im)^(content-transfer-encoding:)[^\r\n]*", rb"\1 " + value, raw, count=draw(st.integers(0, 5))
        )
    return b"Content-Transfer-Encoding: " + value + b"\n" + raw


@st.composite
def encoded_words(draw: st.DrawFn) -> bytes:
    """RFC 2047 encoded-words (well formed or not) between plain text, or RFC 2231 parameters."""
    pieces = []
    for _ in range(draw(st.integers(1, 4))):
        charset = draw(
            st.sampled_from(CHARSET_LABELS) | st.text(alphabet="abcdefghijklmnopqrstuvwxyz-_*'0123456789", max_size=12)
        )
        payload = draw(st.binary(max_size=60))
        kind = draw(st.sampled_from(["B", "Q", "b", "q", "X", "B-bad", "Q-raw"]))
        if kind in ("B", "b"):
            text = base64.b64encode(payload)
        elif kind == "B-bad":
            text = base64.b64encode(payload)[:-1] + b"!"
        elif kind in ("Q", "q"):
            text = b"".join(b"=%02X" % c if c in b"=?_ \t\r\n" or c > 126 or c < 33 else bytes([c]) for c in payload)
        else:
            text = payload.replace(b"?=", b"")
        lang = draw(st.sampled_from([b"", b"*en", b"*"]))
        pieces.append(
            b"=?" + charset.encode("utf-8", "surrogatepass") + lang + b"?" + kind[0].encode() + b"?" + text + b"?="
        )
        pieces.append(draw(st.sampled_from([b" ", b"", b"\r\n ", b"\n\t", b" plain ", b"\xe4\xb8\xad", b"\n"])))
    value = b"".join(pieces)
    if draw(st.booleans()):  # RFC 2231 instead: continuations, charsets, percent-escapes
        param = draw(st.sampled_from([b"filename", b"name", b"charset", b"boundary"]))
        value = (
            b"text/html; "
            + param
            + b"*0*="
            + draw(st.sampled_from([b"utf-8''", b"gb2312'zh'", b"x''", b"'"]))
            + draw(st.binary(max_size=20)).hex().upper().encode()[:30].replace(b"", b"%")[1:-1]
            + b"; "
            + param
            + b"*1="
            + value[:40]
        )
    return value


def _encoded_header(draw: st.DrawFn, raw: bytes) -> bytes:
    name = draw(st.sampled_from(HEADER_NAMES)).encode()
    return name + b": " + draw(encoded_words()) + b"\n" + raw


@st.composite
def html_fragments(draw: st.DrawFn) -> str:
    kind = draw(st.sampled_from(["deep", "huge", "hostile", "random", "unclosed"]))
    if kind == "deep":
        tag = draw(st.sampled_from(DEEP_TAGS))
        depth = draw(st.integers(1, 60_000 if LONG_RUN else 20_000))
        return f"<{tag}>" * depth + draw(st.sampled_from(HOSTILE_HTML)) + f"</{tag}>" * draw(st.integers(0, depth))
    if kind == "huge":
        unit = draw(
            st.sampled_from(
                [
                    "<p>word word word</p>",
                    "<a href='https://e.example/?utm_source=x'>l</a>",
                    "<img src=https://e.example/p.gif width=1>",
                    "x",
                    "<td>",
                    "&amp;",
                    "<table><tr><td>c</td><td>d</td></tr>",
                ]
            )
        )
        return unit * draw(st.integers(1, max(1, HUGE // len(unit))))
    if kind == "hostile":
        return "".join(draw(st.lists(st.sampled_from(HOSTILE_HTML), min_size=1, max_size=8)))
    if kind == "unclosed":
        return "<table><tr><td>" * draw(st.integers(1, 3000)) + "<p>text"
    return draw(
        st.text(
            alphabet=st.sampled_from(list("<>/=\"' &;#xabdiptsrcfhlmnoe\n\x00\u202e中")) | st.characters(), max_size=400
        )
    )


def _html(draw: st.DrawFn, raw: bytes) -> bytes:
    fragment = draw(html_fragments()).encode("utf-8", "surrogatepass")
    head, sep, body = split_message(raw)
    how = draw(st.sampled_from(["replace body", "insert", "wrap"]))
    if how == "insert":
        at = draw(st.integers(0, len(body)))
        return head + (sep or b"\n\n") + body[:at] + fragment + body[at:]
    if how == "wrap":  # an HTML part added next to what the message had
        boundary = b"fuzz-" + draw(st.binary(min_size=0, max_size=8)).hex().encode()
        return (
            head
            + b'\nContent-Type: multipart/alternative; boundary="'
            + boundary
            + b'"\n\n--'
            + boundary
            + b"\nContent-Type: text/html; charset=utf-8\n\n"
            + fragment
            + b"\n--"
            + boundary
            + b"\n"
            + body
            + b"\n--"
            + boundary
            + b"--\n"
        )
    kept = re.sub(rb"(?im)^content-(?:type|transfer-encoding):[^\r\n]*(?:\r?\n[ \t][^\r\n]*)*\r?\n?", b"", head)
    return kept + b"\nContent-Type: text/html; charset=utf-8\n\n" + fragment


def _boundary(draw: st.DrawFn, raw: bytes) -> bytes:
    found = re.findall(rb'boundary="?([^";\r\n]+)"?', raw, re.IGNORECASE)
    how = draw(st.sampled_from(["random", "drop lines", "drop close", "empty"]))
    if not found or how == "random":
        new = draw(st.binary(max_size=80)).replace(b"\n", b"").replace(b"\r", b"")
        if not found:
            return b'Content-Type: multipart/mixed; boundary="' + new + b'"\n' + raw
        return raw.replace(b'boundary="' + found[0] + b'"', b'boundary="' + new + b'"').replace(
            b"boundary=" + found[0], b"boundary=" + new
        )
    old = draw(st.sampled_from(found))
    if how == "drop lines":
        return re.sub(rb"(?m)^--" + re.escape(old) + rb"(?:--)?\r?$\n?", b"", raw)
    if how == "drop close":
        return raw.replace(b"--" + old + b"--", b"")
    return raw.replace(old, b"")


def _nest(draw: st.DrawFn, raw: bytes) -> bytes:
    """The message inside message/rfc822 or multipart parts, many levels deep."""
    kind = draw(st.sampled_from([b"message/rfc822", b"multipart/mixed"]))
    for level in range(draw(st.integers(1, 400 if LONG_RUN else 120))):
        b = b"n%d" % level
        if kind == b"message/rfc822":
            raw = (
                b"Content-Type: multipart/mixed; boundary="
                + b
                + b"\n\n--"
                + b
                + b"\nContent-Type: message/rfc822\n\n"
                + raw
                + b"\n--"
                + b
                + b"--\n"
            )
        else:
            raw = b"Content-Type: multipart/mixed; boundary=" + b + b"\n\n--" + b + b"\n" + raw + b"\n--" + b + b"--\n"
    return raw


# Bytes of one generated header. Headers this long once took quadratic time and memory in the stdlib's
# structured-header parser (content-transfer-encoding-20000-encoded-words.eml: 3 GB at 280 KB).
GIANT_HEADER = 2_000_000 if LONG_RUN else 200_000


def _giant_header(draw: st.DrawFn, raw: bytes) -> bytes:
    name = draw(st.sampled_from(HEADER_NAMES)).encode()
    unit = draw(st.sampled_from([b"a", b"=?utf-8?q?x?= ", b"\xe4\xb8\xad", b" ", b"<a@b>, ", b"\n x", b'"', b"("]))
    if draw(st.booleans()):
        return name + b": " + unit * draw(st.integers(1, GIANT_HEADER // len(unit))) + b"\n" + raw
    return (name + b": " + unit + b"\n") * draw(st.integers(1, 3000)) + raw


def _line_endings(draw: st.DrawFn, raw: bytes) -> bytes:
    how = draw(st.sampled_from(["lf", "crlf", "cr", "mixed"]))
    lf = raw.replace(b"\r\n", b"\n")
    if how == "lf":
        return lf
    if how == "crlf":
        return lf.replace(b"\n", b"\r\n")
    if how == "cr":
        return lf.replace(b"\n", b"\r")
    return b"".join(line + draw(st.sampled_from([b"\n", b"\r\n", b"\r"])) for line in lf.split(b"\n")[:2000])


MUTATIONS = [
    _flip_bytes,
    _truncate,
    _splice,
    _charset,
    _transfer_encoding,
    _encoded_header,
    _html,
    _boundary,
    _nest,
    _giant_header,
    _line_endings,
]


@st.composite
def fuzzed_messages(draw: st.DrawFn) -> bytes:
    """A seed message with zero to five mutations applied in turn."""
    raw = draw(st.sampled_from(SEEDS))
    for mutate in draw(st.lists(st.sampled_from(MUTATIONS), max_size=5)):
        raw = mutate(draw, raw)
    return raw


# --- Properties ---------------------------------------------------------------------------------------------------


def sound_note(raw: bytes) -> compose.Note:
    """Run the message → note work and assert every structural property; return the note."""
    letter = message.parse(raw)
    note = compose.make_note(RawMessage(raw, source="fuzz"), letter, SETTINGS)
    text = note.text
    assert text.startswith("---\n")
    head, sep, _ = text.partition("\n---\n")
    assert sep, "the front matter is never closed"
    data = yaml.safe_load(head.removeprefix("---\n"))
    assert isinstance(data, dict)
    assert data.keys() >= PROMISED_KEYS, PROMISED_KEYS - data.keys()
    fields = note.fields
    assert data["status"] == "draft" and data["source"] == "fuzz"
    assert (data["title"], data["author"], data["url"], data["message_id"]) == (
        fields.title,
        fields.author,
        fields.url,
        fields.message_id,
    )
    assert data["tags"] == render.note_tags(fields)
    assert data["aliases"] == ([fields.title] if fields.title.strip() else [])
    assert all(tags.is_valid(t) for t in data["tags"])
    # The project's own reader (ingest drafts) finds the same front matter.
    front, _ = frontmatter.split(text)
    assert yaml.safe_load(front) == data
    # The file name stays inside the archive whatever the title and date.
    for style in ("{date}-{slug}", "{title}"):
        path = files.note_path(ROOT, fields.date, render.file_stem(fields.title, fields.date, style))
        assert path.is_relative_to(ROOT) and ".." not in path.relative_to(ROOT).parts
        assert Path(os.path.normpath(path)).is_relative_to(ROOT)
        assert path.suffix == ".md" and "\x00" not in str(path) and not path.name.startswith(".")
        assert len(path.name.encode()) < 255
    return note


def test_the_live_html_check_itself() -> None:
    assert live_html("---\ntitle: x\n---\n# <script>alert(1)</script>") == ["<script>"]
    assert live_html("[a](javascript:alert(1)) <img src=x onerror=alert(1)>") == [
        "<a href='javascript:alert(1)'>",
        "<img onerror=…>",
    ]
    assert live_html("![x](JaVaScRiPt:alert\\(1\\)) <iframe src=x>") == ["<img src='JaVaScRiPt:alert(1)'>", "<iframe>"]
    # escaped, in code, or only text: nothing runs
    assert live_html("\\<script>x \\<img src=x onerror=y> `<script>` &lt;iframe&gt;\n\n    <script>\n") == []
    assert live_html("[z](https://ok.example/?q=<script>) javascript: is a word, on=off") == []


# --- Fuzz targets ---------------------------------------------------------------------------------------------

# Crashes already found and saved, by (exception, innermost ingester function): the fuzz target skips
# them so a run keeps looking for new ones; each is replayed (xfail) by the saved-input test below.
# Remove the entry when its bug is fixed (the xfail then XPASSes and says so).
KNOWN_CRASHES: dict[tuple[str, str], str] = {}  # none open: every crash found so far is fixed (see the README)


def known_crash(exc: BaseException) -> str | None:
    """The saved input of an already known crash like this one, or None for a new crash."""
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if f"{os.sep}ingester{os.sep}" in f.filename]
    return KNOWN_CRASHES.get((type(exc).__name__, frames[-1].name if frames else ""))


@pytest.mark.slow
@FUZZ
@given(fuzzed_messages())
def test_fuzz_message_to_note_never_raises_and_stays_well_formed(raw: bytes) -> None:
    try:
        sound_note(raw)
    except AssertionError:
        raise
    except Exception as exc:
        if known_crash(exc) is None:
            raise
        reject()


@pytest.mark.slow
@FUZZ
# Found by this target (shrunk by hand), fixed in f4141fd: hostile fragments in the HTML, a hostile Subject.
@example(b"Subject: x\nContent-Type: text/html\n\n&lt;script&gt;alert(1)&lt;/script&gt;")
@example(b"Subject: <img src=x onerror=alert(1)>\nContent-Type: text/plain\n\nhi")
@example(b'Subject: x\nContent-Type: text/html\n\n<img src="javascript:alert(1)" alt="js img">')
@example(b"Subject: x\nContent-Type: text/html\n\n<p>[md link](javascript:alert(1))</p>")
@given(fuzzed_messages())
def test_fuzz_note_has_no_live_html(raw: bytes) -> None:
    try:
        note = compose.make_note(RawMessage(raw, source="fuzz"), message.parse(raw), SETTINGS)
    except Exception as exc:
        if known_crash(exc) is None:
            raise
        reject()
    assert live_html(note.text) == []


# --- Saved inputs (regressions) -----------------------------------------------------------------------------------

# Inputs whose replay fails because of a known ingester bug (xfail, strict: a fix makes it XPASS).
KNOWN_BAD: dict[str, str] = {}  # none open
MEMORY_LIMIT = 1536 * 2**20  # bytes of address space for one replay: ample for any sane message
REPLAY_SECONDS = 60


def _saved_inputs() -> list[object]:
    files = sorted(FUZZ_FIXTURES.glob("*.eml")) if FUZZ_FIXTURES.is_dir() else []
    return [
        pytest.param(
            p,
            id=p.name,
            marks=[pytest.mark.xfail(strict=True, reason=KNOWN_BAD[p.name])] if p.name in KNOWN_BAD else [],
        )
        for p in files
    ]


_REPLAY = """
import resource, sys
resource.setrlimit(resource.RLIMIT_AS, ({limit}, {limit}))
from tests.test_fuzz import sound_note
sound_note(open(sys.argv[1], "rb").read())
"""


@pytest.mark.slow
@pytest.mark.parametrize("path", _saved_inputs())
def test_saved_fuzz_input_gives_a_sound_note(path: Path) -> None:
    """Replayed in a child process with a memory cap and a timeout: a blow-up fails the test, not the run."""
    try:
        result = subprocess.run(
            [sys.executable, "-c", _REPLAY.format(limit=MEMORY_LIMIT), str(path)],
            cwd=REPO,
            check=False,
            capture_output=True,
            text=True,
            timeout=REPLAY_SECONDS,
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"{path.name}: no note after {REPLAY_SECONDS} s")
    assert result.returncode == 0, result.stderr[-3000:]


def test_every_known_crash_has_a_saved_input_that_is_expected_to_fail() -> None:
    for name in KNOWN_CRASHES.values():
        assert (FUZZ_FIXTURES / name).is_file(), name
        assert name in KNOWN_BAD, name
    assert set(KNOWN_BAD) <= {p.name for p in FUZZ_FIXTURES.glob("*.eml")}


def test_saved_inputs_are_accounted_for_by_ingest_import(tmp_path: Path) -> None:
    """Accounting over hostile input (the corpus run in test_corpus.py has no failures to account for):
    filed + skipped + duplicates + failed == messages seen, no traceback, and every failure is in the
    ledger with its source and a one-line reason, as `ingest status` shows it."""
    inbox = tmp_path / "in"
    inbox.mkdir()
    small = [p for p in sorted(FUZZ_FIXTURES.glob("*.eml")) if p.stat().st_size < 100_000]  # no 3 GB blow-up here
    for path in small:
        (inbox / path.name).write_bytes(path.read_bytes())
    (inbox / "not-a-message.bin").write_bytes(bytes(range(256)) * 4)
    (inbox / "empty.eml").write_bytes(b"")
    messages = len(small) + 2
    config = tmp_path / "c.toml"  # an absolute archive path (the next test: the default, relative one)
    config.write_text(f'[archive]\npath = "{tmp_path / "archive"}"\n', encoding="utf-8")

    result = run_ingest("--config", config, "import", inbox, "--all", "--json", cwd=tmp_path)

    assert result.returncode in (0, 3), result.stderr  # 3: finished, some messages failed
    assert "Traceback" not in result.stderr
    summary = json.loads(result.stdout)
    assert summary["seen"] + len(summary["not_mail"]) == messages  # no From, Date or Message-ID: not mail
    assert summary["filed"] + summary["skipped"] + summary["duplicates"] + summary["failed"] == summary["seen"]
    assert (result.returncode == 3) == (summary["failed"] > 0)
    for failure in summary["failures"]:
        assert failure["source"].startswith(str(inbox)) and failure["error"]
        assert "\n" not in failure["error"]
    status = run_ingest("--config", config, "status", "--json", cwd=tmp_path)
    assert status.returncode == 0, status.stderr
    listed = json.loads(status.stdout)
    assert sorted(f["source"] for f in listed["failures"]) == sorted(f["source"] for f in summary["failures"])
    assert listed["totals"]["failed"] == summary["failed"]


def test_status_lists_failures_with_the_default_relative_archive(tmp_path: Path) -> None:
    (tmp_path / "broken.eml").write_bytes((FUZZ_FIXTURES / "html-bad-marked-section.eml").read_bytes())
    run_ingest("import", tmp_path / "broken.eml", "--all", cwd=tmp_path)

    status = run_ingest("status", "--json", cwd=tmp_path)

    assert status.returncode == 0, status.stderr[-2000:]
    assert "Traceback" not in status.stderr
    json.loads(status.stdout)
