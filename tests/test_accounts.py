"""Accounts against a real Dovecot: a refused login waits hours and then stops (plain runs and the daemon),
`ingest status --reset`, a missing folder stops that folder only, `ingest folders`, and `ingest status`
saying whether a daemon runs and what its watchers do."""

from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from tests import test_daemon
from tests.conftest import Mailbox, account_toml, notes_in, run_ingest, write_config
from tests.test_daemon import Daemon, start_daemon, wait_for

daemons = test_daemon.daemons  # the fixture: daemons started by a test, killed after it


def counting_account(mailbox: Mailbox, tries: Path, password: str, name: str = "test") -> str:
    """An account whose password command also counts how often it ran: once per login try."""
    toml = account_toml(mailbox.server, mailbox.user, password, name=name)
    command = f"echo try >> {tries}; printf '%s\\\\n' '{password}'"
    return "\n".join(
        f'password_command = "{command}"' if line.startswith("password_command") else line for line in toml.splitlines()
    )


def tries(path: Path) -> int:
    return len(path.read_text().splitlines()) if path.exists() else 0


def status(config: Path) -> dict[str, object]:
    result = run_ingest("--config", config, "status", "--json")
    assert result.returncode == 0, result.stderr
    found: dict[str, object] = json.loads(result.stdout)
    return found


def login(config: Path, name: str = "test") -> dict[str, object]:
    states = {s["account"]: s for s in status(config)["logins"]}  # type: ignore[attr-defined]
    state: dict[str, object] = states[name]
    return state


def time_passes(archive: Path, name: str = "test") -> None:
    """The wait after a refusal is over (as if its hours had passed): the ledger row says so."""
    with sqlite3.connect(archive / ".ingest" / "ledger.sqlite3") as db:
        db.execute(
            "UPDATE logins SET wait_until = '2000-01-01T00:00:00+00:00' WHERE account = ? AND wait_until != 'never'",
            (name,),
        )


def test_a_refused_login_waits_hours_then_stops_until_reset(mailbox: Mailbox, tmp_path: Path) -> None:
    counter = tmp_path / "tries"
    config = write_config(tmp_path / "bad.toml", mailbox.archive, counting_account(mailbox, counter, "wrong-pw-x1"))

    first = run_ingest("--config", config)
    assert first.returncode == 1 and tries(counter) == 1
    assert "login as " in first.stderr and "refusal 1 of 3" in first.stderr
    assert "`ingest status --reset test`" in first.stderr and "wrong-pw-x1" not in first.stderr
    state = login(config)
    assert state["state"] == "waiting" and state["refusals"] == 1
    until = datetime.fromisoformat(str(state["until"]))
    assert until > datetime.now(UTC) + timedelta(minutes=55)  # hours, not seconds

    again = run_ingest("--config", config)  # a cron job a minute later: no login try at all
    assert again.returncode == 1 and tries(counter) == 1
    assert again.stderr.count("\n") == 1 and "no new try before" in again.stderr
    assert "ingest status --reset test" in again.stderr
    text = run_ingest("--config", config, "status").stdout
    assert "account 'test': login refused 1 time(s) in a row, no new try before" in text

    time_passes(mailbox.archive)
    second = run_ingest("--config", config)
    assert tries(counter) == 2 and "refusal 2 of 3" in second.stderr
    second_until = datetime.fromisoformat(str(login(config)["until"]))
    assert second_until > datetime.now(UTC) + timedelta(minutes=115)  # doubled

    time_passes(mailbox.archive)
    third = run_ingest("--config", config)
    assert tries(counter) == 3 and "stopped after 3 refused logins" in third.stderr
    time_passes(mailbox.archive)  # a stopped account has no time after which it tries again
    stopped = run_ingest("--config", config)
    assert stopped.returncode == 1 and tries(counter) == 3
    assert "stopped after 3 refused logins" in stopped.stderr and "ingest status --reset test" in stopped.stderr
    assert login(config)["state"] == "stopped"
    assert "wrong-pw-x1" not in (mailbox.archive / ".ingest" / "ledger.sqlite3").read_bytes().decode(errors="replace")

    reset = run_ingest("--config", config, "status", "--reset", "test")
    assert reset.returncode == 0 and "3 refused login(s) forgotten" in reset.stdout
    assert login(config)["state"] == "ok"
    fixed = write_config(config, mailbox.archive, counting_account(mailbox, counter, mailbox.password))
    mailbox.append("substack-post.eml")
    ok = run_ingest("--config", fixed)
    assert ok.returncode == 0, ok.stderr
    assert len(notes_in(mailbox.archive)) == 1
    nothing = run_ingest("--config", fixed, "status", "--reset", "test")
    assert "nothing to reset" in nothing.stdout
    assert run_ingest("--config", fixed, "status", "--reset", "nobody").returncode == 2


