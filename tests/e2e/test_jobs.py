"""Each role's everyday job, from their home page after the email that asks for it: how
many page loads and form fields it takes (issue 12's acceptance).

The email is written by the product's own transition, sent by its relay to a real SMTP
server over TCP and read back there; then the person signs in, lands on « À traiter » and
does the work from the button next to it, on the page where the work is done. The meter
(``tests/support/jobs.py``) counts every page the browser loads from the home page on, and
every field the person fills; each page is checked by axe-core and photographed at 1280
and 390 px (``travail-<role>-<n>-<width>.png``). The same meter on the pages as they were
before « À traiter » (commit 05578dd) measured: pilote 2 loads / 0 fields, conceptrice 7/1,
formatrice 7/4, gestionnaire 5/0, responsable 5/0; the figures now are asserted below.
"""

from __future__ import annotations

import re

from playwright.sync_api import FilePayload, Page, expect
from sqlalchemy import select

from api.wiring import Container
from tests.e2e.conftest import People
from tests.support.browser import check_page, sign_in
from tests.support.jobs import Meter, deliver, received
from workflow.engine.rows import load
from workflow.engine.service import FireCommand
from workflow.store.tables import action_link_use_table

_PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
)
LINK = re.compile(r"https?://[^\s/]+(/liens/\S+)")


def _reference(container: Container, dossier: int) -> str:
    with container.engine.connect() as conn:
        return load(conn, dossier).reference


def _state(container: Container, dossier: int) -> str:
    with container.engine.connect() as conn:
        return load(conn, dossier).state


def _look(page: Page, name: str) -> None:
    """axe-core and a screenshot at both widths, the page as the person sees it."""
    for width in (1280, 390):
        page.set_viewport_size({"width": width, "height": 900})
        check_page(page, f"{name}-{width}")
        scroll, inner = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
        assert scroll <= inner, f"{name} défile de côté à {width} px"
    page.set_viewport_size({"width": 1280, "height": 900})


def _item(page: Page, reference: str, button: str) -> None:
    """« À traiter » lists the dossier under its kind of work, with its button."""
    card = page.locator("main li", has_text=reference)
    expect(card.get_by_role("link", name=re.compile(f"^{button}"))).to_be_visible()


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
    _item(page, ref, "Lire et valider le scénario")
    _look(page, "travail-pilote-1-a-traiter")
    meter.follow(page.locator("main li", has_text=ref).get_by_role("link"))
    # The scenario itself, its hours against the plan, and the decision beside it.
    expect(page.get_by_text("Les étapes totalisent")).to_be_visible()
    expect(page.get_by_role("heading", name="Séquence 1 : Lancement")).to_be_visible()
    _look(page, "travail-pilote-2-scenario")
    meter.follow(page.get_by_role("button", name="Valider le scénario hybride"))
    expect(page.get_by_text("Action effectuée : Valider le scénario hybride")).to_be_visible()
    assert _state(api_container, dossier) == "scenario_valide"
    figures = meter.record()
    assert (figures["page_loads"], figures["fields"]) == (3, 0), figures


def test_conceptrice_revises_and_resubmits(
    page: Page, live_url: str, people: People, api_container: Container
) -> None:
    world, team = people.world, people.world.team
    assert team.concepteur is not None
    dossier = world.formation()
    world.builder.drive(dossier, team, "scenario_soumis")
    asked = "Préciser l'accompagnement de la séquence 2."
    api_container.service.fire(
        FireCommand(dossier, "demander_revision", team.pilote, comment=asked)
    )
    ref = _reference(api_container, dossier)
    received(deliver(api_container), people.email(team.concepteur), "Scénario à réviser", ref)
    sign_in(page, live_url, people.email(team.concepteur))
    meter = Meter(page, "conceptrice-reviser-scenario").start()
    _item(page, ref, "Réviser le scénario")
    meter.follow(page.locator("main li", has_text=ref).get_by_role("link"))
    # The pilot's request at the top of the editor, not only in the history.
    expect(page.get_by_text(f"« {asked} »")).to_be_visible()
    _look(page, "travail-conceptrice-1-scenario")
    meter.fill(
        page.get_by_label("Accompagnement prévu"),
        "Retour individualisé sous 72 h ; tutorat de la séquence 2 sur le forum.",
    )
    meter.follow(page.get_by_role("button", name="Enregistrer et soumettre au pilote"))
    expect(page.get_by_text("Action effectuée : Soumettre le scénario au pilote")).to_be_visible()
    assert _state(api_container, dossier) == "scenario_soumis"
    figures = meter.record()
    assert (figures["page_loads"], figures["fields"]) == (3, 1), figures


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
    _item(page, ref, "Rédiger le bilan")
    meter.follow(page.locator("main li", has_text=ref).get_by_role("link"))
    expect(page.get_by_text("Pour soumettre le bilan, il manque encore")).to_be_visible()
    _look(page, "travail-formatrice-1-bilan")
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
    meter.follow(page.get_by_role("button", name="Enregistrer et soumettre le bilan"))
    expect(page.get_by_text("Action effectuée : Soumettre le bilan d'activités")).to_be_visible()
    assert _state(api_container, dossier) == "bilan_soumis"
    figures = meter.record()
    assert (figures["page_loads"], figures["fields"]) == (4, 4), figures


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
        deliver(api_container),
        people.email(team.gestionnaire),
        "Bilan d'activités à examiner",
        ref,
    )
    sign_in(page, live_url, people.email(team.gestionnaire))
    meter = Meter(page, "gestionnaire-valider-bilan").start()
    _item(page, ref, "Examiner le bilan")
    _look(page, "travail-gestionnaire-1-a-traiter")
    meter.follow(page.locator("main li", has_text=ref).get_by_role("link"))
    # What the decision rests on: hours per formateur, sessions held, the payment to follow.
    hours = page.get_by_role("table", name=re.compile("^Heures déclarées par personne"))
    expect(hours).to_contain_text("13 h")
    expect(
        page.get_by_role("heading", name=re.compile("^Paiement qui suivrait : 225,00"))
    ).to_be_visible()
    _look(page, "travail-gestionnaire-2-bilan")
    meter.follow(page.get_by_role("button", name="Valider le bilan"))
    expect(page.get_by_text("Action effectuée : Valider le bilan")).to_be_visible()
    assert _state(api_container, dossier) == "bilan_valide"
    figures = meter.record()
    assert (figures["page_loads"], figures["fields"]) == (3, 0), figures


