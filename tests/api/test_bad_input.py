"""Bad input gets a French 4xx and loses nothing (issue 11, §4), on SQLite and PostgreSQL."""

from __future__ import annotations

import html
import uuid
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from icalendar import Calendar
from sqlalchemy import select, update

from api.wiring import Container
from tests.api.test_work import problem, session_body, url
from tests.conftest import World
from tests.support.api import Api, page_session
from tests.support.cli import run_cli
from workflow.engine.rows import load
from workflow.store.tables import person_table, session_table

# connection_link: one check, page and API; exports survive what was stored before --------

BAD_LINKS = [
    "javascript:alert(1)",
    "http://visio.example.org/salle",
    "https://visio.example.org/a\r\nX-Injected: 1",
    "https://visio.example.org/a b",
    "https://",
]


@pytest.mark.parametrize("link", BAD_LINKS)
def test_the_api_refuses_a_connection_link_that_is_not_https(
    world: World, api: Api, link: str
) -> None:
    dossier = world.formation()
    formateur = world.team.formateurs[0]
    refused = api.post(
        url(dossier, "sessions"), formateur, json=session_body(formateur, connection_link=link)
    )
    body = problem(refused, 422, "saisie-invalide")
    assert "adresse web attendue" in body["detail"]
    assert api.get(url(dossier, "sessions"), formateur).json() == []


def test_the_page_refuses_the_same_links_with_the_same_words(
    world: World, client: TestClient, api_container: Container
) -> None:
    dossier = world.formation()
    csrf = page_session(client, api_container, world.team.formateurs[0])
    form = {
        "csrf_token": csrf,
        "date": "12/03/2026",
        "heure": "14h00",
        "duree": "90",
        "modalite": "classe_virtuelle",
        "animateurs": "1",
    }
    for link in ("http://visio.example.org/salle", "javascript:alert(1)"):
        page = client.post(f"/dossiers/{dossier}/sessions", data={**form, "lien": link})
        assert page.status_code == 422
        assert "adresse web attendue, commençant par https://" in html.unescape(page.text)
    accepted = client.post(
        f"/dossiers/{dossier}/sessions",
        data={**form, "lien": "https://visio.example.org/s"},
        follow_redirects=False,
    )
    assert accepted.status_code == 303, accepted.text


def test_exports_survive_links_stored_before_the_check(
    world: World, api: Api, api_container: Container, database_url: str, tmp_path: Path
) -> None:
    """The ICS export answered 500 for good and ``formaflow export sessions`` printed a
    traceback once such a link was in the database."""
    dossier = world.formation()
    formateur = world.team.formateurs[0]
    created = api.post(url(dossier, "sessions"), formateur, json=session_body(formateur))
    assert created.status_code == 201, created.text
    stored = "javascript:alert(1)\r\nX-Injected: 1"
    with api_container.engine.begin() as conn:
        conn.execute(
            update(session_table)
            .where(session_table.c.id == created.json()["id"])
            .values(connection_link=stored)
        )

    ics = api.get(f"/api/v1/dossiers/{dossier}/exports/sessions.ics", formateur)
    assert ics.status_code == 200, ics.text
    [event] = Calendar.from_ical(ics.content).walk("VEVENT")
    assert "URL" not in event and "LOCATION" not in event
    assert "adresse invalide" in str(event["DESCRIPTION"])
    assert b"X-Injected" not in ics.content

    page = api.get(f"/dossiers/{dossier}/sessions", formateur)
    assert page.status_code == 200
    assert 'href="javascript' not in page.text

    with api_container.engine.connect() as conn:
        reference = load(conn, dossier).reference
    out = tmp_path / "sessions.ics"
    exported = run_cli(
        database_url,
        api_container.settings.data_dir,
        "export",
        "sessions",
        reference,
        "--output",
        str(out),
    )
    assert exported.returncode == 0, exported.stderr
    assert "Traceback" not in exported.stdout + exported.stderr
    assert b"X-Injected" not in out.read_bytes()


# Headers and text the database cannot take ---------------------------------------------------


def _fire(api: Api, dossier: int, person: int, etag: str, body: bytes) -> Any:
    return api.post(
        f"/api/v1/dossiers/{dossier}/transitions/emettre_contrat",
        person,
        content=body,
        headers={"If-Match": etag, "Content-Type": "application/json"},
    )


