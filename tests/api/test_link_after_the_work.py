"""An email's link opened after its person did the work from the page says so, rather
than « le dossier a changé » (which reads as if something went wrong)."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from api.app import create_app
from api.wiring import Container
from notifications.links import LinkClaim
from tests.conftest import World
from tests.support.api import page_session
from workflow.engine.rows import load
from workflow.engine.service import FireCommand


def _version(container: Container, dossier: int) -> int:
    with container.engine.connect() as conn:
        return load(conn, dossier).version


def test_a_signing_link_opened_after_signing_from_the_page(
    api_container: Container, world: World
) -> None:
    team = world.team
    dossier = world.formation()
    world.builder.drive(dossier, team, "contrat_a_signer")
    formatrice, other = team.formateurs[0], team.responsable
    sent_at = _version(api_container, dossier)
    links = api_container.links
    mine = links.url(LinkClaim(dossier, "signer", formatrice, sent_at))
    theirs = links.url(LinkClaim(dossier, "signer", other, sent_at))
    api_container.service.fire(FireCommand(dossier, "signer", formatrice))
    after = _version(api_container, dossier)

    with TestClient(create_app(api_container)) as client:
        page_session(client, api_container, formatrice)
        path = re.sub(r"^https?://[^/]+", "", mine)
        opened = client.get(path, follow_redirects=False)
        assert opened.status_code == 410, opened.text
        assert "Vous avez déjà fait cette action le " in opened.text
        assert "a changé depuis l" not in opened.text

    with TestClient(create_app(api_container)) as client:
        # The responsable has not signed: the dossier did change under their link.
        page_session(client, api_container, other)
        opened = client.get(re.sub(r"^https?://[^/]+", "", theirs), follow_redirects=False)
        assert opened.status_code == 409, opened.text
        assert "a changé depuis l" in opened.text
        assert "Vous avez déjà fait" not in opened.text
    assert _version(api_container, dossier) == after, "opening a link never acts"
