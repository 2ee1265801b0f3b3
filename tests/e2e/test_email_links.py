"""Acting from an email: the link read from a real SMTP server, confirmed in the browser.

The email is written by the transition (outbox), sent by the relay to an aiosmtpd server
over TCP, and the link taken from the message as received. Opening it never acts; the
recipient signs in, confirms, and the transition is done as them, once.
"""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect
from sqlalchemy import select

from api.wiring import Container
from notifications.links import LinkClaim
from notifications.relay import Relay, SmtpTarget
from tests.e2e.conftest import People
from tests.support.browser import check_page, sign_in
from tests.support.mail import drain, mail_settings
from tests.support.smtp import SmtpSink
from workflow.engine.service import FireCommand
from workflow.store.tables import dossier_table

LINK = re.compile(r"https?://[^\s/]+(/liens/[A-Za-z0-9_.\-]+)")


def _state(container: Container, dossier: int) -> tuple[str, int]:
    with container.engine.connect() as conn:
        row = conn.execute(
            select(dossier_table.c.state, dossier_table.c.version).where(
                dossier_table.c.id == dossier
            )
        ).one()
    return str(row.state), int(row.version)


def test_the_pilot_validates_from_the_link_of_their_email(
    page: Page, live_url: str, people: People, api_container: Container
) -> None:
    world = people.world
    team = world.team
    dossier = world.formation()
    world.builder.drive(dossier, team, "contrat_signe")
    world.builder.complete_scenario(dossier, team)
    assert team.concepteur is not None
    # The product's own service: its outbox writes the email with a signed link.
    api_container.service.fire(FireCommand(dossier, "soumettre_scenario", team.concepteur))
    sink = SmtpSink().start()
    try:
        relay = Relay(api_container.engine, mail_settings(), SmtpTarget("127.0.0.1", sink.port))
        drain(relay)
    finally:
        sink.stop()
    pilot = people.email(team.pilote)
    (email,) = [
        r
        for r in sink.to(pilot)
        if "Scénario hybride à valider" in str(r.message["Subject"])
        and f"/dossiers/{dossier}" in r.message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    ]
    text = email.message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    path = re.search(r"- Valider le scénario hybride : https?://[^\s/]+(/liens/\S+)", text)
    assert path is not None, text
    assert "- Demander une révision du scénario : " in text  # the other decision, its own link
    link = live_url + path.group(1)

    # Opening it (as a mail scanner would, signed out) changes nothing.
    page.goto(link)
    expect(page.get_by_role("button", name="Se connecter")).to_be_visible()
    assert _state(api_container, dossier)[0] == "scenario_soumis"
    sign_in(page, live_url, pilot, next_path=path.group(1))
    # The link leads to the scenario itself, the decision beside it, still without acting.
    expect(page).to_have_url(re.compile(rf"/dossiers/{dossier}/scenario\?lien="))
    expect(page.get_by_role("heading", name="Scénario hybride", level=1)).to_be_visible()
    expect(page.get_by_text("Lancement").first).to_be_visible()  # the first sequence's title
    assert _state(api_container, dossier)[0] == "scenario_soumis"
    check_page(page, "lien-confirmation")
    page.get_by_role("button", name="Valider le scénario hybride").click()
    expect(page.get_by_text("Action effectuée : Valider le scénario hybride")).to_be_visible()
    assert _state(api_container, dossier)[0] == "scenario_valide"

    # A second use is refused, in French, with the way to the dossier.
    page.goto(link)
    expect(page.get_by_text("Ce lien a déjà servi")).to_be_visible()
    expect(page.get_by_role("link", name="Ouvrir le dossier")).to_be_visible()
    check_page(page, "lien-deja-utilise")
    assert _state(api_container, dossier)[0] == "scenario_valide"


def test_forwarded_outdated_and_broken_links_explain_themselves(
    page: Page, live_url: str, people: People, api_container: Container
) -> None:
    world = people.world
    team = world.team
    dossier = world.formation()
    world.builder.drive(dossier, team, "scenario_soumis")
    state, version = _state(api_container, dossier)
    links = api_container.links
    current = links.url(LinkClaim(dossier, "valider_scenario", team.pilote, version))
    outdated = links.url(LinkClaim(dossier, "valider_scenario", team.pilote, version - 1))
    path = LINK.search(current)
    old = LINK.search(outdated)
    assert path is not None and old is not None

    # Forwarded to the gestionnaire: it names its recipient and does nothing.
    sign_in(page, live_url, people.email(team.gestionnaire))
    page.goto(live_url + path.group(1))
    expect(page.get_by_text("Ce lien a été envoyé à")).to_be_visible()
    check_page(page, "lien-autre-destinataire")
    page.get_by_role("button", name="Se déconnecter").click()

    sign_in(page, live_url, people.email(team.pilote))
    page.goto(live_url + old.group(1))
    expect(page.get_by_text("a changé depuis l'envoi de ce courriel")).to_be_visible()
    check_page(page, "lien-perime")
    page.goto(live_url + "/liens/ceci-n-est-pas-un-lien")
    expect(page.get_by_text("Ce lien n'est pas valide")).to_be_visible()
    check_page(page, "lien-invalide")
    assert _state(api_container, dossier) == (state, version)
