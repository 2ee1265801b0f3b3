"""Bulk actions on a real database: each dossier through the service in its own
transaction, with its history and its emails; a French result per dossier; one batch at a
time per académie; a batch whose worker stopped is taken over without acting twice."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import Engine, func, select, update

from api.wiring import Container
from tests.conftest import World, make_world
from workflow.admin.bulk import BatchBusy
from workflow.engine.errors import InvalidInput, NotPermitted
from workflow.engine.service import FireCommand
from workflow.reads.bulk import BatchNotFound, batch
from workflow.reads.queries import reading
from workflow.store.tables import (
    bulk_batch_table,
    dossier_table,
    history_table,
    outbox_table,
)
from workflow.store.types import utcnow


def states(engine: Engine, ids: list[int]) -> dict[int, str]:
    with engine.connect() as conn:
        return dict(
            conn.execute(
                select(dossier_table.c.id, dossier_table.c.state).where(dossier_table.c.id.in_(ids))
            ).all()
        )


def emails_about(engine: Engine, dossier_id: int, template: str) -> int:
    with engine.connect() as conn:
        return int(
            conn.execute(
                select(func.count())
                .select_from(outbox_table)
                .where(outbox_table.c.dossier_id == dossier_id, outbox_table.c.template == template)
            ).scalar_one()
        )


def test_twenty_bilans_validated_two_refused_with_their_reasons(
    world: World, api_container: Container, engine: Engine
) -> None:
    submitted = []
    for _ in range(20):
        dossier = world.formation()
        world.builder.drive(dossier, world.team, "bilan_soumis")
        submitted.append(dossier)
    not_yet = []
    for _ in range(2):
        dossier = world.formation()
        world.builder.drive(dossier, world.team, "realisee")
        not_yet.append(dossier)
    bulk = api_container.bulk
    batch_id = bulk.create(
        world.academie_id,
        "valider_bilan",
        submitted[:10] + not_yet + submitted[10:],
        actor_id=world.team.gestionnaire,
    )
    assert bulk.run_once(only=batch_id) == 22
    assert bulk.run_once(only=batch_id) == 0  # nothing left to do

    with reading(engine) as conn:
        view = batch(conn, batch_id, world.team.gestionnaire)
    assert (view.status, view.total, view.done, view.refused) == ("terminee", 22, 20, 2)
    refused = [item for item in view.items if item.status == "refuse"]
    assert [item.dossier_id for item in refused] == not_yet
    for item in refused:
        assert item.status_label == "Refusé"
        assert item.message is not None
        assert "n'est pas possible quand le dossier est « Formation réalisée »" in item.message
    done = [item for item in view.items if item.status == "fait"]
    assert {item.message for item in done} == {"Bilan soumis → Bilan validé"}
    assert set(states(engine, submitted).values()) == {"bilan_valide"}
    assert set(states(engine, not_yet).values()) == {"realisee"}
    # Each validated dossier has its own history line, by the gestionnaire, and its emails.
    with engine.connect() as conn:
        actors = (
            conn.execute(
                select(history_table.c.actor_id).where(
                    history_table.c.dossier_id.in_(submitted),
                    history_table.c.trigger == "valider_bilan",
                )
            )
            .scalars()
            .all()
        )
    assert actors == [world.team.gestionnaire] * 20
    assert all(emails_about(engine, d, "dossier_formation/valider_bilan") >= 2 for d in submitted)
    assert emails_about(engine, not_yet[0], "dossier_formation/valider_bilan") == 0


def test_one_batch_at_a_time_per_academie(
    world: World, api_container: Container, builder: object
) -> None:
    bulk = api_container.bulk
    dossier = world.formation()
    first = bulk.create(world.academie_id, "relancer", [dossier], actor_id=world.team.gestionnaire)
    with pytest.raises(BatchBusy) as caught:
        bulk.create(world.academie_id, "relancer", [dossier], actor_id=world.team.responsable)
    assert f"n° {first}" in caught.value.message and "déjà en cours" in caught.value.message
    # Another académie is not held up.
    other = make_world(world.builder)
    elsewhere = other.formation()
    second = bulk.create(
        other.academie_id, "relancer", [elsewhere], actor_id=other.team.gestionnaire
    )
    bulk.run_once(only=first)
    bulk.run_once(only=second)
    third = bulk.create(world.academie_id, "relancer", [dossier], actor_id=world.team.gestionnaire)
    assert bulk.run_once(only=third) == 1


def test_a_dossier_changed_since_it_was_chosen_is_refused_as_stale(
    world: World, api_container: Container, engine: Engine
) -> None:
    dossier = world.formation()
    world.builder.drive(dossier, world.team, "bilan_soumis")
    bulk = api_container.bulk
    batch_id = bulk.create(
        world.academie_id, "valider_bilan", [dossier], actor_id=world.team.gestionnaire
    )
    # Someone else validated it meanwhile, from its own page.
    world.builder.service.fire(FireCommand(dossier, "valider_bilan", world.team.gestionnaire))
    bulk.run_once(only=batch_id)
    with reading(engine) as conn:
        item = batch(conn, batch_id, None).items[0]
    assert item.status == "refuse"
    assert item.message is not None and "modifié entre-temps" in item.message


def test_relancer_sends_the_reminder_of_late_dossiers_only(
    world: World, api_container: Container, engine: Engine
) -> None:
    late, fresh = world.formation(), world.formation()
    for dossier in (late, fresh):
        world.builder.drive(dossier, world.team, "contrat_a_signer")
    with engine.begin() as conn:
        conn.execute(
            update(dossier_table)
            .where(dossier_table.c.id == late)
            .values(state_entered_at=utcnow() - timedelta(days=10))
        )
    bulk = api_container.bulk
    batch_id = bulk.create(
        world.academie_id, "relancer", [late, fresh], actor_id=world.team.gestionnaire
    )
    bulk.run_once(only=batch_id)
    with reading(engine) as conn:
        first, second = batch(conn, batch_id, None).items
    assert (first.status, first.message) == (
        "fait",
        "Relance envoyée : Rappel aux signataires qui n'ont pas signé",
    )
    assert second.status == "refuse"
    assert second.message == "Pas en retard (« Contrat à signer ») : aucune relance envoyée."
    assert emails_about(engine, late, "dossier_formation/rappel_signature") >= 1
    assert emails_about(engine, fresh, "dossier_formation/rappel_signature") == 0


def test_annuler_needs_a_comment_and_the_role_of_each_dossier(
    world: World, api_container: Container, engine: Engine
) -> None:
    bulk = api_container.bulk
    dossier = world.formation()
    with pytest.raises(InvalidInput) as caught:
        bulk.create(world.academie_id, "annuler", [dossier], actor_id=world.team.responsable)
    assert "commentaire est obligatoire" in caught.value.message
    by_gestionnaire = bulk.create(
        world.academie_id, "annuler", [dossier], actor_id=world.team.gestionnaire, comment="Non"
    )
    bulk.run_once(only=by_gestionnaire)
    with reading(engine) as conn:
        item = batch(conn, by_gestionnaire, None).items[0]
    assert item.status == "refuse" and item.message is not None
    assert "rôles autorisés : Pilote, Responsable académique de la formation" in item.message
    by_responsable = bulk.create(
        world.academie_id,
        "annuler",
        [dossier],
        actor_id=world.team.responsable,
        comment="Formation déprogrammée",
    )
    bulk.run_once(only=by_responsable)
    assert states(engine, [dossier]) == {dossier: "annule"}
    with engine.connect() as conn:
        comment = conn.execute(
            select(history_table.c.comment).where(
                history_table.c.dossier_id == dossier, history_table.c.trigger == "annuler"
            )
        ).scalar_one()
    assert comment == "Formation déprogrammée"
    with reading(engine) as conn:
        assert batch(conn, by_responsable, None).done == 1


def test_nobody_acts_on_another_academie(
    world: World, api_container: Container, engine: Engine
) -> None:
    bulk = api_container.bulk
    dossier = world.formation()
    with pytest.raises(NotPermitted):
        bulk.create(
            world.academie_id, "relancer", [dossier], actor_id=world.other_academie_gestionnaire
        )
    with pytest.raises(NotPermitted):
        bulk.create(world.academie_id, "relancer", [dossier], actor_id=world.team.pilote)
    other = make_world(world.builder)
    with pytest.raises(InvalidInput) as caught:
        bulk.create(other.academie_id, "relancer", [dossier], actor_id=other.team.gestionnaire)
    assert caught.value.message == f"Dossiers introuvables dans cette académie : n° {dossier}."
    mine = bulk.create(world.academie_id, "relancer", [dossier], actor_id=world.team.gestionnaire)
    with reading(engine) as conn, pytest.raises(BatchNotFound):
        batch(conn, mine, other.team.gestionnaire)
    bulk.run_once(only=mine)


def test_a_batch_whose_worker_stopped_is_resumed_without_acting_twice(
    world: World, api_container: Container, engine: Engine
) -> None:
    ids = []
    for _ in range(3):
        dossier = world.formation()
        world.builder.drive(dossier, world.team, "bilan_soumis")
        ids.append(dossier)
    bulk = api_container.bulk
    batch_id = bulk.create(
        world.academie_id, "valider_bilan", ids, actor_id=world.team.gestionnaire
    )
    # A worker claims the batch, handles the first dossier, then dies (its lease runs out).
    claimed = bulk._claim(batch_id)
    assert claimed is not None and claimed.id == batch_id
    item_id, target = bulk._pending(batch_id)[0]
    bulk._handle(claimed, item_id, target)
    assert bulk.run_once(only=batch_id) == 0  # leased: nobody else takes it
    with engine.begin() as conn:
        conn.execute(
            update(bulk_batch_table)
            .where(bulk_batch_table.c.id == batch_id)
            .values(lease_until=utcnow() - timedelta(seconds=1))
        )
    assert bulk.run_once(only=batch_id) == 2
    with reading(engine) as conn:
        view = batch(conn, batch_id, None)
    assert (view.done, view.refused, view.finished) == (3, 0, True)
    with engine.connect() as conn:
        fired = conn.execute(
            select(func.count())
            .select_from(history_table)
            .where(history_table.c.dossier_id.in_(ids), history_table.c.trigger == "valider_bilan")
        ).scalar_one()
    assert fired == 3
