"""The « Tableau de bord » in a real browser: a gestionnaire of two académies narrows it to
one académie and one state, downloads the XLSX export from the page and finds in it the
very rows the page shows; the filtered and the empty states have no WCAG 2.1 A/AA
violation (axe-core), and are kept as screenshots under tests/artifacts/."""

from __future__ import annotations

import re
import uuid
from pathlib import Path

from openpyxl import load_workbook
from playwright.sync_api import Page, expect
from sqlalchemy import select

from api.wiring import Container
from tests.e2e.conftest import People
from tests.support.browser import check_page, sign_in
from workflow.store.tables import academie_table, dossier_table


def test_gestionnaire_filters_by_academie_and_state_then_exports_xlsx(
    page: Page, live_url: str, people: People, api_container: Container, tmp_path: Path
) -> None:
    world = people.world
    team, builder = world.team, world.builder
    tag = uuid.uuid4().hex[:6]
    second = builder.editor.create_academie(f"seconde-{tag}", f"Seconde académie {tag}", f"S{tag}")
    builder.editor.assign(team.gestionnaire, "gestionnaire", academie_id=second)
    builder.editor.assign(team.responsable, "responsable", academie_id=second)
    submitted = [
        builder.formation(world.academie_id, team, title="Parcours soumis un"),
        builder.formation(world.academie_id, team, title="Parcours soumis deux"),
        builder.formation(second, team, title="Parcours soumis ailleurs"),
    ]
    for dossier_id in submitted:
        builder.drive(dossier_id, team, "scenario_soumis")
    builder.formation(world.academie_id, team, title="Parcours en brouillon")
    with api_container.engine.connect() as conn:
        name = conn.execute(
            select(academie_table.c.name).where(academie_table.c.id == world.academie_id)
        ).scalar_one()
        wanted = set(
            conn.execute(
                select(dossier_table.c.reference).where(dossier_table.c.id.in_(submitted[:2]))
            ).scalars()
        )

    sign_in(page, live_url, people.email(team.gestionnaire))
    page.goto(f"{live_url}/tableau-de-bord")
    academie = page.get_by_label("Académie", exact=True)
    expect(academie.locator("option")).to_have_count(3)  # « Toutes mes académies » + 2
    academie.select_option(label=name)
    page.get_by_label("État", exact=True).select_option(label="Scénario soumis au pilote")
    page.get_by_role("button", name="Filtrer").click()
    expect(page).to_have_url(re.compile(r"academie=.*etat=scenario_soumis"))
    # The form keeps what was chosen.
    expect(page.get_by_label("Académie", exact=True)).to_have_value(world.slug)
    expect(page.get_by_label("État", exact=True)).to_have_value("scenario_soumis")
    listed = page.get_by_role("table", name="Dossiers sans échéance dépassée", exact=False)
    rows = listed.locator("tbody tr")
    expect(page.get_by_role("heading", name=re.compile("^En retard"))).to_have_count(0)
    expect(rows).to_have_count(2)
    shown = {text.strip() for text in rows.locator("td:first-of-type a").all_inner_texts()}
    assert shown == wanted
    check_page(page, "tableau-de-bord-filtre")

    with page.expect_download() as info:
        page.get_by_role("link", name="Exporter (XLSX)").click()
    download = info.value
    assert re.fullmatch(r"tableau-de-bord-\d{4}-\d{2}-\d{2}\.xlsx", download.suggested_filename)
    saved = tmp_path / download.suggested_filename
    download.save_as(saved)
    sheet = load_workbook(saved).active
    assert sheet is not None
    header, *body = [list(r) for r in sheet.iter_rows(values_only=True)]
    assert header[:9] == [
        "Référence",
        "Titre",
        "Académie",
        "Circuit",
        "Dispositif",
        "État",
        "Phase",
        "Pilote",
        "Heures prévues",
    ]
    assert {r[0] for r in body} == shown
    assert {(r[2], r[5]) for r in body} == {(name, "Scénario soumis au pilote")}
    assert {r[1] for r in body} == {"Parcours soumis un", "Parcours soumis deux"}

    page.get_by_label("Intitulé ou référence").fill("aucun dossier ne porte ce nom")
    page.get_by_role("button", name="Filtrer").click()
    expect(page.get_by_text("Aucun dossier ne correspond à ces filtres.")).to_be_visible()
    expect(page.get_by_role("link", name="Exporter (XLSX)")).to_have_count(0)
    check_page(page, "tableau-de-bord-vide")
