"""Administering académies in a real browser.

An administrateur creates a second académie (refused first, then corrected), imports 30
people from a CSV (two lines refused and shown, the corrected file imported whole), gives
the académie's roles, sets its rates, changes a deadline and a rate: the next payment
decision uses the new rate while the older one keeps its own. Suppléances of an académie
role and of a team role are made and revoked on the pages. Every page is checked with
axe-core (WCAG 2.1 A/AA) and kept as screenshots at 1280 and 390 px under tests/artifacts/.
"""

from __future__ import annotations

import re
import uuid
from decimal import Decimal
from pathlib import Path

from playwright.sync_api import Page, ViewportSize, expect
from sqlalchemy import select

from api.wiring import Container
from tests.e2e.conftest import People
from tests.support.browser import PASSWORD, check_page, sign_in
from workflow.admin.service import Administration
from workflow.demo import Team
from workflow.store.academie_settings import academie_settings
from workflow.store.tables import academie_table, decision_table, person_table
from workflow.store.tables import payment_line_table as PL

PHONE: ViewportSize = {"width": 390, "height": 844}
DESKTOP: ViewportSize = {"width": 1280, "height": 720}


def shots(page: Page, name: str) -> None:
    """axe-core and a screenshot at 1280 px, then the same at 390 px (a phone)."""
    check_page(page, name)
    page.set_viewport_size(PHONE)
    check_page(page, f"{name}-390")
    page.set_viewport_size(DESKTOP)


def section(page: Page, label: str) -> None:
    """Open a section of the académie's administration from its side menu."""
    page.locator(".fr-sidemenu").get_by_role("link", name=label, exact=True).click()


def _administrateur(people: People, api_container: Container) -> tuple[int, str]:
    world = people.world
    person = world.person("administratrice")
    Administration(api_container.engine).grant(
        world.academie_id, person, "administrateur", actor_id=None
    )
    api_container.accounts.set_password(person, PASSWORD)
    with api_container.engine.connect() as conn:
        email = conn.execute(
            select(person_table.c.email).where(person_table.c.id == person)
        ).scalar_one()
    return person, str(email)


def _csv(tag: str, count: int, broken: bool) -> str:
    lines = ["Courriel;Prénom;Nom;Rôle"]
    for n in range(1, count + 1):
        lines.append(f"agent{n:02d}.{tag}@example.org;Agent{n:02d};Martin;")
    lines[1] = lines[1].removesuffix(";") + ";gestionnaire"
    lines[2] = lines[2].removesuffix(";") + ";responsable"
    if broken:
        lines[7] = f"agent07.{tag}@;Agent07;Martin;"  # no domain
        lines[12] = lines[3]  # agent03 a second time
    return "\n".join(lines) + "\n"


def _person(api_container: Container, email: str) -> int:
    with api_container.engine.connect() as conn:
        return int(
            conn.execute(
                select(person_table.c.id).where(person_table.c.email == email)
            ).scalar_one()
        )


def _line_rate(api_container: Container, dossier: int) -> Decimal:
    with api_container.engine.connect() as conn:
        return Decimal(
            conn.execute(
                select(PL.c.rate)
                .join(decision_table, decision_table.c.id == PL.c.decision_id)
                .where(decision_table.c.dossier_id == dossier)
            ).scalar_one()
        )


