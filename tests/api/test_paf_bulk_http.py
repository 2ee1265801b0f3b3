"""The PAF import and bulk actions over HTTP: French reports, all or nothing, and nobody
acting on another académie (403 to launch or import there, 404 for its batches)."""

from __future__ import annotations

import csv
import io
import re

from fastapi.testclient import TestClient
from httpx2 import Response
from sqlalchemy import Engine, func, select

from api.wiring import Container
from tests.conftest import World
from tests.integration.test_paf_import import csv_bytes, paf_lines
from tests.support.api import Api, page_session
from workflow.store.tables import dossier_table


def send_paf(api: Api, person: int, slug: str, content: bytes, *, essai: bool) -> Response:
    return api.post(
        "/api/v1/paf/imports",
        person,
        params={"academie": slug, "essai": str(essai).lower()},
        files={"file": ("paf.csv", content, "text/csv")},
    )


def paf_count(engine: Engine, academie_id: int) -> int:
    with engine.connect() as conn:
        return int(
            conn.execute(
                select(func.count())
                .select_from(dossier_table)
                .where(
                    dossier_table.c.academie_id == academie_id, dossier_table.c.paf_id.is_not(None)
                )
            ).scalar_one()
        )


def test_paf_over_http_dry_run_refusal_import_and_reimport(
    api: Api, world: World, engine: Engine
) -> None:
    gestionnaire = world.team.gestionnaire
    broken = csv_bytes(paf_lines(world, engine, 5, broken=False))
    broken = broken.replace(b"26A0000002;", b"26A0000002;x").replace(b";13,5;", b";treize;", 1)

    trial = send_paf(api, gestionnaire, world.slug, broken, essai=True)
    assert trial.status_code == 200, trial.text
    body = trial.json()
    assert body["essai"] is True and body["applied"] is False
    assert body["counts"]["creation"] == 4 and body["counts"]["refusee"] == 1
    refused = [line for line in body["lines"] if line["action"] == "refusee"]
    assert refused[0]["line"] == 2
    assert refused[0]["reasons"] == ["Heures distance : nombre attendu (ex. 6 ou 4,5)"]

    real = send_paf(api, gestionnaire, world.slug, broken, essai=False)
    assert real.status_code == 422
    problem = real.json()
    assert problem["errors"] == [
        {"field": "ligne 2", "message": "Heures distance : nombre attendu (ex. 6 ou 4,5)"}
    ]
    assert paf_count(engine, world.academie_id) == 0

    fixed = csv_bytes(paf_lines(world, engine, 5))
    done = send_paf(api, gestionnaire, world.slug, fixed, essai=False)
    assert done.status_code == 200, done.text
    assert done.json()["counts"]["creation"] == 5
    again = send_paf(api, gestionnaire, world.slug, fixed, essai=False)
    assert again.json()["counts"]["inchangee"] == 5
    assert paf_count(engine, world.academie_id) == 5

    dossier = done.json()["lines"][0]["dossier_id"]
    read = api.get(f"/api/v1/dossiers/{dossier}", gestionnaire)
    assert read.json()["paf_id"] == "26A0000001"


def test_paf_of_another_academie_is_refused(api: Api, world: World, engine: Engine) -> None:
    content = csv_bytes(paf_lines(world, engine, 1))
    for person in (world.other_academie_gestionnaire, world.team.pilote):
        answer = send_paf(api, person, world.slug, content, essai=True)
        assert answer.status_code == 403, answer.text
        assert "importer le PAF" in answer.json()["detail"]
    missing = api.post(
        "/api/v1/paf/imports", world.team.gestionnaire, params={"academie": world.slug}
    )
    assert missing.status_code == 415


