"""What no reader sees goes (preheaders); what every reader but Outlook's sees stays (`mso-hide: all` buttons)."""

from __future__ import annotations

import pytest

from tests.conftest import corpus_note, fixture_note, needs_corpus


@needs_corpus
@pytest.mark.parametrize(
    ("path", "buttons"),
    [
        # Sendinblue: each article's "Weiterlesen" button is an <a style="…mso-hide:all…">, Outlook gets VML
        ("unspy/2023-01-06-trusted-shops.u1.eml", ("[**Mehr erfahren**](", "[Weiterlesen](", "[**Weiterlesen**](")),
        # Inxmail: the same pattern in another platform's template
        ("unspy/2023-02-16-inxmail-u1.eml", ("[Zur Knowledge Base](", "[Mehr zu Inxmail](")),
    ],
)
def test_a_button_hidden_only_from_outlook_stays(path: str, buttons: tuple[str, ...]) -> None:
    text = corpus_note(path).text
    for button in buttons:
        assert button in text
    assert not any("Weiterlesen" in what for what in corpus_note(path).cleaned.removed)


@pytest.mark.parametrize("name", ["mailchimp-spamscope-13.eml", "ghost-post.eml"])
def test_a_preheader_hidden_from_everyone_still_goes(name: str) -> None:
    """Both preheaders carry `mso-hide: all` beside `display: none`/`opacity: 0`: they still go."""
    note = fixture_note(name)
    assert any(what.startswith("hidden text (preheader)") for what in note.cleaned.removed)
