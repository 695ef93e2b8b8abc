"""`ingest --since` against a real Dovecot, run as a user would run it."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml

from tests.conftest import EMAILS, Mailbox, account_toml, notes_in, run_ingest, untimed, write_config


def at(day: str) -> datetime:
    return datetime.fromisoformat(f"{day}T12:00:00+00:00").astimezone(UTC)


def front_matter(note: Path) -> dict[str, object]:
    return yaml.safe_load(note.read_text(encoding="utf-8").split("---\n")[1])


def test_backfill_files_newsletters_leaves_flags_and_files_nothing_twice(mailbox: Mailbox) -> None:
    mailbox.append("substack-post.eml", msg_time=at("2025-01-27"), flags=(b"\\Flagged",))
    mailbox.append("chinese-newsletter.eml", msg_time=at("2025-03-14"))
    mailbox.append("text-only-newsletter.eml", msg_time=at("2025-02-06"), flags=(b"\\Seen", b"$Newsletter"))
    mailbox.append("personal-plain-no-ctype-flanker.eml", msg_time=at("2025-02-01"))
    before = mailbox.server.flags(mailbox.user)

    first = run_ingest("--config", mailbox.config, "--since", "2025-01-01")

    assert first.returncode == 0, first.stderr
    assert untimed(first.stdout).splitlines()[-1] == "Done: 3 filed, 1 skipped, 0 duplicates, 0 failed."
    notes = notes_in(mailbox.archive)
    assert [n.relative_to(mailbox.archive).as_posix() for n in notes] == [
        "2025/01/2025-01-27-the-quiet-year-of-small-models.md",
        "2025/02/2025-02-06-the-plaintext-dispatch-118-caches-notes-and-a-correction.md",
        "2025/03/2025-03-14-开源周刊-第42期-本地小模型的一年-更便宜-也更可靠.md",
    ]
    substack = front_matter(notes[0])
    assert substack["url"] == "https://fieldnotes.substack.com/p/the-quiet-year-of-small-models"
    assert substack["status"] == "draft"
    assert str(substack["source"]).startswith("imap://test/INBOX;UIDVALIDITY=")
    assert mailbox.server.flags(mailbox.user) == before  # BODY.PEEK[]: not even \Seen was set

    second = run_ingest("--config", mailbox.config, "--since", "2025-01-01")

    assert second.returncode == 0, second.stderr
    assert untimed(second.stdout) == "Nothing new: 0 filed, 1 skipped, 3 duplicates, 0 failed.\n"
    assert notes_in(mailbox.archive) == notes


def test_since_excludes_older_mail_and_json_summary(mailbox: Mailbox) -> None:
    mailbox.append("substack-post.eml", msg_time=at("2025-01-27"))
    mailbox.append("mailchimp-spamscope-13.eml", msg_time=at("2018-08-29"))

    result = run_ingest("--config", mailbox.config, "--since", "2025-01-01", "--json")

    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert {k: summary[k] for k in ("filed", "skipped", "duplicates", "failed")} == {
        "filed": 1,
        "skipped": 0,
        "duplicates": 0,
        "failed": 0,
    }
    assert summary["notes"] == [str(mailbox.archive / "2025/01/2025-01-27-the-quiet-year-of-small-models.md")]

    everything = run_ingest("--config", mailbox.config, "--since", "2018-01-01", "--json")

    assert json.loads(everything.stdout)["filed"] == 1  # the 2018 issue; the 2025 one is a duplicate
    assert json.loads(everything.stdout)["duplicates"] == 1


def test_incremental_run_reads_only_new_uids(mailbox: Mailbox) -> None:
    mailbox.append("substack-post.eml", msg_time=at("2025-01-27"))
    assert run_ingest("--config", mailbox.config).returncode == 0
    mailbox.append("text-only-newsletter.eml", msg_time=at("2025-02-06"))

    result = run_ingest("--config", mailbox.config, "--json")

    summary = json.loads(result.stdout)
    assert (summary["filed"], summary["duplicates"]) == (1, 0)  # the first message was not even fetched
    assert len(notes_in(mailbox.archive)) == 2


def test_same_message_in_two_folders_is_filed_once(mailbox: Mailbox, tmp_path: Path) -> None:
    mailbox.append("substack-post.eml", msg_time=at("2025-01-27"))
    mailbox.append("substack-post.eml", folder="Newsletters", msg_time=at("2025-01-27"))
    config = write_config(
        tmp_path / "two.toml",
        mailbox.archive,
        account_toml(mailbox.server, mailbox.user, mailbox.password, folders='["INBOX", "Newsletters"]'),
    )

    result = run_ingest("--config", config, "--since", "2025-01-01")

    assert untimed(result.stdout).splitlines()[-1] == "Done: 1 filed, 0 skipped, 1 duplicates, 0 failed."
    assert len(notes_in(mailbox.archive)) == 1


def test_all_files_a_non_newsletter(mailbox: Mailbox) -> None:
    mailbox.append("personal-plain-no-ctype-flanker.eml", msg_time=at("2025-02-01"))
    assert json.loads(run_ingest("--config", mailbox.config, "--since", "2025-01-01", "--json").stdout)["skipped"] == 1

    result = run_ingest("--config", mailbox.config, "--since", "2025-01-01", "--all", "--json")

    assert json.loads(result.stdout)["filed"] == 1


@pytest.mark.parametrize("security", ["tls", "starttls"])
def test_encrypted_connection_trusting_ca_file(mailbox: Mailbox, tmp_path: Path, security: str) -> None:
    mailbox.append("substack-post.eml", msg_time=at("2025-01-27"))
    config = write_config(
        tmp_path / f"{security}.toml",
        mailbox.archive,
        account_toml(
            mailbox.server, mailbox.user, mailbox.password, tls=security == "tls", starttls=security == "starttls"
        ),
    )

    result = run_ingest("--config", config, "--since", "2025-01-01")

    assert result.returncode == 0, result.stderr
    assert len(notes_in(mailbox.archive)) == 1


def test_tls_without_trusted_ca_is_one_clear_line(mailbox: Mailbox, tmp_path: Path) -> None:
    config = write_config(
        tmp_path / "tls.toml",
        mailbox.archive,
        account_toml(mailbox.server, mailbox.user, mailbox.password, tls=True, ca_file=False),
    )

    result = run_ingest("--config", config, "--since", "2025-01-01")

    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr.startswith("Error: account 'test': TLS certificate of 127.0.0.1:")
    assert "set ca_file" in result.stderr
    assert len(result.stderr.splitlines()) == 1


def test_wrong_password_is_one_clear_line_without_the_password(mailbox: Mailbox, tmp_path: Path) -> None:
    config = write_config(
        tmp_path / "bad.toml", mailbox.archive, account_toml(mailbox.server, "alice", "not-the-password-xyz")
    )

    result = run_ingest("--config", config, "--since", "2025-01-01")

    assert result.returncode == 1
    assert result.stderr.startswith(
        "Error: account 'test': login as 'alice' refused by 127.0.0.1; "
        "check the username and password (password_command / password_env); no new try before "
    )
    assert len(result.stderr.splitlines()) == 1
    assert "Traceback" not in result.stderr


def test_wrong_password_with_verbose_shows_traceback_but_not_password(mailbox: Mailbox, tmp_path: Path) -> None:
    config = write_config(
        tmp_path / "bad.toml", mailbox.archive, account_toml(mailbox.server, "alice", "not-the-password-xyz")
    )

    result = run_ingest("-v", "--config", config, "--since", "2025-01-01")

    assert result.returncode == 1
    assert "Traceback" in result.stderr
    assert "not-the-password-xyz" not in result.stderr + result.stdout


def test_unreachable_server_is_one_clear_line(mailbox: Mailbox, tmp_path: Path) -> None:
    assert mailbox.server.port  # Dovecot runs; the port below is not its
    closed_port = _closed_port()
    config = write_config(
        tmp_path / "down.toml",
        mailbox.archive,
        account_toml(mailbox.server, mailbox.user, mailbox.password, port=closed_port),
    )

    result = run_ingest("--config", config, "--since", "2025-01-01")

    assert result.returncode == 1
    assert result.stderr.startswith(f"Error: account 'test': cannot reach 127.0.0.1:{closed_port} (")
    assert len(result.stderr.splitlines()) == 1


def test_missing_folder_names_the_folder(mailbox: Mailbox, tmp_path: Path) -> None:
    config = write_config(
        tmp_path / "nofolder.toml",
        mailbox.archive,
        account_toml(mailbox.server, mailbox.user, mailbox.password, folders='["Nope"]'),
    )

    result = run_ingest("--config", config, "--since", "2025-01-01")

    assert result.returncode == 1
    assert "the server has no folder 'Nope'; its folders: 'INBOX'" in result.stderr


def _closed_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])  # closed again when the socket closes


def test_a_message_over_the_size_limit_is_skipped_without_being_fetched(mailbox: Mailbox, tmp_path: Path) -> None:
    mailbox.append("substack-post.eml", msg_time=at("2025-01-27"))
    mailbox.append("mailchimp-spamscope-13.eml", msg_time=at("2025-01-28"))
    raw = (EMAILS / "substack-post.eml").read_bytes()
    small = len(raw) + raw.count(b"\n")  # the server stores CRLF line endings
    config = write_config(
        tmp_path / "limits.toml",
        mailbox.archive,
        f"[limits]\nmessage_bytes = {small + 100}\n" + account_toml(mailbox.server, mailbox.user, mailbox.password),
    )

    result = run_ingest("-v", "--config", config, "--since", "2025-01-01", "--json")

    summary = json.loads(result.stdout)
    assert (summary["filed"], summary["skipped"]) == (1, 1)
    assert len((EMAILS / "mailchimp-spamscope-13.eml").read_bytes()) > small + 100
    status = json.loads(run_ingest("--config", config, "status", "--json").stdout)
    assert status["totals"]["skipped"] == 1
