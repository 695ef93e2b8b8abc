"""`ingester.links`: tracking parameters go, everything else stays byte for byte."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ingester.links import clean_text_urls, clean_url

GARY = "https://garymarcus.substack.com/p/the-race-for-ai-supremacy-is-over"


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        pytest.param(
            f"{GARY}?utm_source=post-email-title&publication_id=888615&post_id=155695342&utm_campaign=email-post-title"
            "&isFreemail=true&r=208yzy&triedRedirect=true&utm_medium=email",
            GARY, id="substack-email-link"),
        pytest.param("https://fieldnotes.substack.com/p/x?s=w&token=abc&showWelcome=true",
                     "https://fieldnotes.substack.com/p/x", id="substack-share-and-token"),
        pytest.param("https://substack.com/redirect/abc?j=eyJhbGciOi&r=1",
                     "https://substack.com/redirect/abc?j=eyJhbGciOi", id="substack-apex-redirect-keeps-j"),
        pytest.param("https://www.astralcodexten.com/p/x?publication_id=89120&post_id=1&r=abc&isFreemail=true&keep=1",
                     "https://www.astralcodexten.com/p/x?keep=1", id="custom-domain-with-substack-signature"),
        pytest.param("https://www.astralcodexten.com/p/x?publication_id=89120&r=abc",
                     "https://www.astralcodexten.com/p/x?publication_id=89120&r=abc",
                     id="custom-domain-half-signature-is-not-substack"),
        pytest.param("https://example.com/search?r=1&q=x&s=2", "https://example.com/search?r=1&q=x&s=2",
                     id="r-and-s-kept-off-substack"),
        pytest.param("https://notsubstack.com/p/x?r=1", "https://notsubstack.com/p/x?r=1",
                     id="look-alike-host-is-not-substack"),
        pytest.param("https://example.com/a?fbclid=1&gclid=2&mc_eid=3&mc_cid=4&_hsenc=5&mkt_tok=6&ref=7",
                     "https://example.com/a?ref=7", id="global-click-ids"),
        pytest.param("https://example.com/a?UTM_SOURCE=x&b=1", "https://example.com/a?b=1",
                     id="names-case-insensitive"),
        pytest.param("https://mailchi.mp/abc/issue-1?e=123abc&x=1", "https://mailchi.mp/abc/issue-1?x=1",
                     id="mailchimp-e-dropped"),
        pytest.param("https://us14.mailchi.mp/abc/issue-1?e=123abc", "https://us14.mailchi.mp/abc/issue-1",
                     id="mailchimp-subdomain-e-dropped"),
        pytest.param("https://example.com/a?e=1", "https://example.com/a?e=1", id="e-kept-elsewhere"),
        pytest.param("https://www.youtube.com/watch?v=dQw4w9WgXcQ&utm_source=x&t=42s",
                     "https://www.youtube.com/watch?v=dQw4w9WgXcQ&t=42s", id="youtube-v-and-t-kept"),
        pytest.param("https://example.com/a?utm_source=x", "https://example.com/a", id="query-emptied-drops-?"),
        pytest.param("https://example.com/a?utm_source=x#top", "https://example.com/a#top", id="fragment-kept"),
        pytest.param("  https://example.com/a?utm_source=x\n", "https://example.com/a", id="surrounding-space-trimmed"),
        pytest.param("https://example.com/a?b=1", "https://example.com/a?b=1", id="nothing-to-strip"),
        pytest.param("https://example.com/a", "https://example.com/a", id="no-query"),
    ],
)
def test_clean_url(url: str, expected: str) -> None:
    assert clean_url(url) == expected


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        # order, case, percent-encoding (even of reserved characters), '+' and bare names are untouched
        ("https://example.com/a?Zeta=1&utm_source=x&alpha=Caf%C3%A9&B=%2F%3d&q=a+b&flag",
         "https://example.com/a?Zeta=1&alpha=Caf%C3%A9&B=%2F%3d&q=a+b&flag"),
        # the fragment is not a query: a tracking-looking name in it stays
        ("https://example.com/a?x=1&utm_medium=email#Sec?utm_source=y&A=%41",
         "https://example.com/a?x=1#Sec?utm_source=y&A=%41"),
        # repeated and empty-valued parameters are kept as they are
        ("https://example.com/a?tag=b&tag=a&empty=&utm_campaign=z", "https://example.com/a?tag=b&tag=a&empty="),
        # path, port, user info and host case are untouched
        ("https://User@Example.COM:8443/P%61th/;x?k=V&fbclid=1", "https://User@Example.COM:8443/P%61th/;x?k=V"),
    ],
    ids=["order-case-encoding", "fragment", "repeats-and-empties", "path-port-host"],
)
def test_clean_url_keeps_kept_parameters_byte_for_byte(url: str, expected: str) -> None:
    assert clean_url(url) == expected


@pytest.mark.parametrize(
    "url",
    [
        "mailto:news@example.com?subject=hi&utm_source=x",
        "/relative/path?utm_source=x",
        "relative?utm_source=x&r=1",
        "ftp://example.com/a?utm_source=x",
        "javascript:void(0)?utm_source=x",
        "#top?utm_source=x",
        "",
        "https://[::1/?utm_source=x",  # unparsable: returned as it came
    ],
)
def test_clean_url_leaves_non_http_urls_unchanged(url: str) -> None:
    assert clean_url(url) == url


# --- Properties ---------------------------------------------------------------------------------------------------

NAMES = st.sampled_from(["utm_source", "UTM_Medium", "r", "s", "e", "v", "t", "q", "publication_id", "post_id",
                         "isFreemail", "fbclid", "token", "a", "", "%20"])
# no whitespace here: URLs with blanks inside are covered by the blank-parameter test below
VALUES = st.text(alphabet="abcXYZ019=&#?%/:;,.+-_~", max_size=8)
PAIRS = st.builds(lambda name, value, has_value: name + ("=" + value if has_value else ""),
                  NAMES, VALUES, st.booleans())
HOSTS = st.sampled_from(["example.com", "x.substack.com", "substack.com", "mailchi.mp", "us1.mailchi.mp",
                         "www.youtube.com", "EXAMPLE.com:8080", "user@host", "[::1]", ""])
URLS = st.builds(
    lambda scheme, host, path, pairs, has_query, fragment: (
        f"{scheme}://{host}{path}" + ("?" + "&".join(pairs) if has_query else "") + fragment),
    st.sampled_from(["http", "https", "HTTPS", "mailto", "ftp"]),
    HOSTS,
    st.sampled_from(["", "/", "/p/some-post", "//a", "/a;b", "/%7Euser"]),
    st.lists(PAIRS, max_size=6),
    st.booleans(),
    st.one_of(st.just(""), st.text(alphabet="ab?&=#%", max_size=6).map(lambda f: "#" + f)),
)


@settings(max_examples=500)
@given(st.text())
def test_clean_url_is_idempotent_and_total_on_any_text(text: str) -> None:
    once = clean_url(text)

    assert clean_url(once) == once


@settings(max_examples=1000)
@given(URLS)
def test_clean_url_is_idempotent_on_urls_built_from_parts(url: str) -> None:
    once = clean_url(url)

    assert clean_url(once) == once
    if once.lower().startswith("http"):
        assert "utm_" not in once.split("#")[0].lower()


@pytest.mark.parametrize(
    "url",
    [
        "http://example.com/?a& &utm_source=x",  # 1st pass leaves "?a& ", the 2nd "?a"
        "http://example.com/?q=a &utm_source=x",  # 1st pass leaves a trailing blank the 2nd trims
    ],
)
def test_clean_url_is_idempotent_when_a_blank_parameter_is_left_last(url: str) -> None:
    once = clean_url(url)

    assert clean_url(once) == once


# --- Plain text ---------------------------------------------------------------------------------------------------


def test_clean_text_urls_cleans_every_url_in_a_paragraph() -> None:
    paragraph = (
        "Read it on the web (https://fieldnotes.substack.com/p/x?utm_source=email&r=2ab) or at\n"
        "<https://example.com/b?q=1&utm_medium=email>. Reply to mailto:a@example.com?utm_source=x and\n"
        "watch https://www.youtube.com/watch?v=abc&t=42s&fbclid=9 tonight; http://example.org/plain stays."
    )

    assert clean_text_urls(paragraph) == (
        "Read it on the web (https://fieldnotes.substack.com/p/x) or at\n"
        "<https://example.com/b?q=1>. Reply to mailto:a@example.com?utm_source=x and\n"
        "watch https://www.youtube.com/watch?v=abc&t=42s tonight; http://example.org/plain stays."
    )


def test_clean_text_urls_leaves_text_without_urls_alone() -> None:
    text = "No links here, just utm_source=x & r=1 as words.\n"

    assert clean_text_urls(text) == text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("See https://example.com/a?utm_source=x.", "See https://example.com/a."),
        ("Read https://x.substack.com/p/a?utm_source=e&r=1, then", "Read https://x.substack.com/p/a, then"),
    ],
    ids=["full-stop", "comma"],
)
def test_clean_text_urls_keeps_punctuation_after_a_url(text: str, expected: str) -> None:
    assert clean_text_urls(text) == expected
