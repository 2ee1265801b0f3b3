"""The PAF import and the bulk actions in a real browser, as a gestionnaire would use them:
a 50-line PAF with two refused lines read with their reasons, corrected, imported, then
dropped again without creating anything; 20 bilans validated in one bulk action from the
dashboard, 2 refused with their reasons, the progress page surviving a reload while the
worker has not started; nothing of another académie reachable. Screenshots at 1280 and
390 px wide, axe-core on each page."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable
from pathlib import Path

from playwright.sync_api import Page, ViewportSize, expect
from sqlalchemy import func, select, update

from api.wiring import Container
from tests.e2e.conftest import People
from tests.integration.test_paf_import import csv_bytes, paf_lines
from tests.support.browser import PASSWORD, check_page, sign_in
from workflow.store.tables import dossier_table, person_table

NARROW = ViewportSize(width=390, height=844)
WIDE = ViewportSize(width=1280, height=800)


def both_widths(page: Page, name: str) -> None:
    """Screenshot and axe at 1280 px, then at 390 px (a phone), then back."""
    page.set_viewport_size(WIDE)
    check_page(page, name)
    page.set_viewport_size(NARROW)
    check_page(page, f"{name}-390")
    page.set_viewport_size(WIDE)


def paf_count(container: Container, academie_id: int) -> int:
    with container.engine.connect() as conn:
        return int(
            conn.execute(
                select(func.count())
                .select_from(dossier_table)
                .where(
                    dossier_table.c.academie_id == academie_id, dossier_table.c.paf_id.is_not(None)
                )
            ).scalar_one()
        )


def test_a_gestionnaire_imports_a_paf_of_50_lines(
    page: Page, live_url: str, people: People, api_container: Container, tmp_path: Path
) -> None:
    world = people.world
    engine = api_container.engine
    broken = tmp_path / "paf-2026.csv"
    broken.write_bytes(csv_bytes(paf_lines(world, engine, 50, broken=True)))
    fixed = tmp_path / "paf-2026-corrige.csv"
    fixed.write_bytes(csv_bytes(paf_lines(world, engine, 50)))

    sign_in(page, live_url, people.email(world.team.gestionnaire))
    page.get_by_role("navigation", name="Menu principal").get_by_role(
        "link", name="Import du PAF"
    ).click()
    expect(
        page.get_by_role("heading", name=re.compile("^Import du plan académique"))
    ).to_be_visible()
    both_widths(page, "paf-depot")

    # Nothing chosen: the error is next to the file field and in the summary.
    page.get_by_role("button", name="Vérifier le fichier (essai)").click()
    expect(page.locator("#fichier-erreur")).to_have_text(
        "choisissez le fichier du PAF (CSV ou XLSX)"
    )
    check_page(page, "paf-depot-erreur")

    page.get_by_label("Fichier du PAF (CSV ou XLSX)").set_input_files(str(broken))
    page.get_by_role("button", name="Vérifier le fichier (essai)").click()
    alert = page.get_by_role("alert")
    expect(alert.get_by_role("heading")).to_have_text("2 lignes refusées : rien ne sera importé")
    expect(alert).to_contain_text("Ligne 11 (26A0000010)")
    expect(alert).to_contain_text("aucune personne n'a l'adresse inconnu.du.plan@example.org")
    expect(alert).to_contain_text("Ligne 31 (26A0000030)")
    expect(alert).to_contain_text("Dispositif : « taux B » inconnu")
    expect(page.get_by_text("Création : 48")).to_be_visible()
    expect(page.get_by_role("button", name=re.compile("^Importer"))).to_have_count(0)
    both_widths(page, "paf-essai-refuse")
    assert paf_count(api_container, world.academie_id) == 0

    # The corrected file, dropped from the report page itself.
    page.get_by_label("Fichier du PAF (CSV ou XLSX)").set_input_files(str(fixed))
    page.get_by_role("button", name="Vérifier le fichier (essai)").click()
    expect(page.get_by_text("Essai : rien n'a encore été importé")).to_be_visible()
    expect(page.get_by_text("Création : 50")).to_be_visible()
    both_widths(page, "paf-essai-pret")
    page.get_by_role("button", name="Importer : 50 création(s), 0 mise(s) à jour").click()
    expect(page.get_by_text("Import du PAF effectué")).to_be_visible()
    expect(page.get_by_text("50 dossier(s) créé(s) en brouillon, 0 mis à jour.")).to_be_visible()
    check_page(page, "paf-importe")
    assert paf_count(api_container, world.academie_id) == 50

    # The same file again: fifty unchanged lines, nothing to import, nothing created.
    page.goto(f"{live_url}/paf")
    page.get_by_label("Fichier du PAF (CSV ou XLSX)").set_input_files(str(fixed))
    page.get_by_role("button", name="Vérifier le fichier (essai)").click()
    expect(page.get_by_text("Inchangée : 50")).to_be_visible()
    expect(page.get_by_text("Rien à importer : les dossiers sont déjà à jour.")).to_be_visible()
    check_page(page, "paf-reimport")
    assert paf_count(api_container, world.academie_id) == 50

    # The identifiant PAF on the dossier page and on the dashboard.
    page.get_by_role("link", name=re.compile(r"-0001$")).first.click()
    expect(page.get_by_text(re.compile("identifiant PAF 26A00000"))).to_be_visible()
    page.goto(f"{live_url}/tableau-de-bord?q=26A0000007")
    expect(page.get_by_text("PAF 26A0000007")).to_be_visible()


def _lot(people: People, api_container: Container, state: str, n: int) -> int:
    world = people.world
    dossier = world.builder.formation(
        world.academie_id, world.team, title=f"Lot de printemps n° {n}"
    )
    world.builder.drive(dossier, world.team, state)
    return dossier


def test_a_gestionnaire_validates_20_bilans_in_one_bulk_action(
    page: Page,
    live_url: str,
    people: People,
    api_container: Container,
    start_worker: Callable[[], None],
) -> None:
    submitted = [_lot(people, api_container, "bilan_soumis", n) for n in range(1, 21)]
    stuck = [_lot(people, api_container, "realisee", n) for n in (21, 22)]
    world = people.world
    sign_in(page, live_url, people.email(world.team.gestionnaire))
    page.goto(f"{live_url}/tableau-de-bord?q=Lot+de+printemps")
    expect(page.get_by_label(re.compile(r"^Sélectionner "))).to_have_count(22)
    both_widths(page, "actions-groupees-tableau-de-bord")

    page.get_by_label("Action", exact=True).select_option("valider_bilan")
    page.get_by_text("Tous ceux du filtre").click()
    page.get_by_role("button", name="Préparer l'action groupée").click()
    expect(page.get_by_role("heading", name="Action groupée : Valider le bilan")).to_be_visible()
    expect(page.get_by_text(re.compile("^22 dossiers de l'académie"))).to_be_visible()
    both_widths(page, "actions-groupees-preparation")
    page.get_by_role("button", name="Lancer « Valider le bilan » sur 22 dossiers").click()

    # The worker has not started yet: the batch waits, and a reload loses nothing.
    expect(page.get_by_text("Action groupée lancée")).to_be_visible()
    expect(page.get_by_text("0 dossier traité sur 22")).to_be_visible()
    page.reload()
    expect(page.get_by_text("0 dossier traité sur 22")).to_be_visible()
    both_widths(page, "actions-groupees-en-attente")

    start_worker()  # the page follows the batch by itself, then shows every result
    expect(page.get_by_role("heading", name="Terminée")).to_be_visible(timeout=90_000)
    expect(page.get_by_text("Fait : 20")).to_be_visible()
    expect(page.get_by_text("Refusé : 2")).to_be_visible()
    for dossier in stuck:
        row = page.get_by_role("row").filter(has=page.locator(f'a[href="/dossiers/{dossier}"]'))
        expect(row).to_contain_text("Refusé")
        expect(row).to_contain_text(
            "n'est pas possible quand le dossier est « Formation réalisée »"
        )
    done = page.get_by_role("row").filter(has=page.locator(f'a[href="/dossiers/{submitted[0]}"]'))
    expect(done).to_contain_text("Bilan soumis → Bilan validé")
    both_widths(page, "actions-groupees-terminee")

    with page.expect_download() as download:
        page.get_by_role("link", name="Télécharger le résultat (CSV)").click()
    rows = list(
        csv.reader(io.StringIO(Path(download.value.path()).read_text("utf-8-sig")), delimiter=";")
    )
    assert [r[4] for r in rows[1:]].count("Fait") == 20
    assert [r[4] for r in rows[1:]].count("Refusé") == 2

    with api_container.engine.connect() as conn:
        states = set(
            conn.execute(
                select(dossier_table.c.state).where(dossier_table.c.id.in_(submitted))
            ).scalars()
        )
    assert states == {"bilan_valide"}


def test_nothing_of_another_academie_is_reachable_from_the_pages(
    page: Page,
    live_url: str,
    people: People,
    api_container: Container,
) -> None:
    world = people.world
    dossier = world.formation()
    batch = api_container.bulk.create(
        world.academie_id, "relancer", [dossier], actor_id=world.team.gestionnaire
    )
    api_container.bulk.run_once(only=batch)
    stored = api_container.paf.store(
        world.academie_id, "paf.csv", csv_bytes([]), actor_id=world.team.gestionnaire
    )
    stranger = world.other_academie_gestionnaire
    with api_container.engine.begin() as conn:
        conn.execute(
            update(person_table)
            .where(person_table.c.id == stranger)
            .values(password_hash=api_container.accounts.hasher.hash(PASSWORD))
        )
        address = conn.execute(
            select(person_table.c.email).where(person_table.c.id == stranger)
        ).scalar_one()
    sign_in(page, live_url, address)
    for path in (f"/paf/imports/{stored}", f"/actions-groupees/{batch}"):
        page.goto(live_url + path)
        expect(page.get_by_role("heading", name="Page introuvable")).to_be_visible()
    page.goto(
        f"{live_url}/actions-groupees/nouvelle?academie={world.slug}&action=relancer"
        f"&dossier={dossier}"
    )
    expect(page.locator("#dossiers")).to_have_text(
        "vous ne pouvez pas lancer d'action groupée dans cette académie"
    )
    expect(page.get_by_role("button", name=re.compile("^Lancer"))).to_have_count(0)
    check_page(page, "actions-groupees-autre-academie")
    page.goto(f"{live_url}/actions-groupees")
    expect(page.get_by_text("Aucune action groupée pour l'instant.")).to_be_visible()

    # A pilote imports nothing.
    page.context.clear_cookies()
    sign_in(page, live_url, people.email(world.team.pilote))
    page.goto(f"{live_url}/paf")
    expect(page.get_by_role("heading", name="Accès refusé")).to_be_visible()
