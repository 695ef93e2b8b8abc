"""Where the configuration is and what its paths mean: --config, then $INGEST_CONFIG, then
$XDG_CONFIG_HOME/ingester/config.toml; relative paths relative to the file; `ingest config`."""

from __future__ import annotations

import json
import os
import stat
import tomllib
from pathlib import Path

import pytest

from ingester import config as config_mod
from tests.conftest import EMAILS, REPO, notes_in, run_ingest

DEMO = REPO / "tests" / "fixtures" / "demo" / "sample.mbox"


def xdg_config(tmp_path: Path) -> Path:
    return tmp_path / "xdg-config" / "ingester" / "config.toml"  # $XDG_CONFIG_HOME of every test (conftest)


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_the_xdg_config_is_read_and_its_relative_archive_is_beside_it(tmp_path: Path) -> None:
    config = write(xdg_config(tmp_path), '[archive]\npath = "notes"\nlanguage = "en"\n')
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()

    result = run_ingest("import", EMAILS / "substack-post.eml", cwd=elsewhere)

    assert result.returncode == 0, result.stderr
    assert len(notes_in(config.parent / "notes")) == 1
    assert not (elsewhere / "archive").exists() and not (elsewhere / "notes").exists()


def test_home_config_when_xdg_config_home_is_unset(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("XDG_CONFIG_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))

    assert config_mod.default_path() == tmp_path / "home" / ".config" / "ingester" / "config.toml"
    assert run_ingest("config", "path").stdout == f"{tmp_path / 'home' / '.config' / 'ingester' / 'config.toml'}\n"


def test_order_is_option_then_environment_then_xdg(tmp_path: Path) -> None:
    write(xdg_config(tmp_path), '[archive]\npath = "from-xdg"\n')
    env_file = write(tmp_path / "env.toml", '[archive]\npath = "from-env"\n')
    option_file = write(tmp_path / "option.toml", '[archive]\npath = "from-option"\n')
    env = {config_mod.ENV_VAR: str(env_file)}

    def archive(*args: str | Path, env: dict[str, str] | None = None) -> str:
        return json.loads(run_ingest("config", "show", "--json", *args, env=env).stdout)["archive_path"]

    assert archive() == str(xdg_config(tmp_path).parent / "from-xdg")
    assert archive(env=env) == str(tmp_path / "from-env")
    assert archive("--config", option_file, env=env) == str(tmp_path / "from-option")


def test_relative_paths_of_a_config_do_not_depend_on_the_working_directory(tmp_path: Path) -> None:
    vault = write(tmp_path / "vault" / "vault.toml", '[archive]\npath = "newsletters"\n')
    run_ingest("--config", vault, "import", DEMO)
    elsewhere = tmp_path / "tmp"
    elsewhere.mkdir()

    result = run_ingest("--config", vault, "drafts", cwd=elsewhere)

    assert result.returncode == 0, result.stderr
    assert len(result.stdout.splitlines()) == 5  # the four drafts filed from the other directory
    assert (
        f"{tmp_path / 'vault' / 'newsletters'}/"
        in json.loads(run_ingest("--config", vault, "drafts", "--json", cwd=elsewhere).stdout)[0]["path"]
    )


def test_an_empty_archive_is_named_by_every_command_that_finds_nothing(tmp_path: Path) -> None:
    vault = write(tmp_path / "vault" / "vault.toml", '[archive]\npath = "newsletters"\n')
    where = tmp_path / "vault" / "newsletters"

    assert run_ingest("--config", vault, "drafts").stdout == f"No drafts in {where}.\n"
    assert run_ingest("--config", vault, "review").stdout == f"No drafts to review in {where}.\n"
    assert f"no ledger in {where}/.ingest: nothing was ingested" in run_ingest("--config", vault, "status").stderr


def test_a_relative_ca_file_is_checked_beside_the_config(tmp_path: Path) -> None:
    account = (
        '[[accounts]]\nname = "a"\nhost = "imap.example.com"\nusername = "u"\npassword_env = "X"\nca_file = "ca.pem"\n'
    )
    config = write(tmp_path / "conf" / "c.toml", account)

    missing = run_ingest("--config", config, "config", "show")
    write(tmp_path / "conf" / "ca.pem", "not checked here\n")
    found = run_ingest("--config", config, "config", "show", "--json")

    assert missing.returncode == 2 and f"no such file '{tmp_path / 'conf' / 'ca.pem'}'" in missing.stderr
    assert found.returncode == 0, found.stderr
    assert json.loads(found.stdout)["accounts"][0]["ca_file"] == str(tmp_path / "conf" / "ca.pem")


def test_config_init_writes_the_annotated_example_once(tmp_path: Path) -> None:
    target = xdg_config(tmp_path)

    first = run_ingest("config", "init")
    written = target.read_text(encoding="utf-8")
    target.write_text(written + "# my own line\n", encoding="utf-8")
    second = run_ingest("config", "init")

    assert first.returncode == 0, first.stderr
    assert first.stdout.startswith(f"wrote {target}")
    assert written == config_mod.example_text() == (REPO / "config" / "ingester.example.toml").read_text()
    assert stat.S_IMODE(target.stat().st_mode) == 0o600  # it will hold account details
    assert second.returncode == 2
    assert second.stderr == f"Error: {target} exists; not overwritten (edit it, or remove it first)\n"
    assert target.read_text(encoding="utf-8").endswith("# my own line\n")  # never overwritten
    assert json.loads(run_ingest("config", "path", "--json").stdout) == {
        "path": str(target),
        "exists": True,
        "from": "default",
    }


def test_the_example_is_a_valid_config() -> None:
    config = config_mod.parse(tomllib.loads(config_mod.example_text()), source_file=Path("/x/config.toml"))

    assert config.archive_path == Path("~/Notes/newsletters").expanduser()
    assert [a.name for a in config.accounts] == ["personal"]


def test_config_init_at_the_option_path(tmp_path: Path) -> None:
    result = run_ingest("config", "init", "--config", tmp_path / "deep" / "vault.toml")

    assert result.returncode == 0, result.stderr
    assert (tmp_path / "deep" / "vault.toml").read_text() == config_mod.example_text()
    assert not xdg_config(tmp_path).exists()


def test_config_path_says_when_there_is_no_file(tmp_path: Path) -> None:
    result = run_ingest("config", "path")

    assert result.stdout == f"{xdg_config(tmp_path)}\n"
    assert "the defaults apply; `ingest config init`" in result.stderr


def test_config_show_hides_a_literal_password(tmp_path: Path) -> None:
    config = write(
        tmp_path / "c.toml",
        '[[accounts]]\nname = "a"\nhost = "127.0.0.1"\nsecurity = "plain"\nusername = "u"\npassword = "hunter2"\n',
    )
    os.chmod(config, 0o600)

    text = run_ingest("--config", config, "config", "show")
    data = json.loads(run_ingest("--config", config, "config", "show", "--json").stdout)

    assert text.returncode == 0
    assert "hunter2" not in text.stdout + text.stderr
    assert data["accounts"][0]["password"] == "(hidden)"
    assert text.stdout.splitlines()[0] == f"# {config}"


def test_the_old_default_place_is_pointed_at(tmp_path: Path) -> None:
    write(tmp_path / "config" / "ingester.toml", '[archive]\npath = "x"\n')

    result = run_ingest("drafts")

    assert "config/ingester.toml is no longer read by default: move it to" in result.stderr
