"""Mislabelled charsets and mojibake (issue #14): real messages where they exist, else the smallest
message that shows the case. `ingester.charsets` (charset-normalizer, ftfy) is asked only when the
declared charset fails or the text shows mojibake."""

from __future__ import annotations

import pytest

from ingester import message
from tests.conftest import CORPUS, needs_corpus

# (corpus file, header or body, what the reader must see)
REAL = {
    "raw-cp1251-subject": (
        "django-mailbox/message_with_single_byte_extended_subject_encoding.eml",
        "subject",
        "Узнай как зарабатывать от 1000$ в неделю!",
    ),
    "cp1251-body-labelled-us-ascii": (
        "django-mailbox/message_with_invalid_content_for_declared_encoding.eml",
        "text",
        "Это сообщение имеет неправильную кодировка.",
    ),
    "latin1-body-labelled-us-ascii": (
        "enmime/chardet-success-iso-8859-1.raw",
        "text",
        "DIE Drachenköpfe unserer Boote",
    ),
    "raw-latin1-from-name": ("flanker/from-encoding.eml", "from_name", "Ingo Lütkebohle"),
}


@needs_corpus
@pytest.mark.parametrize(("path", "field", "want"), REAL.values(), ids=REAL.keys())
def test_real_mislabelled_messages_read_right(path: str, field: str, want: str) -> None:
    letter = message.parse((CORPUS / path).read_bytes())
    value = getattr(letter, field) or ""
    assert want in value and "\ufffd" not in value


def mail(body: bytes, charset: str, subject: bytes = b"Hello") -> bytes:
    return (
        b"From: News <news@example.com>\nList-Id: <news.example.com>\nSubject: " + subject + b"\n"
        b"Content-Type: text/plain; charset=" + charset.encode() + b"\n\n" + body
    )


FRENCH = "Café crème, naïve à la française, déjà vu — où est la bibliothèque ? Très élégant, très réussi."


def test_utf8_bytes_under_a_latin1_label_are_utf8() -> None:
    assert message.parse(mail(FRENCH.encode(), "iso-8859-1")).text.strip() == FRENCH


def test_latin1_bytes_under_a_utf8_label_are_detected() -> None:
    text = message.parse(mail(FRENCH.replace("—", "-").encode("cp1252"), "utf-8")).text
    assert text.strip() == FRENCH.replace("—", "-")


def test_cyrillic_bytes_under_a_latin1_label_are_detected() -> None:
    russian = "Привет! Это тестовое сообщение на русском языке, и оно довольно длинное."
    assert message.parse(mail(russian.encode("cp1251"), "us-ascii")).text.strip() == russian


def test_mixed_mojibake_is_repaired() -> None:
    body = "Привет, été et café — fini".encode().replace("été".encode(), "été".encode().decode("latin-1").encode())
    assert message.parse(mail(body, "utf-8")).text.strip() == "Привет, été et café — fini"


def test_raw_8bit_bytes_inside_an_encoded_word() -> None:
    subject = b"=?utf-8?Q?Caf" + "é".encode() + b"_cr=C3=A8me?="
    assert message.parse(mail(b"body", "utf-8", subject)).subject == "Café crème"


def test_a_few_8bit_bytes_are_not_guessed_at() -> None:
    """Three 8-bit bytes tell no detector anything: Windows-1252, as Western mail mostly is."""
    assert message.decode_bytes(b"caf\xe9 \x93quoted\x94", "us-ascii") == "café “quoted”"


# Text in one single-byte charset under another's label decodes without an error into no language.
MISLABELLED = {
    "cyrillic-as-windows-1252": ("Привет! Это тестовое сообщение на русском языке, и оно довольно длинное.", "cp1251"),
    "greek-as-windows-1252": ("Καλημέρα σας! Αυτό είναι ένα δοκιμαστικό μήνυμα στα ελληνικά, αρκετά μεγάλο.", "cp1253"),
    "hebrew-as-windows-1252": ("שלום! זוהי הודעת בדיקה בעברית, ארוכה מספיק כדי לבדוק את זיהוי הקידוד.", "cp1255"),
    "polish-as-windows-1252": ("Zażółć gęślą jaźń. Dziękujemy za zakupy w naszym sklepie, miłego dnia.", "cp1250"),
}


@pytest.mark.parametrize(("text", "charset"), MISLABELLED.values(), ids=MISLABELLED.keys())
@pytest.mark.parametrize("label", ["iso-8859-1", "windows-1252"])
def test_bytes_a_western_label_decodes_into_no_language_are_detected(text: str, charset: str, label: str) -> None:
    html = f"<html><body><p>{text}</p><p>{text}</p></body></html>".encode(charset)
    raw = mail(html, label).replace(b"text/plain", b"text/html")
    assert f"<p>{text}</p>" in (message.parse(raw).html or "")


@pytest.mark.parametrize(
    "text",
    [
        "Café crème, naïve à la française — où est la bibliothèque ? 9,99 € © 2024 ® • «Bonjour» ½ ± ·",
        "Größe, Straße, Übermut – „Grüße“ aus München. Preis 12,50 € ± 3 % · Öffnungszeiten ½ Tag ™ …",
    ],
)
def test_western_text_full_of_symbols_keeps_its_label(text: str) -> None:
    """Symbols and accents are not a misreading: the label's reading stands (detection would call some
    of these cp1250 or cp1257)."""
    assert message.decode_bytes((text * 3).encode("cp1252"), "iso-8859-1") == text * 3
