"""The ledger's schema: one SQL script per version, applied in order (`PRAGMA user_version` says how many
ran). Append a script for a change; never edit one that was released."""

from __future__ import annotations

MIGRATIONS: list[str] = [
    """
    CREATE TABLE messages (
        key TEXT PRIMARY KEY,          -- Message-ID, else sha256:<content hash>
        message_id TEXT NOT NULL,
        content_hash TEXT NOT NULL,
        outcome TEXT NOT NULL CHECK (outcome IN ('filed', 'skipped', 'failed')),
        detail TEXT NOT NULL,          -- note path (filed), reason (skipped), error (failed)
        source TEXT NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 1,
        updated_at TEXT NOT NULL
    );
    CREATE TABLE locations (
        account TEXT NOT NULL, folder TEXT NOT NULL, uidvalidity INTEGER NOT NULL, uid INTEGER NOT NULL,
        key TEXT NOT NULL REFERENCES messages(key),
        PRIMARY KEY (account, folder, uidvalidity, uid)
    );
    CREATE TABLE folders (
        account TEXT NOT NULL, folder TEXT NOT NULL,
        uidvalidity INTEGER NOT NULL, last_uid INTEGER NOT NULL, last_poll TEXT NOT NULL,
        PRIMARY KEY (account, folder)
    );
    """,
    # 2: the hash of each note as filed (a note whose file no longer hashes so was touched by a person),
    # and when a failed message may be tried again.
    """
    ALTER TABLE messages ADD COLUMN note_sha256 TEXT NOT NULL DEFAULT '';
    ALTER TABLE messages ADD COLUMN retry_after TEXT NOT NULL DEFAULT '';
    """,
    # 3: per account, the last successful run and the last error (for `ingest status`).
    """
    CREATE TABLE accounts (
        account TEXT PRIMARY KEY,
        last_success TEXT NOT NULL DEFAULT '',
        last_error TEXT NOT NULL DEFAULT '',
        last_error_at TEXT NOT NULL DEFAULT ''
    );
    """,
    # 4: who sent it, its subject and date, so `ingest log` can say which sender was skipped and why; notes
    # the content-loss guard filed as `fidelity: partial` (counted by `ingest status`).
    """
    ALTER TABLE messages ADD COLUMN sender TEXT NOT NULL DEFAULT '';
    ALTER TABLE messages ADD COLUMN subject TEXT NOT NULL DEFAULT '';
    ALTER TABLE messages ADD COLUMN sent_at TEXT NOT NULL DEFAULT '';
    ALTER TABLE messages ADD COLUMN fidelity TEXT NOT NULL DEFAULT '';
    """,
    # 5: per publication, the fingerprints of the first and last blocks of each filed issue (`memory`).
    """
    CREATE TABLE blocks (
        publication_id TEXT NOT NULL, position TEXT NOT NULL, fingerprint TEXT NOT NULL, key TEXT NOT NULL,
        PRIMARY KEY (publication_id, position, fingerprint, key)
    ) WITHOUT ROWID;
    CREATE INDEX blocks_by_key ON blocks (key);
    """,
    # 6: `ingest fill`: the last fill of each note, by message key (the error when it failed).
    """
    CREATE TABLE fills (
        key TEXT PRIMARY KEY, note TEXT NOT NULL, outcome TEXT NOT NULL CHECK (outcome IN ('filled', 'failed')),
        detail TEXT NOT NULL, filled_by TEXT NOT NULL, updated_at TEXT NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0    -- failed fills in a row (the daemon's backoff)
    );
    """,
    # 7: logins the server refused, per account (a refusal is never retried quickly: providers lock accounts).
    """
    CREATE TABLE logins (
        account TEXT PRIMARY KEY,
        fingerprint TEXT NOT NULL,     -- host, port, username, where the password comes from (never the password)
        refusals INTEGER NOT NULL,     -- refused logins in a row
        wait_until TEXT NOT NULL,      -- no login before this time (ISO); 'never' once stopped
        error TEXT NOT NULL,           -- the last refusal, as the server said it
        refused_at TEXT NOT NULL
    );
    """,
    # 8: the files saved beside a note (`[archive] attachments`), each with the hash of what was written, so
    # that discarding the note moves exactly what ingest wrote, never a file a person put there or changed.
    """
    CREATE TABLE attached (
        key TEXT NOT NULL,             -- the message
        path TEXT NOT NULL,            -- relative to the archive, POSIX form
        sha256 TEXT NOT NULL,
        PRIMARY KEY (key, path)
    ) WITHOUT ROWID;
    """,
]
