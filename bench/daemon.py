"""Daemon benchmark against a local Dovecot: idle-poll cost by folder size, IDLE latency.

    .venv/bin/python bench/daemon.py                 # folders of 10,000 and 100,000 messages
    .venv/bin/python bench/daemon.py --sizes 1000 10000 --latency-runs 5

1. Idle poll: a folder of N small messages whose high-water mark is already at the top (as after a
   backfill); time an incremental poll that finds nothing new (`runs.run_account`), median of
   repeated polls. It must not grow with N: the poll asks only for UIDs above the mark.
2. Latency: `ingest daemon` with IDLE in a subprocess; APPEND one newsletter, time until its note is
   on disk; repeated, median and maximum.
Run by hand; the figures go in the closing note. Never part of `make test`.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from ingester import config as config_mod
from ingester.pipeline import Pipeline
from ingester.runs import run_account
from ingester.source import ImapSession
from ingester.store.ledger import Ledger
from tests.imapserver import DovecotServer

SMALL = b"From: bench@example.com\r\nSubject: filler %d\r\nMessage-ID: <filler-%d@bench>\r\n\r\nfiller\r\n"


def fill_maildir(server: DovecotServer, user: str, n: int) -> None:
    """Write n messages straight into the user's Maildir (much faster than APPEND), then let Dovecot index."""
    server.client(user).logout()  # Dovecot creates the Maildir at first login
    client = server.client(user)
    client.select_folder("INBOX")
    client.logout()
    cur = server.dir / "home" / user / "Maildir" / "cur"
    owner = cur.stat()
    stamp = int(time.time())
    for i in range(n):
        path = cur / f"{stamp}.M{i}P{os.getpid()}.bench:2,S"
        path.write_bytes(SMALL % (i, i))
        os.chown(path, owner.st_uid, owner.st_gid)
    client = server.client(user)
    client.select_folder("INBOX")  # index them now, not during the measured polls
    client.logout()


def config_for(server: DovecotServer, user: str, archive: Path, idle: bool = False) -> config_mod.Config:
    text = (
        f'[archive]\npath = "{archive}"\n[daemon]\ninterval = "1h"\n[[accounts]]\nname = "bench"\n'
        f'host = "127.0.0.1"\nport = {server.port}\nsecurity = "plain"\nusername = "{user}"\n'
        f'password_env = "BENCH_PASSWORD"\nidle = {"true" if idle else "false"}\n'
    )
    path = archive.parent / "bench.toml"
    path.write_text(text)
    os.environ["BENCH_PASSWORD"] = "test"
    return config_mod.load(path)


def idle_poll_cost(server: DovecotServer, n: int, polls: int) -> tuple[float, float]:
    user, _ = server.new_user()
    started = time.perf_counter()
    fill_maildir(server, user, n)
    load = time.perf_counter() - started
    with tempfile.TemporaryDirectory() as tmp:
        config = config_for(server, user, Path(tmp) / "archive")
        account = config.accounts[0]
        with Ledger(config.state_dir) as ledger:
            with ImapSession(account) as session:
                uidvalidity = session.select("INBOX")
                top = max(session.search())
            ledger.set_folder_mark(account.name, "INBOX", uidvalidity, top)  # as after a backfill
            pipeline = Pipeline(config, ledger)
            times = []
            for _ in range(polls):
                t0 = time.perf_counter()
                run_account(pipeline, account)
                times.append(time.perf_counter() - t0)
            assert pipeline.summary.filed == 0 and not pipeline.summary.errors, pipeline.summary
    print(
        f"  folder of {n:>7,} messages: loaded in {load:5.1f} s; idle poll median "
        f"{statistics.median(times) * 1000:6.1f} ms, max {max(times) * 1000:6.1f} ms ({polls} polls)"
    )
    return statistics.median(times), max(times)


def idle_latency(server: DovecotServer, runs: int) -> list[float]:
    user, _ = server.new_user()
    raw = (REPO / "tests" / "fixtures" / "emails" / "substack-post.eml").read_bytes()
    with tempfile.TemporaryDirectory() as tmp:
        archive = Path(tmp) / "archive"
        config_for(server, user, archive, idle=True)
        log = Path(tmp) / "daemon.log"
        with log.open("w") as err:
            proc = subprocess.Popen(
                [sys.executable, "-m", "ingester", "--config", str(Path(tmp) / "bench.toml"), "daemon"],
                stderr=err,
                stdout=subprocess.DEVNULL,
            )
        try:
            while "daemon started" not in log.read_text():
                time.sleep(0.05)
            time.sleep(1.0)
            latencies = []
            for i in range(runs):
                message = raw.replace(b"Message-ID: <", f"Message-ID: <lat{i}-".encode(), 1)
                message = message.replace(b"Subject: ", f"Subject: Run {i}: ".encode(), 1)
                t0 = time.perf_counter()
                server.append(user, message)
                while len(list(archive.rglob("*.md"))) <= i:
                    time.sleep(0.01)
                    if time.perf_counter() - t0 > 30:
                        raise SystemExit(f"note {i} did not appear within 30 s; log:\n{log.read_text()}")
                latencies.append(time.perf_counter() - t0)
                time.sleep(0.3)
        finally:
            proc.terminate()
            proc.wait(timeout=10)
    print(
        f"  new message → note with IDLE: median {statistics.median(latencies):.2f} s, "
        f"max {max(latencies):.2f} s ({runs} runs; Dovecot coalesces IDLE notifications for 0.5 s)"
    )
    return latencies


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--polls", type=int, default=20)
    parser.add_argument("--latency-runs", type=int, default=10)
    args = parser.parse_args(argv)
    with DovecotServer.start() as server:
        print("idle-poll cost (incremental poll, nothing new):")
        costs = [idle_poll_cost(server, n, args.polls)[0] for n in args.sizes]
        if len(costs) > 1:
            print(f"  ratio largest/smallest folder: {costs[-1] / costs[0]:.2f} (flat = about 1)")
        print("latency:")
        idle_latency(server, args.latency_runs)


if __name__ == "__main__":
    main()