def test_changed_login_settings_try_again_without_a_reset(mailbox: Mailbox, tmp_path: Path) -> None:
    counter = tmp_path / "tries"
    config = write_config(tmp_path / "bad.toml", mailbox.archive, counting_account(mailbox, counter, "wrong-pw-x2"))
    run_ingest("--config", config)
    assert login(config)["state"] == "waiting" and tries(counter) == 1

    # the password now comes from elsewhere (another command): the refusal was about the old settings
    write_config(config, mailbox.archive, counting_account(mailbox, counter, mailbox.password))
    assert login(config)["state"] == "ok"
    result = run_ingest("--config", config)
    assert result.returncode == 0, result.stderr
    assert tries(counter) == 2
    assert "login settings changed since the refused login; trying again" in result.stderr


def test_a_missing_folder_stops_that_folder_only(mailbox: Mailbox, tmp_path: Path) -> None:
    mailbox.append("substack-post.eml")
    mailbox.append("text-only-newsletter.eml", folder="Newsletters")
    account = account_toml(mailbox.server, mailbox.user, mailbox.password, folders='["Nope", "INBOX", "Newsletters"]')
    config = write_config(tmp_path / "c.toml", mailbox.archive, account)

    result = run_ingest("--config", config)

    assert result.returncode == 1
    assert len(notes_in(mailbox.archive)) == 2  # the folders after the missing one were read
    assert result.stderr.startswith(
        "Error: account 'test': the server has no folder 'Nope'; its folders: 'INBOX', 'Newsletters'; "
        "fix `folders` in the config (`ingest folders test` lists them)"
    )
    assert result.stderr.count("Error:") == 1
    assert login(config)["state"] == "ok"  # not a login problem


def test_folders_lists_the_server_folders_marking_the_configured_ones(mailbox: Mailbox, tmp_path: Path) -> None:
    mailbox.append("text-only-newsletter.eml", folder="Newsletters")
    mailbox.append("text-only-newsletter.eml", folder="Archive")
    account = account_toml(mailbox.server, mailbox.user, mailbox.password, folders='["INBOX", "Newsletters", "Nope"]')
    config = write_config(tmp_path / "c.toml", mailbox.archive, account)

    found = run_ingest("--config", config, "folders", "test", "--json")

    assert found.returncode == 0, found.stderr
    data = json.loads(found.stdout)
    folders = {f["name"]: f for f in data["folders"]}
    assert next(iter(folders)) == "INBOX" and {"INBOX", "Newsletters", "Archive"} <= set(folders)
    assert folders["INBOX"]["configured"] and folders["INBOX"]["watched"]
    assert folders["Newsletters"]["configured"] and not folders["Archive"]["configured"]
    assert data["missing"] == ["Nope"]
    text = run_ingest("--config", config, "folders").stdout  # the only account
    lines = text.splitlines()
    assert any(line.startswith("* INBOX") and "watched (IDLE)" in line for line in lines)
    assert any(line.startswith("  Archive") for line in lines)
    assert "! 'Nope' is configured but the server has no such folder" in text
    unknown = run_ingest("--config", config, "folders", "work")
    assert unknown.returncode == 2 and "no account 'work' in the config (accounts: test)" in unknown.stderr


