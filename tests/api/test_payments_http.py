"""The simulator and the exports over HTTP: JSON and files, French problems, who sees what."""

from __future__ import annotations

import csv
import io
import zipfile
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from icalendar import Calendar
from openpyxl import load_workbook

from tests.conftest import World
from tests.support.api import Api

SIMULATE = "/api/v1/baremes/{}/simulate"


def _simulate(api: Api, person: int, bareme: str, body: dict[str, Any]) -> Any:
    return api.post(SIMULATE.format(bareme), person, json=body)


@pytest.mark.parametrize(
    ("bareme", "body", "units", "total"),
    [
        (
            "vacation_accompagnement",
            {"hours": "13", "effective_trainees": 5, "rate": "45"},
            ["5.00"],
            "225.00",
        ),
        (
            "vacation_accompagnement",
            {"hours": ["20"], "effective_trainees": 12, "rate": "45"},
            ["8.00"],
            "360.00",
        ),
        ("hse_convention_ent", {"hours": ["25"], "rate": "20"}, ["18.00"], "360.00"),
        ("eafc_taux_a", {"conception": "10"}, ["10"], "450.00"),
        ("eafc_taux_a", {"conception": "20"}, ["20"], "900.00"),
        ("eafc_taux_a", {"update": "5"}, ["5"], "225.00"),
        ("eafc_taux_a", {"update": "10"}, ["10"], "450.00"),
        ("eafc_taux_a", {"followed_trainees": 8}, ["1.00"], "45.00"),
        (
            "eafc_taux_a",
            {"class_hours": "3", "class_trainers": 2, "class_trainees": 20},
            ["2.25", "2.25"],
            "202.50",
        ),
    ],
)
def test_the_simulator_answers_every_seed_figure(
    bareme: str,
    body: dict[str, Any],
    units: list[str],
    total: str,
    api: Api,
    world: World,
) -> None:
    response = _simulate(api, world.team.pilote, bareme, body)
    assert response.status_code == 200, response.text
    data = response.json()
    assert [Decimal(line["units"]) for line in data["lines"]] == [Decimal(u) for u in units]
    assert Decimal(data["total"]) == Decimal(total)
    assert data["problems"] == []
    assert data["text"][-1].startswith("Total : ")
    assert all(line["steps"] for line in data["lines"])


def test_the_13_hours_example_with_the_academie_rates(api: Api, world: World) -> None:
    response = _simulate(
        api,
        world.team.gestionnaire,
        "vacation_accompagnement",
        {"hours": "13", "effective_trainees": 5, "academie": world.slug},
    )
    assert response.status_code == 200, response.text
    assert response.json()["lines"][0]["steps"] == [
        "13 h ÷ 2 = 6,5 vacations",
        "plafond : 5 stagiaires effectifs → 5 vacations",
        "5 × 45,00 € = 225,00 €",
    ]


def test_a_missing_hse_rate_is_said_in_french_without_an_amount(api: Api, world: World) -> None:
    response = _simulate(api, world.team.pilote, "hse_convention_ent", {"hours": [25, 12]})
    assert response.status_code == 200
    data = response.json()
    assert data["total"] is None
    assert [line["amount"] for line in data["lines"]] == [None, None]
    assert [Decimal(line["units"]) for line in data["lines"]] == [18, 12]
    assert data["problems"] == [
        "Le taux de l'HSE n'est pas configuré pour cette académie : la décision ne peut pas "
        "être prise."
    ]


@pytest.mark.parametrize(
    ("bareme", "body", "status", "detail"),
    [
        (
            "eafc_taux_a",
            {"class_hours": "3", "class_trainers": 2, "class_trainees": 14},
            422,
            "La co-animation n'est possible qu'à partir de 15 participants",
        ),
        ("eafc_taux_a", {"conception": "21"}, 422, "entre 10 et 20 vacations"),
        ("eafc_taux_a", {"update": "4"}, 422, "entre 5 et 10 vacations"),
        ("vacation_accompagnement", {"hours": "13"}, 422, "Paramètre obligatoire manquant"),
        ("hse_convention_ent", {"conception": "12"}, 422, "Paramètre inconnu"),
        ("inconnu", {}, 404, "Barème inconnu"),
        ("eafc_taux_a", {"conception": "12", "academie": "nulle-part"}, 422, "Académie inconnue"),
    ],
)
def test_refusals_are_french_problems(
    bareme: str, body: dict[str, Any], status: int, detail: str, api: Api, world: World
) -> None:
    response = _simulate(api, world.team.pilote, bareme, body)
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert detail in response.json()["detail"]


