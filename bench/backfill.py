"""Backfill benchmark (issue #8): our speed against the machine's limits and against a naive peer.

    .venv/bin/python bench/backfill.py                 # N = 2,000 newsletters
    .venv/bin/python bench/backfill.py --n 10000
    .venv/bin/python bench/backfill.py --rss-check     # also: end to end at 1,000 and 10,000, peak memory

Mailbox: a throwaway Dovecot (tests/imapserver.py) with N newsletters made from every
`newsletter`-kind file of ../shared/corpus (MANIFEST.tsv), cycled in manifest order. HTML-only
bodies are wrapped in the headers their platform sends (bench/retention.py: `wrap_html`, the
WRAPPED table); every copy gets a unique Message-ID, a Date one `--step-hours` apart, CRLF line
ends and a matching INTERNALDATE (file mtime). It is loaded by writing the files straight into the
user's Maildir (then one SELECT indexes them), or with `--load import`: a prepared Maildir and
`doveadm import` (imap-testing.md §5). Here, generation included, direct writes were the faster
(2,000 messages: 3.3-3.7 s against 3.6-4.1 s): import writes every byte twice.

One run measures, on the same mailbox, and prints one table:
  1. raw fetch ceiling: imaplib (debug 0), `UID FETCH <500 uids> (BODY.PEEK[])` over the folder;
  2. our fetch stage alone: `ingester.source.ImapSession.select/search/fetch` over the folder;
  3. html2text alone, one core: the first HTML part of each message (decoded with the stdlib
     `email` package, outside the timing), through a fresh html2text converter configured as the
     ingester's (`ingester.convert._converter`), as the ingester does per document;
  4. our message → note work alone, one core: `ingester.pipeline.prepare` per message (parse,
     decide, clean, convert, render; no I/O), after one untimed warm-up call;
  5. `ingest --since 2000-01-01 --json` end to end in a subprocess, default settings (jobs = cores);
  6. the same with `--jobs 1`;
  7. NAIVE PEER (bench/naive_peer.py): one FETCH per message, stdlib parse + html2text, no cleaning.
Fetch rows are the median of `--fetch-repeats` runs after an untimed warm-up; rows 3-4 run in
this process, interleaved message by message (3 then 4 for each), so that drifts in the machine's
speed weigh on both alike. Rows 5-7 each get a fresh archive/output dir and run under a small wrapper that
makes itself child subreaper, so that descendants nobody waits for (multiprocessing's resource
tracker; with the forkserver start method, the forkserver and every pool worker it forks) are
reaped by it and their CPU is counted: CPU = user + system of the whole tree (RUSAGE_CHILDREN of
the wrapper); plain RUSAGE_CHILDREN or /usr/bin/time of the ingest process would miss them.
Memory: "tree PSS" is the peak of the summed PSS of every process of the run, sampled from
/proc/<pid>/smaps_rollup every 0.2 s (PSS shares pages between forked processes fairly);
"max proc RSS" is the largest single process's peak RSS (ru_maxrss). The memory target is judged
on tree PSS. "others" = cores kept busy meanwhile by anything else (other processes; for the
fetch rows also Dovecot), from /proc/stat: the machine may be shared, and the figures say how
much. All figures: wall seconds, MB = 10^6 bytes, msg/s = messages / wall.

The targets of issue #8 are computed from the table and marked hold/miss. Run by hand (or
`make bench`); never part of `make test` (tests/test_bench_backfill.py is a smoke test with N = 20).
"""

from __future__ import annotations

import argparse
import email.utils
import imaplib
import importlib.util
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CORPUS = REPO.parent / "shared" / "corpus"
sys.path.insert(0, str(REPO))

from ingester import config as config_mod
from ingester import convert, pipeline
from ingester.compose import Settings
from ingester.message import RawMessage
from ingester.source import ImapSession
from tests.imapserver import DovecotServer

SINCE = "2000-01-01"
FIRST_DATE = datetime(2019, 1, 1, 7, 0, tzinfo=UTC)
PASSWORD = "test"  # every t-* user of the throwaway Dovecot
MB = 1e6
PSS_INTERVAL = 0.2  # seconds between memory samples of a measured run
RSS_SIZES = (1_000, 10_000)

# Targets of issue #8.
FETCH_MIN = 0.5  # our fetch ≥ 0.5 × raw fetch ceiling (throughput)
WORK_MAX = 2.0  # our per-message work ≤ 2.0 × html2text alone
SCALING_MIN = 1.7  # end to end ≥ 1.7 × one worker (2 cores)
CEILING_MIN = 0.8  # end to end ≥ 0.8 × cores ÷ per-message work
NAIVE_MIN = 1.5  # end to end ≥ 1.5 × faster than the naive peer
RSS_MAX_MB = 300.0  # peak memory at N = 10,000
RSS_GROWTH_MAX = 1.2  # peak memory at 10,000 ≤ 1.2 × at 1,000

