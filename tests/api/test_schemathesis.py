"""Property-based tests of the whole HTTP API against its own OpenAPI document, in process.

Schemathesis generates requests for every operation of ``/api/openapi.json`` and sends
them to the ASGI app with the bearer token of a gestionnaire whose académie has dossiers in
every state of both workflows. Every answer must be documented (status code, content type,
body schema) and none may be a server error. Path parameters naming a dossier, a session,
a document or a task are mostly pointed at the académie's real rows, so that the bodies of
successful answers are checked too, not only the 404s.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, Phase, settings
from pydantic import SecretStr
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from sqlalchemy import Engine, select

from api.app import create_app
from api.settings import ApiSettings
from api.wiring import Container
from tests.conftest import make_world
from tests.support.matrix import OUVERTURE_STEPS, ouverture_in
from workflow.demo import FORMATION_TARGETS, DemoBuilder
from workflow.engine.service import WorkflowService
from workflow.rules import RULES
from workflow.store.settings import WorkflowSettings
from workflow.store.tables import document_table, dossier_table, session_table, task_table

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


@dataclass(frozen=True)
class Target:
    token: str
    ids: dict[str, list[int]]
    """Real row ids of the gestionnaire's académie, per path parameter name, in creation
    order: a generated value picks the same row whatever else the database holds, so a
    failure found alone is found in the whole suite too."""


class ClientAddress:
    """Gives the requests of this run a client address of their own.

    Failed sign-ins are counted per client address in the database the whole suite shares;
    schemathesis's generated logins must not lock out the other tests' test client."""

    def __init__(self, app: Any, host: str) -> None:
        self.app = app
        self.host = host

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] in ("http", "websocket"):
            scope = {**scope, "client": (self.host, 50000)}
        await self.app(scope, receive, send)


# The app is built at import so that schemathesis can read its OpenAPI document and make
# one test per operation; the fixture below plugs it into the suite's database.
CONTAINER = Container(
    WorkflowSettings(database_url="sqlite://"),
    ApiSettings(env="production", base_url="http://testserver", secret_key=SecretStr("x" * 48)),
)
APP = ClientAddress(create_app(CONTAINER), f"schemathesis-{uuid.uuid4().hex[:8]}")
schema = schemathesis.openapi.from_asgi("/api/openapi.json", APP)


@pytest.fixture(scope="module")
def target(engine: Engine, data_dir: Path, academies_dir: Path) -> Target:
    """Wire the app to the suite's database, and give it an académie with dossiers in every
    state of both workflows, with sessions, documents and tasks."""
    CONTAINER.settings = WorkflowSettings(database_url="sqlite://", data_dir=data_dir)
    CONTAINER.api_settings = ApiSettings(
        env="production", data_dir=data_dir, base_url="http://testserver"
    )
    CONTAINER.__dict__["engine"] = engine
    builder = DemoBuilder(engine, data_dir, WorkflowService(engine, RULES))
    world = make_world(builder)
    start = datetime.now(UTC) + timedelta(days=30)
    for state, dispositif, title in FORMATION_TARGETS:
        dossier = builder.formation(
            world.academie_id, world.team, title=title, dispositif=dispositif
        )
        builder.add_sessions(dossier, world.team, start)
        builder.drive(dossier, world.team, state)
    for state in OUVERTURE_STEPS:
        ouverture_in(builder, world.academie_id, world.team, state)
    with engine.connect() as conn:
        dossiers = list(
            conn.execute(
                select(dossier_table.c.id)
                .where(dossier_table.c.academie_id == world.academie_id)
                .order_by(dossier_table.c.id)
            ).scalars()
        )
        ids = {
            name: list(
                conn.execute(
                    select(table.c.id).where(table.c.dossier_id.in_(dossiers)).order_by(table.c.id)
                ).scalars()
            )
            for name, table in (
                ("session_id", session_table),
                ("document_id", document_table),
                ("task_id", task_table),
            )
        }
    ids["dossier_id"] = dossiers
    token = CONTAINER.accounts.create_token(world.team.gestionnaire, "schemathesis")
    return Target(token, ids)


def test_the_generated_requests_act_as_the_gestionnaire(target: Target) -> None:
    """The token is good and sees the académie's dossiers: were it refused, every answer
    would be a documented 401 and the property test below would prove nothing."""
    with TestClient(APP) as client:
        response = client.get(
            "/api/v1/dossiers",
            params={"limit": 200},
            headers={"Authorization": f"Bearer {target.token}"},
        )
    assert response.status_code == 200, response.text
    assert {d["id"] for d in response.json()["items"]} == set(target.ids["dossier_id"])
    assert target.ids["session_id"] and target.ids["document_id"] and target.ids["task_id"]


@settings(
    max_examples=15,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    # A failure is reported with its curl line as found: shrinking it could take minutes.
    phases=[Phase.explicit, Phase.generate],
)
@schema.parametrize()
def test_api_conforms_to_its_openapi(case: Any, target: Target) -> None:
    for name, pool in target.ids.items():
        value = (case.path_parameters or {}).get(name)
        if isinstance(value, str) and value.isascii() and value.isdigit():
            value = int(value)  # the coverage phase sends path parameters as text
        if not pool or not isinstance(value, int) or not 0 < value < 2**31:
            continue  # zero, negative, beyond a database integer: sent as generated
        # Two ids out of three point at a real row of the académie, the third at an id no
        # row has: never at a row another test created, so the run is the same alone and
        # within the whole suite.
        case.path_parameters[name] = (
            pool[(value - 1) % len(pool)] if value % 3 else 2**31 - 1 - value % 1000
        )
    case.call_and_validate(headers={"Authorization": f"Bearer {target.token}"}, checks=CHECKS)


# Inputs that found bugs, kept as explicit examples: generation depends on the constants
# schemathesis mines from the code, so a given example may not come back after an edit.
KNOWN_INPUTS = [
    pytest.param(
        "POST",
        "/api/v1/auth/login",
        b"\xff\x19\xfe\xfe",
        id="login-corps-non-utf8",
    ),
    pytest.param(
        "PATCH",
        "/api/v1/dossiers/{dossier_id}",
        b'{"title": null}',
        id="calendrier-titre-null",
    ),
    pytest.param(
        "POST",
        "/api/v1/dossiers/{dossier_id}/transitions/{trigger}",
        b'{"comment": "\xe9t\xe9"}',
        id="transition-corps-latin1",
    ),
]


@pytest.mark.parametrize(("method", "path", "body"), KNOWN_INPUTS)
def test_known_inputs_answer_as_documented(
    target: Target, method: str, path: str, body: bytes
) -> None:
    """A draft dossier (the first of the académie) and raw JSON bodies as a client may send
    them: every answer must be documented and none may be a server error."""
    parameters = {"dossier_id": target.ids["dossier_id"][0], "trigger": "emettre_contrat"}
    names = [name for name in ("dossier_id", "trigger") if f"{{{name}}}" in path]
    url = path.format(**{name: parameters[name] for name in names})
    headers = {
        "Authorization": f"Bearer {target.token}",
        "Content-Type": "application/json",
        "If-Match": '"1"',
    }
    with TestClient(APP, raise_server_exceptions=False) as client:
        response = client.request(method, url, content=body, headers=headers)
    case = schema[path][method].Case(
        path_parameters={name: parameters[name] for name in names}, media_type="application/json"
    )
    case.validate_response(response, checks=CHECKS)
