"""What a review of mail nobody here had seen found (issues #13, #14, third round): the reader's token shared
by a beehiiv-style open pixel and the click links, and a Mailjet-style wrapper whose last path segment is
the destination in base64url. The fixtures are written on those structures with a fake reader."""

from __future__ import annotations

from ingester import compose, config, identity, message
from ingester.links import clean
from ingester.message import RawMessage
from tests.conftest import body_of, email_bytes

PIXEL = "open-pixel-shared-token.eml"  # links /ss/c/…/<token>/h<n>/…, the open pixel /ss/o/…/<token>/ho.gif
MAILJET = "mailjet-style-base64-segment.eml"  # /lnk/<ids>/<base64url of the destination>
TOKEN = "Qx9pLm2Rt7-vwkeYz8Kb1N"


def note_of(name: str, **sections: dict[str, object]) -> compose.Note:
    raw = email_bytes(name)
    cfg = config.parse({"archive": {"language": "en"}, **sections})
    return compose.make_note(RawMessage(raw, f"fixtures/{name}"), message.parse(raw), compose.Settings.of(cfg))


def test_the_ids_of_an_open_pixel_are_the_readers_but_its_file_name() -> None:
    pixel = f"https://click.harbournews.example/ss/o/hQ_TmRbcWx_kpL0ZaPrsGA/4k2/{TOKEN}/ho.gif"
    assert TOKEN in identity.pixel_ids(pixel) and "ho.gif" not in identity.pixel_ids(pixel)
    assert not identity.id_like(TOKEN)  # random base64 holds "vwke": the unsubscribe net would miss it
    reader = identity.Reader().with_shared([], "/uploads/hQ_TmRbcWx_kpL0ZaPrsGA/ferry.jpg", (pixel,))
    assert reader.shared == {TOKEN}  # what a real image holds too is the sender's


def test_links_sharing_the_open_pixels_token_are_personal() -> None:
    note = note_of(PIXEL)
    assert note.cleaned.counts.personal_links == 3  # kept working ([links] personal = "keep"), counted
    assert "personal_links: 3\n" in note.text
    assert "https://www.harbournews.example/archive/hQ_TmRbcWx_kpL0ZaPrsGA" in note.text  # the sender's id stays

    unlinked = note_of(PIXEL, links={"personal": "unlink"})
    assert TOKEN not in unlinked.text and unlinked.cleaned.counts.links_unlinked == 3
    assert "Read the full timetable" in body_of(unlinked.text)  # the text stays, the link goes


def test_a_path_segment_in_base64url_of_a_whole_url_is_the_destination() -> None:
    wrapped = "http://xz9q.mjt.lu/lnk/AVQAAFk3/1/Kq9rPz3Lm/aHR0cHM6Ly93d3cuZXhhbXBsZS5vcmcvYS5odG1sP3g9MQ"
    assert clean(wrapped).url == "https://www.example.org/a.html?x=1"
    # "aHR0…" that is not the base64 of one whole URL leaves the link alone
    for ordinary in ("https://blog.example/aHR0cGFuZGFzLWFyZS1mdW4", "https://example.com/aHR0cDovL2EuYiBhbmQgbW9yZQ"):
        assert clean(ordinary).url == ordinary


def test_a_mailjet_style_wrapper_gives_its_destination_in_the_note() -> None:
    note = note_of(MAILJET)
    assert "[Order the R200](http://www.bellfoundry.example/orders/bell-r200.html)" in note.text
    assert note.cleaned.counts.wrappers_decoded == 1
    assert "mjt.lu/lnk/AVQAAFk3rT0AAc9xbKQAAAAB/1/" not in note.text
