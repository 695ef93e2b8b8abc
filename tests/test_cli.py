"""The `ingest` command from the outside: exact output, exact exit codes."""

from __future__ import annotations

import json
import mailbox
import re
import shutil
from pathlib import Path

import click
import pytest
import yaml

from ingester.cli import cli
from ingester.cli import run as run_commands
from ingester.errors import EXIT_INTERNAL
from tests.conftest import EMAILS, REPO, notes_in, run_ingest, run_ingest_process, untimed, write_config

DEMO = REPO / "tests" / "fixtures" / "demo" / "sample.mbox"


def test_import_mbox_then_rerun_files_nothing_new(tmp_path: Path) -> None:
    first = run_ingest("import", DEMO)

    assert first.returncode == 0, first.stderr
    assert untimed(first.stdout).splitlines()[-1] == "Done: 4 filed, 2 skipped, 0 duplicates, 0 failed."
    assert sum(line.startswith("filed   archive/") for line in first.stdout.splitlines()) == 4
    assert len(notes_in(tmp_path / "archive")) == 4

    second = run_ingest("import", DEMO)

    assert untimed(second.stdout) == "Nothing new: 0 filed, 2 skipped, 4 duplicates, 0 failed.\n"
    assert len(notes_in(tmp_path / "archive")) == 4


def test_import_json_summary(tmp_path: Path) -> None:
    result = run_ingest("import", EMAILS / "substack-post.eml", "--json")

    summary = json.loads(result.stdout)
    assert 0 < summary.pop("elapsed_seconds") < 60
    assert summary == {
        "seen": 1,
        "filed": 1,
        "skipped": 0,
        "duplicates": 0,
        "failed": 0,
        "notes": ["archive/2025/01/2025-01-27-the-quiet-year-of-small-models.md"],
        "partial": [],
        "repeated": 0,
        "failures": [],
        "needs_action": [],
        "errors": [],
        "missing": {},
        "stopped": False,
        "not_mail": [],
    }


def test_import_maildir_and_folder_of_eml_give_the_same_notes(tmp_path: Path) -> None:
    box = mailbox.Maildir(tmp_path / "Maildir")
    for name in ("substack-post.eml", "chinese-newsletter.eml"):
        box.add((EMAILS / name).read_bytes())
    folder = tmp_path / "emls"
    folder.mkdir()
    for name in ("substack-post.eml", "chinese-newsletter.eml"):
        shutil.copy(EMAILS / name, folder / name)

    from_maildir = json.loads(run_ingest("import", tmp_path / "Maildir", "--json").stdout)
    from_folder = json.loads(run_ingest("import", folder, "--json").stdout)

    assert from_maildir["filed"] == 2
    assert (from_folder["filed"], from_folder["duplicates"]) == (0, 2)


def test_message_without_message_id_is_deduplicated_by_content(tmp_path: Path) -> None:
    raw = (EMAILS / "text-only-newsletter.eml").read_bytes()
    headerless = b"\n".join(line for line in raw.split(b"\n") if not line.lower().startswith(b"message-id:"))
    (tmp_path / "a.eml").write_bytes(headerless)
    (tmp_path / "b.eml").write_bytes(headerless.replace(b"\n", b"\r\n"))  # same message, CRLF

    result = json.loads(run_ingest("import", tmp_path / "a.eml", tmp_path / "b.eml", "--json").stdout)

    assert (result["filed"], result["duplicates"]) == (1, 1)
    assert yaml.safe_load(Path(result["notes"][0]).read_text().split("---\n")[1])["message_id"] == ""


def test_english_labels(tmp_path: Path) -> None:
    config = write_config(tmp_path / "en.toml", tmp_path / "notes", language="en")

    result = run_ingest("--config", config, "import", EMAILS / "substack-post.eml")

    note = notes_in(tmp_path / "notes")[0].read_text()
    assert result.returncode == 0
    assert "- **Published**: January 27, 2025" in note
    assert "发布日期" not in note


