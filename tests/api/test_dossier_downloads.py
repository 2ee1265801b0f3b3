"""The files the API and the CLI could already build, now linked from the pages: each
formation dossier's page offers its fiche de rémunération, printable bilan, Sofia-FMO
package and session calendar once they hold something, each link answering its file for
whoever reads the dossier (and « page introuvable » to anyone else); the dashboard offers
the budget to the EAFC and the pilotes. Runs on SQLite and PostgreSQL."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from api.wiring import Container
from tests.conftest import World
from tests.support.api import page_session

LINK = re.compile(r'<a class="fr-link fr-link--download" download href="([^"]+)">([^<]+)')


def _links(html: str) -> dict[str, str]:
    return {label.strip(): href for href, label in LINK.findall(html)}


def test_a_paid_dossier_links_its_four_files(
    world: World, client: TestClient, api_container: Container
) -> None:
    team = world.team
    dossier = world.formation()
    world.builder.add_sessions(dossier, team, world.builder.service.clock())
    world.builder.drive(dossier, team, "mis_en_paiement")
    page_session(client, api_container, team.formateurs[0])
    page = client.get(f"/dossiers/{dossier}")
    assert page.status_code == 200
    links = _links(page.text)
    base = f"/api/v1/dossiers/{dossier}/exports"
    assert links == {
        "Fiche de rémunération": f"{base}/fiche-remuneration.pdf",
        "Bilan d'activités": f"{base}/bilan.pdf",
        "Paquet Sofia-FMO": f"{base}/sofia",
        "Calendrier des sessions": f"{base}/sessions.ics",
    }
    expected = {
        "Fiche de rémunération": "application/pdf",
        "Bilan d'activités": "application/pdf",
        "Paquet Sofia-FMO": "application/zip",
        "Calendrier des sessions": "text/calendar",
    }
    for label, href in links.items():
        answer = client.get(href)
        assert answer.status_code == 200, (label, answer.text[:200])
        assert answer.headers["content-type"].startswith(expected[label]), label
        assert "attachment" in answer.headers["content-disposition"]
    client.cookies.clear()
    page_session(client, api_container, world.outsider)
    for href in links.values():
        assert client.get(href).status_code == 404


def test_a_new_dossier_says_when_its_files_will_exist(
    world: World, client: TestClient, api_container: Container
) -> None:
    dossier = world.formation()
    page_session(client, api_container, world.team.gestionnaire)
    page = client.get(f"/dossiers/{dossier}")
    assert _links(page.text) == {}
    assert "Fiche de rémunération : disponible après la décision de paiement." in page.text
    assert "Calendrier des sessions : disponible dès qu'une session est planifiée." in page.text


def test_the_dashboard_links_the_budget_of_what_it_filters(
    world: World, client: TestClient, api_container: Container
) -> None:
    team = world.team
    dossier = world.formation()
    world.builder.drive(dossier, team, "mis_en_paiement")
    page_session(client, api_container, team.gestionnaire)
    page = client.get(f"/tableau-de-bord?academie={world.slug}&pilote={team.pilote}")
    found = re.findall(r'href="(/api/v1/exports/budget\?[^"]+)" download>([^<]+)<', page.text)
    hrefs = {label: href.replace("&amp;", "&") for href, label in found}
    assert hrefs == {
        "Budget prévisionnel et réalisé (XLSX)": (
            f"/api/v1/exports/budget?format=xlsx&academie={world.slug}&pilote={team.pilote}"
        ),
        "Budget (CSV)": (
            f"/api/v1/exports/budget?format=csv&academie={world.slug}&pilote={team.pilote}"
        ),
    }
    sheet = client.get(hrefs["Budget (CSV)"])
    assert sheet.status_code == 200
    assert "Dossier de test" in sheet.content.decode("utf-8-sig")
    client.cookies.clear()
    page_session(client, api_container, team.formateurs[0])
    assert "/api/v1/exports/budget" not in client.get("/tableau-de-bord").text