def test_folders_does_not_try_a_login_while_the_account_waits(mailbox: Mailbox, tmp_path: Path) -> None:
    counter = tmp_path / "tries"
    config = write_config(tmp_path / "bad.toml", mailbox.archive, counting_account(mailbox, counter, "wrong-pw-x3"))
    refused = run_ingest("--config", config, "folders", "test")
    assert refused.returncode == 1 and "refusal 1 of 3" in refused.stderr and tries(counter) == 1
    blocked = run_ingest("--config", config, "folders", "test")
    assert blocked.returncode == 1 and "no new try before" in blocked.stderr and tries(counter) == 1


def test_status_without_a_daemon_and_with_a_stale_state_file(mailbox: Mailbox) -> None:
    mailbox.append("substack-post.eml")
    assert run_ingest("--config", mailbox.config).returncode == 0
    assert "daemon: not running\n" in run_ingest("--config", mailbox.config, "status").stdout
    assert status(mailbox.config)["daemon"] == {"running": False}

    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()  # a pid that no longer exists, as a daemon killed with -9 leaves
    state_file = mailbox.archive / ".ingest" / "daemon.json"
    state_file.write_text(json.dumps({"pid": dead.pid, "since": "2026-01-01T00:00:00+00:00", "watchers": {}}))
    text = run_ingest("--config", mailbox.config, "status").stdout
    assert f"daemon: not running (pid {dead.pid}, started 2026-01-01 00:00:00 UTC, did not stop cleanly" in text
    # a live pid that is another process than the one recorded (the pid was reused): not the daemon either
    state_file.write_text(json.dumps({"pid": 1, "process_start": "-1", "since": "2026-01-01T00:00:00+00:00"}))
    assert status(mailbox.config)["daemon"]["running"] is False  # type: ignore[index]


def test_status_shows_the_running_daemon_its_accounts_and_watchers(
    mailbox: Mailbox, tmp_path: Path, daemons: list[Daemon]
) -> None:
    good = account_toml(mailbox.server, mailbox.user, mailbox.password, name="good", folders='["INBOX", "Nope"]')
    counter = tmp_path / "tries"
    bad = counting_account(mailbox, counter, "wrong-pw-x4", name="bad")
    daemon = start_daemon(mailbox, tmp_path, daemons, accounts=good + "\n" + bad, interval="1s")
    config = tmp_path / "daemon.toml"
    wait_for(lambda: "good/INBOX: watching for new mail (IDLE)" in daemon.text(), 15)
    wait_for(lambda: "refusal 1 of 3" in daemon.text(), 10)

    def daemon_status() -> dict[str, object]:
        found = status(config)["daemon"]
        assert isinstance(found, dict)
        return found

    def last_poll() -> str:
        return str(daemon_status()["accounts"]["bad"]["last_poll"])  # type: ignore[index]

    def polled_again(seen: set[str]) -> bool:
        seen.add(last_poll())
        return len(seen) >= 3

    # several polls of the refused account pass (the interval is 1 s): none tries to log in again
    seen = {last_poll()}
    wait_for(lambda: polled_again(seen), 15, step=0.3)
    assert tries(counter) == 1
    assert "wrong-pw" not in daemon.text()
    assert daemon.text().count("ERROR: account 'bad': login as") == 1  # one line for the change of state
    assert daemon.text().count("ERROR: account 'good': the server has no folder 'Nope'") == 1  # once, not per poll

    found = daemon_status()
    assert found["running"] is True and found["pid"] == daemon.proc.pid
    watchers = {f"{w['account']}/{w['folder']}": w for w in found["watchers"]}  # type: ignore[attr-defined]
    assert watchers["good/INBOX"]["state"] == "idling"
    assert watchers["good/Nope"]["state"] == "stopped" and "no folder 'Nope'" in watchers["good/Nope"]["detail"]
    assert watchers["bad/INBOX"]["state"] == "paused" and "the polls try" in watchers["bad/INBOX"]["detail"]
    assert login(config, "bad")["state"] == "waiting" and login(config, "good")["state"] == "ok"
    text = run_ingest("--config", config, "status").stdout
    assert f"daemon: running (pid {daemon.proc.pid}, since " in text
    assert "account 'good': ok; next poll " in text
    assert "account 'bad': login refused 1 time(s) in a row, no new try before" in text
    assert "  watcher good/INBOX: idling since " in text

    mailbox.append("substack-post.eml")  # the missing folder stops nothing else
    wait_for(lambda: len(notes_in(mailbox.archive)) == 1, 10)

    # the password is fixed in the config and the daemon reloaded: the account logs in again at once
    fixed = good + "\n" + counting_account(mailbox, counter, mailbox.password, name="bad")
    config.write_text(config.read_text().split("[[accounts]]")[0] + fixed)
    daemon.proc.send_signal(signal.SIGHUP)
    wait_for(lambda: "account 'bad': login settings changed; refused logins forgotten" in daemon.text(), 10)
    wait_for(lambda: login(config, "bad")["state"] == "ok" and tries(counter) >= 2, 10)

    assert daemon.stop()[0] == 0
    assert status(config)["daemon"] == {"running": False}  # a clean stop leaves no state behind