@pytest.mark.parametrize("etag", ['"' + "9" * 5000 + '"', "9" * 5000, '"-1"', '"1e3"'])
def test_an_unusable_if_match_is_a_french_412(world: World, api: Api, etag: str) -> None:
    dossier = world.formation()
    refused = _fire(api, dossier, world.team.pilote, etag, b'{"comment": "ok"}')
    assert "ne désigne pas une version" in problem(refused, 412, "version-perimee")["detail"]


@pytest.mark.parametrize(
    ("body", "words"),
    [
        (b'{"comment": "avant\\u0000apr\\u00e8s"}', "caractère nul interdit"),
        (b'{"comment": "ok", "payload": {"cl\\u0000": 1}}', "caractère nul interdit"),
        (b'{"comment": "ok", "payload": {"a": ["\\u0000"]}}', "caractère nul interdit"),
        (b'{"comment": "seul \\ud800 ici"}', "Unicode"),
        (b'{"comment": "ok", "payload": {"a": "\\udfff"}}', "Unicode"),
    ],
)
def test_nul_and_lone_surrogates_are_a_french_422_and_nothing_changes(
    world: World, api: Api, body: bytes, words: str
) -> None:
    dossier = world.formation()
    pilote = world.team.pilote
    etag = api.version(dossier, pilote)
    refused = _fire(api, dossier, pilote, etag, body)
    detail = problem(refused, 422, "saisie-invalide")["detail"]
    assert words in detail
    assert "Input should" not in detail and "valid string" not in detail
    assert api.version(dossier, pilote) == etag


def test_a_nul_in_a_login_is_refused_not_looked_up(client: TestClient) -> None:
    refused = client.post(
        "/api/v1/auth/login", json={"email": "a\x00@example.org", "password": "x"}
    )
    problem(refused, 422, "saisie-invalide")


# Schema conformance --------------------------------------------------------------------


def test_closed_lists_are_enums_in_the_openapi_document(client: TestClient) -> None:
    document = client.get("/api/openapi.json").json()
    schemas = document["components"]["schemas"]

    def enum(schema: dict[str, Any]) -> list[str]:
        for option in schema.get("anyOf", [schema]):
            if "enum" in option:
                return list(option["enum"])
            if "items" in option and "enum" in option["items"]:
                return list(option["items"]["enum"])
        raise AssertionError(f"no enum in {schema}")

    assert "classe_virtuelle" in enum(schemas["SessionInput"]["properties"]["modality"])
    assert "asynchrone" in enum(schemas["StepInput"]["properties"]["modality"])
    assert "formateur" in enum(schemas["AssignmentIn"]["properties"]["role"])
    assert "gestionnaire" not in enum(schemas["AssignmentIn"]["properties"]["role"])
    assert "eafc_taux_a" in enum(schemas["DossierCreate"]["properties"]["dispositif"])
    assert "ouverture_parcours" in enum(schemas["DossierCreate"]["properties"]["workflow"])
    assert enum(schemas["OuvertureInput"]["properties"]["publics"])
    paths = document["paths"]
    unassign = paths["/api/v1/dossiers/{dossier_id}/assignments/{person_id}/{role}"]["delete"]
    role = next(p for p in unassign["parameters"] if p["name"] == "role")
    assert "tuteur" in enum(role["schema"])


@pytest.mark.parametrize("value", [0, 1_700_000_000, 0.5, True])
def test_a_number_is_not_a_date(world: World, api: Api, value: object) -> None:
    body = {"title": "Formation datée", "academie": world.slug, "planned_start": value}
    refused = api.post("/api/v1/dossiers", world.team.gestionnaire, json=body)
    assert refused.status_code == 422, refused.text
    if not isinstance(value, bool):
        assert "date attendue" in refused.json()["detail"]


def test_max_length_is_counted_as_published(world: World, api: Api) -> None:
    gestionnaire = world.team.gestionnaire
    padded = {"title": "a" * 300 + " ", "academie": world.slug}
    refused = api.post("/api/v1/dossiers", gestionnaire, json=padded)
    assert "texte trop long" in problem(refused, 422, "saisie-invalide")["detail"]
    exact = api.post("/api/v1/dossiers", gestionnaire, json={**padded, "title": "a" * 300})
    assert exact.status_code == 201, exact.text


