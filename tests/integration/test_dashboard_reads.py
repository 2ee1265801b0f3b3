"""The reads behind the « Tableau de bord » filters and export, on a real database: the
académies offered are the person's own, counts narrow to the chosen académie, and the
export's rows come in the page's order (late first) whatever the number of rows."""

from __future__ import annotations

import uuid
from datetime import timedelta
from decimal import Decimal

from sqlalchemy import Engine, update

from tests.conftest import World
from workflow.reads.dashboard import dashboard_list
from workflow.reads.dossier_list import DossierFilters
from workflow.reads.queries import reading
from workflow.reads.worklists import staff_academies, visible_counts
from workflow.store.tables import dossier_table
from workflow.store.types import utcnow


def test_staff_academies_are_the_persons_own(world: World) -> None:
    editor = world.builder.editor
    tag = uuid.uuid4().hex[:6]
    second = editor.create_academie(f"b-{tag}", f"Académie B {tag}", f"B{tag}")
    editor.create_academie(f"c-{tag}", f"Académie C {tag}", f"C{tag}")
    editor.assign(world.team.gestionnaire, "gestionnaire", academie_id=second)
    editor.assign(world.team.gestionnaire, "responsable", academie_id=second)  # counted once
    with reading(world.builder.engine) as conn:
        mine = staff_academies(conn, world.team.gestionnaire)
        pilote = staff_academies(conn, world.team.pilote)
    assert sorted(a.slug for a in mine) == sorted([world.slug, f"b-{tag}"])
    assert pilote == []


def test_counts_narrow_to_the_chosen_academie(engine: Engine, world: World) -> None:
    editor = world.builder.editor
    tag = uuid.uuid4().hex[:6]
    second = editor.create_academie(f"b-{tag}", f"Académie B {tag}", f"B{tag}")
    editor.assign(world.team.gestionnaire, "gestionnaire", academie_id=second)
    world.formation()
    world.builder.formation(second, world.team, title="Ailleurs")
    world.builder.formation(second, world.team, title="Ailleurs encore")
    with reading(engine) as conn:
        every = visible_counts(conn, world.team.gestionnaire, utcnow())
        first = visible_counts(conn, world.team.gestionnaire, utcnow(), world.slug)
        other = visible_counts(conn, world.team.gestionnaire, utcnow(), f"b-{tag}")
        foreign = visible_counts(conn, world.other_academie_gestionnaire, utcnow(), world.slug)
    assert sum(c.count for c in every) == 3
    assert sum(c.count for c in first) == 1
    assert sum(c.count for c in other) == 2
    assert sum(c.count for c in foreign) == 0  # naming an académie never widens the scope


def test_dashboard_list_puts_late_dossiers_first_and_sums_hours(
    engine: Engine, world: World
) -> None:
    draft = world.formation(hours_distance=Decimal("2.25"))
    late = world.formation()
    world.builder.drive(late, world.team, "scenario_soumis")
    with engine.begin() as conn:
        conn.execute(
            update(dossier_table)
            .where(dossier_table.c.id == late)
            .values(state_entered_at=utcnow() - timedelta(days=15))
        )
    now = utcnow()
    with reading(engine) as conn:
        rows = dashboard_list(conn, world.team.gestionnaire, DossierFilters(limit=1), now)
        outsider = dashboard_list(conn, world.outsider, DossierFilters(), now)
    # ``limit`` pages the page only: the export has every row.
    assert [r.id for r in rows] == [late, draft]
    # Late since its due date (the pilot's reminder, J+7), by the timers' own rule.
    assert rows[0].overdue and len(rows[0].late) == 1
    assert rows[0].late[0].startswith("Rappel au pilote : scénario en attente de validation")
    assert rows[0].waiting_on.startswith("Pilote") and rows[0].waiting_on.endswith("(pilote)")
    assert rows[0].due_at is not None and rows[0].due_at < now
    assert not rows[1].overdue and rows[1].late == ()
    assert rows[1].waiting_on.endswith("(pilote)") and rows[1].due_at is None
    assert rows[1].planned_hours == Decimal("8.25")
    assert rows[1].pilotes.startswith("Pilote")
    assert outsider == []