# Runs a command as child subreaper: descendants orphaned on the way (forkserver, resource
# tracker) are reparented to it and reaped, so their CPU time lands in its RUSAGE_CHILDREN.
WRAPPER = r"""
import ctypes, json, os, resource, subprocess, sys, time
ctypes.CDLL(None, use_errno=True).prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER
with open(sys.argv[1], "wb") as out, open(sys.argv[2], "wb") as err:
    started = time.perf_counter()
    rc = subprocess.Popen(sys.argv[3:], stdin=subprocess.DEVNULL, stdout=out, stderr=err).wait()
    wall = time.perf_counter() - started
deadline = time.monotonic() + 30
while True:
    try:
        pid, _ = os.waitpid(-1, os.WNOHANG)
    except ChildProcessError:
        break
    if pid == 0:
        if time.monotonic() > deadline:
            break
        time.sleep(0.005)
ru = resource.getrusage(resource.RUSAGE_CHILDREN)
print(json.dumps({"rc": rc, "wall": wall, "cpu": ru.ru_utime + ru.ru_stime, "maxrss_kb": ru.ru_maxrss}))
"""


def cpu_busy() -> float:
    """Seconds of CPU the whole machine has spent busy since boot (all cores; /proc/stat)."""
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
    user, nice, system, _idle, _iowait, irq, softirq, steal = fields
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def other_load(busy_before: float, own_cpu: float, wall: float) -> float:
    """Cores kept busy by other work (other processes, and the server for fetch rows) meanwhile."""
    return max(0.0, (cpu_busy() - busy_before - own_cpu) / wall) if wall else 0.0


