"""Newsletter ingester: IMAP newsletters → clean, private Markdown notes."""

__version__ = "0.1.0"