def test_bulk_over_http_with_a_filter_and_results_download(
    api: Api, world: World, api_container: Container, engine: Engine
) -> None:
    gestionnaire = world.team.gestionnaire
    ids = []
    for state in ("bilan_soumis", "bilan_soumis", "realisee"):
        dossier = world.formation()
        world.builder.drive(dossier, world.team, state)
        ids.append(dossier)
    launched = api.post(
        "/api/v1/bulk-actions",
        gestionnaire,
        json={
            "academie": world.slug,
            "action": "valider_bilan",
            "filter": {"etat": "bilan_soumis"},
        },
    )
    assert launched.status_code == 202, launched.text
    batch = launched.json()
    assert batch["total"] == 2 and batch["pending"] == 2 and batch["status"] == "en_attente"
    assert launched.headers["Location"] == f"/api/v1/bulk-actions/{batch['id']}"

    busy = api.post(
        "/api/v1/bulk-actions",
        gestionnaire,
        json={"academie": world.slug, "action": "relancer", "dossier_ids": [ids[2]]},
    )
    assert busy.status_code == 409
    assert "déjà en cours" in busy.json()["detail"]

    api_container.bulk.run_once(only=batch["id"])
    followed = api.get(f"/api/v1/bulk-actions/{batch['id']}", gestionnaire).json()
    assert (followed["status"], followed["done"], followed["refused"]) == ("terminee", 2, 0)

    chosen = api.post(
        "/api/v1/bulk-actions",
        gestionnaire,
        json={"academie": world.slug, "action": "valider_bilan", "dossier_ids": [ids[2]]},
    ).json()
    api_container.bulk.run_once(only=chosen["id"])
    download = api.get(
        f"/api/v1/bulk-actions/{chosen['id']}/results", gestionnaire, params={"format": "csv"}
    )
    assert download.status_code == 200
    rows = list(csv.reader(io.StringIO(download.content.decode("utf-8-sig")), delimiter=";"))
    assert rows[0][:6] == [
        "Référence",
        "Identifiant PAF",
        "Intitulé",
        "Action",
        "Résultat",
        "Détail",
    ]
    assert rows[1][3:5] == ["Valider le bilan", "Refusé"]
    assert "« Formation réalisée »" in rows[1][5]


def test_bulk_of_another_academie_is_refused(
    api: Api, world: World, api_container: Container
) -> None:
    dossier = world.formation()
    launched = api.post(
        "/api/v1/bulk-actions",
        world.team.gestionnaire,
        json={"academie": world.slug, "action": "relancer", "dossier_ids": [dossier]},
    ).json()
    stranger = world.other_academie_gestionnaire
    attempt = api.post(
        "/api/v1/bulk-actions",
        stranger,
        json={"academie": world.slug, "action": "relancer", "dossier_ids": [dossier]},
    )
    assert attempt.status_code == 403
    for path in (
        f"/api/v1/bulk-actions/{launched['id']}",
        f"/api/v1/bulk-actions/{launched['id']}/results",
    ):
        assert api.get(path, stranger).status_code == 404
    api_container.bulk.run_once(only=launched["id"])


def test_the_upload_form_offers_the_academie_of_ones_last_paf(
    world: World, engine: Engine, client: TestClient, api_container: Container
) -> None:
    """A gestionnaire of two académies chose the académie again at every file: the form now
    offers the one of their latest PAF, and nothing before their first."""
    gestionnaire = world.team.gestionnaire
    second = world.builder.editor.create_academie(f"{world.slug}-bis", "Académie bis", "BIS")
    world.builder.editor.assign(gestionnaire, "gestionnaire", academie_id=second)
    csrf = page_session(client, api_container, gestionnaire)

    def selected() -> list[str]:
        page = client.get("/paf")
        assert page.status_code == 200
        return re.findall(r'<option value="([^"]*)" selected>', page.text)

    assert selected() == [""]  # « Choisir une académie »
    for slug in (f"{world.slug}-bis", world.slug):
        trial = client.post(
            "/paf",
            data={"csrf_token": csrf, "academie": slug},
            files={"file": ("paf.csv", csv_bytes(paf_lines(world, engine, 1)), "text/csv")},
        )
        assert trial.status_code == 200, trial.text[:300]
        assert selected() == [slug]
