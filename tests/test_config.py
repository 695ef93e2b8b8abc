"""`config.parse` from TOML text: defaults, every section's values, and every problem reported at once."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from ingester.config import Account, Config, Limits, Rule, parse
from ingester.errors import ConfigError


def parsed(text: str) -> Config:
    return parse(tomllib.loads(text))


def problems(text: str) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        parsed(text)
    assert str(caught.value).startswith("invalid configuration:")
    return list(caught.value.problems)


ACCOUNT = """
[[accounts]]
name = "personal"
host = "imap.example.com"
username = "me@example.com"
password_env = "IMAP_PASSWORD"
"""


def test_an_empty_file_is_the_defaults() -> None:
    assert parsed("") == Config()
    assert Config().archive_path == Path("archive") and Config().language == "zh" and Config().accounts == ()


def test_every_section_read() -> None:
    config = parsed(
        ACCOUNT
        + """
folders = ["INBOX", "Newsletters"]
idle = false

[archive]
path = "~/Notes/news"
language = "en"

[newsletters]
allow_senders = ["*@Substack.com"]

[links]
resolve_opaque = true
resolve_hosts = ["*.List-Manage.com"]
resolve_timeout = 2

[daemon]
interval = "1h30m"

[limits]
parts = 50

[[rules]]
publication = "Field Notes"
tags = ["ai"]
category = "Essay"
folder = "essays"
"""
    )
    assert config.archive_path == Path("~/Notes/news").expanduser()
    assert config.language == "en"
    assert config.allow_senders == ("*@substack.com",)
    assert (config.resolve_opaque, config.resolve_hosts, config.resolve_timeout) == (True, ("*.list-manage.com",), 2.0)
    assert config.interval == 5400.0
    assert config.limits == Limits(parts=50)
    assert config.rules == (Rule(publication="Field Notes", tags=("ai",), category="Essay", folder="essays"),)
    assert config.accounts == (
        Account(
            name="personal",
            host="imap.example.com",
            username="me@example.com",
            folders=("INBOX", "Newsletters"),
            password_env="IMAP_PASSWORD",
            idle=False,
        ),
    )
    assert config.accounts[0].port == 993 and config.accounts[0].security == "tls"


@pytest.mark.parametrize(("security", "port"), [("tls", 993), ("starttls", 143)])
def test_the_port_follows_security(security: str, port: int) -> None:
    assert parsed(ACCOUNT + f'security = "{security}"\n').accounts[0].port == port


def test_every_problem_of_every_section_is_listed_at_once() -> None:
    found = problems(
        """
colour = "blue"

[archive]
language = "fr"
size = 3

[links]
resolve_opaque = true
resolve_timeout = 90

[daemon]
interval = "soon"

[limits]
parts = 0

[[rules]]
tags = ["x"]

[[accounts]]
name = "a"
host = "imap.example.com"
port = 70000
security = "ssl"
"""
    )
    assert found == [
        (
            "top level: unknown key 'colour' "
            "(valid keys: accounts, archive, daemon, fill, limits, links, newsletters, privacy, rules)"
        ),
        "[limits] parts: must be a positive whole number, not 0",
        "[archive]: unknown key 'size' (valid keys: attachments, filename, language, path, template)",
        "[archive] language: must be one of 'zh', 'en', not 'fr'",
        (
            "[links] resolve_hosts: list the wrapper hosts you allow to be asked, e.g. resolve_hosts = "
            '["*.list-manage.com"]; resolve_opaque needs an allowlist'
        ),
        "[links] resolve_timeout: must be a number of seconds from 0 to 30, not 90",
        '[daemon] interval: must be a duration such as "30s", "15m" or "1h", not \'soon\'',
        "[[rules]] #1: set sender or publication (or both) to say which newsletters it applies to",
        "[[accounts]] 'a' username: missing; this key is required",
        "[[accounts]] 'a' security: must be one of 'tls', 'starttls', 'plain', not 'ssl'",
        "[[accounts]] 'a' port: must be a number from 1 to 65535, not 70000",
        "[[accounts]] 'a': set one of password_command, password_env or password",
    ]


@pytest.mark.parametrize(
    ("extra", "problem"),
    [
        ('password = "x"\n', "[[accounts]] 'personal': set only one of password_env, password"),
        ("folders = []\n", "[[accounts]] 'personal' folders: list at least one folder, e.g. folders = [\"INBOX\"]"),
        ('idle = "yes"\n', "[[accounts]] 'personal' idle: must be true or false"),
        ('ca_file = "/nonexistent/ca.pem"\n', "[[accounts]] 'personal' ca_file: no such file '/nonexistent/ca.pem'"),
        ("port = true\n", "[[accounts]] 'personal' port: must be a number from 1 to 65535, not True"),
    ],
)
def test_account_problems(extra: str, problem: str) -> None:
    assert problems(ACCOUNT + extra) == [problem]


def test_two_accounts_with_one_name() -> None:
    assert problems(ACCOUNT + ACCOUNT) == [
        "[[accounts]] name: 'personal' is used by more than one account; names must be unique"
    ]


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "::1"])
def test_plain_imap_is_allowed_to_loopback_only(host: str) -> None:
    text = ACCOUNT.replace("imap.example.com", host) + 'security = "plain"\n'
    assert parsed(text).accounts[0].port == 143
    assert "sends the password unencrypted" in problems(ACCOUNT + 'security = "plain"\n')[0]


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("accounts = 3\n", "[[accounts]]: must be an array of tables ([[accounts]] sections)"),
        ("rules = {}\n", "[[rules]]: must be an array of tables ([[rules]] sections)"),
        ("archive = 1\n", "[archive]: must be a table"),
        (
            "[newsletters]\nallow_senders = 'x'\n",
            '[newsletters] allow_senders: must be a list of strings, e.g. allow_senders = ["..."]',
        ),
        ("[[rules]]\nsender = '*@x'\nskip = 1\n", "[[rules]] #1 skip: must be true or false"),
        (
            "[[rules]]\nsender = '*@x'\nfolder = '../out'\n",
            "[[rules]] #1 folder: must be a relative folder inside the archive, not '../out'",
        ),
    ],
)
def test_shapes_that_are_wrong(text: str, problem: str) -> None:
    assert problems(text) == [problem]


def test_the_file_named_in_the_error() -> None:
    with pytest.raises(ConfigError, match=r"^invalid configuration in conf\.toml:"):
        parse({"colour": 1}, source_file=Path("conf.toml"))