def test_a_killed_daemon_is_reported_not_running(mailbox: Mailbox, tmp_path: Path, daemons: list[Daemon]) -> None:
    daemon = start_daemon(mailbox, tmp_path, daemons)
    config = tmp_path / "daemon.toml"
    wait_for(lambda: "test/INBOX: watching for new mail (IDLE)" in daemon.text(), 15)
    assert status(config)["daemon"]["running"] is True  # type: ignore[index]

    daemon.proc.kill()
    daemon.proc.wait()

    found = status(config)["daemon"]
    assert found == {"running": False, "stale_pid": daemon.proc.pid, "stale_since": found["stale_since"]}  # type: ignore[index]
    assert "did not stop cleanly" in run_ingest("--config", config, "status").stdout


def test_a_reset_makes_the_running_daemon_log_in_again_at_once(
    mailbox: Mailbox, tmp_path: Path, daemons: list[Daemon]
) -> None:
    """Polls an hour apart: without being told, the daemon would try the reset account only then."""
    counter = tmp_path / "tries"
    daemon = start_daemon(mailbox, tmp_path, daemons, accounts=counting_account(mailbox, counter, "wrong-pw-x5"))
    config = tmp_path / "daemon.toml"
    wait_for(lambda: "refusal 1 of 3" in daemon.text(), 10)
    assert tries(counter) == 1

    reset = run_ingest("--config", config, "status", "--reset", "test")

    assert reset.returncode == 0, reset.stderr
    assert f"1 refused login(s) forgotten; the running daemon (pid {daemon.proc.pid}) reloads" in reset.stdout
    wait_for(lambda: tries(counter) == 2, 10)  # logged in (and was refused) again, not an hour later
    wait_for(lambda: "config reloaded" in daemon.text(), 10)
    wait_for(lambda: login(config)["state"] == "waiting", 10)  # refused again
    again = json.loads(run_ingest("--config", config, "status", "--reset", "test", "--json").stdout)
    assert again["daemon_reloaded"] == daemon.proc.pid and again["was"]["refusals"] == 1
    assert daemon.stop()[0] == 0
    after = json.loads(run_ingest("--config", config, "status", "--reset", "test", "--json").stdout)
    assert after["daemon_reloaded"] is None  # no daemon runs: nothing to tell
