"""Due dates at the scale of a national instance (issue 15 §5, §7): the anchors kept on the
dossier row, the late counts of the states due from the training's end or the first
session, and the lists sorted by due date or by whom they wait on, read slice by slice.

Every result is compared with the plain definition it replaces: the anchors with the
sessions and the history, the counts with ``overdue_clause`` over the rows, the bounded
sorted pages with the same statement ordered by the expression and cut by LIMIT/OFFSET.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, case, delete, event, func, insert, select, text, update

from tests.conftest import World, make_world
from workflow.demo import DemoBuilder
from workflow.documents.signatures import signature_status
from workflow.dossiers.access import visibility, visible_clause
from workflow.dossiers.inputs import SessionInput
from workflow.engine.due import deadline_delays, due_dates
from workflow.engine.roles import DossierRef
from workflow.engine.rows import load
from workflow.engine.service import WorkflowService
from workflow.reads.counts import state_counts
from workflow.reads.dossier_list import (
    DossierFilters,
    filtered_dossiers,
    list_dossiers,
    overdue_clause,
)
from workflow.reads.expectations import expectations
from workflow.reads.queries import reading
from workflow.reads.reports import dossier_of_row
from workflow.rules import RULES
from workflow.store import counters
from workflow.store.database import make_engine
from workflow.store.migrate import upgrade
from workflow.store.tables import academie_table, dossier_table, history_table, session_table

D = dossier_table


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock(datetime.now(UTC) - timedelta(days=60))


@pytest.fixture
def clocked(engine: Engine, data_dir: Path, clock: Clock) -> World:
    """A world on the suite's database whose service lives in the past: what it does now
    was done ``clock`` days ago, and reads at the real time see it aged."""
    service = WorkflowService(engine, RULES, clock=clock)
    return make_world(DemoBuilder(engine, data_dir, service))


def anchors(engine: Engine, dossier: int) -> tuple[datetime | None, datetime | None]:
    with engine.connect() as conn:
        row = conn.execute(
            select(D.c.first_session_at, D.c.training_ended_at).where(D.c.id == dossier)
        ).one()
    return row[0], row[1]


def session(start: datetime, team_formateur: int) -> SessionInput:
    return SessionInput(
        starts_at=start,
        duration_minutes=120,
        modality="classe_virtuelle",
        connection_link="https://visio.example.org/s",
        formateur_id=team_formateur,
    )


def test_the_anchors_follow_the_sessions_and_the_history_whoever_writes(
    engine: Engine, clocked: World, clock: Clock
) -> None:
    team = clocked.team
    editor = clocked.builder.editor
    dossier = clocked.formation()
    assert anchors(engine, dossier) == (None, None)
    later = clock.now + timedelta(days=20)
    sooner = clock.now + timedelta(days=10)
    first = editor.add_session(dossier, session(later, team.formateurs[0]))
    assert anchors(engine, dossier) == (later, None)
    second = editor.add_session(dossier, session(sooner, team.formateurs[0]))
    assert anchors(engine, dossier) == (sooner, None)
    editor.update_session(dossier, second, session(later + timedelta(days=5), team.formateurs[0]))
    assert anchors(engine, dossier) == (later, None)
    with engine.begin() as conn:  # a hand-written fix: the triggers follow it too
        conn.execute(delete(session_table).where(session_table.c.id == first))
    assert anchors(engine, dossier) == (later + timedelta(days=5), None)
    with engine.begin() as conn:
        conn.execute(delete(session_table).where(session_table.c.dossier_id == dossier))
    assert anchors(engine, dossier) == (None, None)

    clocked.builder.drive(dossier, team, "realisee")  # fires « terminer » at clock.now
    ended = clock.now
    assert anchors(engine, dossier)[1] == ended
    clock.now += timedelta(days=3)
    clocked.builder.drive(dossier, team, "bilan_soumis")
    assert anchors(engine, dossier)[1] == ended  # other transitions leave it
    with engine.connect() as conn:
        terminer = conn.execute(
            select(func.max(history_table.c.at)).where(
                history_table.c.dossier_id == dossier, history_table.c.trigger == "terminer"
            )
        ).scalar_one()
        assert counters.drift(conn).none
    assert terminer == ended


def test_recount_restores_anchors_a_load_without_triggers_left_empty(
    engine: Engine, clocked: World
) -> None:
    dossier = clocked.formation()
    clocked.builder.drive(dossier, clocked.team, "realisee")
    kept = anchors(engine, dossier)
    assert kept[1] is not None
    with engine.begin() as conn:
        conn.execute(update(D).where(D.c.id == dossier).values(training_ended_at=None))
    with reading(engine) as conn:
        assert counters.drift(conn).anchors >= 1
    with engine.begin() as conn:
        counters.rebuild(conn)
    with reading(engine) as conn:
        assert counters.drift(conn).none
    assert anchors(engine, dossier) == kept


def live_counts(engine: Engine, person_id: int, now: datetime) -> dict[str, tuple[int, int]]:
    """The counts by a scan of the visible dossiers, late ones by ``overdue_clause``."""
    with reading(engine) as conn:
        late = overdue_clause(conn, now)
        rows = conn.execute(
            select(D.c.state, func.count(), func.sum(case((late, 1), else_=0)))
            .where(visible_clause(conn, person_id, now), D.c.archived_at.is_(None))
            .group_by(D.c.state)
        ).all()
    return {str(r[0]): (int(r[1]), int(r[2] or 0)) for r in rows}


def counted(engine: Engine, person_id: int, now: datetime) -> dict[str, tuple[int, int]]:
    with reading(engine) as conn:
        found = state_counts(conn, visibility(conn, person_id, now), now)
    return {c.state: (c.count, c.overdue) for c in found if c.count}


def listed(engine: Engine, person_id: int, now: datetime, **filters: Any) -> list[int]:
    with reading(engine) as conn:
        rows, _ = list_dossiers(conn, person_id, DossierFilters(limit=200, **filters), now)
    return [int(r.id) for r in rows]


def test_late_counts_from_the_training_end_and_the_first_session_match_the_lists(
    engine: Engine, clocked: World, clock: Clock
) -> None:
    """« Réalisée » and « Bilan à compléter » are due 30 days after the training's end,
    « Scénario validé » when the first session starts: late, not yet, and undated (no
    session) dossiers of each, counted as the lists' clause says, and every one of them
    in exactly one of the dashboard's two lists."""
    team = clocked.team
    made: dict[str, int] = {}
    made["ended_long_ago"] = clocked.formation()
    clocked.builder.drive(made["ended_long_ago"], team, "realisee")  # 60 days ago
    made["completing_long_ago"] = clocked.formation()
    clocked.builder.drive(made["completing_long_ago"], team, "bilan_a_completer")
    made["validated_started"] = clocked.formation()
    clocked.builder.drive(made["validated_started"], team, "scenario_valide")
    clocked.builder.editor.add_session(
        made["validated_started"], session(clock.now + timedelta(days=5), team.formateurs[0])
    )
    made["validated_undated"] = clocked.formation()
    clocked.builder.drive(made["validated_undated"], team, "scenario_valide")
    clock.now = datetime.now(UTC) - timedelta(days=10)
    made["ended_recently"] = clocked.formation()
    clocked.builder.drive(made["ended_recently"], team, "realisee")
    made["validated_later"] = clocked.formation()
    clocked.builder.drive(made["validated_later"], team, "scenario_valide")
    clocked.builder.editor.add_session(
        made["validated_later"], session(clock.now + timedelta(days=30), team.formateurs[0])
    )

    now = datetime.now(UTC)
    for person in (team.gestionnaire, team.pilote):
        assert counted(engine, person, now) == live_counts(engine, person, now)
    mine = counted(engine, team.gestionnaire, now)
    assert mine["realisee"] == (2, 1)
    assert mine["bilan_a_completer"] == (1, 1)
    assert mine["scenario_valide"] == (3, 1)
    late = set(listed(engine, team.gestionnaire, now, overdue=True))
    others = set(listed(engine, team.gestionnaire, now, overdue=False))
    assert late == {
        made["ended_long_ago"],
        made["completing_long_ago"],
        made["validated_started"],
    }
    # Undated (no session yet): not late, and listed with the others — it was in neither.
    assert others == set(made.values()) - late
    with reading(engine) as conn:
        rows = [load(conn, d) for d in made.values()]
        dues = due_dates(conn, rows, now, deadline_delays(conn))
    assert {d for d, due in dues.items() if due.late} == late
    assert made["validated_undated"] not in dues


