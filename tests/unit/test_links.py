"""Action links: what is signed is what is read back; anything else is refused in French."""

from __future__ import annotations

import pytest

from notifications.links import ActionLinks, LinkClaim, LinkError, token_hash

CLAIM = LinkClaim(dossier_id=12, trigger="valider_scenario", person_id=7, version=5)


def _token(url: str) -> str:
    return url.rsplit("/", 1)[1]


def test_a_link_reads_back_as_signed() -> None:
    links = ActionLinks("secret", "https://formaflow.example.org/")
    url = links.url(CLAIM)
    assert url.startswith("https://formaflow.example.org/liens/")
    assert links.read(_token(url)) == CLAIM
    assert len(token_hash(_token(url))) == 64


def test_altered_or_foreign_links_are_refused() -> None:
    links = ActionLinks("secret", "http://x")
    token = _token(links.url(CLAIM))
    with pytest.raises(LinkError) as raised:
        links.read(token[:-2] + ("AA" if token[-2:] != "AA" else "BB"))
    assert raised.value.code == "lien-invalide" and "pas valide" in raised.value.message
    with pytest.raises(LinkError):
        ActionLinks("another secret", "http://x").read(token)


def test_expired_links_say_so() -> None:
    links = ActionLinks("secret", "http://x")
    token = _token(links.url(CLAIM))
    links.max_age_seconds = -1
    with pytest.raises(LinkError) as raised:
        links.read(token)
    assert raised.value.code == "lien-expire" and "expiré" in raised.value.message
