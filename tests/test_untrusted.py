"""Issue #15: what a stranger's mail (or a stranger's file in the vault) can no longer do to the terminal,
the archive's identity, the notes of the person and the run. Real messages from tests/fixtures where one
will do; hostile ones built with EmailMessage, as test_security does."""

from __future__ import annotations

import gzip
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from ingester import frontmatter, message, rerender, scheduler, source
from ingester.cli import terminal
from ingester.config import Account, Config
from ingester.config import password as config_password
from ingester.source import local_messages
from tests.conftest import EMAILS, QUIET, QUIET_ID, copy_filed, ingest, run_ingest, untimed
from tests.test_drafts import QUIET_KEY, pretend_filed_by_an_older_converter
from tests.test_security import eml

UNPRINTABLE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")  # what must never reach a terminal
HOSTILE = "Evil\x1b]52;c;cm0gLXJmIH4=\x07\x9b2J\nstatus: reviewed\r\u2028title: x"


@pytest.fixture
def archive(filed_archive: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    return copy_filed(filed_archive, tmp_path, monkeypatch)


# --- a. Terminal escapes -------------------------------------------------------------------------------------------


def test_printable_keeps_text_and_drops_every_control() -> None:
    assert terminal.one_line(HOSTILE) == "Evil]52;c;cm0gLXJmIH4=2J status: reviewed  title: x"
    assert terminal.printable("a\tb\nc\x1b[31md\x07\r\n") == "a\tb\nc[31md\n"
    assert terminal.printable("日本語 — ok") == "日本語 — ok"


def hostile_front_matter(archive: Path) -> None:
    """The QUIET note's title and author hold escapes and line breaks (YAML escapes, as a tool might write)."""
    path = archive / QUIET
    text = path.read_text(encoding="utf-8")
    evil = '"Evil\\e]52;c;cm0gLXJmIH4=\\a\\x9b2J\\nstatus: reviewed\\ntitle: x"'
    text = re.sub(r"(?m)^title: .*$", lambda _: f"title: {evil}", text, count=1)
    text = re.sub(r"(?m)^author: .*$", lambda _: f"author: {evil}", text, count=1)
    path.write_text(text, encoding="utf-8")


@pytest.mark.parametrize(
    "args",
    [
        ["drafts", "list"],
        ["drafts", "list", "--status", "all"],
        ["drafts", "show", QUIET_ID],
        ["drafts", "list", "--json"],
        ["drafts", "show", QUIET_ID, "--json"],
    ],
)
def test_front_matter_escapes_never_reach_the_terminal(archive: Path, args: list[str]) -> None:
    before = ingest(*args).stdout
    hostile_front_matter(archive)
    result = ingest(*args)

    assert result.exit_code == 0, result.output
    assert not UNPRINTABLE.search(result.stdout)
    assert "status: reviewed" not in result.stdout.splitlines()  # no faked line
    assert len(result.stdout.splitlines()) == len(before.splitlines())  # one line per field


def test_review_prints_no_escape(archive: Path) -> None:
    hostile_front_matter(archive)
    result = ingest("review", input="q")
    assert not UNPRINTABLE.search(result.stdout)


def test_a_newline_in_an_encoded_from_name_cannot_fake_lines(tmp_path: Path) -> None:
    raw = eml(
        subject="=?utf-8?b?SGVsbG8KRXZpbBtbMzFt?=",  # "Hello\nEvil\x1b[31m"
        sender="=?utf-8?q?Eve=0Astatus=3A_reviewed=0D=0Atitle=3A_x?= <eve@example.com>",
        body="Hello &#27;]52;c;x&#7; there.\n",
    )
    letter = message.parse(raw)
    assert "\n" not in letter.from_name and "\r" not in letter.from_name
    assert not UNPRINTABLE.search(letter.subject)

    mail = tmp_path / "evil.eml"
    mail.write_bytes(raw)
    run_ingest("import", mail, cwd=tmp_path)
    for args in (["log"], ["drafts", "list"], ["explain", str(mail)], ["status"]):
        result = run_ingest(*args, cwd=tmp_path)
        assert result.returncode == 0, result.stderr
        assert not UNPRINTABLE.search(result.stdout), args
        assert not any(line.strip() in ("status: reviewed", "title: x") for line in result.stdout.splitlines())
    with sqlite3.connect(tmp_path / "archive" / ".ingest" / "ledger.sqlite3") as db:
        for sender, subject in db.execute("SELECT sender, subject FROM messages"):
            assert not UNPRINTABLE.search(sender + subject)


# --- b. Identity without Message-ID --------------------------------------------------------------------------------


def without_message_id(raw: bytes) -> bytes:
    return re.sub(rb"(?m)^Message-ID: .*\n", b"", raw)


def test_two_messages_without_message_id_same_source_subject_and_day_are_two_notes(tmp_path: Path) -> None:
    mail = tmp_path / "issue.eml"  # the same file name imported twice, each time holding another message
    for body in ("The first issue: apples.\n", "The second issue: pears.\n"):
        mail.write_bytes(without_message_id(eml(subject="Weekly", body=body)))
        result = run_ingest("import", mail, cwd=tmp_path)
        assert result.returncode == 0, result.stderr
        assert "1 filed" in result.stdout

    with sqlite3.connect(tmp_path / "archive" / ".ingest" / "ledger.sqlite3") as db:
        rows = db.execute("SELECT key, detail FROM messages WHERE outcome = 'filed'").fetchall()
    assert len(rows) == 2
    assert all(key.startswith("sha256:") for key, _ in rows)
    paths = {detail for _, detail in rows}
    assert len(paths) == 2  # one note each, never one note for both
    bodies = " ".join((tmp_path / "archive" / p).read_text(encoding="utf-8") for p in paths)
    assert "apples" in bodies and "pears" in bodies

    again = run_ingest("import", mail, cwd=tmp_path)  # nothing twice
    assert again.returncode == 0 and "0 filed" in again.stdout
    assert len(list((tmp_path / "archive").rglob("*.md"))) == 2


def test_a_note_on_disk_from_a_crash_is_reused_for_the_same_message_without_message_id(tmp_path: Path) -> None:
    raw = without_message_id(eml(subject="Weekly", body="Only once.\n"))
    mail = tmp_path / "one.eml"
    mail.write_bytes(raw)
    assert run_ingest("import", mail, cwd=tmp_path).returncode == 0
    (tmp_path / "archive" / ".ingest" / "ledger.sqlite3").unlink()  # the ledger lost, the note kept
    assert run_ingest("import", mail, cwd=tmp_path).returncode == 0
    assert len(list((tmp_path / "archive").rglob("*.md"))) == 1


# --- c. Only our notes ---------------------------------------------------------------------------------------------

PERSONAL = "2025/01/my-own-thoughts.md"


def personal_notes(archive: Path) -> dict[Path, bytes]:
    """A person's own draft, and a copy of a filed note under another name: neither was filed by ingest."""
    own = archive / PERSONAL
    own.write_text('---\ntitle: "My own thoughts"\nstatus: draft\ndate: 2025-01-30\n---\n\nPrivate.\n')
    copy = archive / "2025" / "01" / "copy-of-quiet.md"
    copy.write_bytes((archive / QUIET).read_bytes())
    return {path: path.read_bytes() for path in (own, copy)}


def test_a_file_ingest_did_not_write_is_never_listed_or_reviewed(archive: Path) -> None:
    before = ingest("drafts", "list", "--status", "all").stdout
    personal_notes(archive)

    assert ingest("drafts", "list", "--status", "all").stdout == before
    listed = ingest("drafts", "list", "--json").stdout
    assert "my-own-thoughts" not in listed and "copy-of-quiet" not in listed
    review = ingest("review", input="q")
    assert "My own thoughts" not in review.stdout and "copy-of-quiet" not in review.stdout


@pytest.mark.parametrize("command", [["drafts", "show"], ["drafts", "accept"], ["drafts", "discard"], ["rerender"]])
def test_commands_naming_a_file_ingest_did_not_write_refuse_and_change_nothing(
    archive: Path, command: list[str]
) -> None:
    kept = personal_notes(archive)
    for path in kept:
        result = ingest(*command, str(path.relative_to(archive.parent)))

        assert result.exit_code == 2, result.output
        assert "was not filed by ingest" in result.stderr
    for path, data in kept.items():
        assert path.read_bytes() == data
    assert not (archive / ".discarded" / PERSONAL).exists()
    assert ingest("rerender", "--all").exit_code == 0
    for path, data in kept.items():
        assert path.read_bytes() == data


# --- d. Compare-and-swap writes for rerender -----------------------------------------------------------------------


def test_rerender_keeps_an_edit_saved_while_it_renders(archive: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pretend_filed_by_an_older_converter(archive, QUIET, QUIET_KEY)
    path = archive / QUIET
    real_make_note = rerender.make_note

    def slow_render(*args: object, **kwargs: object) -> object:
        made = real_make_note(*args, **kwargs)  # type: ignore[arg-type]
        with path.open("a", encoding="utf-8") as f:  # the person saves in the editor meanwhile
            f.write("My note, saved while rerender ran.\n")
        return made

    monkeypatch.setattr(rerender, "make_note", slow_render)
    result = ingest("rerender", QUIET_ID)

    assert result.exit_code == 0, result.output
    assert path.read_text(encoding="utf-8").endswith("My note, saved while rerender ran.\n")
    assert untimed(result.stdout).splitlines()[0] == (
        f"skipped    c2f51ed  archive/{QUIET}: edited while it was re-rendered"
    )


# --- e. Front matter: size cap, no alias expansion, a BOM accepted -------------------------------------------------

ALIAS_BOMB = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{chr(98 + n)}: &{chr(98 + n)} [{', '.join(['*' + chr(97 + n)] * 9)}]\n" for n in range(4)
)  # 9**5 strings expanded; real bombs go on: refused, whatever the size


def test_an_alias_bomb_in_front_matter_is_refused_not_expanded() -> None:
    with pytest.raises(frontmatter.FrontMatterError, match="alias"):
        frontmatter.load(ALIAS_BOMB)
    assert frontmatter.load("title: x\ntags: [a, b]\n") == {"title": "x", "tags": ["a", "b"]}


def test_front_matter_over_the_size_cap_is_refused() -> None:
    with pytest.raises(frontmatter.FrontMatterError, match="KB"):
        frontmatter.load("title: " + "x" * (frontmatter.MAX_FRONT_MATTER + 1) + "\n")


def test_a_note_with_an_alias_bomb_is_left_out_and_the_others_listed(archive: Path) -> None:
    path = archive / QUIET
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("---\n", "---\n" + ALIAS_BOMB, 1), encoding="utf-8")

    result = ingest("drafts", "list")

    assert result.exit_code == 0
    assert QUIET_ID not in result.stdout and len(result.stdout.splitlines()) == 5
    assert "alias" in result.stderr


