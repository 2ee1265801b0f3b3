"""What an ops person relies on: probes, metrics without personal data, the token cache."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import create_engine

from api.accounts import Accounts
from api.app import create_app
from api.settings import ApiSettings
from api.wiring import Container
from tests.conftest import World
from tests.support.api import Api


def test_probes_answer_without_authentication(api: Api) -> None:
    assert api.client.get("/healthz").json() == {"statut": "ok"}
    assert api.client.get("/readyz").status_code == 200


def test_readyz_says_503_when_the_database_is_unreachable(api_container: Container) -> None:
    broken = Container(api_container.settings, api_container.api_settings)
    broken.__dict__["engine"] = create_engine("sqlite:////nonexistent/dir/formaflow.db")
    with TestClient(create_app(broken)) as client:
        response = client.get("/readyz")
    assert response.status_code == 503 and response.json()["statut"] == "indisponible"


def test_metrics_label_routes_by_template_never_by_id(world: World, api: Api) -> None:
    dossier = world.formation()
    api.fire(dossier, "emettre_contrat", world.team.pilote)
    text = api.client.get("/metrics").text
    assert 'route="/api/v1/dossiers/{dossier_id}"' in text
    assert f'/api/v1/dossiers/{dossier}"' not in text
    assert (
        'formaflow_transitions_total{trigger="emettre_contrat",workflow="dossier_formation"}'
        in text
    )


def test_token_cache_trusts_a_token_for_its_delay_only_in_its_own_process(
    world: World, api_container: Container
) -> None:
    settings = ApiSettings(token_cache_seconds=60, data_dir=api_container.api_settings.data_dir)
    here = Accounts(api_container.engine, settings)
    elsewhere = Accounts(api_container.engine, settings)
    token = here.create_token(world.team.pilote)
    assert here.bearer(token) is not None
    assert elsewhere.revoke_token(token) == 1
    # Revoked by another process: this one keeps trusting its cached answer for the delay.
    assert here.bearer(token) is not None
    assert elsewhere.bearer(token) is None
    uncached = Accounts(api_container.engine, ApiSettings())
    assert uncached.bearer(token) is None