# --- Sorted pages: read slice by slice, equal to the plain ORDER BY -------------------------


@pytest.fixture
def mixed(engine: Engine, data_dir: Path) -> Iterator[tuple[World, list[int]]]:
    """Dossiers in many states over two académies of one gestionnaire, one of which gives
    its signatories 3 days instead of 7, entered at many times (some at the same second)."""
    clock = Clock(datetime.now(UTC) - timedelta(days=45))
    service = WorkflowService(engine, RULES, clock=clock)
    world = make_world(DemoBuilder(engine, data_dir, service))
    second = make_world(world.builder)
    second.configure(delais__rappel_signature=3)
    world.builder.editor.assign(
        world.team.gestionnaire, "gestionnaire", academie_id=second.academie_id
    )
    made = []
    targets = [
        "brouillon",
        "contrat_a_signer",
        "scenario_soumis",
        "scenario_valide",
        "realisee",
        "bilan_soumis",
        "bilan_a_completer",
        "bilan_valide",
        "annule",
    ]
    for _ in range(3):
        for n, target in enumerate(targets):
            for place in (world, second):
                dossier = place.formation()
                place.builder.drive(dossier, place.team, target)
                made.append(dossier)
            if n % 3 == 0:
                clock.now += timedelta(days=2)  # the others share their neighbours' time
        clock.now += timedelta(days=9)
    for days in (5, 1):  # 5 days: late where the delay is 3 days, not where it is 7
        clock.now = datetime.now(UTC) - timedelta(days=days)
        for place in (world, second):
            dossier = place.formation()
            place.builder.drive(dossier, place.team, "contrat_a_signer")
            made.append(dossier)
    with engine.begin() as conn:  # identical entry times: the id decides
        conn.execute(
            update(D)
            .where(D.c.id.in_(made[:6]))
            .values(state_entered_at=clock.now - timedelta(days=20))
        )
    yield world, made


