"""Signed unsubscribe tokens: they name their recipient and nobody can make one for another."""

from __future__ import annotations

import pytest

from tower.config import Settings
from tower.notify.links import BadToken, brand_url, make_token, read_token, unsubscribe_url

KEY = b"k" * 32


def test_a_token_reads_back() -> None:
    assert read_token(KEY, make_token(KEY, "team-a", "digest")) == ("team-a", "digest")


@pytest.mark.parametrize("token", ["", "abc", "abc.def", "....", "dGVhbS1hOmRpZ2VzdA.AAAA"])
def test_malformed_tokens_are_refused(token: str) -> None:
    with pytest.raises(BadToken):
        read_token(KEY, token)


def test_a_token_for_another_recipient_or_key_is_refused() -> None:
    token = make_token(KEY, "team-a", "all")
    sig = token.partition(".")[2]
    forged = make_token(KEY, "team-b", "all").partition(".")[0] + "." + sig
    with pytest.raises(BadToken):
        read_token(KEY, forged)
    with pytest.raises(BadToken):
        read_token(b"another key", token)


def test_links_start_with_the_public_url() -> None:
    s = Settings(notify_public_url="https://tower.example.com/")
    assert brand_url(s, "acme candles") == "https://tower.example.com/brands/acme%20candles"
    assert unsubscribe_url(s, "a.b").startswith("https://tower.example.com/api/notify/unsubscribe?token=a.b")
