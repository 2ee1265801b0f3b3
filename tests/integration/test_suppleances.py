"""Suppléances of every role: the suppléant acts in the titulaire's role, recorded as such,
reaches only what the suppléance covers, and stops at once when it is revoked."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import Engine, select, update

from tests.conftest import World
from workflow.admin.service import Administration
from workflow.dossiers.access import visible_clause
from workflow.engine.errors import DelegationNotFound, DossierNotFound, InvalidInput, NotPermitted
from workflow.engine.service import FireCommand, WorkflowService
from workflow.reads.queries import history
from workflow.store.tables import (
    assignment_table,
    delegation_table,
    dossier_table,
    person_table,
)
from workflow.store.types import utcnow


def _visible(engine: Engine, person: int) -> set[int]:
    with engine.connect() as conn:
        clause = visible_clause(conn, person, utcnow())
        return set(conn.execute(select(dossier_table.c.id).where(clause)).scalars())


def _other_academie(world: World) -> int:
    with world.builder.engine.connect() as conn:
        return int(
            conn.execute(
                select(assignment_table.c.academie_id).where(
                    assignment_table.c.person_id == world.other_academie_gestionnaire
                )
            ).scalar_one()
        )


def _administrateur(world: World) -> int:
    person = world.person("administratrice")
    Administration(world.builder.engine).grant(
        world.academie_id, person, "administrateur", actor_id=None
    )
    return person


def test_a_responsable_s_suppleant_decides_the_payment_in_their_name(
    world: World, service: WorkflowService, engine: Engine
) -> None:
    editor = world.builder.editor
    admin = _administrateur(world)
    substitute = world.person("suppleant-responsable")
    dossier = world.formation()
    world.builder.drive(dossier, world.team, "bilan_valide")
    elsewhere = world.builder.formation(
        _other_academie(world), world.team, title="Dossier de l'autre académie"
    )
    with pytest.raises(DossierNotFound):
        service.fire(FireCommand(dossier, "accorder_paiement", substitute))
    now = utcnow()
    delegation = editor.delegate(
        world.team.responsable,
        substitute,
        now - timedelta(hours=1),
        now + timedelta(days=10),
        role="responsable",
        academie_id=world.academie_id,
        actor_id=admin,
    )
    # Every dossier of the académie, as the responsable sees them; nothing of the other one.
    assert dossier in _visible(engine, substitute)
    assert elsewhere not in _visible(engine, substitute)
    result = service.fire(FireCommand(dossier, "accorder_paiement", substitute))
    assert (result.role, result.on_behalf_of_id) == ("responsable", world.team.responsable)
    with engine.connect() as conn:
        last = history(conn, dossier)[-1]
    assert last.who.startswith("Suppleant-Responsable pour Responsable")

    revoked = editor.revoke_delegation(delegation, actor_id=admin)
    assert revoked.revoked_at is not None
    with engine.connect() as conn:
        row = conn.execute(
            select(delegation_table.c.revoked_by_id, delegation_table.c.created_by_id).where(
                delegation_table.c.id == delegation
            )
        ).one()
    assert (row.revoked_by_id, row.created_by_id) == (admin, admin)
    assert dossier not in _visible(engine, substitute)
    with pytest.raises(DossierNotFound):
        service.fire(FireCommand(dossier, "mettre_en_paiement", substitute))
    with pytest.raises(InvalidInput, match="déjà révoquée"):
        editor.revoke_delegation(delegation, actor_id=admin)


def test_a_gestionnaire_s_suppleance_reaches_only_its_academie(
    world: World, service: WorkflowService
) -> None:
    editor = world.builder.editor
    other_academie = _other_academie(world)
    # The gestionnaire and the responsable hold the same roles in the other académie.
    for role in ("gestionnaire", "responsable"):
        Administration(world.builder.engine).grant(
            other_academie, getattr(world.team, role), role, actor_id=None
        )
    here, there = (
        world.formation(),
        world.builder.formation(other_academie, world.team, title="Là-bas"),
    )
    for dossier in (here, there):
        world.builder.drive(dossier, world.team, "bilan_soumis")
    substitute = world.person("suppleant-gestion")
    now = utcnow()
    editor.delegate(
        world.team.gestionnaire,
        substitute,
        now,
        now + timedelta(days=3),
        role="gestionnaire",
        academie_id=world.academie_id,
        actor_id=world.team.gestionnaire,  # the titulaire names their own suppléant
    )
    result = service.fire(FireCommand(here, "valider_bilan", substitute))
    assert (result.role, result.on_behalf_of_id) == ("gestionnaire", world.team.gestionnaire)
    with pytest.raises(DossierNotFound):
        service.fire(FireCommand(there, "valider_bilan", substitute))


def test_a_formateur_s_suppleant_on_one_dossier(world: World, service: WorkflowService) -> None:
    editor = world.builder.editor
    dossier = world.formation()
    world.builder.drive(dossier, world.team, "scenario_valide")
    substitute = world.person("suppleant-formateur")
    now = utcnow()
    editor.delegate(
        world.team.formateurs[0],
        substitute,
        now,
        now + timedelta(days=3),
        role="formateur",
        dossier_id=dossier,
        actor_id=world.team.pilote,  # the pilote composes the team, suppléances included
    )
    result = service.fire(FireCommand(dossier, "demarrer", substitute))
    assert (result.role, result.on_behalf_of_id) == ("formateur", world.team.formateurs[0])


def test_refusals_are_french_and_write_nothing(world: World, engine: Engine) -> None:
    editor = world.builder.editor
    dossier = world.formation()
    substitute = world.person("suppleant")
    now = utcnow()
    period = (now, now + timedelta(days=2))
    with pytest.raises(InvalidInput, match="n'est pas Tuteur sur ce dossier"):
        editor.delegate(
            world.team.formateurs[0], substitute, *period, role="tuteur", dossier_id=dossier
        )
    with pytest.raises(NotPermitted, match="désigner le suppléant d'une autre personne"):
        editor.delegate(
            world.team.responsable,
            substitute,
            *period,
            role="responsable",
            academie_id=world.academie_id,
            actor_id=world.team.pilote,
        )
    with pytest.raises(InvalidInput, match="se donne sur une académie"):
        editor.delegate(world.team.responsable, substitute, *period, role="responsable")
    with engine.begin() as conn:
        conn.execute(
            update(person_table).where(person_table.c.id == substitute).values(active=False)
        )
    with pytest.raises(InvalidInput, match="désactivé"):
        editor.delegate(world.team.pilote, substitute, *period, dossier_id=dossier)
    with engine.connect() as conn:
        made = conn.execute(
            select(delegation_table.c.id).where(delegation_table.c.substitute_id == substitute)
        ).all()
    assert made == []
    # Revoking: someone unrelated is told it does not exist.
    other = world.person("autre-suppleant")
    delegation = editor.delegate(world.team.pilote, other, *period, dossier_id=dossier)
    with pytest.raises(DelegationNotFound):
        editor.revoke_delegation(delegation, actor_id=world.outsider)
    editor.revoke_delegation(delegation, actor_id=other)  # the suppléant may step down
