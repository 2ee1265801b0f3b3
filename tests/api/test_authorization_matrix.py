"""Who may do what, over HTTP with bearer tokens: every trigger × role × relation, every read.

Each cell of the matrix fires one trigger through ``POST …/transitions/{trigger}``:

- allowed by DOMAIN §2 (derived roles included) and on the dossier → 200, on a fresh dossier;
- not allowed, but the dossier is visible to the caller → 403;
- dossier not visible to the caller → 404 (its existence does not leak).

A refusal changes nothing (the ETag stays) and is logged with the actor and the trigger.
"""

from __future__ import annotations

import logging
import string
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from api.app import create_app
from states import LATEST
from states.dispositifs import DISPOSITIFS
from tests.conftest import make_world
from tests.support.api import Api
from tests.support.matrix import (
    COMMENT,
    DISPOSITIF_DEPENDENT,
    DOMAIN_ROLES,
    FORMATION,
    OUTSIDE_THE_MATRIX,
    OUVERTURE,
    Attempt,
    Matrix,
    Relation,
    allowed_roles,
    attempts,
    collection_app,
    dossier_read_paths,
    email_of,
    make_container,
    spec_roles,
)
from workflow.demo import DemoBuilder, Team
from workflow.engine.service import WorkflowService
from workflow.rules import RULES
from workflow.store.tables import document_table, session_table

PROBLEM_JSON = "application/problem+json"
ATTEMPTS = attempts()
READ_PATHS = dossier_read_paths(collection_app(Path(tempfile.gettempdir())))


@pytest.fixture(scope="module")
def matrix(engine: Engine, data_dir: Path, academies_dir: Path) -> Iterator[Matrix]:
    builder = DemoBuilder(engine, data_dir, WorkflowService(engine, RULES))
    here = make_world(builder)
    far = make_world(builder)
    far.formation()  # the other académie's team holds its roles on a dossier there
    neighbours = Team(
        pilote=here.person("voisin-pilote"),
        formateurs=[here.person("voisin-formateur")],
        gestionnaire=here.team.gestionnaire,
        responsable=here.team.responsable,
        concepteur=here.person("voisin-concepteur"),
        tuteur=here.person("voisin-tuteur"),
        chef_etablissement=here.person("voisin-chef"),
        ien=here.person("voisin-ien"),
        coordonnateur_reseau=here.person("voisin-coordo"),
        stagiaires=[here.person("voisin-stagiaire")],
    )
    builder.formation(here.academie_id, neighbours, title="Dossier voisin")
    editor = builder.editor
    third = editor.create_academie(
        f"tierce-{here.slug}", "Académie tierce", f"X{uuid.uuid4().hex[:6]}"
    )
    third_staff = {role: here.person(f"{role}-tierce") for role in ("gestionnaire", "responsable")}
    for role, person in third_staff.items():
        editor.assign(person, role, academie_id=third)
    container = make_container(engine, data_dir)
    with TestClient(create_app(container)) as client:
        yield Matrix(
            builder=builder,
            api=Api(client, container),
            academie_id=here.academie_id,
            slug=here.slug,
            team=here.team,
            neighbours=neighbours,
            far=far.team,
            outsider=here.outsider,
            foreign_gestionnaire=here.other_academie_gestionnaire,
            third_academie=third_staff,
        )


def _warnings(caplog: pytest.LogCaptureFixture, logger: str) -> list[str]:
    return [
        r.getMessage() for r in caplog.records if r.name == logger and r.levelno == logging.WARNING
    ]


# The expectations themselves ---------------------------------------------------------


def test_the_matrix_expectations_are_the_spec() -> None:
    """DOMAIN §2 as written in the matrix and the specs say the same thing, trigger by
    trigger and dispositif by dispositif (derived roles resolved)."""
    spec_triggers = {(w, t.trigger) for w in (FORMATION, OUVERTURE) for t in LATEST[w].transitions}
    written = set(DOMAIN_ROLES) | {(FORMATION, t) for t in DISPOSITIF_DEPENDENT}
    assert spec_triggers == written
    for workflow, trigger in sorted(spec_triggers):
        for dispositif in DISPOSITIFS if workflow == FORMATION else (None,):
            assert spec_roles(workflow, trigger, dispositif) == allowed_roles(
                workflow, trigger, dispositif
            ), (workflow, trigger, dispositif)


