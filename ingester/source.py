"""Where messages come from: an IMAP account (the only importer of imapclient) or local files.

IMAP: TLS with certificate verification by default, folders selected read-only, messages fetched
with `BODY.PEEK[]` (flags are never changed) in batches of UIDs. Local: an mbox file, a Maildir,
one `.eml` file or a folder of them. Both yield `RawMessage`s for the same pipeline.
"""

from __future__ import annotations

import logging
import mailbox
import os
import socket
import ssl
import stat
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path

import imapclient
from imapclient.exceptions import IMAPClientAbortError, IMAPClientError, LoginError

from ingester.config import Account
from ingester.errors import ConnectError, ConnectionLost, FolderMissing, LoginRefused, SourceError
from ingester.message import RawMessage

logger = logging.getLogger(__name__)

IDLE_RENEW = 25 * 60.0  # seconds: renew IDLE before servers drop it (29 min, RFC 2177)
IDLE_SLICE = 1.0  # seconds per idle_check, so a stop request is noticed quickly
FETCH_BATCH = 200  # UIDs per FETCH: one round trip per batch, memory bounded by the batch
FETCH_BYTES = 50_000_000  # and at most this many bytes (RFC822.SIZE) per FETCH: 30 messages of 21 MB took 839 MB
TIMEOUT = 30.0  # seconds for connect and each command
MAX_LISTED = 30  # folders named in the error about a missing one


