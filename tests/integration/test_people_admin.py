"""An académie's people: the CSV import (a dry run line by line in French, then all or
nothing), académie roles, and deactivation that never reaches another académie."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, func, select

from tests.conftest import World
from workflow.admin.people import directory
from workflow.admin.people_import import Outcome
from workflow.admin.service import Administration
from workflow.dossiers.team import known_people
from workflow.engine.errors import AcademieNotFound, InvalidInput, NotPermitted
from workflow.store.tables import person_table


def _people(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(person_table)).scalar_one())


def _csv(world: World, lines: list[str], *, header: str = "Courriel;Prénom;Nom;Rôle") -> bytes:
    return ("\n".join([header, *lines]) + "\n").encode("utf-8")


def test_a_file_with_refused_lines_imports_nothing_then_the_corrected_one_imports_all(
    world: World, engine: Engine
) -> None:
    admin = Administration(engine)
    tag = world.slug
    known = world.team.formateurs[0]
    with engine.connect() as conn:
        known_email = conn.execute(
            select(person_table.c.email).where(person_table.c.id == known)
        ).scalar_one()
    bad = _csv(
        world,
        [
            f"jeanne.{tag}@example.org;Jeanne;Dupont;",
            "pas-une-adresse;Luc;Martin;",
            f"paul.{tag}@example.org;;;gestionnaire",
            f"JEANNE.{tag}@example.org;Jeanne;Dupont;",
            f"marie.{tag}@example.org;Marie;Curie;directrice",
            f"{known_email};Formatrice;Connue;responsable",
        ],
    )
    before = _people(engine)
    report = admin.review_import(world.slug, bad, actor_id=None)
    outcomes = [(line.number, line.outcome, line.message) for line in report.lines]
    assert outcomes == [
        (2, Outcome.CREATE, "nouvelle personne dans formaflow"),
        (3, Outcome.REFUSED, "adresse électronique invalide « pas-une-adresse »"),
        (4, Outcome.REFUSED, "nom manquant (2 caractères au moins)"),
        (5, Outcome.REFUSED, "adresse en double dans le fichier (déjà ligne 2)"),
        (
            6,
            Outcome.REFUSED,
            "rôle inconnu « directrice » (au choix : gestionnaire, responsable, "
            "administrateur, ou vide)",
        ),
        (
            7,
            Outcome.JOIN,
            "déjà connue de formaflow : ajout à l'annuaire de l'académie, rôle Responsable "
            "académique de la formation",
        ),
    ]
    assert not report.importable
    with pytest.raises(InvalidInput, match="4 ligne\\(s\\) refusée\\(s\\) : rien n'a été importé"):
        admin.import_people(world.slug, bad, actor_id=None)
    assert _people(engine) == before

    # Corrected, saved by a spreadsheet as Windows-1252 with commas.
    fixed = "\r\n".join(
        [
            "Adresse électronique,Nom complet,Rôle",
            f"jeanne.{tag}@example.org,Jeanne Dupont,",
            f"luc.{tag}@example.org,Luc Martin,",
            f"paul.{tag}@example.org,Paul Éluard,Gestionnaire",
            f"{known_email},Formatrice Connue,",
        ]
    ).encode("cp1252")
    report = admin.import_people(world.slug, fixed, actor_id=None)
    assert [line.outcome for line in report.lines] == [
        Outcome.CREATE,
        Outcome.CREATE,
        Outcome.CREATE,
        Outcome.JOIN,
    ]
    assert _people(engine) == before + 3
    with engine.connect() as conn:
        entries, _ = directory(conn, world.academie_id, search=tag)
        picked = {p.full_name for p in known_people(conn, world.academie_id)}
    assert {(e.full_name, e.roles) for e in entries} >= {
        ("Jeanne Dupont", ()),
        ("Paul Éluard", ("Gestionnaire EAFC",)),
    }
    assert {"Jeanne Dupont", "Luc Martin"} <= picked  # pilotes pick them for a team
    # The same file again creates nobody.
    again = admin.review_import(world.slug, fixed, actor_id=None)
    assert {line.outcome for line in again.lines} == {Outcome.NOTHING}


def test_a_file_without_the_expected_headers_is_refused_as_a_whole(
    world: World, engine: Engine
) -> None:
    report = Administration(engine).review_import(
        world.slug, b"mail;qui\nx@example.org;X\n", actor_id=None
    )
    assert report.lines == ()
    assert report.problem is not None and report.problem.startswith("Colonne « nom »")


def test_roles_and_deactivation_stay_within_the_administered_academies(
    world: World, engine: Engine
) -> None:
    admin = Administration(engine)
    administratrice = world.person("administratrice")
    admin.grant(world.academie_id, administratrice, "administrateur", actor_id=None)
    newcomer = admin.add_person(
        world.slug, f"nouveau.{world.slug}@example.org", "Nouveau Venu", actor_id=administratrice
    ).person_id
    admin.grant(world.slug, newcomer, "responsable", actor_id=administratrice)
    with pytest.raises(InvalidInput, match="déjà Responsable"):
        admin.grant(world.slug, newcomer, "responsable", actor_id=administratrice)
    admin.set_active(world.slug, newcomer, False, actor_id=administratrice)
    with engine.connect() as conn:
        active = conn.execute(
            select(person_table.c.active).where(person_table.c.id == newcomer)
        ).scalar_one()
    assert active is False
    with pytest.raises(InvalidInput, match="désactivé"):
        admin.grant(world.slug, newcomer, "gestionnaire", actor_id=administratrice)
    admin.set_active(world.slug, newcomer, True, actor_id=administratrice)

    # The other académie's gestionnaire: not in this directory, hence « not found »; and the
    # académie itself does not exist for this administratrice.
    outsider = world.other_academie_gestionnaire
    with pytest.raises(Exception, match="Aucune personne"):
        admin.set_active(world.slug, outsider, False, actor_id=administratrice)
    with engine.connect() as conn:
        other = conn.execute(
            select(person_table.c.id).where(person_table.c.id == outsider)
        ).scalar_one()
    assert other == outsider
    # Someone of both académies: only who administers both may deactivate them.
    admin.grant(world.slug, outsider, "responsable", actor_id=administratrice)
    with pytest.raises(InvalidInput, match="une académie que vous n'administrez pas"):
        admin.set_active(world.slug, outsider, False, actor_id=administratrice)
    # The last administrateur stays.
    with pytest.raises(InvalidInput, match="au moins un administrateur"):
        admin.withdraw(world.slug, administratrice, "administrateur", actor_id=administratrice)
    # A gestionnaire of the académie is told administration is not theirs; an outsider
    # learns nothing of the académie.
    with pytest.raises(NotPermitted, match="sur cette académie"):
        admin.change_settings(world.slug, {"tarifs.hse": "1"}, actor_id=world.team.gestionnaire)
    with pytest.raises(AcademieNotFound):
        admin.change_settings(world.slug, {"tarifs.hse": "1"}, actor_id=world.outsider)