def test_a_wrong_method_lists_every_allowed_one(world: World, api: Api) -> None:
    dossier = world.formation()
    answer = api.client.delete(f"/api/v1/dossiers/{dossier}", headers=api.auth(world.team.pilote))
    assert answer.status_code == 405
    assert answer.headers["Allow"] == "GET, PATCH"
    page = api.client.put(f"/dossiers/{dossier}/sessions", headers={"Accept": "text/html"})
    assert page.status_code == 405
    assert page.headers["Allow"] == "GET, POST"


# All or nothing on the command line ----------------------------------------------------------


def test_user_create_with_an_unknown_academie_creates_nobody(
    api_container: Container, database_url: str, tmp_path: Path
) -> None:
    email = f"nouvelle.{uuid.uuid4().hex[:8]}@example.org"
    result = run_cli(
        database_url,
        tmp_path,
        "user",
        "create",
        email,
        "--name",
        "Nouvelle Personne",
        "--academie",
        "inconnue",
        "--role",
        "gestionnaire",
        extra={"FORMAFLOW_NEW_PASSWORD": "un mot de passe assez long"},
    )
    assert result.returncode == 1
    assert "Académie inconnue" in result.stderr
    with api_container.engine.connect() as conn:
        found = conn.execute(select(person_table.c.id).where(person_table.c.email == email))
        assert found.first() is None


# Search blind to accents and case -----------------------------------------------------------


@pytest.mark.parametrize("typed", ["Évaluer", "éval", "Eval", "EVALUER", "evaluer", "ÉVALU"])
def test_search_ignores_accents_and_case(world: World, api: Api, typed: str) -> None:
    gestionnaire = world.team.gestionnaire
    tag = uuid.uuid4().hex[:6]
    wanted = world.builder.formation(
        world.academie_id, world.team, title=f"Évaluer les acquis {tag}", dispositif="eafc_taux_a"
    )
    world.builder.formation(
        world.academie_id, world.team, title=f"Autre chose {tag}", dispositif="eafc_taux_a"
    )
    found = api.get(
        "/api/v1/dossiers", gestionnaire, params={"q": f"{typed}", "academie": world.slug}
    )
    assert found.status_code == 200, found.text
    assert [d["id"] for d in found.json()["items"]] == [wanted]


def test_search_folds_ligatures_and_still_finds_references(world: World, api: Api) -> None:
    gestionnaire = world.team.gestionnaire
    dossier = world.builder.formation(
        world.academie_id, world.team, title="Mise en Œuvre du numérique", dispositif="eafc_taux_a"
    )

    def ids(q: str) -> list[int]:
        return [
            d["id"]
            for d in api.get(
                "/api/v1/dossiers", gestionnaire, params={"q": q, "academie": world.slug}
            ).json()["items"]
        ]

    assert ids("oeuvre") == [dossier]
    assert ids("NUMERIQUE") == [dossier]
    reference = api.get(f"/api/v1/dossiers/{dossier}", gestionnaire).json()["reference"]
    assert ids(reference.lower()) == [dossier]


# A NUL in an address: no database stores it; refused before any query --------------------

NUL_ADDRESSES = [
    "/api/v1/dossiers?q=%00",
    "/api/v1/dossiers?q=eval%00uer",
    "/api/v1/exports/budget?academie=%00",
]


@pytest.mark.parametrize("path", NUL_ADDRESSES)
def test_the_api_refuses_a_nul_in_the_address_in_french(world: World, api: Api, path: str) -> None:
    world.formation()
    body = problem(api.get(path, world.team.gestionnaire), 400, "caractere-nul")
    assert "caractère nul" in body["detail"]


def test_a_page_refuses_a_nul_in_its_filters_with_a_french_page(
    world: World, client: TestClient, api_container: Container
) -> None:
    world.formation()
    page_session(client, api_container, world.team.gestionnaire)
    for path in ("/tableau-de-bord?q=%00", "/tableau-de-bord?pilote=a%00b", "/a-traiter?x=%00"):
        refused = client.get(path)
        assert refused.status_code == 400, path
        assert "caractère nul" in html.unescape(refused.text)
        assert refused.headers["content-type"].startswith("text/html")
    # The same filters without the NUL still answer.
    assert client.get("/tableau-de-bord?q=eval").status_code == 200