def test_a_page_sorted_by_due_date_or_awaited_role_is_the_plain_order(
    engine: Engine, mixed: tuple[World, list[int]]
) -> None:
    """Each bounded sort, both ways, over the same dossiers (built once: 40 dossiers
    driven through their states take longer than all the reads)."""
    world, made = mixed
    person = world.team.gestionnaire
    now = datetime.now(UTC)
    for sort in ("echeance", "-echeance", "attente", "-attente"):
        for overdue in (None, True, False):
            for state in (None, "contrat_a_signer"):
                case = (sort, overdue, state)
                whole = DossierFilters(sort=sort, overdue=overdue, state=state, limit=1000)
                with reading(engine) as conn:
                    everything = [
                        int(r.id) for r in conn.execute(filtered_dossiers(conn, person, whole, now))
                    ]
                    assert set(everything) <= set(made)
                    assert len(everything) > (0 if state else 10), case
                    for offset, limit in ((0, 5), (0, 50), (3, 7), (len(everything) - 2, 5)):
                        page = replace(whole, limit=limit, offset=max(0, offset))
                        rows, more = list_dossiers(conn, person, page, now)
                        expected = everything[max(0, offset) : max(0, offset) + limit]
                        assert [int(r.id) for r in rows] == expected, (*case, offset)
                        assert more == (len(everything) > max(0, offset) + limit)