class ImapSession:
    """A logged-in connection to one account. Use as a context manager."""

    def __init__(self, account: Account) -> None:
        self.account = account
        self.client: imapclient.IMAPClient | None = None

    def __enter__(self) -> ImapSession:
        self.client = connect(self.account)
        return self

    def __exit__(self, *exc: object) -> None:
        if self.client is not None:
            try:
                self.client.logout()
            except (IMAPClientError, OSError) as err:  # never hide the real failure behind a logout error
                logger.debug("logout from %s failed: %s", self.account.name, err)
                _close_quietly(self.client)  # logout closes the socket only when the server answers
            self.client = None

    def select(self, folder: str) -> int:
        """Select a folder read-only (EXAMINE) and return its UIDVALIDITY; a folder the server does not
        have raises `FolderMissing` listing the ones it has."""
        name = self.account.name
        try:
            hint = "; check `folders` in the config"
            with self._talking(f"opening folder {folder!r}", hint, FolderMissing) as client:
                info = client.select_folder(folder, readonly=True)
        except FolderMissing as exc:
            try:
                names = [found for found, selectable in self.folders() if selectable]
            except SourceError:  # the listing failed too: the folder's own error is the one to report
                raise exc from exc.__cause__
            if folder in names:
                raise
            shown = ", ".join(repr(n) for n in names[:MAX_LISTED]) or "none"
            more = f" and {len(names) - MAX_LISTED} more" if len(names) > MAX_LISTED else ""
            raise FolderMissing(
                f"account {name!r}: the server has no folder {folder!r}; its folders: {shown}{more}; "
                f"fix `folders` in the config (`ingest folders {name}` lists them)"
            ) from exc
        return int(info.get(b"UIDVALIDITY", 0))

    def folders(self) -> list[tuple[str, bool]]:
        """Every folder on the server, sorted (INBOX first), and whether it can be selected (holds mail)."""
        with self._talking("listing folders") as client:
            found = client.list_folders()
        listed = []
        for flags, _delimiter, folder in found:
            names = {bytes(flag).lower() if isinstance(flag, bytes) else str(flag).lower().encode() for flag in flags}
            listed.append((str(folder), not names & {b"\\noselect", b"\\nonexistent"}))
        return sorted(listed, key=lambda item: (item[0].upper() != "INBOX", item[0].lower()))

    def search(self, since: date | None = None, above_uid: int | None = None) -> list[int]:
        """UIDs in the selected folder: all, on/after a date (IMAP SINCE), or above a UID."""
        with self._talking("searching") as client:
            if above_uid is not None:
                # `n:*` always includes the highest UID, even when it is below n (RFC 3501): filter.
                return sorted(uid for uid in client.search(["UID", f"{above_uid + 1}:*"]) if uid > above_uid)
            criteria: list[object] = ["SINCE", since] if since else ["ALL"]
            return sorted(client.search(criteria))

    def sizes(self, uids: list[int]) -> dict[int, int]:
        """RFC822.SIZE of each UID (cheap: no body is transferred), so huge messages are never fetched."""
        found: dict[int, int] = {}
        for start in range(0, len(uids), 5000):
            with self._talking("fetching message sizes") as client:
                data = client.fetch(uids[start : start + 5000], [b"RFC822.SIZE"])
            found.update({uid: int(item.get(b"RFC822.SIZE", 0)) for uid, item in data.items()})
        return found

    def source(self, folder: str, uidvalidity: int, uid: int) -> str:
        """How notes and errors name a message on this server (an IMAP URL, RFC 5092 style)."""
        return f"imap://{self.account.name}/{folder};UIDVALIDITY={uidvalidity}/;UID={uid}"

    def fetch(
        self, folder: str, uidvalidity: int, uids: list[int], sizes: dict[int, int] | None = None
    ) -> Iterator[RawMessage]:
        """The messages with these UIDs, in batches of `fetch_batches` (by count and by `sizes`), flags
        untouched."""
        for batch in fetch_batches(uids, sizes or {}):
            with self._talking(f"fetching from {folder!r}") as client:
                data = client.fetch(batch, [b"BODY.PEEK[]", b"INTERNALDATE"])
            for uid in batch:
                item = data.get(uid)
                if item is None or b"BODY[]" not in item:
                    continue  # expunged between SEARCH and FETCH
                yield RawMessage(
                    raw=bytes(item[b"BODY[]"]),
                    source=self.source(folder, uidvalidity, uid),
                    internaldate=item.get(b"INTERNALDATE"),
                    account=self.account.name,
                    folder=folder,
                    uidvalidity=uidvalidity,
                    uid=uid,
                )

    def supports_idle(self) -> bool:
        return bool(self._client.has_capability("IDLE"))

    def wait_for_mail(self, stop: threading.Event, renew_after: float = IDLE_RENEW) -> bool:
        """IDLE until the selected folder changes (True), `renew_after` passes or `stop` is set (False).

        Servers drop an IDLE after 29 minutes (RFC 2177), so callers renew it sooner. imapclient's
        `idle_check` returns an empty list at once, forever, when the server has gone away: an
        early empty return means the connection is dead.
        """
        with self._talking("waiting for new mail") as client:
            client.idle()
            deadline = time.monotonic() + renew_after
            changed = False
            while not changed and not stop.is_set() and time.monotonic() < deadline:
                started = time.monotonic()
                responses = client.idle_check(timeout=IDLE_SLICE)
                changed = any(len(r) > 1 and r[1] in (b"EXISTS", b"RECENT") for r in responses)
                if not responses and time.monotonic() - started < IDLE_SLICE / 2:
                    raise IMAPClientAbortError("the server closed the connection")
            client.idle_done()
            return changed

    @contextmanager
    def _talking(
        self,
        doing: str,
        hint: str = "",
        refused: type[SourceError] = SourceError,
    ) -> Iterator[imapclient.IMAPClient]:
        """The client, for one exchange; its failures become one `SourceError` saying what was going on.

        A dropped connection (imaplib's abort, a socket error) reads "connection lost while …" whatever
        the command, so logs and tests need to know one phrase; a refusal by the server gets `hint`.
        """
        try:
            yield self._client
        except (IMAPClientAbortError, OSError) as err:
            raise ConnectionLost(
                f"account {self.account.name!r}: connection lost while {doing} ({_text(err)})"
            ) from err
        except IMAPClientError as err:
            raise refused(f"account {self.account.name!r}: {doing} failed ({_text(err)}){hint}") from err

    @property
    def _client(self) -> imapclient.IMAPClient:
        if self.client is None:
            raise ConnectionLost(f"account {self.account.name!r}: not connected")
        return self.client


def fetch_batches(
    uids: list[int], sizes: dict[int, int], count: int = FETCH_BATCH, size: int = FETCH_BYTES
) -> list[list[int]]:
    """`uids` in order, cut into batches of at most `count` UIDs and `size` bytes (a message larger than
    `size` alone in its batch); a UID of unknown size counts as nothing."""
    batches: list[list[int]] = []
    batch: list[int] = []
    total = 0
    for uid in uids:
        weight = sizes.get(uid, 0)
        if batch and (len(batch) >= count or total + weight > size):
            batches.append(batch)
            batch, total = [], 0
        batch.append(uid)
        total += weight
    if batch:
        batches.append(batch)
    return batches


