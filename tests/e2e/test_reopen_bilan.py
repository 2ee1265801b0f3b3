"""Reopening a validated bilan from the pages: the gestionnaire does it with a comment, the
formateur can then correct the bilan again; the history reads in French."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.e2e.conftest import People
from tests.support.browser import check_page, sign_in


def test_the_gestionnaire_reopens_a_validated_bilan_and_the_formateur_may_correct_it(
    page: Page, live_url: str, people: People
) -> None:
    world = people.world
    dossier = world.formation()
    world.builder.drive(dossier, world.team, "bilan_valide")

    sign_in(page, live_url, people.email(world.team.gestionnaire))
    page.goto(f"{live_url}/dossiers/{dossier}")
    card = page.locator(".fr-card").filter(has=page.get_by_role("heading", name="Rouvrir le bilan"))
    check_page(page, "rouvrir-bilan-dossier")
    card.get_by_role("button", name="Rouvrir le bilan").click()
    expect(page.locator("#commentaire-erreur")).to_be_visible()
    check_page(page, "rouvrir-bilan-erreur")
    page.get_by_label("Commentaire (obligatoire)").fill(
        "La classe virtuelle co-animée n'a réuni que 14 présents."
    )
    page.get_by_role("button", name=re.compile("Rouvrir le bilan|^Confirmer")).click()
    expect(page.get_by_text("Action effectuée : Rouvrir le bilan")).to_be_visible()
    history = page.get_by_role("region", name="Historique")
    expect(history.get_by_text("Bilan à compléter — Rouvrir le bilan")).to_be_visible()
    expect(history.get_by_text("« La classe virtuelle co-animée n'a réuni que 14 présents. »"))
    check_page(page, "rouvrir-bilan-fait")
    page.set_viewport_size({"width": 390, "height": 844})
    check_page(page, "rouvrir-bilan-fait-390")

    page.set_viewport_size({"width": 1280, "height": 720})
    page.context.clear_cookies()
    sign_in(page, live_url, people.email(world.team.formateurs[0]))
    page.goto(f"{live_url}/dossiers/{dossier}/bilan")
    expect(page.get_by_text("ne peut pas être modifié par vous")).to_have_count(0)
    expect(page.get_by_role("button", name="Enregistrer le bilan")).to_be_visible()
    # The reason is on the page where the correction is made, not only in the history.
    expect(page.get_by_text("n'a réuni que 14 présents").first).to_be_visible()
