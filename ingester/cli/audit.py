"""`ingest audit`: look for what identifies the reader in every note of the archive (see `ingester.audit`)."""

from __future__ import annotations

import click

from ingester.audit import audit
from ingester.cli.common import EXIT_SOME_FAILED, global_options, globals_of, load_config
from ingester.cli.terminal import echo, to_json
from ingester.store import notes


@click.command("audit")
@global_options()
@click.pass_context
def audit_command(ctx: click.Context) -> None:
    """Check every note for the reader's identity, credentials and tracking left in its links.

    One line per finding: note id, line, what. The reader is who the configuration names
    ([privacy] identities, the accounts' usernames) and, for notes whose raw message the ledger
    keeps, the message's own recipient and unsubscribe ids. Exit code 3 when anything is found;
    `ingest rerender --all` makes untouched drafts again with the current rules.

    \b
    Examples:
        ingest audit
        ingest audit --json | jq '.[].what'
        ingest rerender --all && ingest audit
    """
    as_json = globals_of(ctx).as_json
    config = load_config(ctx)
    found_notes = notes.scan(config.archive_path, notes.filed_notes(config.state_dir))
    ids = notes.short_ids(found_notes)
    if config.state_dir.is_dir():
        with notes.open_ledger(config.state_dir) as ledger:
            findings = list(audit(config, ledger, found_notes))
    else:
        findings = list(audit(config, None, found_notes))
    rows = [{"note": ids.get(f.note.id, f.note.id[:7]), "path": f.note.relative, "line": f.line, "what": f.what}
            for f in findings]  # fmt: skip
    if as_json:
        click.echo(to_json(rows))
    else:
        for row in rows:
            echo(f"{row['note']}  {row['path']}:{row['line']}  {row['what']}")
        click.echo(f"{len(rows)} findings in {len({r['path'] for r in rows})} of {len(found_notes)} notes.")
    if rows:
        ctx.exit(EXIT_SOME_FAILED)