def test_a_sorted_page_kept_for_its_shape_serves_each_person_their_own(
    engine: Engine, mixed: tuple[World, list[int]]
) -> None:
    """The bounded page's statement is built once per shape of list and run with each
    person's and each filter's values: two gestionnaires of different académies, pilotes,
    someone with no role, one after the other on every shape, each get exactly the plain
    statement's page for them — never what the statement was first built for."""
    world, made = mixed
    with reading(engine) as conn:
        other_academie = conn.execute(select(D.c.academie_id).where(D.c.id == made[1])).scalar_one()
        slug = conn.execute(
            select(academie_table.c.slug).where(academie_table.c.id == other_academie)
        ).scalar_one()
    assert other_academie != world.academie_id
    only_second = world.person("gestionnaire-seconde")
    world.builder.editor.assign(only_second, "gestionnaire", academie_id=other_academie)
    people = [world.team.gestionnaire, only_second, world.team.pilote, world.outsider]
    variants: list[dict[str, Any]] = [
        {},
        {"academie": slug},
        {"text": "dossier de TEST"},
        {"text": "rien de tel"},
        {"pilote": world.team.pilote},
        {"state": "contrat_a_signer"},
    ]
    now = datetime.now(UTC)
    seen_per_person: dict[int, set[int]] = {}
    for sort in ("echeance", "-attente"):
        for overdue in (None, True, False):
            for variant in variants:
                for person in people:  # the same shape, one person after the other
                    case = (sort, overdue, variant, person)
                    filters = DossierFilters(sort=sort, overdue=overdue, limit=8, **variant)
                    with reading(engine) as conn:
                        whole = replace(filters, limit=1000)
                        everything = [
                            int(r.id)
                            for r in conn.execute(filtered_dossiers(conn, person, whole, now))
                        ]
                        rows, more = list_dossiers(conn, person, filters, now)
                    assert [int(r.id) for r in rows] == everything[:8], case
                    assert more == (len(everything) > 8), case
                    if not variant and overdue is None:
                        seen_per_person[person] = set(everything)
    # The comparison means something: the four people see four different sets.
    gestionnaire, other, pilote, outsider = (seen_per_person[p] for p in people)
    assert other and other < gestionnaire and pilote and not outsider
    assert other != pilote


def test_what_contracts_wait_for_is_read_for_a_page_at_once(engine: Engine, world: World) -> None:
    """Every contract of a page waits on its signatories: their status is read for all of
    them at once (it took four queries per contract), the same as one by one."""
    team = world.team
    for _ in range(6):
        world.builder.drive(world.formation(), team, "contrat_a_signer")
    now = datetime.now(UTC)
    seen: list[str] = []

    def record(*args: Any) -> None:
        seen.append(str(args[2]))

    counts = []
    with reading(engine) as conn:
        delays = deadline_delays(conn)
        for limit in (2, 6):
            rows, _ = list_dossiers(
                conn, team.gestionnaire, DossierFilters(state="contrat_a_signer", limit=limit), now
            )
            dossiers = [dossier_of_row(r) for r in rows]
            seen.clear()
            event.listen(engine, "before_cursor_execute", record)
            try:
                found = expectations(conn, dossiers, now, delays)
            finally:
                event.remove(engine, "before_cursor_execute", record)
            counts.append(len(seen))
            for dossier in dossiers:
                alone = signature_status(
                    conn, DossierRef(dossier.id, dossier.academie_id, dossier.dispositif)
                )
                assert {p.person_id for p in found[dossier.id].people} == {
                    m.person_id for m in alone.missing
                }
    assert counts[1] == counts[0]  # six contracts cost what two did


def test_the_migration_fills_the_anchors_of_the_dossiers_already_there(
    fresh_database_url: str,
) -> None:
    engine = make_engine(fresh_database_url)
    try:
        upgrade(engine, "0015")
        at = datetime(2026, 9, 1, 8, 30, tzinfo=UTC)
        with engine.begin() as conn:
            academie = conn.execute(
                insert(academie_table)
                .values(slug="avant", name="Avant", code="AVT", created_at=at)
                .returning(academie_table.c.id)
            ).scalar_one()
            dossier = conn.execute(
                text(
                    "INSERT INTO dossier (reference, title, academie_id, workflow_name, "
                    "workflow_version, state, version, state_entered_at, created_at, "
                    "updated_at) VALUES ('AVT-1', 'Avant', :a, 'dossier_formation', 1, "
                    "'realisee', 3, :at, :at, :at) RETURNING id"
                ),
                {"a": academie, "at": at},
            ).scalar_one()
            for version, (trigger, when) in enumerate(
                [("terminer", at - timedelta(days=9)), ("terminer", at)], start=2
            ):
                conn.execute(
                    insert(history_table).values(
                        dossier_id=dossier,
                        version=version,
                        trigger=trigger,
                        from_state="en_cours",
                        to_state="realisee",
                        role="systeme",
                        payload={},
                        at=when,
                    )
                )
            for days in (4, 2, 6):
                conn.execute(
                    insert(session_table).values(
                        dossier_id=dossier,
                        starts_at=at - timedelta(days=days),
                        duration_minutes=60,
                        modality="presentiel",
                    )
                )
        upgrade(engine)
        assert anchors(engine, dossier) == (at - timedelta(days=6), at)
        with reading(engine) as conn:
            assert counters.drift(conn).none
    finally:
        engine.dispose()