def test_an_administrateur_creates_an_academie_imports_people_and_sets_its_rules(
    page: Page, live_url: str, people: People, api_container: Container, tmp_path: Path
) -> None:
    _, email = _administrateur(people, api_container)
    sign_in(page, live_url, email)
    page.get_by_role("navigation", name="Menu principal").get_by_role(
        "link", name="Administration"
    ).click()
    expect(page.get_by_role("heading", name="Administration", exact=True)).to_be_visible()
    shots(page, "admin-accueil")

    # A second académie: refused first (identifier and code malformed), then created.
    page.get_by_role("link", name="Créer une académie").click()
    tag = uuid.uuid4().hex[:6]
    slug, code = f"seconde-{tag}", f"S{tag[:4].upper()}"
    page.get_by_label("Nom de l'académie *").fill("Académie seconde")
    page.get_by_label("Identifiant").fill("Seconde Académie")
    page.get_by_label("Code des références de dossier").fill("s")
    page.get_by_label("Adresse de réponse des courriels").fill("pas une adresse")
    page.get_by_role("button", name="Créer l'académie").click()
    expect(page.get_by_text("Le formulaire contient 3 erreurs")).to_be_visible()
    expect(page.locator("#code-erreur")).to_have_text(
        "2 à 8 lettres majuscules ou chiffres, par exemple LYO"
    )
    expect(page.get_by_label("Identifiant")).to_have_value("Seconde Académie")
    shots(page, "admin-nouvelle-academie-erreurs")
    page.get_by_label("Identifiant").fill(slug)
    page.get_by_label("Code des références de dossier").fill(code)
    page.get_by_label("Adresse de réponse des courriels").fill("eafc-seconde@example.org")
    page.get_by_label("Institution (en-tête des pages)").fill("Rectorat de la seconde académie")
    page.get_by_label("Bloc de signature").fill("EAFC de la seconde académie\nBureau 12")
    page.get_by_label("Lieu « Fait à »").fill("Secondeville")
    page.get_by_role("button", name="Créer l'académie").click()
    expect(page.get_by_text("Académie créée")).to_be_visible()
    expect(page.get_by_role("heading", name="Identité de l'académie")).to_be_visible()
    expect(page.get_by_label("Bloc de signature")).to_have_value(
        "EAFC de la seconde académie\nBureau 12"
    )
    shots(page, "admin-identite")
    with api_container.engine.connect() as conn:
        academie_id = int(
            conn.execute(
                select(academie_table.c.id).where(academie_table.c.slug == slug)
            ).scalar_one()
        )

    # 30 people from a CSV: two lines refused and shown, nothing written; then corrected.
    section(page, "Personnes")
    shots(page, "admin-personnes-vide")
    page.get_by_role("link", name="Importer un fichier CSV").click()
    shots(page, "admin-import")
    broken = tmp_path / "personnes.csv"
    broken.write_text(_csv(tag, 30, broken=True), "utf-8")
    page.get_by_label("Fichier CSV des personnes").set_input_files(str(broken))
    page.get_by_role("button", name="Essayer l'import").click()
    expect(
        page.get_by_role("heading", name="2 lignes refusées : rien ne sera importé")
    ).to_be_visible()
    table = page.get_by_role("region", name="Ce que l'import ferait, ligne par ligne")
    refused = table.locator("tbody tr", has=page.get_by_text("Refusée", exact=True))
    expect(refused).to_have_count(2)
    expect(refused.nth(0)).to_contain_text(f"adresse électronique invalide « agent07.{tag}@ »")
    expect(refused.nth(1)).to_contain_text("adresse en double dans le fichier (déjà ligne 4)")
    expect(page.get_by_role("button", name=re.compile("^Importer ces"))).to_have_count(0)
    shots(page, "admin-import-refus")
    fixed = tmp_path / "personnes-corrige.csv"
    fixed.write_text(_csv(tag, 30, broken=False), "cp1252")
    page.get_by_label("Fichier CSV des personnes").set_input_files(str(fixed))
    page.get_by_role("button", name="Essayer l'import").click()
    expect(page.get_by_role("heading", name="Aucune ligne refusée")).to_be_visible()
    shots(page, "admin-import-essai")
    page.get_by_role("button", name="Importer ces 30 lignes").click()
    expect(page.get_by_text("Import fait")).to_be_visible()
    expect(page.get_by_role("region", name="Personnes de l'académie (31)")).to_be_visible()
    shots(page, "admin-personnes")

    # Deactivating someone goes through a confirmation page.
    page.get_by_role("link", name="Désactiver Agent30 Martin").click()
    expect(page.get_by_role("heading", name="Désactiver une personne")).to_be_visible()
    shots(page, "admin-desactivation")
    page.get_by_role("button", name="Confirmer : désactiver Agent30 Martin").click()
    expect(page.get_by_text("Personne désactivée")).to_be_visible()

    # Roles: the file gave a gestionnaire and a responsable; name a second administrateur.
    section(page, "Rôles")
    expect(page.get_by_role("heading", name="Gestionnaire EAFC")).to_be_visible()
    page.get_by_label("Rôle *").select_option(label="Administrateur de l'académie")
    page.get_by_label("Ou son adresse électronique").fill(f"agent04.{tag}@example.org")
    page.get_by_role("button", name="Attribuer le rôle").click()
    expect(
        page.get_by_text("Agent04 Martin est maintenant Administrateur de l'académie")
    ).to_be_visible()
    shots(page, "admin-roles")

    # Rates: a refused amount, then the académie's rates.
    section(page, "Tarifs")
    page.get_by_label("Vacation au taux A").fill("45,00")
    page.get_by_label("Vacation d'accompagnement à distance").fill("quarante")
    page.get_by_role("button", name="Enregistrer les tarifs").click()
    expect(page.get_by_text("Le formulaire contient 1 erreur")).to_be_visible()
    shots(page, "admin-tarifs-erreurs")
    page.get_by_label("Vacation d'accompagnement à distance").fill("45,00")
    page.locator("#vc-0-formateurs").fill("2")
    page.locator("#vc-0-stagiaires_min").fill("20")
    page.locator("#vc-0-stagiaires_max").fill("20")
    page.locator("#vc-0-vacations_par_heure").fill("0,75")
    page.get_by_role("button", name="Enregistrer les tarifs").click()
    expect(page.get_by_text("Réglages enregistrés")).to_be_visible()
    expect(page.get_by_label("Vacation d'accompagnement à distance")).to_have_value("45,00")
    shots(page, "admin-tarifs")

    # A first decision in the new académie, with its team from the imported people.
    def agent(n: int) -> int:
        return _person(api_container, f"agent{n:02d}.{tag}@example.org")

    team = Team(
        pilote=agent(5),
        formateurs=[agent(6)],
        gestionnaire=agent(1),
        responsable=agent(2),
        concepteur=agent(8),
        tuteur=agent(9),
        stagiaires=[agent(10), agent(11)],
    )
    builder = people.world.builder
    first = builder.formation(academie_id, team, title="Première formation")
    builder.drive(first, team, "paiement_accorde")
    assert _line_rate(api_container, first) == Decimal("45.00")

    # A deadline and a rate changed: they apply to what comes next.
    section(page, "Échéances")
    page.get_by_label("Rappel aux signataires qui n'ont pas signé (jours)").fill("3")
    page.get_by_role("button", name="Enregistrer les délais").click()
    expect(
        page.get_by_text(
            "Rappel aux signataires qui n'ont pas signé : par défaut (7 jours) → 3 jours"
        )
    ).to_be_visible()
    shots(page, "admin-echeances")
    section(page, "Tarifs")
    page.get_by_label("Vacation d'accompagnement à distance").fill("50")
    page.get_by_role("button", name="Enregistrer les tarifs").click()
    expect(
        page.get_by_text("Vacation d'accompagnement à distance : 45,00 € → 50,00 €")
    ).to_be_visible()
    second = builder.formation(academie_id, team, title="Seconde formation")
    builder.drive(second, team, "paiement_accorde")
    assert _line_rate(api_container, second) == Decimal("50.00")
    assert _line_rate(api_container, first) == Decimal("45.00")
    with api_container.engine.connect() as conn:
        settings = academie_settings(conn, academie_id)
    assert settings.offset_days("rappel_signature", 7) == 3
    assert settings.institution == "Rectorat de la seconde académie"

    for link, name, heading in (
        ("Signataires", "admin-signataires", "Signataires par dispositif"),
        ("Participation et conservation", "admin-regles", "Participation et conservation"),
    ):
        section(page, link)
        expect(page.get_by_role("heading", name=heading, exact=True)).to_be_visible()
        shots(page, name)
    page.get_by_label("Données personnelles des stagiaires d'un dossier clos (jours)").fill("400")
    page.get_by_role("button", name="Enregistrer les règles").click()
    expect(page.get_by_text("Réglages enregistrés")).to_be_visible()

    section(page, "Historique")
    history = page.get_by_role("region", name=re.compile("^Historique de l'administration"))
    expect(history.locator("tbody tr").first).to_contain_text(
        "Conservation des données des stagiaires"
    )
    expect(
        history.locator("tr", has_text="Vacation d'accompagnement à distance").first
    ).to_contain_text("45,00 €")
    shots(page, "admin-historique")
    # The header names the académie's institution for its people.
    page.context.clear_cookies()
    api_container.accounts.set_password(agent(1), PASSWORD)
    sign_in(page, live_url, f"agent01.{tag}@example.org")
    expect(page.get_by_text("Rectorat de la seconde académie")).to_be_visible()