def connect(account: Account) -> imapclient.IMAPClient:
    """Connect and log in, translating every failure into one clear `SourceError`.

    Whatever fails after the socket is open (STARTTLS, the password command, the login), the socket
    is closed before the error goes up.
    """
    where = f"{account.host}:{account.port}"
    context = tls_context(account)
    try:
        client = imapclient.IMAPClient(
            account.host, port=account.port, ssl=account.security == "tls", ssl_context=context, timeout=TIMEOUT
        )
    except (OSError, IMAPClientError) as err:
        raise _connect_error(account, where, err) from err
    try:
        # imapclient forces imaplib's debug level 5, which formats every literal even with logging
        # off (fetches measured 4-5x slower). We do our own logging.
        client._imap.debug = 0
        if account.security == "starttls":
            try:
                client.starttls(context)
            except (OSError, IMAPClientError) as err:
                raise _connect_error(account, where, err) from err
        if account.security == "plain" and account.allow_insecure:
            logger.warning(
                "account %r: plain IMAP without encryption to %s (allow_insecure = true)", account.name, account.host
            )
        _login(client, account, account.resolve_password())
    except BaseException:
        _close_quietly(client)
        raise
    logger.debug("logged in to %s as %s", where, account.username)
    return client


def _connect_error(account: Account, where: str, err: BaseException) -> ConnectError:
    """The one line that says why the server could not be reached or spoken to securely."""
    if isinstance(err, ssl.SSLCertVerificationError):
        return ConnectError(
            f"account {account.name!r}: TLS certificate of {where} not trusted ({err.verify_message}); "
            "if the server uses its own CA, set ca_file to it"
        )
    if isinstance(err, ssl.SSLError):
        return ConnectError(
            f"account {account.name!r}: TLS handshake with {where} failed ({err.reason or err}); "
            'check port and security (993 = "tls", 143 = "starttls")'
        )
    if isinstance(err, socket.gaierror):
        return ConnectError(f"account {account.name!r}: unknown host {account.host!r}; check `host`")
    return ConnectError(
        f"account {account.name!r}: cannot reach {where} ({_text(err)}); check host, port and your network"
    )


def _login(client: imapclient.IMAPClient, account: Account, password: str) -> None:
    try:
        client.login(account.username, password)
    except LoginError as err:
        raise LoginRefused(
            f"account {account.name!r}: login as {account.username!r} refused by {account.host}; "
            "check the username and password (password_command / password_env)"
        ) from err
    except (IMAPClientAbortError, OSError) as err:
        raise ConnectionLost(f"account {account.name!r}: connection lost while logging in ({_text(err)})") from err
    except IMAPClientError as err:
        raise SourceError(f"account {account.name!r}: login failed ({_text(err)})") from err


def tls_context(account: Account) -> ssl.SSLContext:
    """System CAs, plus `ca_file` when given; hostname and certificate always verified."""
    context = ssl.create_default_context()
    if account.ca_file:
        context.load_verify_locations(cafile=str(account.ca_file))
    return context


def _close_quietly(client: imapclient.IMAPClient) -> None:
    try:
        client.shutdown()
    except (IMAPClientError, OSError) as err:
        logger.debug("closing connection failed: %s", err)


def _text(err: BaseException) -> str:
    return str(err).strip() or type(err).__name__


def local_messages(path: Path, skip: Path | None = None) -> Iterator[RawMessage]:
    """Messages from an mbox file, a Maildir, an `.eml` file, or a folder of message files (recursively).

    Regular files only: FIFOs, devices and sockets are skipped with a warning saying why (reading one
    would hang or never end), and so are a symbolic link leading out of the folder given, a link to a
    folder, and a file that vanishes before it is read. The path given itself may be a link. A folder
    `skip` (the archive: its notes, raw copies and ledger are no mail to import) is not walked into.
    """
    if not path.exists() and not path.is_symlink():
        raise SourceError(f"{path}: no such file or folder")
    if _kind(path, None) == "folder":
        root = path.resolve()
        if all((path / sub).is_dir() for sub in ("cur", "new", "tmp")):
            yield from _maildir(path, root)
            return
        for file in _files(path, skip):
            yield from _file_messages(file, root)
        return
    yield from _file_messages(path, None)


