"""``/dev/mailbox`` in the browser: what the embedded SMTP server received, as a developer
reads it after an action, with the same accessibility checks as the product's pages.

The email is the product's own: a transition writes it (outbox), the relay sends it over
TCP to the embedded server (``DevMailServer``, which keeps it as a ``.eml``), the page reads
the directory.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from api.app import create_app
from api.settings import ApiSettings
from api.wiring import Container
from notifications.devmail import DevMailServer
from notifications.relay import Relay, SmtpTarget
from tests.e2e.conftest import People
from tests.support.browser import check_page, sign_in
from tests.support.live_server import serving
from tests.support.mail import drain, mail_settings
from workflow.engine.service import FireCommand


@pytest.fixture
def mailbox(tmp_path: Path) -> Iterator[tuple[Path, int]]:
    directory = tmp_path / "mailbox"
    server = DevMailServer(directory, port=0)
    port = server.start()
    try:
        yield directory, port
    finally:
        server.stop()


def test_the_dev_mailbox_shows_what_the_product_sent(
    page: Page, people: People, api_container: Container, mailbox: tuple[Path, int]
) -> None:
    directory, port = mailbox
    settings = api_container.api_settings
    development = Container(
        api_container.settings,
        ApiSettings(env="development", data_dir=settings.data_dir, base_url=settings.base_url),
        mail_settings(dev_mailbox_dir=directory),
    )
    development.__dict__["engine"] = api_container.engine
    world = people.world
    team = world.team
    dossier = world.formation()
    world.builder.drive(dossier, team, "contrat_signe")
    world.builder.complete_scenario(dossier, team)
    assert team.concepteur is not None
    with serving(create_app(development)) as url:
        sign_in(page, url, people.email(team.gestionnaire))
        page.goto(f"{url}/dev/mailbox")
        expect(page.get_by_role("heading", level=1)).to_have_text("Boîte de développement")
        expect(page.get_by_text("Aucun courriel pour l'instant")).to_be_visible()
        check_page(page, "boite-dev-vide")

        development.service.fire(FireCommand(dossier, "soumettre_scenario", team.concepteur))
        drain(Relay(development.engine, development.mail_settings, SmtpTarget("127.0.0.1", port)))
        page.reload()
        subject = page.get_by_role("link", name="Scénario hybride à valider").first
        expect(subject).to_be_visible()
        expect(page.get_by_role("cell", name=people.email(team.pilote))).to_be_visible()
        check_page(page, "boite-dev")
        page.set_viewport_size({"width": 390, "height": 844})
        check_page(page, "boite-dev-390")
        page.set_viewport_size({"width": 1280, "height": 720})

        subject.click()
        expect(page.get_by_role("heading", level=1)).to_contain_text("Scénario hybride à valider")
        expect(page.get_by_role("heading", name="Texte")).to_be_visible()
        frame = page.frame_locator("iframe[title='Version HTML du courriel']")
        expect(frame.get_by_text("est soumis à la validation du pilote")).to_be_visible()
        check_page(page, "boite-dev-message")

        page.goto(f"{url}/dev/mailbox/inconnu")
        expect(page.get_by_role("heading", level=1)).to_have_text("Page introuvable")
        expect(page.get_by_text("pas dans la boîte de développement")).to_be_visible()

    # Outside development the page does not exist, even signed in.
    with serving(create_app(api_container)) as url:
        sign_in(page, url, people.email(team.gestionnaire))
        response = page.goto(f"{url}/dev/mailbox")
        assert response is not None and response.status == 404
