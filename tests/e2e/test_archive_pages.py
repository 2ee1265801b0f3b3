"""Archived dossiers in a real browser: a dossier closed long ago and archived has left the
gestionnaire's « Tableau de bord » and the pilote's « Mes dossiers »; the « Dossiers :
Archivés » filter shows it with its counts, and its page says it was archived and what
that removed. Every page at 1280 and 390 px wide, with no WCAG 2.1 A/AA violation
(axe-core); screenshots under tests/artifacts/."""

from __future__ import annotations

import re
from datetime import timedelta

from playwright.sync_api import Page, expect
from sqlalchemy import select, update

from api.wiring import Container
from tests.e2e.conftest import People
from tests.support.browser import check_page, sign_in
from workflow.admin.archive import Archiver
from workflow.store.tables import dossier_table
from workflow.store.types import utcnow

WIDTHS = (1280, 390)


def at_both_widths(page: Page, name: str) -> None:
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        check_page(page, f"{name}-{width}")


def test_an_archived_dossier_leaves_the_lists_and_a_filter_shows_it(
    page: Page, live_url: str, people: People, api_container: Container
) -> None:
    world = people.world
    team, builder = world.team, world.builder
    old = builder.formation(world.academie_id, team, title="Hybrider une formation (2024)")
    builder.drive(old, team, "mis_en_paiement")
    current = builder.formation(world.academie_id, team, title="Classe inversée en sciences")
    engine = api_container.engine
    with engine.begin() as conn:
        conn.execute(
            update(dossier_table)
            .where(dossier_table.c.id == old)
            .values(state_entered_at=utcnow() - timedelta(days=800))
        )
    (candidate,) = Archiver(engine, api_container.settings.data_dir).due(world.slug)
    assert Archiver(engine, api_container.settings.data_dir).archive(candidate).error is None
    with engine.connect() as conn:
        references = dict(
            conn.execute(
                select(dossier_table.c.id, dossier_table.c.reference).where(
                    dossier_table.c.id.in_([old, current])
                )
            ).all()
        )

    sign_in(page, live_url, people.email(team.gestionnaire))
    page.goto(f"{live_url}/tableau-de-bord")
    expect(page.get_by_role("link", name=references[current])).to_be_visible()
    expect(page.get_by_role("link", name=references[old])).to_have_count(0)
    at_both_widths(page, "archives-tableau-de-bord")

    page.set_viewport_size({"width": 1280, "height": 900})
    page.get_by_role("combobox", name=re.compile("^Dossiers")).select_option(label="Archivés")
    page.get_by_role("button", name="Filtrer").click()
    expect(page).to_have_url(re.compile(r"archives=oui"))
    expect(page.get_by_role("heading", name="Dossiers archivés", exact=True)).to_be_visible()
    archived = page.get_by_role("table", name="Dossiers archivés", exact=False)
    expect(archived.locator("tbody tr")).to_have_count(1)
    expect(archived.get_by_role("link", name=references[old])).to_be_visible()
    counts = page.get_by_role("table", name="Dossiers par état")
    expect(counts.locator("tbody tr")).to_have_count(1)
    expect(counts.locator("tbody tr td").nth(1)).to_have_text("Mis en paiement")
    at_both_widths(page, "archives-filtre")

    page.set_viewport_size({"width": 1280, "height": 900})
    archived.get_by_role("link", name=references[old]).click()
    expect(page.get_by_text(re.compile(r"^Dossier archivé le \d"))).to_be_visible()
    at_both_widths(page, "archives-dossier")

    # The pilote's own list (« Mes dossiers ») leaves it out too, and the filter shows it.
    page.context.clear_cookies()
    page.set_viewport_size({"width": 1280, "height": 900})
    sign_in(page, live_url, people.email(team.pilote))
    page.goto(f"{live_url}/tableau-de-bord")
    expect(page.get_by_role("heading", name="Mes dossiers", exact=True)).to_be_visible()
    expect(page.get_by_role("link", name=references[old])).to_have_count(0)
    page.goto(f"{live_url}/tableau-de-bord?archives=oui")
    expect(page.get_by_role("link", name=references[old])).to_be_visible()
    at_both_widths(page, "archives-pilote")
