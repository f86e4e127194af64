"""Signed tokens (publisher/mailing/tokens.py): one purpose, one address, versioned, expiring when asked."""

from __future__ import annotations

import pytest

from publisher.mailing import tokens

SECRET = "a long random secret"


def test_a_token_names_its_address_and_acts_for_it_only():
    token = tokens.make(SECRET, "unsubscribe", "Ann@Example.com")
    assert token.startswith("1.")
    assert tokens.read(SECRET, "unsubscribe", token, now=2e9) == "Ann@Example.com"
    assert tokens.is_for(SECRET, "unsubscribe", token, "ann@example.com", now=0)  # case-insensitive
    assert not tokens.is_for(SECRET, "unsubscribe", token, "bob@example.com", now=0)


@pytest.mark.parametrize("purpose", ["confirm", "preferences", "form"])
def test_a_token_acts_for_its_purpose_only(purpose):
    token = tokens.make(SECRET, "unsubscribe", "ann@example.com")
    with pytest.raises(tokens.BadToken):
        tokens.read(SECRET, purpose, token, now=0)


def test_another_secret_or_a_changed_byte_is_refused():
    token = tokens.make(SECRET, "unsubscribe", "ann@example.com")
    with pytest.raises(tokens.BadToken):
        tokens.read("another secret", "unsubscribe", token, now=0)
    version, address, expires, mac = token.split(".")
    bob = tokens.make(SECRET, "unsubscribe", "bob@example.com").split(".")[1]
    forged = [
        f"{version}.{bob}.{expires}.{mac}",  # Ann's signature on Bob's address
        f"2.{address}.{expires}.{mac}",  # another version
        f"{version}.{address}.99.{mac}",  # an expiry added afterwards
        f"{version}.{address}.{expires}.{mac[:-2]}AA",
        token[:-1],
        "",
        "ünïcode",
        "1.x.0.y",
        "1." + "A" * 1000 + ".0.AA",
    ]
    for bad in forged:
        with pytest.raises(tokens.BadToken):
            tokens.read(SECRET, "unsubscribe", bad, now=0)
    with pytest.raises(tokens.BadToken):
        tokens.read("", "unsubscribe", token, now=0)
    with pytest.raises(ValueError):
        tokens.make("", "unsubscribe", "ann@example.com")


def test_confirm_tokens_expire_and_say_for_whom():
    token = tokens.make(SECRET, "confirm", "ann@example.com", expires=1000)
    assert tokens.read(SECRET, "confirm", token, now=999) == "ann@example.com"
    with pytest.raises(tokens.ExpiredToken) as caught:
        tokens.read(SECRET, "confirm", token, now=1000)
    assert caught.value.address == "ann@example.com"
    # Unsubscribe tokens are made without an expiry: they work for as long as the email is kept.
    assert tokens.read(SECRET, "unsubscribe", tokens.make(SECRET, "unsubscribe", "a@example.com"), now=4e9)
