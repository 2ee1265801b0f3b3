"""Each role's everyday job, from their home page after the email that asks for it: how
many page loads and form fields it takes (issue 12's acceptance).

These are the paths through the pages as they stand on ``main`` before the « À traiter »
home page: the shortest way each person has from where the product lands them.
"""

from __future__ import annotations

import re

from playwright.sync_api import FilePayload, Page, expect

from api.wiring import Container
from tests.e2e.conftest import People
from tests.support.browser import sign_in
from tests.support.jobs import Meter, deliver, received
from workflow.engine.rows import load
from workflow.engine.service import FireCommand

_PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
)


def _reference(container: Container, dossier: int) -> str:
    with container.engine.connect() as conn:
        return load(conn, dossier).reference


def _state(container: Container, dossier: int) -> str:
    with container.engine.connect() as conn:
        return load(conn, dossier).state


def test_pilote_validates_a_scenario(
    page: Page, live_url: str, people: People, api_container: Container
) -> None:
    world, team = people.world, people.world.team
    dossier = world.formation()
    world.builder.drive(dossier, team, "contrat_signe")
    world.builder.complete_scenario(dossier, team)
    assert team.concepteur is not None
    api_container.service.fire(FireCommand(dossier, "soumettre_scenario", team.concepteur))
    ref = _reference(api_container, dossier)
    received(deliver(api_container), people.email(team.pilote), "Scénario hybride à valider", ref)
    sign_in(page, live_url, people.email(team.pilote))
    meter = Meter(page, "pilote-valider-scenario").start()
    meter.follow(page.get_by_role("button", name=f"Valider le scénario hybride — {ref}"))
    expect(page.get_by_text("Action effectuée : Valider le scénario hybride")).to_be_visible()
    assert _state(api_container, dossier) == "scenario_valide"
    print(meter.record())


def test_conceptrice_revises_and_resubmits(
    page: Page, live_url: str, people: People, api_container: Container
) -> None:
    world, team = people.world, people.world.team
    assert team.concepteur is not None
    dossier = world.formation()
    world.builder.drive(dossier, team, "scenario_soumis")
    api_container.service.fire(
        FireCommand(
            dossier,
            "demander_revision",
            team.pilote,
            comment="Préciser l'accompagnement de la séquence 2.",
        )
    )
    ref = _reference(api_container, dossier)
    received(deliver(api_container), people.email(team.concepteur), "Scénario à réviser", ref)
    sign_in(page, live_url, people.email(team.concepteur))
    meter = Meter(page, "conceptrice-reviser-scenario").start()
    meter.follow(
        page.get_by_role("navigation", name="Menu principal").get_by_role(
            "link", name="Mes dossiers"
        )
    )
    meter.follow(page.get_by_role("link", name=ref))
    meter.follow(page.get_by_role("link", name="Voir ou modifier le scénario"))
    meter.fill(
        page.get_by_label("Accompagnement prévu"),
        "Retour individualisé sous 72 h ; tutorat de la séquence 2 sur le forum.",
    )
    meter.follow(page.get_by_role("button", name="Enregistrer le scénario"))
    meter.follow(page.get_by_role("link", name=f"{ref} —"))
    meter.follow(page.get_by_role("button", name="Soumettre le scénario au pilote", exact=True))
    expect(page.get_by_text("Action effectuée : Soumettre le scénario au pilote")).to_be_visible()
    assert _state(api_container, dossier) == "scenario_soumis"
    print(meter.record())


def test_formatrice_writes_and_submits_the_bilan(
    page: Page, live_url: str, people: People, api_container: Container
) -> None:
    world, team = people.world, people.world.team
    formatrice = team.formateurs[0]
    dossier = world.formation()
    world.builder.drive(dossier, team, "en_cours")
    api_container.service.fire(FireCommand(dossier, "terminer", team.gestionnaire))
    ref = _reference(api_container, dossier)
    received(deliver(api_container), people.email(formatrice), "Formation terminée", ref)
    sign_in(page, live_url, people.email(formatrice))
    meter = Meter(page, "formatrice-bilan").start()
    meter.follow(page.get_by_role("link", name=re.compile(f"^{ref} —")).first)
    meter.follow(page.get_by_role("link", name="Bilan d'activités et documents du dossier"))
    attendance: FilePayload = {
        "name": "emargement.pdf",
        "mimeType": "application/pdf",
        "buffer": _PDF,
    }
    meter.attach(page.get_by_label(re.compile("^Fichier à déposer")), attendance)
    meter.follow(page.get_by_role("button", name="Déposer le document"))
    meter.fill(page.get_by_label("Inscrits"), "8")
    meter.fill(page.get_by_label("Effectivement présents"), "6")
    meter.fill(page.get_by_label(re.compile("^Heures de ")), "13")
    meter.follow(page.get_by_role("button", name="Enregistrer le bilan"))
    meter.follow(page.get_by_role("link", name=f"{ref} —"))
    meter.follow(page.get_by_role("button", name="Soumettre le bilan d'activités", exact=True))
    expect(page.get_by_text("Action effectuée : Soumettre le bilan d'activités")).to_be_visible()
    assert _state(api_container, dossier) == "bilan_soumis"
    print(meter.record())


def test_gestionnaire_examines_and_validates_the_bilan(
    page: Page, live_url: str, people: People, api_container: Container
) -> None:
    world, team = people.world, people.world.team
    dossier = world.formation()
    world.builder.drive(dossier, team, "realisee")
    world.builder.complete_bilan(dossier, team)
    api_container.service.fire(FireCommand(dossier, "soumettre_bilan", team.formateurs[0]))
    ref = _reference(api_container, dossier)
    received(
        deliver(api_container), people.email(team.gestionnaire), "Bilan d'activités à examiner", ref
    )
    sign_in(page, live_url, people.email(team.gestionnaire))
    meter = Meter(page, "gestionnaire-valider-bilan").start()
    meter.follow(page.get_by_role("link", name=ref))
    meter.follow(page.get_by_role("link", name="Bilan d'activités et documents du dossier"))
    meter.follow(page.get_by_role("link", name=f"{ref} —"))
    meter.follow(page.get_by_role("button", name="Valider le bilan", exact=True))
    expect(page.get_by_text("Action effectuée : Valider le bilan")).to_be_visible()
    assert _state(api_container, dossier) == "bilan_valide"
    print(meter.record())


def test_responsable_decides_the_payment(
    page: Page, live_url: str, people: People, api_container: Container
) -> None:
    world, team = people.world, people.world.team
    dossier = world.formation()
    world.builder.drive(dossier, team, "bilan_soumis")
    api_container.service.fire(FireCommand(dossier, "valider_bilan", team.gestionnaire))
    ref = _reference(api_container, dossier)
    received(
        deliver(api_container), people.email(team.responsable), "décision de paiement attendue", ref
    )
    sign_in(page, live_url, people.email(team.responsable))
    meter = Meter(page, "responsable-decider-paiement").start()
    meter.follow(page.get_by_role("link", name=ref))
    meter.follow(page.get_by_role("link", name="Proposition et décision de paiement"))
    meter.follow(page.get_by_role("button", name="Vérifier la décision"))
    meter.follow(page.get_by_role("button", name=re.compile(r"^Confirmer : accorder ")))
    expect(page.get_by_text("Action effectuée : Accorder le paiement")).to_be_visible()
    assert _state(api_container, dossier) == "paiement_accorde"
    print(meter.record())
