"""Académie administration over HTTP, and isolation: an administrateur, a gestionnaire or a
responsable of one académie sees and changes nothing of another — settings, history,
people, roles, suppléances, dossiers and exports alike."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, select

from tests.conftest import World, make_world
from tests.support.api import Api
from workflow.admin.service import Administration
from workflow.demo import DemoBuilder
from workflow.store.academie_settings import academie_settings
from workflow.store.tables import academie_table, delegation_table, person_table

PROBLEM = "application/problem+json"


def _admin(world: World) -> int:
    person = world.person("administratrice")
    Administration(world.builder.engine).grant(
        world.academie_id, person, "administrateur", actor_id=None
    )
    return person


def _email(engine: Engine, person: int) -> str:
    with engine.connect() as conn:
        return str(
            conn.execute(
                select(person_table.c.email).where(person_table.c.id == person)
            ).scalar_one()
        )


@pytest.fixture
def two(builder: DemoBuilder) -> tuple[World, World]:
    return make_world(builder), make_world(builder)


def test_an_administrateur_sets_rates_people_roles_and_sees_the_history(
    api: Api, world: World, engine: Engine
) -> None:
    admin = _admin(world)
    base = f"/api/v1/academies/{world.slug}"
    assert [a["slug"] for a in api.get("/api/v1/academies", admin).json()] == [world.slug]

    settings = {s["key"]: s for s in api.get(f"{base}/parametres", admin).json()}
    assert settings["tarifs.vacation_taux_a"]["shown"] == "45,00 €"
    assert settings["delais.rappel_signature"]["value"] is None
    assert settings["delais.rappel_signature"]["default"] == 7

    refused = api.client.patch(
        f"{base}/parametres",
        json={"tarifs.hse": "vingt", "delais.rappel_signature": -2},
        headers=api.auth(admin),
    )
    assert refused.status_code == 422 and refused.headers["content-type"] == PROBLEM
    fields = {e["field"]: e["message"] for e in refused.json()["errors"]}
    assert set(fields) == {"tarifs.hse", "delais.rappel_signature"}
    changed = api.client.patch(
        f"{base}/parametres",
        json={"tarifs.hse": "20", "delais.rappel_signature": 10, "institution": "Rectorat"},
        headers=api.auth(admin),
    )
    assert changed.status_code == 200, changed.text
    assert {c["key"]: c["new"] for c in changed.json()} == {
        "tarifs.hse": "20.00",
        "delais.rappel_signature": 10,
        "institution": "Rectorat",
    }
    with engine.connect() as conn:
        assert academie_settings(conn, world.academie_id).institution == "Rectorat"
    history = api.get(f"{base}/historique", admin).json()
    assert history[0]["who"] == "Administratrice"
    assert {(h["what"], h["new"]) for h in history[:3]} >= {
        ("Heure supplémentaire effective (HSE)", "20,00 €")
    }

    tag = uuid.uuid4().hex[:8]
    csv = f"courriel;nom;prénom\nada.{tag}@example.org;Lovelace;Ada\nmauvaise;X;Y\n".encode()
    dry = api.post(f"{base}/personnes/import", admin, content=csv)
    assert dry.status_code == 200 and dry.json()["applied"] is False
    assert [line["outcome"] for line in dry.json()["lines"]] == ["creation", "refusee"]
    whole = api.post(f"{base}/personnes/import?simulation=false", admin, content=csv)
    assert whole.status_code == 422
    assert whole.json()["errors"] == [
        {"field": "ligne 3", "message": "adresse électronique invalide « mauvaise »"}
    ]
    fixed = csv.replace(b"mauvaise;X;Y\n", b"")
    done = api.post(f"{base}/personnes/import?simulation=false", admin, content=fixed)
    assert done.status_code == 200 and done.json()["applied"] is True
    people = api.get(f"{base}/personnes", admin, params={"recherche": tag}).json()
    assert [p["full_name"] for p in people] == ["Ada Lovelace"]

    granted = api.post(
        f"{base}/roles",
        admin,
        json={"person_email": f"ada.{tag}@example.org", "role": "gestionnaire"},
    )
    assert granted.status_code == 204, granted.text
    roles = {(r["full_name"], r["role"]) for r in api.get(f"{base}/roles", admin).json()}
    assert ("Ada Lovelace", "gestionnaire") in roles
    ada = people[0]["person_id"]
    assert api.post(f"{base}/personnes/{ada}/desactivation", admin).status_code == 204
    again = api.post(f"{base}/personnes/{ada}/desactivation", admin)
    assert again.status_code == 422 and "déjà désactivée" in again.json()["detail"]


def test_an_administrateur_creates_an_academie_and_becomes_its_administrateur(
    api: Api, world: World
) -> None:
    admin = _admin(world)
    tag = uuid.uuid4().hex[:6]
    body: dict[str, Any] = {
        "slug": f"nouvelle-{tag}",
        "code": f"N{tag[:5].upper()}",
        "nom": "Nouvelle",
    }
    created = api.post("/api/v1/academies", admin, json=body)
    assert created.status_code == 201, created.text
    slugs = {a["slug"] for a in api.get("/api/v1/academies", admin).json()}
    assert slugs == {world.slug, body["slug"]}
    taken = api.post("/api/v1/academies", admin, json=body)
    assert taken.status_code == 422
    assert {e["field"] for e in taken.json()["errors"]} == {"slug", "code"}
    # A gestionnaire administers nothing, so creates nothing.
    refused = api.post(
        "/api/v1/academies", world.team.gestionnaire, json={**body, "slug": f"x-{tag}"}
    )
    assert refused.status_code == 403


def test_suppleances_of_an_academie_role_are_listed_and_revoked(
    api: Api, world: World, engine: Engine
) -> None:
    admin = _admin(world)
    substitute = world.person("suppleante")
    base = f"/api/v1/academies/{world.slug}"
    now = datetime.now(UTC)
    made = api.post(
        f"{base}/suppleances",
        admin,
        json={
            "delegator_email": _email(engine, world.team.responsable),
            "substitute_email": _email(engine, substitute),
            "role": "responsable",
            "starts_at": now.isoformat(),
            "ends_at": (now + timedelta(days=5)).isoformat(),
        },
    )
    assert made.status_code == 201, made.text
    delegation = made.json()["id"]
    listed = api.get(f"{base}/suppleances", admin).json()
    assert [(s["role_label"], s["scope"], s["revoked_at"]) for s in listed] == [
        ("Responsable académique de la formation", "L'académie", None)
    ]
    # Someone unrelated cannot even see it; the suppléante may step down.
    assert (
        api.post(f"/api/v1/suppleances/{delegation}/revocation", world.outsider).status_code == 404
    )
    revoked = api.post(f"/api/v1/suppleances/{delegation}/revocation", substitute)
    assert revoked.status_code == 200 and revoked.json()["revoked_at"] is not None
    with engine.connect() as conn:
        by = conn.execute(
            select(delegation_table.c.revoked_by_id).where(delegation_table.c.id == delegation)
        ).scalar_one()
    assert by == substitute


def test_a_dossier_suppleance_names_its_role(api: Api, world: World, engine: Engine) -> None:
    dossier = world.formation()
    substitute = world.person("suppleant-formateur")
    now = datetime.now(UTC)
    made = api.post(
        f"/api/v1/dossiers/{dossier}/delegations",
        world.team.pilote,
        json={
            "delegator_email": _email(engine, world.team.formateurs[0]),
            "substitute_email": _email(engine, substitute),
            "role": "formateur",
            "starts_at": now.isoformat(),
            "ends_at": (now + timedelta(days=5)).isoformat(),
        },
    )
    assert made.status_code == 201, made.text
    seen = api.get(f"/api/v1/dossiers/{dossier}", substitute)
    assert seen.status_code == 200 and "formateur" in seen.json()["my_roles"]


def test_nobody_of_one_academie_sees_or_changes_anything_of_the_other(
    api: Api, two: tuple[World, World], engine: Engine
) -> None:
    here, there = two
    for world in (here, there):
        world.builder.drive(world.formation(), world.team, "mis_en_paiement")
    admin_here, admin_there = _admin(here), _admin(there)
    there_dossier = there.formation()
    base = f"/api/v1/academies/{there.slug}"
    with engine.connect() as conn:
        there_name = conn.execute(
            select(academie_table.c.name).where(academie_table.c.id == there.academie_id)
        ).scalar_one()
    for person in (admin_here, here.team.gestionnaire, here.team.responsable):
        # Reading: the other académie and its dossier do not exist for them.
        for path in (
            f"{base}/parametres",
            f"{base}/historique",
            f"{base}/personnes",
            f"{base}/roles",
            f"{base}/suppleances",
            f"/api/v1/dossiers/{there_dossier}",
            f"/api/v1/dossiers/{there_dossier}/history",
            f"/api/v1/dossiers/{there_dossier}/exports/fiche",
        ):
            answer = api.get(path, person)
            assert answer.status_code == 404, (person, path, answer.text)
            assert there_name not in answer.text
        listed = api.get("/api/v1/dossiers", person, params={"limit": 200}).json()["items"]
        assert all(d["academie"] == here.slug for d in listed)
        for kind in ("dossiers", "budget"):
            export = api.get(f"/api/v1/exports/{kind}", person, params={"format": "csv"})
            assert export.status_code == 200
            assert there_name not in export.content.decode("utf-8-sig")
            refused = api.get(
                f"/api/v1/exports/{kind}", person, params={"format": "csv", "academie": there.slug}
            )
            assert there.slug not in refused.text and there_name not in refused.text
        # Changing: refused, and nothing changed.
        writes = [
            api.client.patch(
                f"{base}/parametres", json={"tarifs.hse": "99"}, headers=api.auth(person)
            ),
            api.post(
                f"{base}/personnes", person, json={"email": "x@example.org", "full_name": "X Y"}
            ),
            api.post(
                f"{base}/personnes/import?simulation=false", person, content=b"courriel;nom\n"
            ),
            api.post(f"{base}/personnes/{there.team.pilote}/desactivation", person),
            api.post(
                f"{base}/roles",
                person,
                json={"person_email": _email(engine, person), "role": "administrateur"},
            ),
            api.client.delete(
                f"{base}/roles/gestionnaire/{there.team.gestionnaire}", headers=api.auth(person)
            ),
        ]
        for answer in writes:
            assert answer.status_code == 404, (person, answer.request.url, answer.text)
    with engine.connect() as conn:
        settings = academie_settings(conn, there.academie_id)
        active = conn.execute(
            select(person_table.c.active).where(person_table.c.id == there.team.pilote)
        ).scalar_one()
    assert settings.rates.hse is None and active is True
    # The other académie's own administrateur, meanwhile, reaches it.
    assert api.get(f"{base}/parametres", admin_there).status_code == 200
    # A gestionnaire of the académie itself is told administration is not theirs.
    own = api.get(f"/api/v1/academies/{here.slug}/parametres", here.team.gestionnaire)
    assert own.status_code == 403 and "sur cette académie" in own.json()["detail"]
