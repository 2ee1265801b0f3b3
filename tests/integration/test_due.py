"""One definition of « late »: the deadline timers and every list agree (issue 12, 15 §5).

Time is a clock the test moves; each test has a database of its own, since the timer's
scan looks at every dossier it holds.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from tests.conftest import World, make_world
from tests.support.mail import queued, writer
from workflow.demo import DemoBuilder
from workflow.engine.deadlines import DeadlineTimer
from workflow.engine.due import deadline_delays, due_at_expression, due_dates, late_clause
from workflow.engine.rows import DossierRow, load
from workflow.engine.service import FireCommand, WorkflowService
from workflow.reads.dossier_list import DossierFilters, list_dossiers
from workflow.reads.queries import reading
from workflow.reads.todo import todo
from workflow.rules import RULES
from workflow.store.database import make_engine
from workflow.store.migrate import upgrade
from workflow.store.tables import dossier_table


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
def clock() -> Clock:
    return Clock(datetime(2027, 3, 1, 8, 0, tzinfo=UTC))


@pytest.fixture
def setup(
    fresh_database_url: str, data_dir: Path, clock: Clock
) -> Iterator[tuple[Engine, WorkflowService, World, DeadlineTimer]]:
    engine = make_engine(fresh_database_url)
    upgrade(engine)
    service = WorkflowService(engine, RULES, subscribers=[writer()], clock=clock)
    world = make_world(DemoBuilder(engine, data_dir, service))
    timer = DeadlineTimer(engine, service, subscribers=[writer().on_deadline])
    yield engine, service, world, timer
    engine.dispose()


def _late(engine: Engine, person: int, now: datetime) -> set[int]:
    with reading(engine) as conn:
        rows, _ = list_dossiers(conn, person, DossierFilters(overdue=True, limit=500), now)
    return {int(r.id) for r in rows}


def _templates(engine: Engine, dossier: int) -> list[str]:
    return [q.message["Subject"] for q in queued(engine, dossier_id=dossier)]


def test_a_bilan_escalated_as_late_is_late_on_every_list(
    setup: tuple[Engine, WorkflowService, World, DeadlineTimer], clock: Clock
) -> None:
    """The issue's case: back in « Bilan à compléter » (entered recently), but the training
    ended long ago — the timer escalates « Bilan d'activités en retard », and the dashboard's
    late list, the académie's queue and the dossier's due date say the same."""
    engine, service, world, timer = setup
    team = world.team
    dossier = world.formation()
    world.builder.drive(dossier, team, "bilan_soumis")  # ended (terminer) now
    clock.advance(days=25)
    service.fire(
        FireCommand(dossier, "demander_complement", team.gestionnaire, comment="Émargement ?")
    )
    clock.advance(days=7)  # 32 days after the end, 7 after re-entering the state
    assert timer.run_once() >= 1
    subjects = _templates(engine, dossier)
    assert any("Bilan d'activités en retard" in s for s in subjects)
    assert dossier in _late(engine, team.gestionnaire, clock.now)
    queue = todo(service, team.gestionnaire).queue
    assert queue is not None and dossier in {w.dossier.id for w in queue.late}
    with reading(engine) as conn:
        due = due_dates(conn, [load(conn, dossier)], clock.now, deadline_delays(conn))[dossier]
    assert due.late and due.deadline.id == "rappel_bilan_echeance"
    assert due.at == clock.now - timedelta(days=2)  # ended 32 days ago, due after 30


def test_the_lists_and_the_timers_move_together_day_by_day(
    setup: tuple[Engine, WorkflowService, World, DeadlineTimer], clock: Clock
) -> None:
    """A contract to sign: not late the day before its reminder, late from the moment the
    timer sends it — for every day of three weeks, the two never disagree."""
    engine, _, world, timer = setup
    dossier = world.formation()
    world.builder.drive(dossier, world.team, "contrat_a_signer")
    for _ in range(21 * 4):
        timer.run_once()
        reminded = any("Rappel : contrat" in s for s in _templates(engine, dossier))
        assert (dossier in _late(engine, world.team.gestionnaire, clock.now)) == reminded, clock.now
        clock.advance(hours=6)
    assert reminded


def test_an_academie_s_own_delay_is_the_timers_and_the_lists(
    setup: tuple[Engine, WorkflowService, World, DeadlineTimer], clock: Clock
) -> None:
    """An académie that gives its signatories 3 days instead of 7: reminded and late after
    3 days, while another académie on the spec's delay is neither."""
    engine, _, world, timer = setup
    world.configure(delais__rappel_signature=3)
    other = make_world(world.builder)
    quick = world.formation()
    world.builder.drive(quick, world.team, "contrat_a_signer")
    slow = other.formation()
    other.builder.drive(slow, other.team, "contrat_a_signer")
    clock.advance(days=4)
    timer.run_once()
    assert any("Rappel : contrat" in s for s in _templates(engine, quick))
    assert not any("Rappel : contrat" in s for s in _templates(engine, slow))
    assert quick in _late(engine, world.team.gestionnaire, clock.now)
    assert slow not in _late(engine, other.team.gestionnaire, clock.now)
    with reading(engine) as conn:
        delays = deadline_delays(conn)
        rows = [load(conn, quick), load(conn, slow)]
        dues = due_dates(conn, rows, clock.now, delays)
        in_sql = set(
            conn.execute(
                select(dossier_table.c.id).where(
                    dossier_table.c.id.in_([quick, slow]), late_clause(clock.now, delays)
                )
            ).scalars()
        )
    assert dues[quick].at == clock.now - timedelta(days=1) and dues[quick].late
    assert dues[slow].at == clock.now + timedelta(days=3) and not dues[slow].late
    assert in_sql == {quick}


def test_sorting_by_due_date_in_sql_follows_the_due_dates(
    setup: tuple[Engine, WorkflowService, World, DeadlineTimer], clock: Clock
) -> None:
    engine, _, world, _ = setup
    team = world.team
    made = []
    for target in ("contrat_a_signer", "scenario_soumis", "bilan_soumis", "brouillon"):
        dossier = world.formation()
        world.builder.drive(dossier, team, target)
        made.append(dossier)
        clock.advance(days=2)
    with reading(engine) as conn:
        delays = deadline_delays(conn)
        due = due_at_expression(delays)
        ordered = list(
            conn.execute(
                select(dossier_table.c.id)
                .where(dossier_table.c.id.in_(made))
                .order_by(due.asc().nulls_last(), dossier_table.c.id)
            ).scalars()
        )
        rows: list[DossierRow] = [load(conn, d) for d in made]
        dues = due_dates(conn, rows, clock.now, delays)
    expected = sorted(
        made, key=lambda d: (dues[d].at if d in dues else datetime.max.replace(tzinfo=UTC), d)
    )
    assert ordered == expected
    assert made[-1] not in dues  # a draft waits on its pilote, with no due date
