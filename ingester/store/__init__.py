"""The archive on disk: what the ingester writes and keeps.

`files` (durable, atomic writes that never overwrite a note; where a note goes), `ledger` (the SQLite
record of every message and of how far each IMAP folder was read), `raw` (each message as it came) and `notes`
(the notes as the person reviewing them sees them: read, list, find by id, change status). The store
knows nothing of email: the pipeline and the review commands use it.
"""
