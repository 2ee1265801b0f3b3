"""A person's civilité, given at account creation, makes every label of their roles agree:
the team page's messages, the dossier page's team, signatures, history and « Vos rôles ».
Runs on SQLite and PostgreSQL like the rest of the suite."""

from __future__ import annotations

import re
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import select, update

from api.wiring import Container
from tests.conftest import World
from tests.support.api import page_session
from tests.support.cli import run_cli
from workflow.store.database import make_engine
from workflow.store.tables import person_table


def _civilite(container: Container, person_id: int, civilite: str | None) -> None:
    with container.engine.begin() as conn:
        conn.execute(
            update(person_table).where(person_table.c.id == person_id).values(civilite=civilite)
        )


def test_account_creation_takes_a_civilite(database_url: str, tmp_path: Path) -> None:
    email = f"agnes.{tmp_path.name[-12:]}@example.org".lower()
    made = run_cli(
        database_url, tmp_path, "user", "create", email, "--name", "Agnès Durand",
        "--civilite", "madame", extra={"FORMAFLOW_NEW_PASSWORD": "un mot de passe solide"},
    )  # fmt: skip
    assert made.returncode == 0, made.stderr
    refused = run_cli(
        database_url, tmp_path, "user", "create", "x" + email, "--name", "X",
        "--civilite", "mademoiselle", extra={"FORMAFLOW_NEW_PASSWORD": "un mot de passe solide"},
    )  # fmt: skip
    assert refused.returncode == 2
    assert "Civilité : madame ou monsieur (ou rien)." in refused.stderr
    engine = make_engine(database_url)
    try:
        with engine.connect() as conn:
            rows = dict(
                conn.execute(
                    select(person_table.c.email, person_table.c.civilite).where(
                        person_table.c.email.in_([email, "x" + email])
                    )
                ).all()
            )
    finally:
        engine.dispose()
    assert rows == {email: "madame"}


def test_team_and_dossier_pages_agree_with_each_person(
    world: World, client: TestClient, api_container: Container
) -> None:
    team = world.team
    assert team.chef_etablissement is not None
    newcomer = world.person("sophie")
    for person, civilite in (
        (newcomer, "madame"),
        (team.chef_etablissement, "madame"),
        (team.pilote, "madame"),
        (team.gestionnaire, "monsieur"),
        (team.formateurs[0], "madame"),
    ):
        _civilite(api_container, person, civilite)
    dossier = world.formation()
    world.builder.drive(dossier, team, "contrat_signe")
    csrf = page_session(client, api_container, team.gestionnaire)
    with api_container.engine.connect() as conn:
        email = conn.execute(
            select(person_table.c.email).where(person_table.c.id == newcomer)
        ).scalar_one()
    form = {"csrf_token": csrf, "role": "formateur", "courriel": email}

    added = client.post(f"/dossiers/{dossier}/equipe", data=form)
    assert added.status_code == 200  # after the redirect, with the message
    assert "Sophie est maintenant Formatrice sur ce dossier." in added.text
    again = client.post(f"/dossiers/{dossier}/equipe", data=form)
    assert "cette personne est déjà Formatrice sur ce dossier" in again.text

    page = client.get(f"/dossiers/{dossier}").text
    members = re.findall(r"<li>([^<]+) — ([^<]+)</li>", page)
    assert ("Sophie", "Formatrice") in members
    assert any(label == "Cheffe d&#39;établissement" for _, label in members)
    assert any(label == "Tuteur" for _, label in members)  # no civilité: as before
    # The history names the role each person acted in, agreeing with them.
    history = page[page.index('id="titre-historique"') : page.index('id="titre-equipe"')]
    assert "(Formatrice)" in history and "(Formateur)" not in history
    # « Vos rôles », for the gestionnaire, a monsieur: Gestionnaire EAFC (epicene).
    assert "<dd>Gestionnaire EAFC</dd>" in page

    removal = client.get(f"/dossiers/{dossier}/equipe/retirer/{newcomer}/formateur")
    assert "<strong>Formatrice</strong>" in removal.text
    removed = client.post(
        f"/dossiers/{dossier}/equipe/retirer/{newcomer}/formateur",
        data={"csrf_token": csrf, "confirme": "oui"},
    )
    assert "Sophie n&#39;est plus Formatrice sur ce dossier." in removed.text