def test_suppleances_of_an_academie_role_and_of_a_team_role_are_revoked_on_the_pages(
    page: Page, live_url: str, people: People, api_container: Container
) -> None:
    world = people.world
    _, email = _administrateur(people, api_container)
    sign_in(page, live_url, email)
    page.goto(f"{live_url}/administration/academies/{world.slug}/suppleances")
    expect(page.get_by_text("Aucune suppléance dans l'académie.")).to_be_visible()
    page.get_by_label("Titulaire suppléé").select_option(
        value=f"{world.team.responsable}:responsable"
    )
    page.locator("#suppleant").select_option(value=str(world.team.gestionnaire))
    page.get_by_label("Du (inclus)").fill("01/03/2026")
    page.get_by_label("Au (inclus)").fill("28/02/2026")
    page.get_by_role("button", name="Enregistrer la suppléance").click()
    expect(page.locator("#fin-erreur")).to_have_text(
        "La fin de la suppléance doit suivre son début."
    )
    shots(page, "admin-suppleances-erreurs")
    page.get_by_label("Du (inclus)").fill("01/03/2020")
    page.get_by_label("Au (inclus)").fill("31/12/2099")
    page.get_by_role("button", name="Enregistrer la suppléance").click()
    expect(page.get_by_text("Suppléance enregistrée")).to_be_visible()
    rows = page.get_by_role("region", name="Suppléances de l'académie, les plus récentes d'abord")
    expect(rows.locator("tbody tr")).to_have_count(1)
    expect(rows.locator("tbody tr").first).to_contain_text("En cours")
    shots(page, "admin-suppleances")
    page.get_by_role("link", name=re.compile("^Révoquer")).click()
    expect(page.get_by_role("heading", name="Révoquer une suppléance")).to_be_visible()
    shots(page, "admin-revoquer")
    page.get_by_role("button", name="Confirmer : révoquer la suppléance").click()
    expect(page.get_by_text("Suppléance révoquée")).to_be_visible()
    expect(rows.locator("tbody tr").first).to_contain_text("Révoquée")
    expect(page.get_by_role("link", name=re.compile("^Révoquer"))).to_have_count(0)

    # On a dossier, the pilote names a suppléant for the formatrice, then revokes it.
    dossier = world.formation()
    page.context.clear_cookies()
    sign_in(page, live_url, people.email(world.team.pilote))
    page.goto(f"{live_url}/dossiers/{dossier}/equipe")
    page.get_by_label("Titulaire suppléé").select_option(
        value=f"{world.team.formateurs[0]}:formateur"
    )
    page.locator("#suppleant").select_option(value=str(world.team.concepteur))
    page.get_by_label("Du (inclus)").fill("01/03/2020")
    page.get_by_label("Au (inclus)").fill("31/12/2099")
    page.get_by_role("button", name="Enregistrer la suppléance").click()
    expect(page.get_by_text(re.compile(r"supplée .* \(Formateur\) sur ce dossier"))).to_be_visible()
    table = page.get_by_role("region", name="Suppléances du dossier")
    expect(table.locator("tbody tr").first).to_contain_text("Formateur")
    check_page(page, "equipe-suppleance-formateur")
    page.get_by_role("link", name=re.compile("^Révoquer")).click()
    shots(page, "equipe-revoquer")
    page.get_by_role("button", name="Confirmer : révoquer la suppléance").click()
    expect(page.get_by_text("Suppléance révoquée")).to_be_visible()
    expect(table.locator("tbody tr").first).to_contain_text("Révoquée")