def test_user_template_is_used(tmp_path: Path) -> None:
    (tmp_path / "mine.md").write_text("# $title\n\nby $author on $date\n\n$sections\n")
    config = tmp_path / "c.toml"
    config.write_text('[archive]\ntemplate = "mine.md"\nlanguage = "en"\n')

    run_ingest("--config", config, "import", EMAILS / "substack-post.eml")

    body = notes_in(tmp_path / "archive")[0].read_text().split("\n---\n\n", 1)[1]
    assert body.startswith("# The quiet year of small models\n\nby Jane Doe on January 27, 2025\n\n### Introduction\n")


def test_config_problems_are_all_reported_at_once_with_exit_code_2(tmp_path: Path) -> None:
    config = tmp_path / "bad.toml"
    config.write_text(
        '[archive]\nlanguage = "fr"\ncolour = "blue"\n\n'
        '[[accounts]]\nname = "work"\nhost = "mail.example.com"\nsecurity = "plain"\nport = 99999\n'
    )

    result = run_ingest("--config", config, "--since", "2025-01-01")

    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr == (
        f"Error: invalid configuration in {config}:\n"
        "  - [archive]: unknown key 'colour' (valid keys: attachments, filename, language, path, template)\n"
        "  - [archive] language: must be one of 'zh', 'en', not 'fr'\n"
        "  - [[accounts]] 'work' username: missing; this key is required\n"
        "  - [[accounts]] 'work' port: must be a number from 1 to 65535, not 99999\n"
        "  - [[accounts]] 'work': set one of password_command, password_env or password\n"
        "  - [[accounts]] 'work' security: \"plain\" sends the password unencrypted; it is allowed only to a "
        "loopback host (127.0.0.1, localhost) unless you also set allow_insecure = true\n"
    )


def test_invalid_toml_is_a_config_error(tmp_path: Path) -> None:
    config = tmp_path / "broken.toml"
    config.write_text("[archive\npath = 1\n")

    result = run_ingest("--config", config, "import", DEMO)

    assert result.returncode == 2
    assert result.stderr.startswith(f"Error: config file {config} is not valid TOML: ")


def test_missing_config_file_named_by_env_var(tmp_path: Path) -> None:
    result = run_ingest("import", DEMO, env={"INGEST_CONFIG": str(tmp_path / "nope.toml")})

    assert result.returncode == 2
    assert "config file" in result.stderr and "nope.toml not found" in result.stderr


def test_since_without_accounts_says_so(tmp_path: Path) -> None:
    result = run_ingest("--since", "2025-01-01")

    assert result.returncode == 2
    assert result.stderr == (
        f"Error: no config file (none at {tmp_path / 'xdg-config' / 'ingester' / 'config.toml'}): `ingest config "
        "init` writes an annotated one there; add an [[accounts]] section, or use `ingest import PATH`\n"
    )


def test_bad_date_is_a_usage_error() -> None:
    result = run_ingest("--since", "2025-13-01")

    assert result.returncode == 2
    assert "Invalid value for '--since': '2025-13-01' does not match the format '%Y-%m-%d'." in result.stderr
    assert "Traceback" not in result.stderr