def test_the_simulator_needs_a_signed_in_person_and_an_academie_of_theirs(
    api: Api, world: World
) -> None:
    anonymous = api.client.post(SIMULATE.format("eafc_taux_a"), json={"conception": "12"})
    assert anonymous.status_code == 401
    other = _simulate(
        api,
        world.other_academie_gestionnaire,
        "eafc_taux_a",
        {"conception": 12, "academie": world.slug},
    )
    assert other.status_code == 422 and "hors de votre périmètre" in other.json()["detail"]


def test_the_openapi_documents_the_simulator_and_the_exports(api: Api) -> None:
    paths = api.client.get("/api/openapi.json").json()["paths"]
    assert "/api/v1/baremes/{name}/simulate" in paths
    for path in (
        "/api/v1/exports/budget",
        "/api/v1/exports/dossiers",
        "/api/v1/dossiers/{dossier_id}/exports/fiche-remuneration",
        "/api/v1/dossiers/{dossier_id}/exports/bilan",
        "/api/v1/dossiers/{dossier_id}/exports/sofia",
        "/api/v1/dossiers/{dossier_id}/exports/sessions.ics",
    ):
        assert "200" in paths[path]["get"]["responses"], path


def _references(content: bytes) -> list[str]:
    sheet = load_workbook(io.BytesIO(content)).active
    return [str(r[0]) for r in sheet.iter_rows(min_row=2, values_only=True) if r[0] != "Total"]


def test_list_exports_cover_only_what_the_caller_may_see(api: Api, world: World) -> None:
    dossier = world.formation()
    mine = api.get(f"/api/v1/dossiers/{dossier}", world.team.pilote).json()["reference"]
    for path in ("/api/v1/exports/budget", "/api/v1/exports/dossiers"):
        gestionnaire = api.get(path, world.team.gestionnaire, params={"academie": world.slug})
        assert gestionnaire.status_code == 200
        assert gestionnaire.headers["content-type"].startswith(
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        )
        assert "attachment" in gestionnaire.headers["content-disposition"]
        assert _references(gestionnaire.content) == [mine]
        for stranger in (world.outsider, world.other_academie_gestionnaire):
            assert _references(api.get(path, stranger).content) == []
        as_csv = api.get(path, world.team.formateurs[0], params={"format": "csv"})
        assert as_csv.headers["content-type"].startswith("text/csv")
        rows = list(csv.reader(io.StringIO(as_csv.content.decode("utf-8-sig")), delimiter=";"))
        assert rows[0][0] == "Référence" and rows[1][0] == mine
    bad = api.get("/api/v1/exports/budget", world.team.gestionnaire, params={"format": "pdf"})
    assert bad.status_code == 422


def test_dossier_exports_are_for_people_who_see_the_dossier(api: Api, world: World) -> None:
    dossier = world.formation()
    world.builder.add_sessions(dossier, world.team, datetime.now(UTC) + timedelta(days=30))
    world.builder.drive(dossier, world.team, "paiement_accorde")
    base = f"/api/v1/dossiers/{dossier}/exports"
    expected = {
        "fiche-remuneration": "text/html",
        "bilan": "text/html",
        "sofia": "application/zip",
        "sessions.ics": "text/calendar",
    }
    for name, media in expected.items():
        response = api.get(f"{base}/{name}", world.team.formateurs[0])
        assert response.status_code == 200, (name, response.text)
        assert response.headers["content-type"].startswith(media)
        for stranger in (world.outsider, world.other_academie_gestionnaire):
            refused = api.get(f"{base}/{name}", stranger)
            assert refused.status_code == 404
            assert refused.headers["content-type"].startswith("application/problem+json")
    fiche = api.get(f"{base}/fiche-remuneration", world.team.gestionnaire).text
    assert "5 × 45,00 € = 225,00 €" in fiche
    archive = zipfile.ZipFile(io.BytesIO(api.get(f"{base}/sofia", world.team.pilote).content))
    assert "manifeste.csv" in archive.namelist()
    calendar = Calendar.from_ical(api.get(f"{base}/sessions.ics", world.team.pilote).content)
    assert len(calendar.walk("VEVENT")) == 2