def test_responsable_decides_the_payment(
    page: Page, live_url: str, people: People, api_container: Container
) -> None:
    world, team = people.world, people.world.team
    dossier = world.formation()
    world.builder.drive(dossier, team, "bilan_soumis")
    api_container.service.fire(FireCommand(dossier, "valider_bilan", team.gestionnaire))
    ref = _reference(api_container, dossier)
    received(
        deliver(api_container),
        people.email(team.responsable),
        "décision de paiement attendue",
        ref,
    )
    sign_in(page, live_url, people.email(team.responsable))
    meter = Meter(page, "responsable-decider-paiement").start()
    _item(page, ref, "Décider du paiement")
    _look(page, "travail-responsable-1-a-traiter")
    meter.follow(page.locator("main li", has_text=ref).get_by_role("link"))
    meter.follow(page.get_by_role("button", name="Vérifier la décision"))
    meter.follow(page.get_by_role("button", name=re.compile(r"^Confirmer : accorder ")))
    expect(page.get_by_text("Action effectuée : Accorder le paiement")).to_be_visible()
    assert _state(api_container, dossier) == "paiement_accorde"
    figures = meter.record()
    assert (figures["page_loads"], figures["fields"]) == (4, 0), figures


def test_the_gestionnaire_validates_from_the_email_link_on_the_bilan_page(
    page: Page, live_url: str, people: People, api_container: Container
) -> None:
    """The email's link leads to the bilan page, never acting on its own; its « Valider »
    posts back to the link, whose single use is recorded with the transition."""
    world, team = people.world, people.world.team
    dossier = world.formation()
    world.builder.drive(dossier, team, "realisee")
    world.builder.complete_bilan(dossier, team)
    api_container.service.fire(FireCommand(dossier, "soumettre_bilan", team.formateurs[0]))
    ref = _reference(api_container, dossier)
    text = received(
        deliver(api_container),
        people.email(team.gestionnaire),
        "Bilan d'activités à examiner",
        ref,
    )
    found = re.search(r"- Valider le bilan : https?://[^\s/]+(/liens/\S+)", text)
    assert found is not None, text
    sign_in(page, live_url, people.email(team.gestionnaire), next_path=found.group(1))
    expect(page).to_have_url(re.compile(rf"/dossiers/{dossier}/bilan\?lien="))
    assert _state(api_container, dossier) == "bilan_soumis"
    form = page.locator("form", has=page.get_by_role("button", name="Valider le bilan"))
    assert form.get_attribute("action") == found.group(1)
    page.get_by_role("button", name="Valider le bilan").click()
    expect(page.get_by_text("Action effectuée : Valider le bilan")).to_be_visible()
    assert _state(api_container, dossier) == "bilan_valide"
    with api_container.engine.connect() as conn:
        uses = conn.execute(
            select(action_link_use_table.c.person_id).where(
                action_link_use_table.c.dossier_id == dossier
            )
        ).scalars()
        assert list(uses) == [team.gestionnaire]
    page.goto(live_url + found.group(1))
    expect(page.get_by_text("Ce lien a déjà servi")).to_be_visible()


def test_a_refused_submission_says_what_is_missing_once(
    page: Page, live_url: str, people: People, api_container: Container
) -> None:
    """« Enregistrer et soumettre » on a scenario still empty: saved, not submitted, and each
    missing item said once (the summary), not again in a second box."""
    world, team = people.world, people.world.team
    assert team.concepteur is not None
    dossier = world.formation()
    world.builder.drive(dossier, team, "contrat_signe")
    sign_in(page, live_url, people.email(team.concepteur))
    page.goto(f"{live_url}/dossiers/{dossier}/scenario")
    expect(
        page.get_by_text("Pour soumettre le scénario au pilote, il manque encore")
    ).to_be_visible()
    page.get_by_label("Objectifs opérationnels").fill("Concevoir une séance hybride.")
    page.get_by_role("button", name="Enregistrer et soumettre au pilote").click()
    expect(page.get_by_text("Scénario enregistré, mais pas soumis au pilote")).to_be_visible()
    expect(
        page.get_by_text("Pour soumettre le scénario au pilote, il manque encore")
    ).to_have_count(0)
    assert page.get_by_text("les critères de validation").count() == 1
    expect(page.get_by_label("Objectifs opérationnels")).to_have_value(
        "Concevoir une séance hybride."
    )
    check_page(page, "travail-conceptrice-soumission-refusee")
    assert _state(api_container, dossier) == "contrat_signe"
