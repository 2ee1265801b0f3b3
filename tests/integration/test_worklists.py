"""The reads behind the pages' menus and dashboard: scoped to what the person may see."""

from __future__ import annotations

from sqlalchemy import Engine

from tests.conftest import World
from workflow.reads.queries import reading
from workflow.reads.worklists import roles_held, tasks_of, visible_counts, visible_pilotes
from workflow.store.types import utcnow


def test_roles_held_name_dossier_and_academie_roles(engine: Engine, world: World) -> None:
    world.formation()
    with reading(engine) as conn:
        assert roles_held(conn, world.team.gestionnaire, utcnow()) == {"gestionnaire"}
        assert "pilote" in roles_held(conn, world.team.pilote, utcnow())
        assert roles_held(conn, world.outsider, utcnow()) == frozenset()


def test_counts_see_only_visible_dossiers_and_count_each_state(
    engine: Engine, world: World
) -> None:
    world.builder.drive(world.formation(), world.team, "scenario_soumis")
    world.formation()
    with reading(engine) as conn:
        counts = {
            c.state: c.count
            for c in visible_counts(conn, world.team.gestionnaire, utcnow())
            if c.workflow == "dossier_formation"
        }
        foreign = visible_counts(conn, world.other_academie_gestionnaire, utcnow())
        outsider = visible_counts(conn, world.outsider, utcnow())
    assert counts["scenario_soumis"] == 1
    assert counts["brouillon"] == 1
    assert sum(counts.values()) == 2
    assert sum(c.count for c in foreign) == 0
    assert sum(c.count for c in outsider) == 0


def test_pilotes_and_tasks_of_a_dossier(engine: Engine, world: World) -> None:
    dossier = world.formation()
    world.builder.drive(dossier, world.team, "scenario_valide")
    with reading(engine) as conn:
        pilotes = visible_pilotes(conn, world.team.gestionnaire, utcnow())
        tasks = tasks_of(conn, dossier)
    assert [p.person_id for p in pilotes] == [world.team.pilote]
    assert tasks and all(t.done_at is None for t in tasks)
    assert {t.person_id for t in tasks} >= {world.team.pilote, *world.team.formateurs}