def test_the_matrix_covers_every_trigger_role_and_relation() -> None:
    triggers = {(a.workflow, a.trigger) for a in ATTEMPTS}
    assert len(triggers) + len(OUTSIDE_THE_MATRIX) == sum(
        len(LATEST[w].transitions) for w in (FORMATION, OUVERTURE)
    )
    assert {a.role for a in ATTEMPTS} == {
        "pilote",
        "concepteur",
        "formateur",
        "tuteur",
        "stagiaire",
        "chef_etablissement",
        "ien",
        "coordonnateur_reseau",
        "gestionnaire",
        "responsable",
    }
    assert {a.relation for a in ATTEMPTS} == set(Relation)
    assert len({a.id for a in ATTEMPTS}) == len(ATTEMPTS)
    # Each trigger has at least one allowed cell and one refused cell of each kind.
    for workflow, trigger in triggers:
        statuses = {
            a.expected_status for a in ATTEMPTS if (a.workflow, a.trigger) == (workflow, trigger)
        }
        assert statuses == {200, 403, 404}, (workflow, trigger)


# Transitions -------------------------------------------------------------------------


@pytest.mark.parametrize("attempt", ATTEMPTS, ids=[a.id for a in ATTEMPTS])
def test_transition(matrix: Matrix, attempt: Attempt, caplog: pytest.LogCaptureFixture) -> None:
    dossier = matrix.dossier_for(attempt)
    etag = matrix.etag(dossier)
    person = matrix.person(attempt.role, attempt.relation)
    caplog.set_level(logging.WARNING)
    response = matrix.api.fire(
        dossier,
        attempt.trigger,
        person,
        comment=COMMENT if attempt.comment_required else None,
        etag=etag,
    )
    assert response.status_code == attempt.expected_status, response.text
    if attempt.allowed:
        body = response.json()
        transition = LATEST[attempt.workflow].transition(attempt.trigger)
        # On a fresh dossier a signature is never the last one: the contract waits for more.
        expected = "contrat_a_signer" if attempt.trigger == "signer" else transition.dest
        assert (body["from_state"], body["to_state"]) == (attempt.source, expected)
        assert body["role"] == attempt.role
        version = int(etag.strip('"')) + 1
        assert body["version"] == version
        assert response.headers["ETag"] == f'"{version}"' == matrix.etag(dossier)
        return
    assert response.headers["content-type"].startswith(PROBLEM_JSON)
    assert matrix.etag(dossier) == etag, "a refused attempt changed the dossier"
    problem = "action-non-autorisee" if attempt.expected_status == 403 else "dossier-introuvable"
    assert response.json()["type"] == f"/api/problemes/{problem}"
    logged = _warnings(caplog, "workflow.engine.service")
    assert any(
        "refused" in m
        and f"actor={person} " in m
        and f"trigger={attempt.trigger} " in m
        and f"dossier={dossier} " in m
        for m in logged
    ), logged


# Reads -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Readable:
    formation: int
    ouverture: int
    convention_ent: int
    """For the paper only an ENT convention has (the fiche bilan ENT)."""


@pytest.fixture(scope="module")
def readable(matrix: Matrix) -> Readable:
    """A formation dossier with everything a read can show (scenario, sessions, bilan,
    documents, payment decision), and an opening request under review."""
    builder = matrix.builder
    formation = builder.formation(matrix.academie_id, matrix.team, title="Dossier complet")
    builder.add_sessions(formation, matrix.team, datetime.now(UTC) + timedelta(days=30))
    builder.drive(formation, matrix.team, "paiement_accorde")
    ouverture = matrix.new_ouverture("soumise")
    ent = builder.formation(
        matrix.academie_id, matrix.team, title="Convention ENT", dispositif="hse_convention_ent"
    )
    return Readable(formation, ouverture, ent)


def _path_values(engine: Engine, dossier: int) -> dict[str, Any]:
    """A value for every path parameter a dossier read may have (first row of each kind)."""
    with engine.connect() as conn:
        document = conn.execute(
            select(document_table.c.id).where(document_table.c.dossier_id == dossier).limit(1)
        ).scalar()
        session = conn.execute(
            select(session_table.c.id).where(session_table.c.dossier_id == dossier).limit(1)
        ).scalar()
    return {"dossier_id": dossier, "document_id": document, "session_id": session}


