"""The prompt and the answer's schema: `prompt.toml` in the package, or the user's copy (`[fill] prompt`)."""

from __future__ import annotations

import json
import tomllib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from string import Template
from typing import Any

from ingester.errors import ConfigError

LANGUAGE_NAMES = {"zh": "Simplified Chinese (简体中文)", "en": "English"}


@dataclass(frozen=True)
class Prompt:
    system: str
    user: str
    schema: dict[str, Any]
    max_tokens: int = 4096
    temperature: float = 0.2

    def messages(self, language: str, title: str, headings: list[str], article: str) -> list[dict[str, str]]:
        """The chat messages for one article."""
        values = {
            "language": LANGUAGE_NAMES.get(language, language),
            "title": title,
            "headings": "\n".join(f"- {h}" for h in headings) or "-",
            "article": article,
        }
        return [
            {"role": "system", "content": Template(self.system).safe_substitute(values)},
            {"role": "user", "content": Template(self.user).safe_substitute(values)},
        ]


def load_prompt(path: Path | None) -> Prompt:
    """The packaged prompt, or the user's file; ConfigError naming the file and what is wrong."""
    if path is None:
        text = resources.files(__package__).joinpath("prompt.toml").read_text(encoding="utf-8")
        where = "the packaged prompt.toml"
    else:
        where = f"[fill] prompt {path}"
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{where}: cannot read it ({exc}); copy the packaged prompt.toml there") from exc
    try:
        data = tomllib.loads(text)
        schema = json.loads(data["schema"])
        prompt = Prompt(
            str(data["system"]),
            str(data["user"]),
            schema,
            int(data.get("max_tokens", 4096)),
            float(data.get("temperature", 0.2)),
        )
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{where}: not valid TOML: {exc}") from exc
    except KeyError as exc:
        raise ConfigError(f"{where}: the key {exc.args[0]!r} is missing (system, user and schema are needed)") from exc
    except (ValueError, TypeError) as exc:
        raise ConfigError(f"{where}: {exc} (schema must be a JSON object in a string)") from exc
    if not isinstance(schema, dict):
        raise ConfigError(f"{where}: schema must be a JSON object")
    return prompt
