"""The pilote filter of a large académie in a real browser: past ``PILOTE_CHOICES`` pilotes
the « Tableau de bord » asks for the pilote's address instead of listing them all; a
gestionnaire types it and gets that pilote's dossiers, or a French error next to the field
for an address nobody has. At 1280 and 390 px, axe-checked, screenshots kept."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect
from sqlalchemy import select

from api.pages.dashboard import PILOTE_CHOICES
from api.wiring import Container
from tests.e2e.conftest import People
from tests.e2e.test_archive_pages import at_both_widths
from tests.support.browser import sign_in
from workflow.store.tables import dossier_table, person_table


def test_a_gestionnaire_filters_by_a_pilotes_address(
    page: Page, live_url: str, people: People, api_container: Container
) -> None:
    world = people.world
    editor = world.builder.editor
    crowded = world.formation()
    for n in range(PILOTE_CHOICES):
        editor.assign(world.person(f"pilote-{n}"), "pilote", dossier_id=crowded)
    mine = world.builder.formation(world.academie_id, world.team, title="Le dossier de Paul")
    paul = world.person("paul")
    editor.assign(paul, "pilote", dossier_id=mine)
    with api_container.engine.connect() as conn:
        email = conn.execute(
            select(person_table.c.email).where(person_table.c.id == paul)
        ).scalar_one()
        reference = conn.execute(
            select(dossier_table.c.reference).where(dossier_table.c.id == mine)
        ).scalar_one()

    page.set_viewport_size({"width": 1280, "height": 900})
    sign_in(page, live_url, people.email(world.team.gestionnaire))
    page.goto(f"{live_url}/tableau-de-bord")
    field = page.get_by_role("textbox", name=re.compile("^Pilote"))
    field.fill(email)
    page.get_by_role("button", name="Filtrer").click()
    listed = page.get_by_role("table", name="Dossiers sans échéance dépassée", exact=False)
    expect(listed.locator("tbody tr")).to_have_count(1)
    expect(listed.get_by_role("link", name=reference)).to_be_visible()
    expect(page.get_by_role("textbox", name=re.compile("^Pilote"))).to_have_value(email)
    at_both_widths(page, "tableau-de-bord-pilote-adresse")

    page.set_viewport_size({"width": 1280, "height": 900})
    page.get_by_role("textbox", name=re.compile("^Pilote")).fill("personne@nulle.part")
    page.get_by_role("button", name="Filtrer").click()
    expect(
        page.get_by_role("link", name="Aucune personne n'a l'adresse personne@nulle.part.")
    ).to_be_visible()
    expect(
        page.get_by_text("Aucun dossier ne correspond à ces filtres.", exact=False)
    ).to_be_visible()
    at_both_widths(page, "tableau-de-bord-pilote-inconnu")