def _url(matrix: Matrix, readable: Readable, path: str) -> tuple[int, str]:
    dossier = readable.ouverture if "/demande" in path else readable.formation
    if "fiche-bilan-ent" in path:
        dossier = readable.convention_ent
    values = _path_values(matrix.api.container.engine, dossier)
    names = [name for _, name, _, _ in string.Formatter().parse(path) if name]
    unknown = [name for name in names if values.get(name) is None]
    if unknown:
        pytest.fail(f"{path}: no test value for {unknown}; add one to _path_values")
    return dossier, path.format(**{name: values[name] for name in names})


def test_every_dossier_read_route_is_found() -> None:
    assert "/api/v1/dossiers/{dossier_id}" in READ_PATHS
    assert "/api/v1/dossiers/{dossier_id}/history" in READ_PATHS


@pytest.mark.parametrize("path", READ_PATHS)
def test_read(
    matrix: Matrix, readable: Readable, path: str, caplog: pytest.LogCaptureFixture
) -> None:
    dossier, url = _url(matrix, readable, path)
    api = matrix.api
    for person in (matrix.team.pilote, matrix.team.stagiaires[0], matrix.team.gestionnaire):
        response = api.get(url, person)
        assert response.status_code == 200, (person, response.text)
    caplog.set_level(logging.WARNING)
    for person in (
        matrix.outsider,
        matrix.foreign_gestionnaire,
        matrix.neighbours.pilote,
        matrix.far.pilote,
    ):
        response = api.get(url, person)
        assert response.status_code == 404, (person, response.text)
        assert response.headers["content-type"].startswith(PROBLEM_JSON)
        assert response.json()["type"] == "/api/problemes/dossier-introuvable"
        logged = _warnings(caplog, "formaflow.access")
        assert any(f"person={person} " in m and f"dossier={dossier} " in m for m in logged), (
            person,
            logged,
        )
    anonymous = api.client.get(url)
    assert anonymous.status_code == 401
    assert anonymous.json()["type"] == "/api/problemes/authentification-requise"
    forged = api.client.get(url, headers={"Authorization": "Bearer ffk_pas-un-vrai-jeton"})
    assert forged.status_code == 401


def test_a_document_is_read_only_through_its_own_dossier(
    matrix: Matrix, readable: Readable
) -> None:
    """A document id of another dossier, asked through a dossier one may read, is not found."""
    neighbour = matrix.builder.formation(
        matrix.academie_id, matrix.neighbours, title="Dossier voisin avec document"
    )
    matrix.builder.drive(neighbour, matrix.neighbours, "realisee")
    matrix.builder.complete_bilan(neighbour, matrix.neighbours)
    engine = matrix.api.container.engine
    theirs = _path_values(engine, neighbour)["document_id"]
    mine = _path_values(engine, readable.formation)["document_id"]
    api = matrix.api
    assert (
        api.get(
            f"/api/v1/dossiers/{neighbour}/documents/{theirs}", matrix.neighbours.pilote
        ).status_code
        == 200
    )
    assert (
        api.get(
            f"/api/v1/dossiers/{readable.formation}/documents/{mine}", matrix.team.pilote
        ).status_code
        == 200
    )
    crossed = api.get(
        f"/api/v1/dossiers/{readable.formation}/documents/{theirs}", matrix.team.pilote
    )
    assert crossed.status_code == 404, crossed.text
    assert crossed.headers["content-type"].startswith(PROBLEM_JSON)


def _listed(api: Api, person: int, **params: Any) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    offset = 0
    while True:
        response = api.get(
            "/api/v1/dossiers", person, params={"limit": 200, "offset": offset, **params}
        )
        assert response.status_code == 200, response.text
        page = response.json()
        items += page["items"]
        if not page["has_more"]:
            return items
        offset += 200


