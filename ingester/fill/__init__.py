"""Filling a skeleton draft with a language model the user chooses (`ingest fill`, `[fill]` config).

`settings` (the `[fill]` table), `prompt` (the prompt and JSON schema, `prompt.toml`), `client` (the
OpenAI-compatible HTTP call; the only httpx importer), `schema` (validating the answer), `writer`
(the filled note's text; pure), `run` (orchestration: which notes, under the ledger lock, atomically).
"""
