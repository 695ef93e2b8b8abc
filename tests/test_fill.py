"""`ingest fill` from the outside, against a real HTTP server on 127.0.0.1 speaking the OpenAI chat API
(tests/llmserver.py; the answers are canned: the model is tested for real in test_fill_engine.py).

The archive is made by the real pipeline (`ingest import` of fixture messages), as in test_drafts.py.
"""

from __future__ import annotations

import dataclasses
import json
import re
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from ingester.config import parse
from ingester.errors import ConfigError, FillError
from ingester.fill.run import fill_filed
from ingester.fill.schema import parse_answer
from ingester.store import notes
from ingester.store.ledger import Ledger
from tests.conftest import EMAILS, QUIET, QUIET_ID, WEEKLY, Mailbox, copy_filed, notes_in, run_ingest
from tests.llmserver import Behaviour, chat_server
from tests.test_daemon import Daemon, daemons, start_daemon, wait_for  # noqa: F401 - `daemons` is a fixture

SEED = Path(__file__).resolve().parent.parent.parent / "shared" / "examples" / "seed-note.md"
ANSWER = {
    "title": "小模型的安静一年：更便宜、更可靠",
    "category": "博客文章",
    "outline": [
        {"point": "为什么重要", "subpoints": ["日常任务不需要大模型", "小团队也能建系统"]},
        {"point": "发生了什么变化", "subpoints": ["蒸馏变得可复现", "量化不再损失精度"]},
    ],
    "tags": ["人工智能", "小模型", "#本地 部署"],
    "sections": [
        {
            "heading": "引言",
            "points": [{"key": "少看基准图", "text": "作者发现日常使用的模型变得更小、更便宜、更可靠。"}],
        },
        {
            "heading": "为什么重要",
            "points": [{"key": "合理的选择", "text": "能在笔记本上运行的模型适合整理、摘要和改写。"}],
        },
    ],
}