def test_the_list_never_shows_another_academie(matrix: Matrix, readable: Readable) -> None:
    api = matrix.api
    mine = _listed(api, matrix.team.gestionnaire)
    assert {readable.formation, readable.ouverture} <= {d["id"] for d in mine}
    assert {d["academie"] for d in mine} == {matrix.slug}
    for person in (matrix.team.pilote, matrix.team.stagiaires[0], matrix.neighbours.pilote):
        seen = _listed(api, person)
        assert seen and {d["academie"] for d in seen} == {matrix.slug}
    neighbour_ids = {d["id"] for d in _listed(api, matrix.neighbours.pilote)}
    assert readable.formation not in neighbour_ids
    for person in (matrix.foreign_gestionnaire, matrix.far.gestionnaire, matrix.far.pilote):
        seen = _listed(api, person)
        assert matrix.slug not in {d["academie"] for d in seen}
        assert _listed(api, person, academie=matrix.slug) == []
    assert _listed(api, matrix.far.gestionnaire), "the other académie sees its own dossiers"
    assert _listed(api, matrix.outsider) == []
    assert api.client.get("/api/v1/dossiers").status_code == 401


# What a refusal must not reveal ------------------------------------------------------


@pytest.mark.parametrize(
    ("trigger", "if_match"),
    [
        ("emettre_contrat", '"999"'),  # a stale version
        ("valider_bilan", None),  # a trigger not available in this state
        ("n_existe_pas", None),  # no such trigger
    ],
    ids=["version-perimee", "action-indisponible", "action-inconnue"],
)
def test_a_dossier_one_cannot_see_does_not_leak_through_a_transition(
    matrix: Matrix, readable: Readable, trigger: str, if_match: str | None
) -> None:
    """Whatever the request, someone who may not see the dossier learns nothing of it: not
    its version (412), not its state or its possible actions (409) — only 404."""
    dossier = matrix.new_dossier(FORMATION, "brouillon", "vacation_accompagnement")
    etag = matrix.etag(dossier)
    for person in (matrix.outsider, matrix.foreign_gestionnaire, matrix.neighbours.pilote):
        response = matrix.api.fire(dossier, trigger, person, etag=if_match or etag)
        assert response.status_code == 404, (person, response.text)
        assert response.json()["type"] == "/api/problemes/dossier-introuvable"
        assert "valid_triggers" not in response.json()
    assert matrix.etag(dossier) == etag


def test_naming_a_team_member_does_not_reveal_who_has_an_account(
    matrix: Matrix, readable: Readable
) -> None:
    """Someone who may not change the team gets the same answer whether the email they
    send belongs to a person or not: the endpoint is no directory of accounts."""
    known = email_of(matrix.api.container.engine, matrix.far.pilote)
    unknown = f"personne-{uuid.uuid4().hex[:8]}@example.org"
    path = f"/api/v1/dossiers/{readable.formation}/assignments"
    etag = matrix.etag(readable.formation)
    for person, status, problem in (
        (matrix.outsider, 404, "dossier-introuvable"),
        (matrix.neighbours.pilote, 404, "dossier-introuvable"),
        (matrix.team.stagiaires[0], 403, "action-non-autorisee"),
    ):
        for email in (known, unknown):
            response = matrix.api.post(
                path, person, json={"person_email": email, "role": "formateur"}
            )
            assert response.status_code == status, (person, email, response.text)
            assert response.json()["type"] == f"/api/problemes/{problem}"
    assert matrix.etag(readable.formation) == etag
    team = matrix.api.get(f"/api/v1/dossiers/{readable.formation}", matrix.team.pilote)
    assert matrix.far.pilote not in {m["person_id"] for m in team.json()["team"]}


def test_naming_a_substitute_does_not_reveal_who_has_an_account(
    matrix: Matrix, readable: Readable
) -> None:
    """A team member who may not name a substitute gets 403 whatever the email."""
    known = email_of(matrix.api.container.engine, matrix.far.pilote)
    unknown = f"personne-{uuid.uuid4().hex[:8]}@example.org"
    etag = matrix.etag(readable.formation)
    pilote = email_of(matrix.api.container.engine, matrix.team.pilote)
    for email in (known, unknown):
        response = matrix.api.post(
            f"/api/v1/dossiers/{readable.formation}/delegations",
            matrix.team.stagiaires[0],
            json={
                "delegator_email": pilote,
                "substitute_email": email,
                "starts_at": "2030-01-01T00:00:00+01:00",
                "ends_at": "2030-02-01T00:00:00+01:00",
            },
        )
        assert response.status_code == 403, (email, response.text)
    assert matrix.etag(readable.formation) == etag
