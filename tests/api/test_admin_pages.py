"""The administration pages over HTTP: forms refused with their French messages and nothing
written, CSRF required, and isolation — an administrateur, a gestionnaire or a responsable
of one académie sees and changes nothing of another through the pages."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from api.wiring import Container
from tests.conftest import World, make_world
from tests.support.api import page_session
from workflow.admin.service import Administration
from workflow.demo import DemoBuilder
from workflow.store.academie_settings import academie_settings, stored_values
from workflow.store.tables import delegation_table, person_table
from workflow.store.types import utcnow

SECTIONS = (
    "",
    "/personnes",
    "/personnes/import",
    "/roles",
    "/suppleances",
    "/tarifs",
    "/echeances",
    "/signataires",
    "/regles",
    "/historique",
)


def _admin(world: World) -> int:
    person = world.person("administratrice")
    Administration(world.builder.engine).grant(
        world.academie_id, person, "administrateur", actor_id=None
    )
    return person


def test_each_page_answers_its_administrateur_and_refuses_bad_values_in_french(
    world: World, client: TestClient, api_container: Container, engine: Engine
) -> None:
    admin = _admin(world)
    csrf = page_session(client, api_container, admin)
    base = f"/administration/academies/{world.slug}"
    home = client.get("/administration")
    assert home.status_code == 200 and f'href="{base}"' in home.text
    for section in SECTIONS:
        answer = client.get(base + section)
        assert answer.status_code == 200, (section, answer.text[:300])
        assert 'aria-current="page"' in answer.text

    refused = client.post(
        f"{base}/tarifs",
        data={
            "csrf_token": csrf,
            "tarifs-vacation_taux_a": "45,00",
            "tarifs-hse": "vingt",
            "vc-lignes": "2",
            "vc-0-formateurs": "2",
            "vc-0-stagiaires_min": "15",
            "vc-0-stagiaires_max": "25",
            "vc-0-vacations_par_heure": "0,75",
            "vc-1-formateurs": "2",
            "vc-1-stagiaires_min": "20",
            "vc-1-vacations_par_heure": "0,5",
        },
    )
    assert refused.status_code == 422
    assert "Le formulaire contient 2 erreurs" in refused.text
    assert "montant : nombre décimal attendu (par exemple 45,00)" in refused.text
    assert "se recouvrent" in refused.text
    assert 'value="vingt"' in refused.text  # shown again as typed
    with engine.connect() as conn:
        assert stored_values(conn, world.academie_id).get("tarifs.hse") is None

    saved = client.post(
        f"{base}/echeances",
        data={"csrf_token": csrf, "delais-rappel_signature": "3"},
        follow_redirects=False,
    )
    assert saved.status_code == 303
    with engine.connect() as conn:
        assert academie_settings(conn, world.academie_id).offset_days("rappel_signature", 7) == 3
    without_token = client.post(f"{base}/echeances", data={"delais-rappel_signature": "4"})
    assert without_token.status_code == 403
    assert "Formulaire expiré" in without_token.text


def _ids(engine: Engine, world: World) -> tuple[int, int]:
    with engine.connect() as conn:
        delegation = conn.execute(
            select(delegation_table.c.id).where(delegation_table.c.academie_id == world.academie_id)
        ).scalar_one()
    return world.team.pilote, int(delegation)


@pytest.mark.parametrize("who", ["administrateur", "gestionnaire", "responsable"])
def test_nothing_of_another_academie_through_the_pages(
    who: str, builder: DemoBuilder, client: TestClient, api_container: Container, engine: Engine
) -> None:
    here, there = make_world(builder), make_world(builder)
    _admin(here)
    there_admin = _admin(there)
    now = utcnow()
    builder.editor.delegate(
        there.team.gestionnaire,
        there.team.responsable,
        now,
        now + timedelta(days=3),
        role="gestionnaire",
        academie_id=there.academie_id,
        actor_id=there_admin,
    )
    person = {
        "administrateur": _admin(here),
        "gestionnaire": here.team.gestionnaire,
        "responsable": here.team.responsable,
    }[who]
    csrf = page_session(client, api_container, person)
    base = f"/administration/academies/{there.slug}"
    pilote, delegation = _ids(engine, there)
    for path in (
        *(base + s for s in SECTIONS),
        f"{base}/personnes/{pilote}/desactivation",
        f"{base}/roles/retirer/{there.team.gestionnaire}/gestionnaire",
        f"{base}/suppleances/{delegation}/revocation",
    ):
        answer = client.get(path)
        assert answer.status_code == 404, (who, path)
        assert "Page introuvable" in answer.text and there.slug not in answer.text.split("<main")[1]
    posts = {
        base: {"nom": "Piratée"},
        f"{base}/tarifs": {"tarifs-hse": "99"},
        f"{base}/personnes": {"courriel": "x@example.org", "nom_complet": "X Y"},
        f"{base}/personnes/{pilote}/desactivation": {"confirme": "oui"},
        f"{base}/roles": {"role": "administrateur", "personne": str(person)},
        f"{base}/suppleances/{delegation}/revocation": {"confirme": "oui"},
    }
    for path, data in posts.items():
        answer = client.post(path, data={"csrf_token": csrf, **data})
        assert answer.status_code == 404, (who, path, answer.text[:200])
    with engine.connect() as conn:
        settings = academie_settings(conn, there.academie_id)
        active = conn.execute(
            select(person_table.c.active).where(person_table.c.id == pilote)
        ).scalar_one()
        revoked = conn.execute(
            select(delegation_table.c.revoked_at).where(delegation_table.c.id == delegation)
        ).scalar_one()
    assert settings.name != "Piratée"
    assert (settings.rates.hse, active, revoked) == (None, True, None)
    # Their own académie: the administrateur reaches it, the staff are told it is not theirs.
    own = client.get(f"/administration/academies/{here.slug}/tarifs")
    assert own.status_code == (200 if who == "administrateur" else 403)


def test_the_header_names_the_academie_being_administered(
    builder: DemoBuilder, client: TestClient, api_container: Container
) -> None:
    """An administrateur of two académies: each one's pages name its own institution under
    the Marianne, not the first académie's (their other pages keep their home one)."""
    first, second = make_world(builder), make_world(builder)
    admin = _admin(first)
    Administration(builder.engine).grant(second.academie_id, admin, "administrateur", actor_id=None)
    first.configure(institution="Région académique Premier essai")
    second.configure(institution="Académie du Second essai")
    page_session(client, api_container, admin)
    for world, shown, hidden in (
        (first, "Premier essai", "Second essai"),
        (second, "Second essai", "Premier essai"),
    ):
        for section in ("", "/tarifs", "/historique"):
            page = client.get(f"/administration/academies/{world.slug}{section}")
            assert page.status_code == 200
            assert shown in page.text and hidden not in page.text, (world.slug, section)
    home = client.get("/administration")
    assert "Premier essai" in home.text and "Second essai" not in home.text.split("<main")[0]
