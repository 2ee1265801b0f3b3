"""Transitions over HTTP: If-Match, Idempotency-Key, problem+json, CSRF on cookies."""

from __future__ import annotations

import json

import pytest

from api.schemas import TransitionOut
from tests.conftest import World
from tests.support.api import Api

JSON_PROBLEM = "application/problem+json"


def test_if_match_is_required_then_checked(world: World, api: Api) -> None:
    dossier = world.formation()
    path = f"/api/v1/dossiers/{dossier}/transitions/emettre_contrat"
    missing = api.post(path, world.team.pilote, json={})
    assert missing.status_code == 428
    assert missing.headers["content-type"].startswith(JSON_PROBLEM)
    assert missing.json()["type"] == "/api/problemes/if-match-requis"
    stale = api.post(path, world.team.pilote, json={}, headers={"If-Match": '"7"'})
    assert stale.status_code == 412 and "modifié entre-temps" in stale.json()["detail"]
    ok = api.fire(dossier, "emettre_contrat", world.team.pilote)
    assert ok.status_code == 200, ok.text
    assert ok.headers["ETag"] == '"2"' and ok.json()["to_state"] == "contrat_a_signer"


def test_guard_failure_lists_missing_items(world: World, api: Api) -> None:
    dossier = world.formation()
    world.builder.drive(dossier, world.team, "contrat_signe")
    response = api.fire(dossier, "soumettre_scenario", world.team.formateurs[0])
    assert response.status_code == 422
    body = response.json()
    assert body["type"] == "/api/problemes/conditions-non-remplies"
    assert "les critères de validation" in body["missing"]


@pytest.mark.parametrize(
    ("who", "status"), [("outsider", 404), ("other_academie_gestionnaire", 404), ("stagiaire", 403)]
)
def test_people_without_the_role_are_refused(world: World, api: Api, who: str, status: int) -> None:
    dossier = world.formation()
    person = world.team.stagiaires[0] if who == "stagiaire" else getattr(world, who)
    etag = api.version(dossier, world.team.pilote)
    response = api.fire(dossier, "emettre_contrat", person, etag=etag)
    assert response.status_code == status
    assert response.headers["content-type"].startswith(JSON_PROBLEM)
    assert api.version(dossier, world.team.pilote) == etag


def test_idempotency_key_replays_the_first_answer(world: World, api: Api) -> None:
    dossier = world.formation()
    headers = {"Idempotency-Key": "cle-1"}
    etag = api.version(dossier, world.team.pilote)
    first = api.fire(dossier, "emettre_contrat", world.team.pilote, etag=etag, headers=headers)
    again = api.fire(dossier, "emettre_contrat", world.team.pilote, etag=etag, headers=headers)
    assert first.status_code == again.status_code == 200
    assert again.json() == first.json() and again.headers["Idempotent-Replay"] == "true"
    assert api.version(dossier, world.team.pilote) == '"2"'
    other = api.fire(
        dossier, "emettre_contrat", world.team.pilote, etag=etag, comment="autre", headers=headers
    )
    assert other.status_code == 422
    assert other.json()["type"] == "/api/problemes/cle-idempotence-reutilisee"


def test_idempotency_key_replays_a_refusal_too(world: World, api: Api) -> None:
    dossier = world.formation()
    headers = {"Idempotency-Key": "cle-refus"}
    etag = api.version(dossier, world.team.pilote)
    first = api.fire(dossier, "annuler", world.team.pilote, etag=etag, headers=headers)
    again = api.fire(dossier, "annuler", world.team.pilote, etag=etag, headers=headers)
    assert first.status_code == again.status_code == 422
    assert again.json() == first.json()


def test_cookie_session_needs_the_csrf_token_for_changes(world: World, api: Api) -> None:
    api.container.accounts.set_password(world.team.pilote, "un mot de passe solide")
    email = api.get("/api/v1/auth/me", world.team.pilote).json()["email"]
    client = api.client
    login = client.post(
        "/api/v1/auth/login", json={"email": email, "password": "un mot de passe solide"}
    )
    assert login.status_code == 200, login.text
    csrf = login.json()["csrf_token"]
    dossier = world.formation()
    path = f"/api/v1/dossiers/{dossier}/transitions/emettre_contrat"
    etag = client.get(f"/api/v1/dossiers/{dossier}").headers["ETag"]
    refused = client.post(path, json={}, headers={"If-Match": etag})
    assert refused.status_code == 403 and refused.json()["type"] == "/api/problemes/jeton-csrf"
    assert client.get(f"/api/v1/dossiers/{dossier}").headers["ETag"] == etag
    accepted = client.post(path, json={}, headers={"If-Match": etag, "X-CSRF-Token": csrf})
    assert accepted.status_code == 200, accepted.text
    assert client.post("/api/v1/auth/logout", headers={"X-CSRF-Token": csrf}).status_code == 204
    assert client.get(f"/api/v1/dossiers/{dossier}").status_code == 401


@pytest.mark.parametrize(
    ("credential", "body", "status"),
    [
        # Who is calling is settled before what they sent: 401 before any 422.
        ("invalid", {"inconnu": 1}, 401),
        ("invalid", {"comment": "x" * 10_001}, 401),
        ("none", {"inconnu": 1}, 401),
        ("valid", {"inconnu": 1}, 422),
        # A body that is not even JSON is refused before anything is looked up.
        ("invalid", b"{pas du json", 422),
        ("invalid", {}, 401),
    ],
)
def test_authentication_comes_before_validation(
    world: World, api: Api, credential: str, body: object, status: int
) -> None:
    dossier = world.formation()
    headers = {"If-Match": '"1"', "Content-Type": "application/json"}
    if credential == "valid":
        headers.update(api.auth(world.team.pilote))
    elif credential == "invalid":
        headers["Authorization"] = "Bearer ffk_jeton-inconnu"
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    path = f"/api/v1/dossiers/{dossier}/transitions/emettre_contrat"
    for target in (path, "/api/v1/dossiers/0/transitions/emettre_contrat"):
        response = api.client.post(target, content=content, headers=headers)
        assert response.status_code == status, response.text
        assert response.headers["content-type"].startswith(JSON_PROBLEM)
    assert api.version(dossier, world.team.pilote) == '"1"'


def test_a_fire_answers_exactly_the_documented_fields(world: World, api: Api) -> None:
    dossier = world.formation()
    response = api.fire(dossier, "emettre_contrat", world.team.pilote)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert list(body) == list(TransitionOut.model_fields)
    assert TransitionOut.model_validate(body).to_state == "contrat_a_signer"
    assert response.headers["ETag"] == f'"{body["version"]}"'
