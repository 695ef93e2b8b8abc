"""The one call to the model: an OpenAI-compatible `POST {endpoint}/chat/completions` asking for
structured output. The only module that imports httpx.

Servers differ in how structured output is asked for: OpenAI, llama.cpp's `llama-server`, vLLM and
Ollama take `response_format: {"type": "json_schema", "json_schema": {...}}`; llama-cpp-python's server
takes `{"type": "json_object", "schema": ...}` and refuses the other form (with HTTP 500). The first
form is tried; a 400 or 422 answer, or an error naming response_format, switches this client to the
second (said with -v), once.
"""

from __future__ import annotations

import logging
from typing import Any

import httpx

from ingester.errors import FillError
from ingester.fill.prompt import Prompt
from ingester.fill.settings import FillSettings

logger = logging.getLogger(__name__)
for _name in ("httpx", "httpcore"):  # their debug lines say nothing a user needs; never the request's headers
    logging.getLogger(_name).setLevel(logging.WARNING)
MODES = ("json_schema", "json_object")


class Client:
    """Asks one endpoint; remembers which form of structured output it takes."""

    def __init__(self, settings: FillSettings, prompt: Prompt) -> None:
        self.settings = settings
        self.prompt = prompt
        self.mode = MODES[0]
        headers = {"Content-Type": "application/json"}
        key = settings.api_key()
        if key:
            headers["Authorization"] = f"Bearer {key}"
        # trust_env=False: no proxy from the environment sees the article; no redirect is followed
        self._http = httpx.Client(timeout=settings.timeout, headers=headers, trust_env=False, follow_redirects=False)

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self._http.close()

    def response_format(self) -> dict[str, Any]:
        if self.mode == "json_schema":
            return {"type": "json_schema", "json_schema": {"name": "note", "schema": self.prompt.schema}}
        return {"type": "json_object", "schema": self.prompt.schema}

    def complete(self, messages: list[dict[str, str]]) -> str:
        """The content of the model's answer to `messages` (not yet checked)."""
        while True:
            body = {
                "model": self.settings.model,
                "messages": messages,
                "response_format": self.response_format(),
                "max_tokens": self.prompt.max_tokens,
                "temperature": self.prompt.temperature,
                "stream": False,
            }
            response = self._post(body)
            failed = response.status_code >= 400
            refused = failed and (response.status_code in (400, 422) or "response_format" in _error_text(response))
            if refused and self.mode == MODES[0]:
                self.mode = MODES[1]
                logger.info(
                    "%s refused response_format json_schema (HTTP %d): asking with json_object and a schema",
                    self.settings.host,
                    response.status_code,
                )
                continue
            if response.status_code >= 400:
                raise FillError(f"the model's server answered HTTP {response.status_code}: {_error_text(response)}")
            logger.info("%s answered (response_format %s)", self.settings.host, self.mode)
            return _content(response)

    def _post(self, body: dict[str, Any]) -> httpx.Response:
        url = f"{self.settings.endpoint}/chat/completions"
        try:
            return self._http.post(url, json=body)
        except httpx.TimeoutException as exc:
            raise FillError(
                f"no answer from {url} within {self.settings.timeout:g} s; raise [fill] timeout or use a smaller model"
            ) from exc
        except httpx.HTTPError as exc:
            raise FillError(f"cannot reach the model's server at {url} ({exc}); is it running?") from exc


def _error_text(response: httpx.Response) -> str:
    """The server's own error message on one line, short (never the request: it holds the article)."""
    try:
        data = response.json()
        error = data.get("error", data.get("detail", data)) if isinstance(data, dict) else data
        text = error.get("message", error) if isinstance(error, dict) else error
    except ValueError:
        text = response.text
    return " ".join(str(text).split())[:200] or response.reason_phrase


def _content(response: httpx.Response) -> str:
    try:
        content = response.json()["choices"][0]["message"]["content"]
    except (ValueError, KeyError, IndexError, TypeError) as exc:
        raise FillError("the model's server answered, but not as an OpenAI chat completion") from exc
    if not isinstance(content, str):
        raise FillError("the model's server answered with no text (a refusal?)")
    return content
