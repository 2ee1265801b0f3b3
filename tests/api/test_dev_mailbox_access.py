"""``/dev/mailbox`` shows each person the messages addressed to them, and a gestionnaire
every message about their académie's dossiers; a PostgreSQL database without an explicit
``FORMAFLOW_ENV`` starts in production, where the mailbox does not exist.

The messages are the product's own: a transition writes them, the relay sends them over
TCP to the embedded development server, which keeps them as ``.eml`` files.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.settings import ApiSettings
from api.wiring import Container, build
from notifications.devmail import DevMailServer, list_messages
from notifications.relay import Relay, SmtpTarget
from tests.conftest import World
from tests.support.api import page_session
from tests.support.mail import drain, mail_settings
from workflow.engine.rows import load
from workflow.engine.service import FireCommand
from workflow.store.settings import WorkflowSettings


@pytest.fixture
def development(api_container: Container, tmp_path: Path) -> Iterator[Container]:
    directory = tmp_path / "mailbox"
    server = DevMailServer(directory, port=0)
    port = server.start()
    settings = api_container.api_settings
    container = Container(
        api_container.settings,
        ApiSettings(env="development", data_dir=settings.data_dir, base_url=settings.base_url),
        mail_settings(dev_mailbox_dir=directory, dev_smtp_port=port),
    )
    container.__dict__["engine"] = api_container.engine
    try:
        yield container
    finally:
        server.stop()


STRANGERS = 25


def _send_scenario_emails(development: Container, world: World) -> int:
    team = world.team
    dossier = world.formation()
    world.builder.drive(dossier, team, "contrat_signe")
    world.builder.complete_scenario(dossier, team)
    assert team.concepteur is not None
    development.service.fire(FireCommand(dossier, "soumettre_scenario", team.concepteur))
    development.service.fire(FireCommand(dossier, "valider_scenario", team.pilote))
    port = development.mail_settings.dev_smtp_port
    drain(Relay(development.engine, development.mail_settings, SmtpTarget("127.0.0.1", port)))
    return dossier


def _listed_ids(client: TestClient) -> set[str]:
    response = client.get("/dev/mailbox")
    assert response.status_code == 200, response.text
    return set(re.findall(r'href="/dev/mailbox/([0-9]{19}-[0-9a-f]{32})"', response.text))


def test_each_person_reads_only_the_messages_addressed_to_them(
    development: Container, world: World
) -> None:
    dossier = _send_scenario_emails(development, world)
    with development.engine.connect() as conn:
        reference = load(conn, dossier).reference
    everything = list_messages(development.mail_settings.dev_mailbox_dir, None)
    # The relay delivers whatever the shared test database still holds (other tests leave
    # emails unsent): only this dossier's messages are this test's own.
    entries = [e for e in everything if e.dossier == reference]
    assert len(entries) >= 3, "the pilote is told, then the team"
    team = world.team
    # Every message that is not this dossier's, the suite's leftovers, is someone else's
    # too: a sample of them is opened by each person (all of them took 40 s for nothing more).
    strangers = [e for e in everything if e.dossier != reference][:STRANGERS]
    app = create_app(development)
    seen: dict[int, set[str]] = {}
    for person in (
        team.pilote,
        team.formateurs[0],
        team.gestionnaire,
        world.other_academie_gestionnaire,
    ):
        with TestClient(app) as client:
            page_session(client, development, person)
            seen[person] = _listed_ids(client)
            opened = [e.id for e in [*entries, *strangers]]
            for hidden in (i for i in opened if i not in seen[person]):
                assert client.get(f"/dev/mailbox/{hidden}").status_code == 404
            for shown in (i for i in opened if i in seen[person]):
                assert client.get(f"/dev/mailbox/{shown}").status_code == 200

    pilote_mail = [e for e in entries if any(r.startswith("pilote.") for r in e.recipients)]
    assert pilote_mail, "the pilote is told the scenario awaits them"
    assert seen[team.pilote] == {e.id for e in pilote_mail}
    assert seen[team.gestionnaire] >= {e.id for e in entries}
    assert not seen[world.other_academie_gestionnaire] & {e.id for e in entries}
    assert seen[team.formateurs[0]], "the formatrice is told the scenario is validated"
    assert not seen[team.formateurs[0]] & {e.id for e in pilote_mail}
    assert all(
        any(r.startswith("formatrice.") for r in e.recipients)
        for e in entries
        if e.id in seen[team.formateurs[0]]
    )


def test_a_postgresql_database_without_formaflow_env_starts_in_production(
    monkeypatch: pytest.MonkeyPatch, data_dir: Path
) -> None:
    from api.settings import for_database  # noqa: PLC0415 - new in this change

    monkeypatch.delenv("FORMAFLOW_ENV", raising=False)
    postgres = "postgresql+psycopg://formaflow@/formaflow"
    unset = ApiSettings(data_dir=data_dir)
    assert unset.env == "development"
    assert for_database(unset, postgres).env == "production"
    assert for_database(unset, "sqlite:///formaflow.db").env == "development"
    explicit = ApiSettings(env="development", data_dir=data_dir)
    assert for_database(explicit, postgres).env == "development"

    container = build(WorkflowSettings(database_url=postgres, data_dir=data_dir), unset)
    assert container.api_settings.env == "production"
