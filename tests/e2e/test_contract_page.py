"""The contract page in a real browser: a formateur added after signature reads the avenant
(what changed, the exact text, its hash) and signs it; the responsable signs it in turn; the
page then says « Vous avez signé le … ». Screenshots at 1280 and 390 px, axe on each state."""

from __future__ import annotations

from playwright.sync_api import Page, expect
from sqlalchemy import select

from api.wiring import Container
from tests.e2e.conftest import People
from tests.support.browser import check_page, sign_in
from workflow.documents.versions import versions
from workflow.store.tables import person_table


def test_a_new_formateur_and_the_responsable_sign_the_avenant_on_the_contract_page(
    page: Page, live_url: str, people: People, api_container: Container
) -> None:
    world = people.world
    team = world.team
    dossier = world.formation()
    world.builder.drive(dossier, team, "contrat_signe")
    newcomer = team.tuteur
    assert newcomer is not None
    # The pilote adds a formateur through the app's editor: the avenant follows.
    api_container.editor.assign(newcomer, "formateur", dossier_id=dossier, actor_id=team.pilote)
    with api_container.engine.connect() as conn:
        name = conn.execute(
            select(person_table.c.full_name).where(person_table.c.id == newcomer)
        ).scalar_one()

    sign_in(page, live_url, people.email(newcomer))
    page.goto(f"{live_url}/dossiers/{dossier}")
    page.get_by_role("link", name="Lire le contrat, ses avenants et leurs signatures").click()
    expect(page.get_by_role("heading", name="Votre signature est attendue")).to_be_visible()
    expect(page.get_by_text(f"Signataire ajouté : {name} (formateur).")).to_be_visible()
    expect(page.get_by_text("une vacation pour deux heures d'intervention")).to_be_visible()
    for width in (1280, 390):
        page.set_viewport_size({"width": width, "height": 900})
        check_page(page, f"contrat-avenant-a-signer-{width}")
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    page.set_viewport_size({"width": 1280, "height": 900})
    page.get_by_role("button", name="Signer l'avenant").click()
    expect(page.get_by_text("Signature enregistrée")).to_be_visible()
    expect(page.get_by_role("heading", name="Vous avez signé le")).to_be_visible()
    expect(page.get_by_role("button", name="Signer l'avenant")).to_have_count(0)
    for width in (1280, 390):
        page.set_viewport_size({"width": width, "height": 900})
        check_page(page, f"contrat-avenant-signe-{width}")
    page.set_viewport_size({"width": 1280, "height": 900})
    page.get_by_role("button", name="Se déconnecter").click()

    sign_in(page, live_url, people.email(team.responsable), f"/dossiers/{dossier}/contrat")
    expect(page.get_by_role("heading", name="Votre signature est attendue")).to_be_visible()
    page.get_by_role("button", name="Signer l'avenant").click()
    expect(page.get_by_role("heading", name="Vous avez signé le")).to_be_visible()
    expect(page.get_by_text("Toutes les signatures attendues sont données.")).to_be_visible()
    sealed = page.get_by_role("link", name="Avenant n° 1 signé, PDF scellé")
    expect(sealed).to_be_visible()
    check_page(page, "contrat-avenant-complet-1280")
    with page.expect_download() as download:
        sealed.click()
    assert download.value.suggested_filename.endswith("-avenant-1-signe.pdf")
    with api_container.engine.connect() as conn:
        assert versions(conn, dossier)[1].sealed_document_id is not None
