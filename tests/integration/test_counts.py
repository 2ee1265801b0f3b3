"""The dashboard's counters, kept by triggers in the transaction of each write: they always
agree with the dossiers, the late counts agree with ``overdue_clause`` (the one definition
of « late »), concurrent transitions of one académie neither deadlock nor lose a count, and
the migration fills them from the rows already there."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

from sqlalchemy import Engine, case, event, func, insert, select, text, update

from tests.conftest import World
from workflow.dossiers.access import visibility, visible_clause
from workflow.engine.service import FireCommand, WorkflowService
from workflow.reads.counts import pilote_choices, state_counts
from workflow.reads.dossier_list import DossierFilters, list_dossiers, overdue_clause
from workflow.reads.queries import reading
from workflow.store import counters
from workflow.store.database import make_engine
from workflow.store.migrate import upgrade
from workflow.store.tables import academie_table, dossier_table
from workflow.store.types import utcnow

D = dossier_table


def live_counts(engine: Engine, person_id: int) -> dict[str, tuple[int, int]]:
    """The counts the old way: a scan of the visible dossiers, late ones by
    ``overdue_clause``."""
    now = utcnow()
    with reading(engine) as conn:
        late = overdue_clause(conn, now)
        rows = conn.execute(
            select(D.c.state, func.count(), func.sum(case((late, 1), else_=0)))
            .where(visible_clause(conn, person_id, now), D.c.archived_at.is_(None))
            .group_by(D.c.state)
        ).all()
    return {str(r[0]): (int(r[1]), int(r[2] or 0)) for r in rows}


def counted(
    engine: Engine, person_id: int, academie: str | None = None
) -> dict[str, tuple[int, int]]:
    now = utcnow()
    with reading(engine) as conn:
        found = state_counts(conn, visibility(conn, person_id, now), now, academie)
    return {c.state: (c.count, c.overdue) for c in found if c.count}


def entered_days_ago(engine: Engine, dossier_id: int, days: int) -> None:
    with engine.begin() as conn:
        conn.execute(
            update(D)
            .where(D.c.id == dossier_id)
            .values(state_entered_at=utcnow() - timedelta(days=days))
        )


def test_counters_follow_every_write_and_late_counts_match_the_overdue_clause(
    engine: Engine, world: World
) -> None:
    team = world.team
    submitted = [world.formation() for _ in range(3)]
    for dossier in submitted:
        world.builder.drive(dossier, team, "bilan_soumis")
    entered_days_ago(engine, submitted[0], 16)  # past its 15-day reminder: late
    entered_days_ago(engine, submitted[1], 14)  # not yet
    signing = world.formation()
    world.builder.drive(signing, team, "contrat_a_signer")
    entered_days_ago(engine, signing, 8)  # past the 7-day signature reminder: late
    cancelled = world.formation()
    world.builder.drive(cancelled, team, "annule")
    world.formation()  # a draft
    # A dossier the pilote pilots in another académie: seen by them, not by the gestionnaire.
    elsewhere = world.builder.formation(
        world.builder.editor.create_academie(f"x-{world.slug}", "Ailleurs", f"X{world.slug[-6:]}"),
        team,
        title="Ailleurs",
    )
    with engine.begin() as conn:  # a hand-written fix: the triggers count it too
        conn.execute(
            update(D)
            .where(D.c.id == elsewhere)
            .values(state="scenario_soumis", state_entered_at=utcnow() - timedelta(days=30))
        )

    for person in (team.gestionnaire, team.pilote, team.formateurs[0], world.outsider):
        assert counted(engine, person) == live_counts(engine, person)
    mine = counted(engine, team.gestionnaire)
    assert mine["bilan_soumis"] == (3, 1)
    assert mine["contrat_a_signer"] == (1, 1)
    assert mine["annule"] == (1, 0)
    assert counted(engine, team.pilote)["scenario_soumis"] == (1, 1)
    assert counted(engine, world.other_academie_gestionnaire) == {}
    assert counted(engine, team.gestionnaire, f"x-{world.slug}") == {}  # not staff there
    with reading(engine) as conn:
        assert counters.drift(conn).none


def test_archived_dossiers_leave_the_counts_and_lists_and_a_filter_shows_them(
    engine: Engine, world: World
) -> None:
    cancelled = world.formation()
    world.builder.drive(cancelled, world.team, "annule")
    world.formation()
    with engine.begin() as conn:
        conn.execute(update(D).where(D.c.id == cancelled).values(archived_at=utcnow()))
    now = utcnow()
    with reading(engine) as conn:
        seen = visibility(conn, world.team.gestionnaire, now)
        current = {c.state: c.count for c in state_counts(conn, seen, now) if c.count}
        archived = {
            c.state: c.count for c in state_counts(conn, seen, now, archived=True) if c.count
        }
        listed, _ = list_dossiers(conn, world.team.gestionnaire, DossierFilters(), now)
        shown, _ = list_dossiers(conn, world.team.gestionnaire, DossierFilters(archived=True), now)
        assert counters.drift(conn).none
    assert current == {"brouillon": 1}
    assert archived == {"annule": 1}
    assert cancelled not in [r.id for r in listed]
    assert [r.id for r in shown] == [cancelled]


def test_concurrent_transitions_of_one_academie_keep_exact_counts(
    engine: Engine, world: World, service: WorkflowService
) -> None:
    """Eight threads bounce bilans between « soumis » and « à compléter »: opposite moves
    across the same counter rows at once, the pattern that deadlocks when two transactions
    lock the two rows in opposite orders."""
    threads, per_thread, rounds = 8, 3, 3
    team = world.team
    dossiers = []
    for _ in range(threads * per_thread):
        dossier = world.formation()
        world.builder.drive(dossier, team, "bilan_soumis")
        dossiers.append(dossier)
    barrier = threading.Barrier(threads)

    def work(part: list[int]) -> None:
        barrier.wait()
        for _ in range(rounds):
            for dossier in part:
                service.fire(
                    FireCommand(
                        dossier, "demander_complement", team.gestionnaire, comment="Préciser."
                    )
                )
            for dossier in reversed(part):
                service.fire(FireCommand(dossier, "soumettre_bilan", team.formateurs[0]))

    with ThreadPoolExecutor(threads) as pool:
        for future in [pool.submit(work, dossiers[k::threads]) for k in range(threads)]:
            future.result()
    assert counted(engine, team.gestionnaire) == {"bilan_soumis": (len(dossiers), 0)}
    with reading(engine) as conn:
        assert counters.drift(conn).none


def test_pilote_choices_follow_assignments_and_give_up_past_the_limit(
    engine: Engine, world: World
) -> None:
    first = world.formation()
    world.formation()
    other = world.person("autre-pilote")
    world.builder.editor.assign(other, "pilote", dossier_id=first)
    now = utcnow()
    with reading(engine) as conn:
        seen = visibility(conn, world.team.gestionnaire, now)
        everyone = pilote_choices(conn, seen)
        capped = pilote_choices(conn, seen, limit=1)
    assert everyone is not None
    assert sorted(p.person_id for p in everyone) == sorted([world.team.pilote, other])
    assert capped is None  # two pilotes, more than one: the page asks for an address
    world.builder.editor.unassign(other, "pilote", first)
    with reading(engine) as conn:
        after = pilote_choices(conn, visibility(conn, world.team.gestionnaire, now))
        assert counters.drift(conn).none
    assert after is not None and [p.person_id for p in after] == [world.team.pilote]


def test_a_list_is_two_statements_whatever_the_persons_roles(engine: Engine, world: World) -> None:
    """The scope resolves in one query (it took three), then the list itself."""
    world.formation()
    seen: list[str] = []

    def count(*args: Any) -> None:
        seen.append(str(args[2]))

    event.listen(engine, "before_cursor_execute", count)
    try:
        for person in (world.team.gestionnaire, world.team.pilote, world.outsider):
            with reading(engine) as conn:
                list_dossiers(conn, person, DossierFilters(), utcnow())
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert len([s for s in seen if not s.startswith("BEGIN")]) == 6


def test_the_migration_counts_the_dossiers_already_there(fresh_database_url: str) -> None:
    engine = make_engine(fresh_database_url)
    try:
        upgrade(engine, "0006")
        now = utcnow()
        with engine.begin() as conn:
            academie = conn.execute(
                insert(academie_table)
                .values(slug="avant", name="Avant", code="AVT", created_at=now)
                .returning(academie_table.c.id)
            ).scalar_one()
            conn.execute(
                text(
                    "INSERT INTO dossier (reference, title, academie_id, workflow_name, "
                    "workflow_version, state, version, state_entered_at, created_at, "
                    "updated_at) VALUES (:ref, 'Avant', :a, 'dossier_formation', 1, :state, "
                    "1, :now, :now, :now)"
                ),
                [
                    {"ref": f"AVT-{n}", "a": academie, "state": state, "now": now}
                    for n, state in enumerate(["brouillon"] * 70 + ["annule"] * 3)
                ],
            )
        upgrade(engine)
        with reading(engine) as conn:
            assert counters.drift(conn).none
            rows = conn.execute(
                text(
                    "SELECT state, sum(n), count(*) FROM dossier_count WHERE academie_id = :a "
                    "GROUP BY state ORDER BY state"
                ),
                {"a": academie},
            ).all()
        # 70 drafts over 64 shards: the count is split, never lost.
        assert [(r[0], int(r[1])) for r in rows] == [("annule", 3), ("brouillon", 70)]
        assert int(rows[1][2]) == 64
    finally:
        engine.dispose()
