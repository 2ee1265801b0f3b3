"""Security headers on every answer: pages, API, static files, errors, the API docs."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import Engine

from api.app import create_app
from api.settings import ApiSettings
from api.wiring import Container
from tests.conftest import World
from tests.support.api import Api
from workflow.store.settings import WorkflowSettings


def _container(engine: Engine, data_dir: Path, base_url: str) -> Container:
    container = Container(
        WorkflowSettings(database_url="sqlite://", data_dir=data_dir),
        ApiSettings(env="production", data_dir=data_dir, base_url=base_url),
    )
    container.__dict__["engine"] = engine
    return container


def assert_protected(headers: dict[str, str] | object) -> None:
    h = headers  # an httpx Headers, case-insensitive
    policy = h["content-security-policy"]  # type: ignore[index]
    directives = {d.split()[0]: d.split()[1:] for d in policy.split("; ")}
    assert directives["script-src"] == ["'self'"], policy  # no inline script, no CDN
    assert directives["frame-ancestors"] == ["'none'"]
    assert directives["object-src"] == ["'none'"]
    assert "'unsafe-inline'" not in directives["style-src"]
    assert h["x-frame-options"] == "DENY"  # type: ignore[index]
    assert h["x-content-type-options"] == "nosniff"  # type: ignore[index]
    assert h["referrer-policy"] == "same-origin"  # type: ignore[index]


def test_every_kind_of_answer_carries_the_security_headers(
    client: TestClient, api: Api, world: World
) -> None:
    answers = [
        client.get("/connexion"),  # a page
        client.get("/static/dsfr/dsfr.min.css"),  # a static file
        client.get("/api/v1/health"),  # an open API route
        client.get("/api/v1/dossiers"),  # 401 problem
        client.get("/nulle-part"),  # the page « introuvable »
        api.get("/api/v1/dossiers", world.team.gestionnaire),
    ]
    for response in answers:
        assert_protected(response.headers)
        assert "strict-transport-security" not in response.headers  # plain http here


def test_authenticated_api_answers_are_never_stored(
    client: TestClient, api: Api, world: World
) -> None:
    dossier = world.formation()
    for path in ("/api/v1/dossiers", f"/api/v1/dossiers/{dossier}", "/api/v1/auth/me"):
        response = api.get(path, world.team.pilote)
        assert response.status_code == 200, response.text
        assert response.headers["cache-control"] == "no-store"


def test_hsts_only_when_the_product_is_served_over_https(engine: Engine, data_dir: Path) -> None:
    container = _container(engine, data_dir, "https://formaflow.example.gouv.fr")
    with TestClient(create_app(container), base_url="https://testserver") as https:
        response = https.get("/connexion")
    assert response.headers["strict-transport-security"].startswith("max-age=")
    assert_protected(response.headers)


def test_the_api_docs_allow_only_their_own_inline_script(client: TestClient) -> None:
    response = client.get("/api/docs")
    assert response.status_code == 200
    policy = response.headers["content-security-policy"]
    script_src = next(d for d in policy.split("; ") if d.startswith("script-src"))
    assert "'unsafe-inline'" not in script_src
    assert "'sha256-" in script_src
    assert "frame-ancestors 'none'" in policy