def test_a_note_saved_with_a_bom_stays_listed_and_its_status_can_change(archive: Path) -> None:
    path = archive / QUIET
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())

    assert QUIET_ID in ingest("drafts", "list").stdout
    assert ingest("drafts", "accept", QUIET_ID).exit_code == 0
    data = path.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf---\n")  # every other byte as it was
    assert b'\nstatus: "reviewed"\n' in data


# --- f. Local imports: regular files only, never out of the tree given ----------------------------------------------


def ingest_process(cwd: Path, *args: str | Path) -> subprocess.CompletedProcess[str]:
    """`python -m ingester ARGS`, killed after 60 s (a hang is a failure, not a stuck suite)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("INGEST_")}
    env["XDG_CONFIG_HOME"] = str(cwd / "xdg")
    command = [sys.executable, "-m", "ingester", *map(str, args)]
    return subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=60, check=False)


def hostile_tree(tmp_path: Path) -> Path:
    secret = tmp_path / "secret.txt"
    secret.write_bytes(b"From: root@example.com\nSubject: passwd\n\nroot:x:0:0:SECRET-LINE\n")
    tree = tmp_path / "mail"
    (tree / "sub").mkdir(parents=True)
    shutil.copy(EMAILS / "substack-post.eml", tree / "a.eml")
    (tree / "out.eml").symlink_to(secret)  # out of the tree: never read
    (tree / "dangling.eml").symlink_to(tmp_path / "gone.eml")
    (tree / "in.eml").symlink_to(tree / "a.eml")  # inside the tree: read (a duplicate of a.eml)
    (tree / "outside-folder").symlink_to(tmp_path, target_is_directory=True)
    os.mkfifo(tree / "sub" / "pipe.eml")
    return tree


def test_a_local_import_reads_regular_files_of_the_tree_only(tmp_path: Path) -> None:
    tree = hostile_tree(tmp_path)

    result = ingest_process(tmp_path, "import", "--all", tree)

    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    assert "1 filed" in result.stdout and "1 duplicates" in result.stdout
    for name, reason in (("out.eml", "out of"), ("dangling.eml", "vanished"), ("pipe.eml", "FIFO")):
        assert re.search(rf"{name}.*skipped.*{reason}", result.stderr), (name, result.stderr)
    kept = b"".join(gzip.decompress(p.read_bytes()) for p in (tmp_path / "archive" / ".ingest").rglob("*.gz"))
    assert b"SECRET-LINE" not in kept


@pytest.mark.parametrize("device", ["/dev/zero", "fifo"])
def test_a_device_or_fifo_given_by_name_is_skipped_with_a_reason(tmp_path: Path, device: str) -> None:
    if device == "fifo":
        os.mkfifo(tmp_path / "fifo")
        device = str(tmp_path / "fifo")

    result = ingest_process(tmp_path, "import", device)

    assert "Traceback" not in result.stderr
    assert "skipped" in result.stderr and ("device" in result.stderr or "FIFO" in result.stderr)


def test_a_maildir_entry_linking_out_of_the_maildir_is_not_read(tmp_path: Path) -> None:
    tree = tmp_path / "Maildir"
    for sub in ("cur", "new", "tmp"):
        (tree / sub).mkdir(parents=True)
    shutil.copy(EMAILS / "substack-post.eml", tree / "cur" / "1.host:2,S")
    secret = tmp_path / "secret.eml"
    secret.write_bytes(b"From: root@example.com\nSubject: passwd\n\nSECRET-LINE\n")
    (tree / "new" / "2.host").symlink_to(secret)

    sources = [raw.source for raw in local_messages(tree)]

    assert sources == [f"{tree}/1.host"]


def test_a_file_that_vanishes_mid_import_is_skipped(tmp_path: Path) -> None:
    for name in ("a.eml", "b.eml"):
        shutil.copy(EMAILS / "substack-post.eml", tmp_path / name)
    found = local_messages(tmp_path)
    first = next(found)
    (tmp_path / "b.eml").unlink()

    assert first.source.endswith("a.eml")
    assert list(found) == []


# --- g. MIME nesting depth bounded; a permanent failure is no longer retried ---------------------------------------


def deeply_nested(depth: int) -> bytes:
    parts = [b"From: news@example.com\nSubject: deep\nMessage-ID: <deep@example.com>\nMIME-Version: 1.0\n"]
    parts += [b'Content-Type: multipart/mixed; boundary="b%d"\n\n--b%d\n' % (n, n) for n in range(depth)]
    parts.append(b"Content-Type: text/plain\n\nThe text at the bottom.\n")
    parts += [b"--b%d--\n" % n for n in reversed(range(depth))]
    return b"".join(parts)


def test_5000_deep_mime_nesting_is_parsed_without_recursion_error(tmp_path: Path) -> None:
    raw = deeply_nested(5000)
    letter = message.parse(raw)
    assert (letter.subject, letter.message_id) == ("deep", "<deep@example.com>")

    mail = tmp_path / "deep.eml"
    mail.write_bytes(raw)
    explained = run_ingest("explain", mail, cwd=tmp_path)
    assert explained.returncode == 0, explained.stderr
    assert "RecursionError" not in explained.stdout + explained.stderr


def test_a_message_that_keeps_failing_is_given_up_after_a_few_tries(tmp_path: Path) -> None:
    from datetime import UTC, datetime, timedelta

    from ingester.store.ledger import MAX_TRIES, Ledger, Location

    with Ledger(tmp_path) as ledger:
        for _ in range(MAX_TRIES):
            ledger.record(
                "<k@x>", "<k@x>", "h", "failed", "ValueError: always", "imap://a/INBOX", Location("a", "INBOX", 1, 7)
            )
        record = ledger.get("<k@x>")
        assert record is not None and record.attempts == MAX_TRIES
        assert record.retry_after == "never"
        assert ledger.failed_uids_due("a", "INBOX", 1, datetime.now(UTC) + timedelta(days=400)) == []


# --- h. Forged forwards ----------------------------------------------------------------------------------------------

FORGED_BODY = (
    "Look at this!\n\n---------- Forwarded message ---------\nFrom: Substack <news@substack.com>\n"
    "Date: Mon, 27 Jan 2025 09:00:00 +0000\nSubject: Your account\nTo: <you@example.org>\n\n"
    "Please log in at https://evil.example/login to keep your account.\n"
)


def forward_config(tmp_path: Path, forwarders: str = "") -> Path:
    config = tmp_path / "config.toml"
    config.write_text(
        f'[archive]\npath = "{tmp_path / "archive"}"\nlanguage = "en"\n'
        f'[newsletters]\nallow_senders = ["*@substack.com"]\n{forwarders}',
        encoding="utf-8",
    )
    return config


def import_forward(tmp_path: Path, sender: str, to: str, forwarders: str = "") -> str:
    raw = eml(subject="Fwd: Your account", sender=sender, body=FORGED_BODY, To=to)
    raw = re.sub(rb"(?m)^List-Id: .*\n", b"", raw)  # a person's mail: no list header
    mail = tmp_path / "forward.eml"
    mail.write_bytes(raw)
    result = run_ingest("--config", forward_config(tmp_path, forwarders), "import", mail, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_a_forged_forward_from_a_stranger_is_judged_by_its_real_sender(tmp_path: Path) -> None:
    out = import_forward(tmp_path, "Stranger <stranger@evil.example>", "you@example.org")
    assert "0 filed, 1 skipped" in out  # not credited to substack.com: allow_senders does not apply


def test_a_forward_by_a_listed_forwarder_is_credited_to_the_original_sender(tmp_path: Path) -> None:
    out = import_forward(tmp_path, "Me <me@example.org>", "notes@example.org")
    assert "1 skipped" in out  # me@ is not known as the reader yet

    (tmp_path / "archive").rename(tmp_path / "before")
    out = import_forward(tmp_path, "Me <me@example.org>", "notes@example.org", 'forwarders = ["me@example.org"]\n')
    assert "1 filed" in out


def test_a_forward_to_oneself_is_credited(tmp_path: Path) -> None:
    out = import_forward(tmp_path, "Me <me@example.org>", "me@example.org")
    assert "1 filed" in out


# --- i. password_command: a timeout, its own process group, killed on shutdown ---------------------------------------


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


def hanging_account(tmp_path: Path) -> Account:
    child = tmp_path / "child.pid"
    command = f"sleep {HANG} & echo $! > {child}; wait"
    return Account(name="a", host="localhost", username="u", password_command=command)


HANG = 20


def resolve_in_thread(account: Account) -> tuple[threading.Thread, list[BaseException]]:
    raised: list[BaseException] = []

    def run() -> None:
        try:
            account.resolve_password()
        except BaseException as exc:  # noqa: BLE001 - handed to the test
            raised.append(exc)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread, raised


def wait_for(path: Path) -> int:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if path.exists() and path.read_text().strip():
            return int(path.read_text())
        time.sleep(0.05)
    raise AssertionError(f"{path} never written")


def test_a_hanging_password_command_times_out_with_its_children(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(config_password, "PASSWORD_SECONDS", 1.0)
    thread, raised = resolve_in_thread(hanging_account(tmp_path))
    child = wait_for(tmp_path / "child.pid")

    thread.join(15)

    assert not thread.is_alive()
    assert len(raised) == 1 and "password_command took longer than 1 s" in str(raised[0])
    time.sleep(0.2)
    assert not alive(child)


def test_password_commands_are_killed_on_shutdown(tmp_path: Path) -> None:
    thread, raised = resolve_in_thread(hanging_account(tmp_path))
    child = wait_for(tmp_path / "child.pid")

    config_password.stop_password_commands()
    thread.join(5)
    config_password.allow_password_commands()

    assert not thread.is_alive()
    assert len(raised) == 1 and "stopped" in str(raised[0])
    time.sleep(0.2)
    assert not alive(child)


# --- j. FETCH batches bounded by bytes as well as count --------------------------------------------------------------


def test_fetch_batches_are_bounded_by_bytes_and_by_count() -> None:
    mb = 1_000_000
    uids = list(range(1, 31))
    big = dict.fromkeys(uids, 21 * mb)  # 30 messages of 21 MB: 630 MB in one FETCH before

    batches = source.fetch_batches(uids, big, count=200, size=50 * mb)

    assert [uid for batch in batches for uid in batch] == uids  # all, in order, once
    assert all(sum(big[u] for u in batch) <= 50 * mb for batch in batches)
    assert source.fetch_batches([1, 2, 3], {1: 60 * mb, 2: 1, 3: 1}, size=50 * mb) == [[1], [2, 3]]
    assert source.fetch_batches(list(range(450)), {}) == [
        list(range(200)),
        list(range(200, 400)),
        list(range(400, 450)),
    ]


# --- j. Supervised IDLE watchers -------------------------------------------------------------------------------------


def test_a_watcher_that_meets_an_unexpected_error_is_restarted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """The watcher's loop under a session that fails as a full disk made it fail (sqlite3.OperationalError
    from the poll it starts), then works: the watcher logs it, waits and goes on, instead of dying."""
    daemon = scheduler.Daemon(Config(archive_path=tmp_path / "archive"), None)
    entered: list[int] = []

    class Session:
        def __init__(self, account: Account) -> None:
            pass

        def __enter__(self) -> Session:
            entered.append(1)
            if len(entered) == 1:
                raise sqlite3.OperationalError("database or disk is full")
            daemon.watch_stop.set()  # the second connection: the watcher lived on; end the test
            return self

        def __exit__(self, *exc: object) -> None:
            pass

        def supports_idle(self) -> bool:
            return False

    monkeypatch.setattr(scheduler, "ImapSession", Session)
    monkeypatch.setattr(scheduler, "backoff", lambda failures: 0.01)
    account = Account(name="a", host="localhost", username="u", password="p")
    daemon.accounts["a"] = scheduler._AccountState()
    daemon.accounts["a"].polled.set()  # watchers start after the account's first poll

    daemon._watch(account, "INBOX")

    assert len(entered) == 2
    assert "database or disk is full" in caplog.text