# --- The mailbox --------------------------------------------------------------------------------
def load_retention():
    """bench/retention.py as a module: manifest reading and the WRAPPED headers of HTML-only bodies."""
    spec = importlib.util.spec_from_file_location("bench_retention", REPO / "bench" / "retention.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look the module up by name
    spec.loader.exec_module(module)
    return module


@dataclass
class Base:
    """One corpus newsletter as a complete message, and its HTML as the stdlib decodes it."""

    file: str
    raw: bytes
    html: str | None


# The corpus before it grew by 48 files (#19): the 34 newsletters the earlier figures were measured on.
LATER = ("n2rss/", "mailcore2/", "deltachat-headers/")
MIXES = ("corpus", "classic")


def corpus_bases(corpus: Path, mix: str = "corpus") -> list[Base]:
    """`corpus`: every newsletter of the corpus with an HTML body, each weighted evenly (the long tail
    of long digests and foreign-language issues included); `classic`: the 34 the earlier figures used."""
    retention = load_retention()
    bases = []
    for file, platform_name in retention.read_manifest(corpus):
        if mix == "classic" and file.startswith(LATER):
            continue
        data = (corpus / file).read_bytes()
        raw = retention.wrap_html(file, platform_name, data) if retention.is_html_only(file, data) else data
        kind, body = retention.reference_body(raw)  # stdlib email, first inline text/html part
        if mix == "corpus" and kind != "html":
            continue
        bases.append(Base(file, raw, body if kind == "html" else None))
    if not bases:
        raise SystemExit(f"no newsletter-kind rows in {corpus / 'MANIFEST.tsv'}")
    return bases


HEADER_END = re.compile(rb"\r?\n\r?\n")
FIELD_START = re.compile(rb"^([!-9;-~]+)[ \t]*:")


def restamp(raw: bytes, message_id: str, date: datetime) -> bytes:
    """raw with CRLF line ends, no mbox From_ line, and this Message-ID and Date (others removed)."""
    raw = re.sub(rb"\r?\n", b"\r\n", raw)
    if raw.startswith(b"From "):
        raw = raw.split(b"\r\n", 1)[1]
    end = HEADER_END.search(raw)
    head, body = (raw[: end.start()], raw[end.start() :]) if end else (raw, b"\r\n\r\n")
    kept: list[bytes] = []
    dropping = False
    for line in head.split(b"\r\n"):
        if line[:1] in (b" ", b"\t"):
            if not dropping:
                kept.append(line)
            continue
        match = FIELD_START.match(line)
        dropping = bool(match) and match.group(1).lower() in (b"message-id", b"date")
        if not dropping:
            kept.append(line)
    stamp = [f"Message-ID: {message_id}".encode(), f"Date: {email.utils.format_datetime(date)}".encode()]
    return b"\r\n".join(stamp + kept) + body


@dataclass
class Copy:
    index: int  # 1-based, = the UID Dovecot gives it in a fresh folder
    base: Base
    raw: bytes
    date: datetime


def copies(bases: list[Base], n: int, step_hours: float, tag: str) -> Iterator[Copy]:
    """The N messages of the mailbox, made on the fly (never all in memory)."""
    for i in range(n):
        base = bases[i % len(bases)]
        date = FIRST_DATE + timedelta(hours=step_hours * i)
        message_id = f"<backfill-{tag}-{i + 1:06d}.{i % len(bases)}@bench.example>"
        yield Copy(i + 1, base, restamp(base.raw, message_id, date), date)


def _maildir_name(copy: Copy, size: int) -> str:
    return f"{int(copy.date.timestamp())}.M{copy.index}P{os.getpid()}.bench,S={size},W={size}:2,S"


def load_mailbox(
    server: DovecotServer, user: str, bases: list[Base], n: int, step_hours: float, method: str
) -> dict[str, float]:
    """Fill the user's INBOX with the N messages; (seconds, bytes) of the load."""
    started = time.perf_counter()
    client = server.client(user)  # Dovecot creates the Maildir at first login
    client.select_folder("INBOX")
    client.logout()
    maildir = server.dir / "home" / user / "Maildir"
    owner = maildir.stat()
    total = 0
    if method == "import":
        source = server.dir / f"import-{user}"
        for sub in ("cur", "new", "tmp"):
            (source / sub).mkdir(parents=True)
        for folder in (source, *(source / sub for sub in ("cur", "new", "tmp"))):
            os.chown(folder, owner.st_uid, owner.st_gid)  # doveadm keeps its uidlist in the source too
        target = source / "cur"
    else:
        target = maildir / "cur"
    for copy in copies(bases, n, step_hours, user):
        path = target / _maildir_name(copy, len(copy.raw))
        path.write_bytes(copy.raw)
        stamp = copy.date.timestamp()
        os.utime(path, (stamp, stamp))  # Maildir mtime = INTERNALDATE
        if method == "direct":
            os.chown(path, owner.st_uid, owner.st_gid)
        total += len(copy.raw)
    if method == "import":
        server.doveadm("import", "-u", user, f"maildir:{source}:LAYOUT=fs", "", "all")
        shutil.rmtree(source)
    client = server.client(user)
    count = client.select_folder("INBOX", readonly=True)[b"EXISTS"]  # index now, not during a measurement
    client.logout()
    if count != n:
        raise SystemExit(f"mailbox has {count} messages, expected {n}")
    return {"seconds": time.perf_counter() - started, "bytes": total}


# --- Measurements -------------------------------------------------------------------------------
@dataclass
class Row:
    label: str
    messages: int = 0
    wall: float = 0.0
    cpu: float | None = None
    bytes: int = 0
    tree_pss_mb: float | None = None
    max_rss_mb: float | None = None
    other_load: float | None = None  # cores busy with anything but this measurement, on average
    note: str = ""
    extra: dict[str, object] = field(default_factory=dict)

    @property
    def rate(self) -> float:
        return self.messages / self.wall if self.wall else 0.0


def write_config(server: DovecotServer, user: str, where: Path) -> Path:
    """A config with one plain-IMAP account on the throwaway server and an archive in where/archive."""
    path = where / "bench.toml"
    path.write_text(
        f'[archive]\npath = "{where / "archive"}"\n\n[[accounts]]\nname = "bench"\n'
        f'host = "{server.host}"\nport = {server.port}\nsecurity = "plain"\nusername = "{user}"\n'
        f'password_env = "BENCH_PASSWORD"\n'
    )
    os.environ["BENCH_PASSWORD"] = PASSWORD
    return path


def raw_fetch(server: DovecotServer, user: str, batch: int) -> tuple[int, int, float, float, float]:
    """(messages, bytes, wall, client CPU) of imaplib batched `UID FETCH … (BODY.PEEK[])` of INBOX."""
    imap = imaplib.IMAP4(server.host, server.port)
    imap.debug = 0
    imap.login(user, PASSWORD)
    count = size = 0
    busy, started, cpu = cpu_busy(), time.perf_counter(), time.process_time()
    imap.select("INBOX", readonly=True)
    _, data = imap.uid("SEARCH", "ALL")
    uids = data[0].split()
    for start in range(0, len(uids), batch):
        _, data = imap.uid("FETCH", b",".join(uids[start : start + batch]).decode(), "(BODY.PEEK[])")
        for item in data:
            if isinstance(item, tuple):
                count += 1
                size += len(item[1])
    wall, cpu = time.perf_counter() - started, time.process_time() - cpu
    others = other_load(busy, cpu, wall)
    imap.logout()
    return count, size, wall, cpu, others


def our_fetch(config: config_mod.Config) -> tuple[int, int, float, float, float]:
    """(messages, bytes, wall, client CPU) of `ImapSession` select + search + fetch of INBOX."""
    count = size = 0
    with ImapSession(config.accounts[0]) as session:
        busy, started, cpu = cpu_busy(), time.perf_counter(), time.process_time()
        uidvalidity = session.select("INBOX")
        for message in session.fetch("INBOX", uidvalidity, session.search()):
            count += 1
            size += len(message.raw)
        wall, cpu = time.perf_counter() - started, time.process_time() - cpu
        others = other_load(busy, cpu, wall)
    return count, size, wall, cpu, others


def fetch_row(label: str, run: Callable[[], tuple[int, int, float, float, float]], repeats: int, note: str) -> Row:
    run()  # warm-up: Dovecot's index and cache, the page cache
    results = sorted((run() for _ in range(repeats)), key=lambda r: r[2])
    count, size, wall, cpu, others = results[len(results) // 2]
    return Row(label, count, wall, cpu, size, other_load=others, note=note + f"; median of {repeats}")


def one_core(
    bases: list[Base], n: int, step_hours: float, config: config_mod.Config
) -> tuple[Row, Row, dict[str, float], dict[str, float], dict[str, str]]:
    """Rows 3 and 4, interleaved message by message in this process, so that a change in the
    machine's speed during the run (this VM's varies by ±20% over minutes) weighs on both alike:
    html2text over the message's HTML (decoded beforehand), then `pipeline.prepare` of the message.
    Also the seconds of each by corpus file, and each file's outcome."""
    job = pipeline.Job(config, Settings.of(config))
    first = next(copies(bases, 1, step_hours, "warm"))
    convert._converter().handle(bases[0].html or "<p>warm-up</p>")
    pipeline.prepare(_raw_message(first), job)  # warm-up: link rules, lazy imports
    h2t_wall = h2t_cpu = work_wall = work_cpu = 0.0
    with_html = total = 0
    counts = {"filed": 0, "skipped": 0, "failed": 0}
    h2t_by: dict[str, float] = {}
    work_by: dict[str, float] = {}
    outcome_of: dict[str, str] = {}
    busy, span, span_cpu = cpu_busy(), time.perf_counter(), time.process_time()
    for copy in copies(bases, n, step_hours, "work"):
        if copy.base.html is not None:
            with_html += 1
            t, c = time.perf_counter(), time.process_time()
            convert._converter().handle(copy.base.html)
            spent = time.perf_counter() - t
            h2t_cpu += time.process_time() - c
            h2t_wall += spent
            h2t_by[copy.base.file] = h2t_by.get(copy.base.file, 0.0) + spent
        raw = _raw_message(copy)
        t, c = time.perf_counter(), time.process_time()
        prepared = pipeline.prepare(raw, job)
        spent = time.perf_counter() - t
        work_cpu += time.process_time() - c
        work_wall += spent
        total += len(copy.raw)
        outcome = "failed" if prepared.error else "skipped" if prepared.skip else "filed"
        counts[outcome] += 1
        work_by[copy.base.file] = work_by.get(copy.base.file, 0.0) + spent
        outcome_of[copy.base.file] = outcome
    span, span_cpu = time.perf_counter() - span, time.process_time() - span_cpu
    others = other_load(busy, span_cpu, span)
    h2t = Row(
        "html2text alone (1 core)",
        n,
        h2t_wall,
        h2t_cpu,
        other_load=others,
        note=f"{with_html} with HTML; ingester's html2text settings; interleaved with row 4",
    )
    work = Row(
        "our message → note work (1 core)",
        n,
        work_wall,
        work_cpu,
        total,
        other_load=others,
        note=f"pipeline.prepare: {counts['filed']} filed, {counts['skipped']} skipped, {counts['failed']} failed",
    )
    return h2t, work, h2t_by, work_by, outcome_of


def _raw_message(copy: Copy) -> RawMessage:
    return RawMessage(
        raw=copy.raw,
        source=f"imap://bench/INBOX;UIDVALIDITY=1/;UID={copy.index}",
        internaldate=copy.date,
        account="bench",
        folder="INBOX",
        uidvalidity=1,
        uid=copy.index,
    )


def _descendants(root: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        ppid = int(stat[stat.rindex(")") + 2 :].split()[1])
        children.setdefault(ppid, []).append(int(entry))
    found, todo = [], list(children.get(root, []))
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(children.get(pid, []))
    return found


def _tree_memory(root: int) -> tuple[float, float]:
    """(PSS, RSS) in MB summed over root's descendants (root, the wrapper, excluded)."""
    pss = rss = 0
    for pid in _descendants(root):
        try:
            text = Path(f"/proc/{pid}/smaps_rollup").read_text()
        except OSError:
            continue
        for line in text.splitlines():
            if line.startswith("Pss:"):
                pss += int(line.split()[1])
            elif line.startswith("Rss:"):
                rss += int(line.split()[1])
    return pss * 1024 / MB, rss * 1024 / MB


def measured(label: str, cmd: list[str], where: Path, env: dict[str, str] | None = None) -> Row:
    """Run cmd under the subreaper wrapper: wall, CPU of the whole tree, peak memory."""
    out, err = where / "stdout", where / "stderr"
    busy = cpu_busy()
    wrapper = subprocess.Popen(
        [sys.executable, "-c", WRAPPER, str(out), str(err), *cmd],
        cwd=where,
        stdout=subprocess.PIPE,
        env={**os.environ, **(env or {})},
    )
    peak = {"pss": 0.0, "rss": 0.0}
    done = threading.Event()

    def sample() -> None:
        while not done.wait(PSS_INTERVAL):
            pss, rss = _tree_memory(wrapper.pid)
            peak["pss"], peak["rss"] = max(peak["pss"], pss), max(peak["rss"], rss)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    report, _ = wrapper.communicate()
    done.set()
    sampler.join()
    result = json.loads(report)
    others = other_load(busy, result["cpu"], result["wall"])
    if result["rc"] not in (0, 3):
        raise SystemExit(f"{label}: exit {result['rc']}\n{err.read_text(errors='replace')[-3000:]}")
    return Row(
        label,
        0,
        result["wall"],
        result["cpu"],
        tree_pss_mb=peak["pss"],
        max_rss_mb=result["maxrss_kb"] * 1024 / MB,
        other_load=others,
        extra={"stdout": out.read_text(errors="replace"), "tree_rss_mb": peak["rss"]},
    )


def end_to_end(server: DovecotServer, user: str, label: str, jobs: int | None, size: int) -> Row:
    """`ingest --since` in a subprocess against a fresh archive; checks every message was handled."""
    with tempfile.TemporaryDirectory(prefix="bench-backfill-") as tmp:
        where = Path(tmp)
        config = write_config(server, user, where)
        cmd = [sys.executable, "-m", "ingester", "--config", str(config), "--since", SINCE, "--json"]
        if jobs is not None:
            cmd += ["--jobs", str(jobs)]
        row = measured(label, cmd, where)
        summary = json.loads(str(row.extra.pop("stdout")))
        notes = sum(1 for _ in (where / "archive").rglob("*.md"))
        row.messages = summary["seen"]
        row.bytes = size
        row.note = (
            f"{summary['filed']} filed, {summary['skipped']} skipped, {summary['failed']} failed; {notes} notes on disk"
        )
        row.extra["summary"] = {k: summary[k] for k in ("seen", "filed", "skipped", "duplicates", "failed")}
        if summary["filed"] != notes or summary["errors"]:
            raise SystemExit(f"{label}: {summary['filed']} filed but {notes} notes; errors {summary['errors']}")
    return row


def naive(server: DovecotServer, user: str, size: int) -> Row:
    with tempfile.TemporaryDirectory(prefix="bench-naive-") as tmp:
        where = Path(tmp)
        cmd = [
            sys.executable,
            str(REPO / "bench" / "naive_peer.py"),
            "--host",
            server.host,
            "--port",
            str(server.port),
            "--user",
            user,
            "--since",
            SINCE,
            "--out",
            str(where / "out"),
        ]
        row = measured("NAIVE PEER (bench/naive_peer.py)", cmd, where, {"NAIVE_PEER_PASSWORD": PASSWORD})
        summary = json.loads(str(row.extra.pop("stdout")).strip().splitlines()[-1])
        row.messages, row.bytes = summary["messages"], size
        row.note = f"1 FETCH/msg, stdlib + html2text, no cleaning; {summary['written']} .md written"
    return row


# --- Report -------------------------------------------------------------------------------------
def code_version() -> str:
    """The commit measured, "+dirty" when ingester/ differs from it (the figures belong to that code)."""
    try:
        rev = subprocess.run(
            ["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"], check=True, capture_output=True, text=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(REPO), "status", "--porcelain", "--", "ingester"],
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "not a git checkout"
    return rev + ("+dirty ingester/" if dirty else "")


def machine_facts() -> dict[str, str]:
    try:
        dovecot = subprocess.run(
            [shutil.which("dovecot") or "/usr/sbin/dovecot", "--version"], check=False, capture_output=True, text=True
        ).stdout.strip()
    except OSError:
        dovecot = "?"
    model = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.machine(),
    )
    from importlib.metadata import version

    return {
        "code": code_version(),
        "cores": str(os.cpu_count()),
        "usable cores": str(len(os.sched_getaffinity(0))),
        "cpu": model,
        "python": platform.python_version(),
        "dovecot": dovecot,
        "load average": _loadavg(),
        "os": platform.platform(),
        "libraries": ", ".join(f"{p} {version(p)}" for p in ("html2text", "beautifulsoup4", "imapclient")),
    }


def _loadavg() -> str:
    """1/5/15-minute load average: other work on the machine skews every figure."""
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "?"


def fmt(value: float | None, spec: str) -> str:
    return "-" if value is None else format(value, spec)


def print_table(rows: list[Row]) -> None:
    header = (
        f"{'#':>2}  {'measurement':<36} {'msgs':>6} {'wall s':>8} {'msg/s':>8} {'MB/s':>7} "
        f"{'CPU s':>8} {'tree PSS MB':>11} {'max RSS MB':>10} {'others':>6}  note"
    )
    print(header)
    print("-" * len(header))
    for i, row in enumerate(rows, start=1):
        mbs = row.bytes / MB / row.wall if row.bytes and row.wall else None
        print(
            f"{i:>2}  {row.label:<36} {row.messages:>6} {row.wall:>8.2f} {row.rate:>8.1f} {fmt(mbs, '7.1f'):>7} "
            f"{fmt(row.cpu, '8.2f'):>8} {fmt(row.tree_pss_mb, '11.1f'):>11} {fmt(row.max_rss_mb, '10.1f'):>10} "
            f"{fmt(row.other_load, '6.2f'):>6}  "
            f"{row.note}"
        )


def verdict(ok: bool | None) -> str:
    return "n/a" if ok is None else "HOLD" if ok else "MISS"


def targets(
    rows: dict[str, Row], cores: int, n: int, split: dict[str, float], rss: dict[int, Row] | None
) -> list[tuple[str, str, str, bool | None]]:
    """(target, measured, required, hold?) for each target of the issue."""
    raw, ours, h2t, work = rows["raw"], rows["ours"], rows["h2t"], rows["work"]
    e2e, one, peer = rows["e2e"], rows["one"], rows["naive"]
    out: list[tuple[str, str, str, bool | None]] = []
    fetch = ours.rate / raw.rate
    out.append(("our fetch ÷ raw fetch ceiling (throughput)", f"{fetch:.2f}×", f"≥ {FETCH_MIN}×", fetch >= FETCH_MIN))
    ratio = work.wall / h2t.wall
    out.append(("per-message work ÷ html2text alone", f"{ratio:.2f}×", f"≤ {WORK_MAX}×", ratio <= WORK_MAX))
    out.append(
        (
            f"  (the {split['filed']:,} of {n:,} messages that are filed, not skipped)",
            f"{split['work'] / split['h2t']:.2f}×" if split["h2t"] else "-",
            "(information)",
            None,
        )
    )
    if work.cpu and h2t.cpu:  # CPU seconds do not grow when other work takes the core away
        out.append(("  (on CPU time instead of wall time)", f"{work.cpu / h2t.cpu:.2f}×", "(information)", None))
    scaling = one.wall / e2e.wall
    out.append(
        (
            f"end to end ÷ one worker ({cores} cores)",
            f"{scaling:.2f}×",
            f"≥ {SCALING_MIN}×",
            None if cores < 2 else scaling >= SCALING_MIN,
        )
    )
    if e2e.cpu and one.cpu:
        free = max(0.0, cores - (e2e.other_load or 0.0))
        out.append(
            (
                f"  (CPU of the run: default ÷ one worker; cores left by others during default: {free:.2f})",
                f"{e2e.cpu / one.cpu:.2f}×",
                "(information)",
                None,
            )
        )
    ceiling = cores * work.rate
    share = e2e.rate / ceiling
    out.append(
        (
            f"end to end ÷ (cores ÷ per-message work) = {e2e.rate:.1f} ÷ {ceiling:.1f} msg/s",
            f"{share:.2f}×",
            f"≥ {CEILING_MIN}×",
            share >= CEILING_MIN,
        )
    )
    faster = peer.wall / e2e.wall
    out.append(("end to end speed ÷ naive peer", f"{faster:.2f}×", f"≥ {NAIVE_MIN}×", faster >= NAIVE_MIN))
    if e2e.cpu and peer.cpu:
        name = (
            f"  (CPU per message: ours {e2e.cpu / e2e.messages * 1000:.1f} ms, naive peer "
            f"{peer.cpu / peer.messages * 1000:.1f} ms)"
        )
        out.append((name, f"{e2e.cpu / e2e.messages / (peer.cpu / peer.messages):.2f}×", "(information)", None))
    big = rss.get(max(RSS_SIZES)) if rss else (e2e if n >= max(RSS_SIZES) else None)
    out.append(
        (
            f"peak memory (tree PSS) at N = {max(RSS_SIZES):,}",
            f"{big.tree_pss_mb:.0f} MB" if big else "not measured",
            f"< {RSS_MAX_MB:.0f} MB",
            None if big is None else big.tree_pss_mb < RSS_MAX_MB,
        )
    )
    if rss and all(size in rss for size in RSS_SIZES):
        small, large = rss[min(RSS_SIZES)], rss[max(RSS_SIZES)]
        growth = large.tree_pss_mb / small.tree_pss_mb
        name = (
            f"peak memory N = {max(RSS_SIZES):,} ÷ N = {min(RSS_SIZES):,} (tree PSS; max proc RSS "
            f"{large.max_rss_mb / small.max_rss_mb:.2f}×)"
        )
        out.append((name, f"{growth:.2f}×", f"≤ {RSS_GROWTH_MAX}×", growth <= RSS_GROWTH_MAX))
    else:
        out.append(("peak memory N = 10,000 ÷ N = 1,000", "not measured (--rss-check)", f"≤ {RSS_GROWTH_MAX}×", None))
    return out


def print_targets(lines: list[tuple[str, str, str, bool | None]]) -> None:
    print("\ntargets (issue #8)")
    for name, value, required, ok in lines:
        print(f"  {name:<78} {value:>14}  {required:>9}  {verdict(ok) if required != '(information)' else ''}")


def log_row(row: Row) -> Row:
    """A finished measurement on stderr at once: a long run that dies still leaves its figures."""
    print(
        f"[{time.strftime('%H:%M:%S')}] {row.label}: {row.messages} msgs, {row.wall:.2f} s, "
        f"CPU {fmt(row.cpu, '.2f')} s, tree PSS {fmt(row.tree_pss_mb, '.1f')} MB, "
        f"others {fmt(row.other_load, '.2f')}",
        file=sys.stderr,
        flush=True,
    )
    return row


# --- Main ---------------------------------------------------------------------------------------
def new_mailbox(
    server: DovecotServer, bases: list[Base], n: int, args: argparse.Namespace
) -> tuple[str, dict[str, float]]:
    user, _ = server.new_user()
    return user, load_mailbox(server, user, bases, n, args.step_hours, args.load)


def print_slowest(
    bases: list[Base], n: int, work_by: dict[str, float], h2t_by: dict[str, float], count: int = 10
) -> list[dict[str, object]]:
    """The `count` corpus files whose message → note work costs most per message (row 4), with their
    size and html2text's time on the same HTML: where per-message cost does not follow size."""
    copies_of: dict[str, int] = {}
    for i in range(n):
        copies_of[bases[i % len(bases)].file] = copies_of.get(bases[i % len(bases)].file, 0) + 1
    size_of = {b.file: len(b.raw) for b in bases}
    rows = [
        {
            "file": f,
            "kb": size_of[f] / 1000,
            "work_ms": 1000 * work_by[f] / copies_of[f],
            "h2t_ms": 1000 * h2t_by.get(f, 0.0) / copies_of[f],
        }
        for f in work_by
    ]
    rows.sort(key=lambda r: -float(r["work_ms"]))  # type: ignore[arg-type]
    print(f"\nslowest {count} messages of the mix (row 4, ms of work per message; html2text alone beside it)")
    for r in rows[:count]:
        print(f"  {r['work_ms']:7.1f} ms  h2t {r['h2t_ms']:6.1f} ms  {r['kb']:7.1f} KB  {r['file']}")
    print()
    return rows[:count]


def main(argv: list[str] | None = None) -> dict[str, object]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=2_000, help="newsletters in the mailbox (default 2,000)")
    parser.add_argument(
        "--rss-check", action="store_true", help="also run end to end at N = 1,000 and 10,000 and compare peak memory"
    )
    parser.add_argument("--corpus", type=Path, default=CORPUS)
    parser.add_argument(
        "--mix",
        choices=MIXES,
        default="corpus",
        help="corpus: every corpus newsletter with HTML, evenly (default); classic: the earlier 34-newsletter mix",
    )
    parser.add_argument(
        "--load",
        choices=("direct", "import"),
        default="direct",
        help="direct Maildir writes (default, the faster here) or doveadm import of a prepared Maildir",
    )
    parser.add_argument("--batch", type=int, default=500, help="UIDs per FETCH of the raw ceiling")
    parser.add_argument("--fetch-repeats", type=int, default=3)
    parser.add_argument("--step-hours", type=float, default=6.0, help="Date/INTERNALDATE spacing")
    parser.add_argument("--json", action="store_true", help="also print the results as one JSON object")
    args = parser.parse_args(argv)

    facts = machine_facts()
    cores = os.cpu_count() or 1
    bases = corpus_bases(args.corpus, args.mix)
    print("machine: " + "; ".join(f"{k} {v}" for k, v in facts.items()))
    with DovecotServer.start() as server:
        user, load = new_mailbox(server, bases, args.n, args)
        size = int(load["bytes"])
        print(
            f"mailbox ({args.mix} mix): {args.n:,} newsletters from {len(bases)} corpus files, {size / MB:.1f} MB "
            f"(avg {size / args.n / 1000:.1f} KB), loaded by {args.load} in {load['seconds']:.2f} s\n"
        )
        with tempfile.TemporaryDirectory(prefix="bench-backfill-") as tmp:
            config = config_mod.load(write_config(server, user, Path(tmp)))
            rows: dict[str, Row] = {}
            rows["raw"] = log_row(
                fetch_row(
                    "raw fetch ceiling (imaplib)",
                    lambda: raw_fetch(server, user, args.batch),
                    args.fetch_repeats,
                    f"UID FETCH {args.batch}/cmd, debug 0",
                )
            )
            rows["ours"] = log_row(
                fetch_row(
                    "our fetch stage (ImapSession)",
                    lambda: our_fetch(config),
                    args.fetch_repeats,
                    "imapclient, FETCH_BATCH/cmd",
                )
            )
            rows["h2t"], rows["work"], h2t_by_file, work_by_file, outcome_of = one_core(
                bases, args.n, args.step_hours, config
            )
            log_row(rows["h2t"])
            log_row(rows["work"])
            slowest = print_slowest(bases, args.n, work_by_file, h2t_by_file)
        filed = [f for f, o in outcome_of.items() if o == "filed"]
        split = {
            "filed": sum(outcome_of.get(bases[i % len(bases)].file) == "filed" for i in range(args.n)),
            "work": sum(work_by_file[f] for f in filed),
            "h2t": sum(h2t_by_file.get(f, 0.0) for f in filed),
        }
        rows["e2e"] = log_row(end_to_end(server, user, f"ingest --since, default (jobs {cores})", None, size))
        rows["one"] = log_row(end_to_end(server, user, "ingest --since --jobs 1", 1, size))
        rows["naive"] = log_row(naive(server, user, size))
        print_table([rows[k] for k in ("raw", "ours", "h2t", "work", "e2e", "one", "naive")])

        rss: dict[int, Row] | None = None
        if args.rss_check:
            rss = {}
            for n in RSS_SIZES:
                if n == args.n:
                    rss[n] = rows["e2e"]
                    continue
                other, other_mailbox = new_mailbox(server, bases, n, args)
                rss[n] = log_row(
                    end_to_end(server, other, f"ingest --since, default, N = {n:,}", None, int(other_mailbox["bytes"]))
                )
                server.doveadm("expunge", "-u", other, "mailbox", "INBOX", "all")  # free the disk
            print("\npeak memory of end to end (default settings) by mailbox size, same run")
            for n, row in sorted(rss.items()):
                print(
                    f"  N = {n:>6,}: wall {row.wall:7.2f} s, {row.rate:6.1f} msg/s, CPU {row.cpu:7.2f} s, "
                    f"tree PSS {row.tree_pss_mb:6.1f} MB (tree RSS {row.extra['tree_rss_mb']:.1f} MB), "
                    f"max proc RSS {row.max_rss_mb:6.1f} MB, others {row.other_load:.2f} cores"
                )
    lines = targets(rows, cores, args.n, split, rss)
    print_targets(lines)
    print(f"\nload average at the end: {_loadavg()} (at the start: {facts['load average']})")
    result = {
        "machine": facts,
        "n": args.n,
        "mailbox_bytes": size,
        "load_seconds": load["seconds"],
        "rows": {
            k: {
                "label": r.label,
                "messages": r.messages,
                "wall": r.wall,
                "rate": r.rate,
                "cpu": r.cpu,
                "bytes": r.bytes,
                "tree_pss_mb": r.tree_pss_mb,
                "max_rss_mb": r.max_rss_mb,
                "other_load": r.other_load,
                "note": r.note,
            }
            for k, r in rows.items()
        },
        "rss_check": {
            n: {"wall": r.wall, "tree_pss_mb": r.tree_pss_mb, "max_rss_mb": r.max_rss_mb}
            for n, r in (rss or {}).items()
        },
        "targets": [{"target": a, "value": b, "required": c, "hold": d} for a, b, c, d in lines],
        "mix": args.mix,
        "slowest": slowest,
    }
    if args.json:
        print(json.dumps(result, ensure_ascii=False, indent=2))
    return result


if __name__ == "__main__":
    main()
