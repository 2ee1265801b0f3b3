"""The académie's emails for its EAFC staff, and the development mailbox page."""

from __future__ import annotations

import smtplib
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update

from api.app import create_app
from api.settings import ApiSettings
from api.wiring import Container
from notifications.devmail import DevMailServer
from notifications.settings import MailSettings
from tests.conftest import World
from tests.support.api import Api
from tests.support.matrix import email_of
from tests.support.smtp import free_port
from workflow.store.tables import outbox_table


def test_staff_see_their_academies_emails_and_requeue_a_dead_one(world: World, api: Api) -> None:
    dossier = world.formation()
    assert api.fire(dossier, "emettre_contrat", world.team.pilote).status_code == 200
    page = api.get("/api/v1/emails", world.team.gestionnaire, params={"limit": 200}).json()
    mine = [e for e in page["items"] if e["dossier_id"] == dossier]
    assert {e["template"] for e in mine} == {"dossier_formation/emettre_contrat"}
    assert all(e["status"] == "pending" for e in mine)
    assert page["counts"]["pending"] >= len(mine) > 0
    # Another académie's staff do not see them; a pilot is not staff at all.
    other = api.get("/api/v1/emails", world.other_academie_gestionnaire, params={"limit": 200})
    assert all(e["dossier_id"] != dossier for e in other.json()["items"])
    refused = api.get("/api/v1/emails", world.team.pilote)
    assert refused.status_code == 403
    assert refused.headers["content-type"].startswith("application/problem+json")
    # A dead email shows the server's answer and can be sent again.
    target = mine[0]["id"]
    with api.container.engine.begin() as conn:
        conn.execute(
            update(outbox_table)
            .where(outbox_table.c.id == target)
            .values(status="dead", attempts=8, last_error="550 5.1.1 Destinataire inconnu")
        )
    dead = api.get("/api/v1/emails", world.team.gestionnaire, params={"statut": "dead"}).json()
    assert any(
        e["id"] == target and e["last_error"] == "550 5.1.1 Destinataire inconnu"
        for e in dead["items"]
    )
    assert (
        api.post(f"/api/v1/emails/{target}/retry", world.other_academie_gestionnaire).status_code
        == 404
    )
    again = api.post(f"/api/v1/emails/{target}/retry", world.team.gestionnaire)
    assert again.status_code == 200 and again.json() == {"requeued": 1}
    assert api.post(f"/api/v1/emails/{target}/retry", world.team.gestionnaire).status_code == 404


@pytest.fixture
def dev_client(api_container: Container, tmp_path: Path) -> Iterator[tuple[TestClient, Path]]:
    mailbox = tmp_path / "mailbox"
    container = Container(
        api_container.settings,
        ApiSettings(env="development", data_dir=tmp_path, base_url="http://testserver"),
        MailSettings(dev_mailbox_dir=mailbox),
    )
    container.__dict__["engine"] = api_container.engine
    with TestClient(create_app(container)) as client:
        yield client, mailbox


def test_dev_mailbox_shows_what_the_embedded_server_received(
    world: World, api: Api, dev_client: tuple[TestClient, Path]
) -> None:
    client, mailbox = dev_client
    port = free_port()
    server = DevMailServer(mailbox, port=port)
    assert server.start() == port
    try:
        message = EmailMessage()
        message["From"] = "formaflow@example.org"
        # Addressed to the gestionnaire who reads it: the mailbox shows each person their own.
        message["To"] = f"Gestion <{email_of(api.container.engine, world.team.gestionnaire)}>"
        message["Subject"] = "26-DEM-0001 — Scénario hybride à valider"
        message.set_content("Bonjour,\nle scénario attend votre validation.")
        message.add_alternative("<p>Bonjour, <script>alert(1)</script></p>", subtype="html")
        with smtplib.SMTP("127.0.0.1", port) as smtp:
            smtp.send_message(message)
    finally:
        server.stop()
    headers = api.auth(world.team.gestionnaire)
    signed_out = client.get("/dev/mailbox", follow_redirects=False)
    assert signed_out.status_code == 303
    assert signed_out.headers["location"].startswith("/connexion")
    listing = client.get("/dev/mailbox", headers=headers)
    assert listing.status_code == 200
    assert "26-DEM-0001 — Scénario hybride à valider" in listing.text
    (path,) = mailbox.glob("*.eml")
    shown = client.get(f"/dev/mailbox/{path.stem}", headers=headers)
    assert shown.status_code == 200
    assert "le scénario attend votre validation." in shown.text
    # The HTML part is shown in a sandboxed frame, escaped into its srcdoc attribute.
    assert "sandbox srcdoc=" in shown.text and "<script>alert(1)</script>" not in shown.text
    assert client.get("/dev/mailbox/../../etc/passwd", headers=headers).status_code == 404
    assert client.get("/dev/mailbox/nimportequoi", headers=headers).status_code == 404


def test_dev_mailbox_does_not_exist_in_production(world: World, api: Api) -> None:
    response = api.get("/dev/mailbox", world.team.gestionnaire)
    assert response.status_code == 404