def _kind(path: Path, root: Path | None) -> str:
    """ "folder", "file" (regular), or why `path` is not read; links are followed only inside `root`."""
    try:
        if path.is_symlink():
            target = path.resolve(strict=True)
            if root is not None and not target.is_relative_to(root):
                return f"a symbolic link out of {root}"
            if root is not None and target.is_dir():
                return "a symbolic link to a folder, not followed"
        mode = path.stat().st_mode
    except FileNotFoundError:
        return "vanished (or a link to nothing)"
    except (OSError, RuntimeError) as err:  # RuntimeError: a symlink loop
        return f"cannot read ({getattr(err, 'strerror', None) or err})"
    if stat.S_ISDIR(mode):
        return "folder"
    if stat.S_ISREG(mode):
        return "file"
    if stat.S_ISFIFO(mode):
        return "a FIFO, not a regular file"
    if stat.S_ISSOCK(mode):
        return "a socket, not a regular file"
    return "a device, not a regular file"


def _skip(path: Path, why: str) -> None:
    logger.warning("%s: skipped, %s", path, why)


def _files(folder: Path, skip: Path | None = None) -> list[Path]:
    """The entries of a folder tree that may be messages (not hidden); links to folders are not walked,
    nor the folder `skip` (compared once resolved)."""
    found: list[Path] = []
    skip = skip.resolve() if skip is not None else None
    for where, subfolders, names in os.walk(folder):
        if skip is not None and skip.parent == Path(where).resolve() and skip.name in subfolders:
            logger.info("%s: not read, it is the archive", skip)
            subfolders.remove(skip.name)
        found.extend(Path(where) / name for name in names if not name.startswith("."))
        found.extend(Path(where) / name for name in subfolders if (Path(where) / name).is_symlink())
    return sorted(found)


def _maildir(path: Path, root: Path) -> Iterator[RawMessage]:
    """A Maildir's messages (cur and new) by their keys, each a regular file inside it."""
    colon = mailbox.Maildir.colon
    entries = sorted(
        (name.split(colon)[0], path / sub / name)
        for sub in ("cur", "new")
        for name in os.listdir(path / sub)
        if not name.startswith(".")
    )
    for key, file in entries:
        data = _read(file, root)
        if data is not None:
            yield RawMessage(raw=data, source=f"{path}/{key}")


def _file_messages(path: Path, root: Path | None) -> Iterator[RawMessage]:
    kind = _kind(path, root)
    if kind == "folder":
        return
    if kind != "file":
        _skip(path, kind)
        return
    if _is_mbox(path):
        box = mailbox.mbox(path, create=False)
        try:
            for index, key in enumerate(box.iterkeys(), start=1):
                yield RawMessage(raw=box.get_bytes(key), source=f"{path}#{index}")
        finally:
            box.close()
        return
    data = _read(path, root)
    if data is not None:
        yield RawMessage(raw=data, source=str(path))


def _read(path: Path, root: Path | None) -> bytes | None:
    """The bytes of a regular file (None, with a warning, for anything else); opened without blocking
    and checked once open, so a file swapped for a FIFO meanwhile cannot hang the run."""
    kind = _kind(path, root)
    if kind != "file":
        _skip(path, kind)
        return None
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except FileNotFoundError:
        _skip(path, "vanished")
        return None
    except OSError as err:
        raise SourceError(f"{path}: cannot read ({err.strerror})") from err
    with os.fdopen(fd, "rb") as f:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            _skip(path, "not a regular file")
            return None
        os.set_blocking(fd, True)
        return f.read()


def count_messages(path: Path, skip: Path | None = None) -> int:
    """How many messages `local_messages(path, skip)` yields, counted without reading any of them (an mbox
    is scanned for its "From " lines, as the mailbox module does), for a progress bar with a total."""
    try:
        kind = _kind(path, None)
        if kind == "folder" and all((path / sub).is_dir() for sub in ("cur", "new", "tmp")):
            return sum(1 for sub in ("cur", "new") for p in (path / sub).iterdir() if not p.name.startswith("."))
        if kind == "folder":
            root = path.resolve()
            return sum(count_messages(file) for file in _files(path, skip) if _kind(file, root) == "file")
        if kind != "file":
            return 0
        if _is_mbox(path):
            with path.open("rb") as box:
                return sum(1 for line in box if line.startswith(b"From "))
    except (OSError, SourceError):
        return 0  # local_messages says what is wrong with it
    return 1


def _is_mbox(path: Path) -> bool:
    """A regular file (see `_kind`) that starts as an mbox does."""
    try:
        with path.open("rb") as f:
            return f.read(5) == b"From "
    except FileNotFoundError:
        return False  # vanished: `_read` says so
    except OSError as err:
        raise SourceError(f"{path}: cannot read ({err.strerror})") from err
