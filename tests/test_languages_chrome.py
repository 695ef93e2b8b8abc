"""Chrome lines in the languages European senders write in, and referral codes: the reader's own."""

from __future__ import annotations

import pytest

from tests.conftest import body_of, corpus_note, fixture_note, needs_corpus

SPANISH = "spanish-view-online-baja.eml"


def test_a_spanish_view_in_browser_line_and_subscription_footer_go() -> None:
    note = fixture_note(SPANISH)
    body = body_of(note.text)
    for gone in ("Ver este correo", "Gestionar tu suscripción", "Darse de baja", "Has recibido este correo"):
        assert gone not in body
    assert "Esta semana recorrimos la vieja cañada" in body
    assert "el ayuntamiento lleva años arreglándolos sin hacer ruido." in body


def test_a_referral_code_leaves_its_link_and_the_link_stays() -> None:
    """`referral_code=…` credits a share to the one reader the mail went to: it is theirs."""
    note = fixture_note(SPANISH)
    assert "Rk7q2Lx9Wz" not in note.text
    assert "[invita a un amigo](https://cuaderno.example/invita)" in body_of(note.text)


@needs_corpus
@pytest.mark.parametrize(
    ("path", "line"),
    [
        ("n2rss/gdiy/cette-rentree.eml", "Ouvrir dans le navigateur"),
        ("n2rss/gdiy/ces-projets-secondaires.eml", "Gérer mon abonnement"),
        ("n2rss/gdiy/fwd-magma-brevo.eml", "Lire dans le navigateur"),
        ("n2rss/tech-readers/masterclasses-promo.eml", "Afficher dans le navigateur"),
    ],
)
def test_french_view_in_browser_and_subscription_links_go(path: str, line: str) -> None:
    assert line not in body_of(corpus_note(path).text)


@needs_corpus
@pytest.mark.parametrize("path", ["n2rss/kessel/diplomatie.eml", "n2rss/kessel/spermatozoides.eml"])
def test_kessel_reader_referral_id_is_in_no_link_nor_the_url(path: str) -> None:
    """Every Kessel link carried `source_referral=usr_…`, the reader's user id (the same in both issues)."""
    assert "usr_9c2cd19bb260421a917680d6654defca" not in corpus_note(path).text


@needs_corpus
def test_mailgun_wrappers_on_a_senders_own_tracking_host_are_decoded() -> None:
    """GDIY's links are Mailgun's `/c/eJ…` (base64url of zlib of `l=<destination>&r=<the reader's address>…`)
    on `trk.gdiy.fr`, not on an `email.*` host: decoded by their shape, the reader's address leaves every link."""
    note = corpus_note("n2rss/gdiy/cet-episode.eml")
    assert "[**Carlos Ghosn**](https://www.linkedin.com/in/carlosghosn/)" in body_of(note.text)
    assert note.fields.counts.wrappers_decoded >= 40
    # one token has an empty destination (`l=""`) and the reader as `r=`: the reader's, so it is unlinked
    assert "trk.gdiy.fr/c/" not in note.text
    assert (note.fields.counts.personal_links, note.fields.counts.links_unlinked) == (1, 1)


def test_a_short_question_leading_to_a_view_online_link_goes_with_it() -> None:
    """ "Can't see this email? [View in Browser]." (a Google developer newsletter): removing only the link left
    "Can't see this email? ." in the note; a question beside an article link stays."""
    note = fixture_note("view-online-lead-in-question.eml")
    body = body_of(note.text)
    assert "see this email" not in body
    assert "Want the details? [Read the case studies](https://devs.example/stories/large-screens)." in body
