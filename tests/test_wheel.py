"""The package as a user installs it (`pip install .`, `pipx install .`): a wheel built from the checkout,
installed into a new virtual environment outside it, runs `ingest import` and `ingest drafts`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.conftest import EMAILS, REPO

pytestmark = pytest.mark.slow


def run(*args: str | os.PathLike[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("INGEST_", "PYTHON", "VIRTUAL_ENV"))}
    result = subprocess.run(list(map(str, args)), capture_output=True, text=True, cwd=cwd, env=env, timeout=600)
    assert result.returncode == 0, result.stdout + result.stderr
    return result


def test_the_wheel_holds_the_package_and_runs_outside_the_checkout(tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    built = run(sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", dist, REPO, cwd=tmp_path)
    assert "warning" not in (built.stdout + built.stderr).lower(), built.stderr
    wheel = next(dist.glob("newsletter_ingester-*.whl"))
    names = set(zipfile.ZipFile(wheel).namelist())
    in_checkout = {p.relative_to(REPO).as_posix() for p in (REPO / "ingester").rglob("*") if p.is_file()}
    assert {n for n in in_checkout if "__pycache__" not in n} <= names
    assert "ingester/templates/note.zh.md" in names and "ingester/links/data/clearurls/data.min.json" in names

    venv = tmp_path / "venv"
    run(sys.executable, "-m", "venv", venv, cwd=tmp_path)
    run(venv / "bin" / "pip", "install", "--quiet", wheel, cwd=tmp_path)
    home = tmp_path / "elsewhere"
    home.mkdir()
    config = home / "config.toml"
    config.write_text(f'[archive]\npath = "{home / "notes"}"\nlanguage = "en"\n', encoding="utf-8")

    filed = run(venv / "bin" / "ingest", "--config", config, "import", EMAILS / "substack-post.eml", "--json", cwd=home)
    assert json.loads(filed.stdout)["filed"] == 1
    listed = run(venv / "bin" / "ingest", "--config", config, "drafts", "list", "--json", cwd=home)
    (note,) = json.loads(listed.stdout)
    assert note["title"] == "The quiet year of small models"
    assert Path(note["path"]).read_text(encoding="utf-8").count("## Outline") == 1  # the packaged template
    imported = run(venv / "bin" / "python", "-c", "import ingester; print(ingester.__file__)", cwd=home)
    assert str(venv) in imported.stdout  # the installed copy, not the checkout
    written = run(venv / "bin" / "ingest", "config", "init", "--config", home / "new.toml", cwd=home)
    assert written.stdout.startswith(f"wrote {home / 'new.toml'}")  # the annotated example is package data
    assert (home / "new.toml").read_text(encoding="utf-8") == (REPO / "config" / "ingester.example.toml").read_text()