def test_a_failed_message_is_recorded_and_exit_code_is_3(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from click.testing import CliRunner

    from ingester import pipeline

    def broken(*args: object, **kwargs: object) -> object:
        raise ValueError("converter exploded")

    with monkeypatch.context() as patch:
        patch.setattr(pipeline, "make_note", broken)
        result = CliRunner().invoke(cli, ["import", str(EMAILS / "substack-post.eml")])

    assert result.exit_code == 3
    assert untimed(result.output) == (
        f"failed  {EMAILS / 'substack-post.eml'}: ValueError: converter exploded\n"
        "Done: 0 filed, 0 skipped, 0 duplicates, 1 failed.\n"
    )
    retry = CliRunner().invoke(cli, ["import", str(EMAILS / "substack-post.eml")])
    assert untimed(retry.output).endswith("Done: 1 filed, 0 skipped, 0 duplicates, 0 failed.\n")  # retried, not lost


def test_python_m_ingester_and_version() -> None:
    result = run_ingest_process("--version")

    assert result.returncode == 0
    assert result.stdout.startswith("ingest, version ")


def _commands(group: click.Group, prefix: str = "ingest") -> list[tuple[str, click.Command]]:
    found: list[tuple[str, click.Command]] = [(prefix, group)]
    for name, command in group.commands.items():
        if isinstance(command, click.Group):
            found += _commands(command, f"{prefix} {name}")
        else:
            found.append((f"{prefix} {name}", command))
    return found


@pytest.mark.parametrize(("name", "command"), _commands(cli))
def test_every_command_has_help_with_an_example(name: str, command: click.Command) -> None:
    assert command.help, name
    assert "Examples:" in command.help, name
    assert "ingest" in command.help.split("Examples:")[1], name


def test_clean_url_prints_each_cleaned_url() -> None:
    example = (
        "https://garymarcus.substack.com/p/the-race-for-ai-supremacy-is-over?utm_source=post-email-title"
        "&publication_id=888615&post_id=155695342&utm_campaign=email-post-title&isFreemail=true&r=208yzy"
        "&triedRedirect=true&utm_medium=email"
    )
    result = run_ingest("clean-url", example, "https://www.youtube.com/watch?v=dQw4w9WgXcQ&t=42&si=AbC")

    assert result.returncode == 0
    assert result.stdout == (
        "https://garymarcus.substack.com/p/the-race-for-ai-supremacy-is-over\n"
        "https://www.youtube.com/watch?v=dQw4w9WgXcQ&t=42\n"
    )


def test_clean_url_reads_stdin_and_explains() -> None:
    from click.testing import CliRunner

    google = "https://www.google.com/url?q=https://example.com/page?utm_source%3Dnews&sa=D"
    plain = CliRunner().invoke(cli, ["clean-url"], input=f"{google}\n\n")
    explained = CliRunner().invoke(cli, ["clean-url", "--explain", google])

    assert plain.output == "https://example.com/page\n"
    assert explained.exit_code == 0
    assert "google" in explained.output.lower() and "utm_source" in explained.output


def test_a_damaged_ledger_is_one_line_that_says_what_to_do(tmp_path: Path) -> None:
    (tmp_path / "archive" / ".ingest").mkdir(parents=True)
    (tmp_path / "archive" / ".ingest" / "ledger.sqlite3").write_bytes(b"not a database " * 100)

    for args in (["status"], ["import", str(EMAILS / "substack-post.eml")]):
        result = run_ingest(*args)
        assert result.returncode == 1
        assert result.stderr == (
            "Error: the ledger archive/.ingest/ledger.sqlite3 is damaged (file is not a database); move it aside "
            "and run again to start a new one (notes on disk are recognised and not filed twice), or restore it "
            "from a backup\n"
        )


def test_an_unexpected_error_is_one_line_with_its_own_exit_code(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: object) -> list[str]:
        raise RuntimeError("something nobody expected")

    monkeypatch.setattr(run_commands, "explain", broken)
    result = run_ingest("explain", EMAILS / "substack-post.eml")

    assert result.returncode == EXIT_INTERNAL == 70
    assert result.stderr == (
        "Error: unexpected RuntimeError: something nobody expected (a bug in the ingester; rerun with -v for the "
        "traceback and report it)\n"
    )
    verbose = run_ingest("-v", "explain", EMAILS / "substack-post.eml")
    assert verbose.returncode == 70
    assert "Traceback (most recent call last)" in verbose.stderr and 'raise RuntimeError("something' in verbose.stderr


def test_exit_codes_are_in_the_help_and_the_readme() -> None:
    help_text = run_ingest("--help").stdout
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    for code in ("0", "1", "2", "3", "70"):
        assert re.search(rf"^\s+{code}\s+\w", help_text, re.MULTILINE), code
        assert f"| {code} |" in readme, code