@pytest.fixture
def archive(filed_archive: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    return copy_filed(filed_archive, tmp_path, monkeypatch)


def config(endpoint: str, **extra: object) -> Path:
    """./ingester.toml: the archive at ./archive and [fill] at `endpoint`."""
    lines = ["[archive]", 'path = "archive"', "[fill]", f'endpoint = "{endpoint}"', 'model = "tiny"']
    lines += [f"{key} = {json.dumps(value)}" for key, value in extra.items()]
    Path("ingester.toml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return Path("ingester.toml")


def fill(*args: str, endpoint: str, **extra: object):  # type: ignore[no-untyped-def]
    return run_ingest("--config", config(endpoint, **extra), "fill", *args)


def fills(archive: Path) -> list[tuple[str, str, str]]:
    with sqlite3.connect(archive / ".ingest" / "ledger.sqlite3") as db:
        return db.execute("SELECT note, outcome, detail FROM fills").fetchall()


def test_a_draft_is_filled_in_the_form_of_the_seed_note(archive: Path) -> None:
    behaviour = Behaviour(json.dumps(ANSWER, ensure_ascii=False))
    with chat_server(behaviour) as endpoint:
        result = fill(QUIET_ID, endpoint=endpoint)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[0] == f"filled   {QUIET_ID}  {archive / QUIET}"
    note = notes.read_note(archive, archive / QUIET)
    assert note is not None
    body = note.body
    assert body.startswith("小模型的安静一年：更便宜、更可靠\n- 原文标题：The quiet year of small models\n")
    assert "# 小模型的安静一年：更便宜、更可靠\n" in body
    assert (
        "- 链接：[The quiet year of small models](https://fieldnotes.substack.com/p/the-quiet-year-of-small-models)"
        in body
    )
    assert "- **文章类别**：博客文章" in body
    assert "- 为什么重要\n  - 日常任务不需要大模型\n  - 小团队也能建系统\n- 发生了什么变化\n" in body
    assert "## 文章标签\n\n#人工智能 ， #小模型 ， #本地-部署\n" in body
    assert "### 为什么重要\n\n- **合理的选择**：能在笔记本上运行的模型适合整理、摘要和改写。" in body
    # the original article, whole, under its own heading after the filled part
    original = body.split("\n## 原文\n", 1)[1]
    assert "A year ago I promised myself I would stop reading benchmark charts" in original
    assert "#### A note on evaluation" in original
    # front matter: the draft's, plus who filled it and when; still a draft, platform tags kept
    assert note.status == "draft" and note.tags == ["newsletter", "newsletter/substack", "field-notes"]
    assert note.field("filled_by") == "127.0.0.1 tiny"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00", note.field("filled_at"))
    assert fills(archive) == [(QUIET, "filled", "")]


def test_the_filled_note_has_every_section_of_the_seed_in_its_order(archive: Path) -> None:
    with chat_server(Behaviour(json.dumps(ANSWER, ensure_ascii=False))) as endpoint:
        assert fill(QUIET_ID, endpoint=endpoint).returncode == 0
    note = notes.read_note(archive, archive / QUIET)
    assert note is not None

    labels = ("原文标题", "链接", "文章类别", "作者", "发布日期")
    repeated = {"-", "  -", "###", "- **key**："}

    def form(text: str) -> list[str]:
        """The skeleton of a note: its headings, labels and the shapes of its lines, in order."""
        shapes = []
        for line in text.splitlines():
            if m := re.match(r"(#{1,3}) ", line):
                shapes.append(m.group(1) + (" " + line[len(m.group(0)) :] if len(m.group(1)) == 2 else ""))
            elif m := re.match(r"- (?:\*\*)?([^*：]+)(?:\*\*)?：", line):
                shapes.append("- " + m.group(1) if m.group(1) in labels else "- **key**：")
            elif re.match(r"\s*- ", line):
                shapes.append(line[: line.index("-") + 1])  # outline items and their sub-points
            elif line.startswith(("---", "```", "**内容整理**")) or (line.startswith("#") and "，" in line):
                shapes.append(line[:3])
        form: list[str] = []  # the form, not the counts: a run of repeated shapes is the set of its shapes
        for shape in shapes:
            if form and shape in repeated and set(form[-1].split("|")) <= repeated:
                form[-1] = "|".join(sorted({*form[-1].split("|"), shape}))
            else:
                form.append(shape)
        return form

    seed = form(SEED.read_text(encoding="utf-8"))
    filled = form(note.body.split("\n## 原文\n", 1)[0])
    assert filled == seed, "\n".join(map(repr, zip(filled, seed, strict=False)))


def test_only_the_cleaned_article_is_sent(archive: Path) -> None:
    behaviour = Behaviour(json.dumps(ANSWER, ensure_ascii=False))
    with chat_server(behaviour) as endpoint:
        assert fill("--all", endpoint=endpoint).returncode == 0
    assert len(behaviour.requests) == 5
    for request in behaviour.requests:  # five senders, HTML and plain text: not one web address
        assert not re.search(r"https?:|www\.|\]\(", json.dumps(request["messages"], ensure_ascii=False))
    [sent] = [r for r in behaviour.requests if "small models" in r["messages"][1]["content"]]
    text = json.dumps(sent["messages"], ensure_ascii=False)
    raw = (EMAILS / "substack-post.eml").read_text(encoding="utf-8", errors="replace")
    recipient = re.search(r"^To: .*?([\w.+-]+@[\w.-]+)", raw, re.M)
    assert recipient is not None
    assert recipient.group(1) not in text  # the reader
    assert "http" not in text and "substack.com" not in text  # no link at all, tracked or clean
    assert "Message-ID" not in text and "mg1.substack" not in text  # no headers
    assert "Distillation recipes became boring and reproducible." in text
    assert sent["path"] == "/v1/chat/completions" and sent["model"] == "tiny"
    assert sent["response_format"]["type"] == "json_schema"
    assert "Authorization" not in behaviour.headers[0]


def test_a_server_taking_json_object_with_a_schema_is_asked_so(archive: Path) -> None:
    behaviour = Behaviour(json.dumps(ANSWER, ensure_ascii=False), refuse_json_schema=True)
    with chat_server(behaviour) as endpoint:
        result = run_ingest("-v", "--config", config(endpoint), "fill", "--all")
    assert result.returncode == 0, result.stderr
    assert "refused response_format json_schema (HTTP 422): asking with json_object" in result.stderr
    modes = [r["response_format"]["type"] for r in behaviour.requests]
    assert modes == ["json_schema", "json_object", "json_object", "json_object", "json_object", "json_object"]
    assert behaviour.requests[1]["response_format"]["schema"]["required"][0] == "title"


def test_the_api_key_comes_from_the_environment_and_is_never_shown(
    archive: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FILL_KEY", "sk-secret-123")
    behaviour = Behaviour("not json", status=500)
    with chat_server(behaviour) as endpoint:
        result = run_ingest("-vv", "--config", config(endpoint, api_key_env="FILL_KEY"), "fill", QUIET_ID)
    assert behaviour.headers[0]["Authorization"] == "Bearer sk-secret-123"
    assert "sk-secret" not in result.stdout + result.stderr
    assert result.returncode == 3


@pytest.mark.parametrize(
    ("behaviour", "extra", "error"),
    [
        (Behaviour(status=500), {}, "the model's server answered HTTP 500: the model is overloaded"),
        (Behaviour("Sure! Here is your note: ..."), {}, "the model's answer is not JSON (it starts 'Sure! Here is"),
        (Behaviour('{"title": "x"}'), {}, "the model's answer has no text 'category'"),
        (Behaviour(json.dumps(ANSWER), delay=2.5), {"timeout": 1}, "within 1 s; raise [fill] timeout"),
    ],
    ids=["http-error", "not-json", "invalid", "timeout"],
)
def test_a_failed_answer_leaves_the_note_byte_identical_and_is_recorded(
    archive: Path, behaviour: Behaviour, extra: dict[str, object], error: str
) -> None:
    before = (archive / QUIET).read_bytes()
    with chat_server(behaviour) as endpoint:
        result = fill(QUIET_ID, endpoint=endpoint, **extra)
    assert result.returncode == 3
    [line, done] = result.stdout.splitlines()
    assert line.startswith(f"failed   {QUIET_ID}  {archive / QUIET}: ") and error in line
    assert done.startswith("Done: 0 filled, 0 skipped, 1 failed")
    assert (archive / QUIET).read_bytes() == before
    [(note, outcome, detail)] = fills(archive)
    assert (note, outcome) == (QUIET, "failed") and error in detail
    log = run_ingest("--config", "ingester.toml", "log", "--failed")
    assert "failed   Jane Doe" not in log.stdout and f"fill: {detail}" in log.stdout
    status = run_ingest("--config", "ingester.toml", "status")
    assert "1 fills failed)" in status.stdout.splitlines()[0]
    assert f"fill failed  {QUIET}: {detail} (" in status.stdout


def test_jobs_notes_are_asked_for_at_once(archive: Path) -> None:
    behaviour = Behaviour(json.dumps(ANSWER), delay=0.5)
    with chat_server(behaviour) as endpoint:
        result = fill("--all", "--json", endpoint=endpoint, jobs=3)
    assert json.loads(result.stdout)["filled"] == 5
    assert behaviour.most_in_flight == 3
    assert all("filled_by" in p.read_text(encoding="utf-8") for p in archive.rglob("*.md") if ".ingest" not in p.parts)


def test_a_server_that_is_down_is_said_in_one_line(archive: Path) -> None:
    with chat_server(Behaviour()) as endpoint:
        pass  # the port is free again: nothing listens there
    before = (archive / QUIET).read_bytes()
    result = fill(QUIET_ID, endpoint=endpoint)
    assert result.returncode == 3
    assert f"cannot reach the model's server at {endpoint}/chat/completions" in result.stdout
    assert "is it running?" in result.stdout and "Traceback" not in result.stderr
    assert (archive / QUIET).read_bytes() == before


def test_a_note_edited_while_the_model_answers_is_left_as_saved(archive: Path) -> None:
    path = archive / QUIET

    def person_saves() -> None:
        path.write_text(path.read_text(encoding="utf-8") + "\nMy own thought.\n", encoding="utf-8")

    behaviour = Behaviour(json.dumps(ANSWER), before_answer=person_saves)
    with chat_server(behaviour) as endpoint:
        result = fill(QUIET_ID, endpoint=endpoint)
    assert result.returncode == 0
    assert "skipped  c2f51ed" in result.stdout and "edited while it was being filled" in result.stdout
    assert path.read_text(encoding="utf-8").endswith("\nMy own thought.\n")
    assert "filled_by" not in path.read_text(encoding="utf-8")


def test_edited_and_reviewed_notes_are_never_filled_even_with_force(archive: Path) -> None:
    edited = archive / WEEKLY
    edited.write_text(edited.read_text(encoding="utf-8") + "\nmine\n", encoding="utf-8")
    assert run_ingest("drafts", "accept", QUIET_ID).returncode == 0
    before = {p: p.read_bytes() for p in (edited, archive / QUIET)}
    behaviour = Behaviour(json.dumps(ANSWER))
    with chat_server(behaviour) as endpoint:
        result = fill(str(edited.relative_to(archive.parent)), QUIET_ID, "--force", endpoint=endpoint)
    assert result.returncode == 0
    assert "edited since it was filed" in result.stdout and "its status is reviewed, not draft" in result.stdout
    assert {p: p.read_bytes() for p in before} == before
    assert behaviour.requests == []


def test_a_filled_draft_is_filled_again_only_with_force(archive: Path) -> None:
    first = dict(ANSWER, title="第一次")
    with chat_server(Behaviour(json.dumps(first))) as endpoint:
        assert fill(QUIET_ID, endpoint=endpoint).returncode == 0
    with chat_server(Behaviour(json.dumps(dict(ANSWER, title="第二次")))) as endpoint:
        again = fill(QUIET_ID, endpoint=endpoint)
        assert "filled already by 127.0.0.1 tiny (--force fills it again)" in again.stdout
        assert (archive / QUIET).read_text(encoding="utf-8").count("第一次") == 2
        forced = fill(QUIET_ID, "--force", "--json", endpoint=endpoint)
    assert json.loads(forced.stdout)["filled"] == 1
    text = (archive / QUIET).read_text(encoding="utf-8")
    assert "第二次" in text and "第一次" not in text and text.count("filled_by:") == 1
    # rerender goes back to the skeleton: the filled note was untouched
    assert "rerendered" in run_ingest("rerender", QUIET_ID).stdout
    assert "filled_by" not in (archive / QUIET).read_text(encoding="utf-8")


def test_a_remote_endpoint_is_refused_unless_allowed() -> None:
    with pytest.raises(ConfigError) as refused:
        parse({"fill": {"endpoint": "https://api.example.com/v1", "model": "m"}})
    assert "api.example.com is not this machine" in str(refused.value)
    assert "allow_remote = true" in str(refused.value)
    allowed = parse({"fill": {"endpoint": "https://api.example.com/v1/", "model": "m", "allow_remote": True}})
    assert allowed.fill.endpoint == "https://api.example.com/v1" and allowed.fill.filled_by == "api.example.com m"


def test_every_run_to_a_remote_endpoint_says_the_text_leaves_the_machine(archive: Path) -> None:
    # TEST-NET-1 (RFC 5737): never routed, so nothing is sent anywhere
    result = fill(QUIET_ID, endpoint="http://192.0.2.1:9/v1", allow_remote=True, timeout=1)
    assert "the text of each article filled is sent to 192.0.2.1" in result.stderr
    assert result.returncode == 3


def test_filling_is_off_without_an_endpoint(archive: Path) -> None:
    result = run_ingest("fill", QUIET_ID)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        (
            "Error: filling is off: set [fill] endpoint and model in the config (`ingest config init` "
            "writes an annotated example)"
        )
    ]


@pytest.mark.parametrize(
    ("table", "problem"),
    [
        ({"endpoint": "ftp://127.0.0.1/v1", "model": "m"}, "[fill] endpoint: must be an http(s) base URL"),
        ({"endpoint": "http://127.0.0.1/v1"}, "[fill] model: missing"),
        ({"timeout": 0}, "[fill] timeout: must be a number from 1 to 3600, not 0"),
        ({"jobs": 2.5}, "[fill] jobs: must be a whole number, not 2.5"),
        ({"auto": "yes"}, "[fill] auto: must be true or false"),
        ({"api_key_env": "A", "api_key_command": "b"}, "set one of them, not both"),
        ({"temperature": 1}, "[fill]: unknown key 'temperature'"),
    ],
)
def test_config_problems_are_named(table: dict[str, object], problem: str) -> None:
    with pytest.raises(ConfigError) as error:
        parse({"fill": table})
    assert problem in str(error.value)


def test_the_answer_is_checked_and_cleaned() -> None:
    answer = parse_answer(
        '{"title": " A\\u0007\\n title ", "category": "c", "tags": ["#a b", "", "#a b"],'
        ' "outline": [{"point": "p", "subpoints": ["", "s\\u202e"]}, {"point": " ", "subpoints": []}],'
        ' "sections": [{"heading": "h", "points": [{"key": "k", "text": ""}, {"key": "k2", "text": "t"}]}]}'
    )
    assert answer.title == "A title"
    assert answer.tags == ("a-b",)
    assert [(p.point, p.subpoints) for p in answer.outline] == [("p", ("s",))]
    assert [(k.key, k.text) for k in answer.sections[0].points] == [("k2", "t")]
    for bad, said in [
        ("[]", "the answer must be a JSON object"),
        ('{"title": ""}', "empty title"),
        ('{"title": "t", "category": "c", "outline": {}}', "no list 'outline'"),
    ]:
        with pytest.raises(FillError, match=re.escape(said)):
            parse_answer(bad)


def test_markdown_in_the_answer_stays_text(archive: Path) -> None:
    hostile = dict(
        ANSWER,
        title="<script>alert(1)</script> [x](javascript:alert(1))",
        sections=[{"heading": "# top", "points": [{"key": "**k**", "text": "<img src=x onerror=alert(1)>\n# h"}]}],
    )
    with chat_server(Behaviour(json.dumps(hostile))) as endpoint:
        assert fill(QUIET_ID, endpoint=endpoint).returncode == 0
    body = (archive / QUIET).read_text(encoding="utf-8")
    assert not re.search(r"(?<!\\)<(script|img)|(?<!\\)\]\(javascript:", body)
    assert "### \\# top\n\n- **\\*\\*k\\*\\***：\\<img src=x onerror=alert(1)> # h" in body


def test_the_daemon_fills_each_new_draft_after_filing_it(
    mailbox: Mailbox,
    tmp_path: Path,
    daemons: list[Daemon],  # noqa: F811 - the fixture of test_daemon.py
) -> None:
    behaviour = Behaviour(json.dumps(ANSWER, ensure_ascii=False))
    with chat_server(behaviour) as endpoint:
        daemon = start_daemon(
            mailbox, tmp_path, daemons, extra=f'[fill]\nendpoint = "{endpoint}"\nmodel = "tiny"\nauto = true\n'
        )
        wait_for(lambda: "watching for new mail (IDLE)" in daemon.text(), 10)
        mailbox.append("substack-post.eml")
        wait_for(lambda: "fill: filled" in daemon.text(), 10)
        assert daemon.stop()[0] == 0
    [note] = notes_in(mailbox.archive)
    text = note.read_text(encoding="utf-8")
    assert text.count("filled_by: ") == 1 and "小模型的安静一年" in text and 'status: "draft"' in text
    assert len(behaviour.requests) == 1


def test_the_daemon_tries_a_failed_fill_again_after_its_backoff(archive: Path) -> None:
    config = parse({"archive": {"path": str(archive)}, "fill": {"endpoint": "http://127.0.0.1:9/v1", "model": "m"}})
    with chat_server(Behaviour(status=503)) as endpoint:
        failing = dataclasses.replace(config, fill=dataclasses.replace(config.fill, endpoint=endpoint))
        with Ledger(archive / ".ingest", exclusive=False) as ledger:
            [first] = fill_filed(failing, ledger, [str(archive / QUIET)])
            assert first.outcome == "failed"
            assert fill_filed(failing, ledger, []) == []  # not yet: 5 minutes first
            later = datetime.now(UTC) + timedelta(minutes=5, seconds=1)
            [again] = fill_filed(failing, ledger, [], now=later)
            assert again.outcome == "failed" and again.note.relative == QUIET
            assert ledger.fill_failures()[0][3] == 2  # two in a row: the next try waits 10 minutes
            assert fill_filed(failing, ledger, [], now=datetime.now(UTC) + timedelta(minutes=9)) == []
    with chat_server(Behaviour(json.dumps(ANSWER))) as endpoint:
        working = dataclasses.replace(config, fill=dataclasses.replace(config.fill, endpoint=endpoint))
        with Ledger(archive / ".ingest", exclusive=False) as ledger:
            [done] = fill_filed(working, ledger, [], now=datetime.now(UTC) + timedelta(minutes=11))
            assert done.outcome == "filled" and ledger.fill_failures() == []
