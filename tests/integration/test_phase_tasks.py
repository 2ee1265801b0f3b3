"""Charter tasks with due dates, closed with their phase; dates that make sense (issue 12,
items 4 and 5). The service, the editor and the database are real; the clock is moved."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, select

from tests.conftest import World, make_world
from workflow.demo import DemoBuilder
from workflow.dossiers.dates import EARLY_CONFIRMED
from workflow.dossiers.inputs import SessionInput
from workflow.engine.errors import GuardFailed, InvalidInput
from workflow.engine.service import FireCommand, WorkflowService
from workflow.engine.tasks import TaskBook, TaskClosed, TaskFilters, TaskStatus
from workflow.rules import RULES
from workflow.store.tables import history_table, task_table

START = datetime(2027, 5, 3, 7, 0, tzinfo=UTC)


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock(START - timedelta(days=20))


@pytest.fixture
def timed(engine: Engine, data_dir: object, clock: Clock) -> World:
    service = WorkflowService(engine, RULES, clock=clock)
    return make_world(DemoBuilder(engine, data_dir, service))  # type: ignore[arg-type]


def _session(starts_at: datetime, held: bool = False) -> SessionInput:
    return SessionInput(
        starts_at=starts_at,
        duration_minutes=120,
        modality="presentiel",
        held=held,
        actual_headcount=5 if held else None,
    )


def _tasks(engine: Engine, dossier: int, person: int) -> dict[str, tuple[object, ...]]:
    with engine.connect() as conn:
        rows = conn.execute(
            select(
                task_table.c.code,
                task_table.c.phase,
                task_table.c.due_at,
                task_table.c.done_at,
                task_table.c.closed_at,
            ).where(task_table.c.dossier_id == dossier, task_table.c.person_id == person)
        ).all()
    return {r.code: (r.phase, r.due_at, r.done_at, r.closed_at) for r in rows}


def test_en_amont_tasks_are_due_at_the_first_session_and_follow_it(
    timed: World, engine: Engine, clock: Clock
) -> None:
    editor, team = timed.builder.editor, timed.team
    dossier = timed.formation()
    first = editor.add_session(dossier, _session(START))
    timed.builder.drive(dossier, team, "scenario_valide")
    formateur = team.formateurs[0]
    tasks = _tasks(engine, dossier, formateur)
    assert {c for c, t in tasks.items() if t[0] == "en_amont"} == {
        "configurer_espace",
        "scenariser",
        "tester_materiel",
    }
    assert {t[1] for t in tasks.values()} == {START}
    # The session moves a week later: the tasks due by it move with it.
    editor.update_session(dossier, first, _session(START + timedelta(days=7)))
    assert {t[1] for t in _tasks(engine, dossier, formateur).values()} == {
        START + timedelta(days=7)
    }
    # An earlier session added: the first session is now that one.
    editor.add_session(dossier, _session(START - timedelta(days=2)))
    assert {t[1] for t in _tasks(engine, dossier, formateur).values()} == {
        START - timedelta(days=2)
    }


def test_tasks_close_with_their_phase_and_stay_as_not_done(
    timed: World, engine: Engine, clock: Clock
) -> None:
    team = timed.team
    formateur = team.formateurs[0]
    dossier = timed.formation()
    timed.builder.drive(dossier, team, "scenario_valide")
    book = TaskBook(engine, clock)
    mine, _ = book.mine(formateur, TaskFilters(TaskStatus.OPEN))
    done = mine[0]
    book.complete(done.id, formateur)
    clock.now += timedelta(days=1)
    timed.builder.service.fire(FireCommand(dossier, "demarrer", formateur))  # « en amont » over
    tasks = _tasks(engine, dossier, formateur)
    amont = {c: t for c, t in tasks.items() if t[0] == "en_amont"}
    assert amont[done.code][2] is not None and amont[done.code][3] is None  # done, kept done
    not_done = [t for c, t in amont.items() if c != done.code]
    assert not_done and all(t[2] is None and t[3] == clock.now for t in not_done)
    closed, _ = book.mine(formateur, TaskFilters(TaskStatus.CLOSED))
    assert {t.code for t in closed} == {c for c in amont if c != done.code}
    assert all(t.closed_at == clock.now and not t.overdue for t in closed)
    with pytest.raises(TaskClosed) as refused:
        book.complete(closed[0].id, formateur)
    assert "sa phase est terminée" in refused.value.message
    open_now, _ = book.mine(formateur, TaskFilters(TaskStatus.OPEN))
    assert {t.phase for t in open_now} == {"pendant"}
    # Cancelling the dossier ends every phase: nothing stays open.
    timed.builder.service.fire(FireCommand(dossier, "annuler", team.pilote, comment="Annulé."))
    assert book.mine(formateur, TaskFilters(TaskStatus.OPEN))[0] == []


def test_apres_tasks_are_due_with_the_bilan(timed: World, engine: Engine, clock: Clock) -> None:
    team = timed.team
    dossier = timed.formation()
    timed.builder.drive(dossier, team, "realisee")
    due = {t[1] for c, t in _tasks(engine, dossier, team.formateurs[0]).items() if t[0] == "apres"}
    assert due == {clock.now + timedelta(days=30)}
    pilot = {t[1] for t in _tasks(engine, dossier, team.pilote).values() if t[0] == "apres"}
    assert pilot == {clock.now + timedelta(days=30)}


def test_a_session_is_held_only_once_it_has_begun(timed: World, clock: Clock) -> None:
    editor = timed.builder.editor
    dossier = timed.formation()
    with pytest.raises(InvalidInput) as refused:
        editor.add_session(dossier, _session(clock.now + timedelta(hours=1), held=True))
    assert refused.value.field == "held"
    assert refused.value.message.startswith("Une session ne peut être marquée tenue qu'une fois")
    session = editor.add_session(dossier, _session(clock.now + timedelta(hours=1)))
    with pytest.raises(InvalidInput):
        editor.update_session(dossier, session, _session(clock.now + timedelta(hours=1), True))
    clock.now += timedelta(hours=1)
    assert editor.update_session(dossier, session, _session(clock.now, held=True))


def test_starting_or_ending_before_the_sessions_asks_for_a_confirmation_kept_in_history(
    timed: World, engine: Engine, clock: Clock
) -> None:
    team = timed.team
    service = timed.builder.service
    formateur = team.formateurs[0]
    dossier = timed.formation()
    timed.builder.editor.add_session(dossier, _session(START))
    timed.builder.drive(dossier, team, "scenario_valide")
    with pytest.raises(GuardFailed) as refused:
        service.fire(FireCommand(dossier, "demarrer", formateur))
    (reason,) = refused.value.reasons
    assert reason.startswith("votre confirmation de démarrer la formation avant sa première")
    assert "3 mai 2027 à 09:00" in reason  # Paris time
    service.fire(FireCommand(dossier, "demarrer", formateur, payload={EARLY_CONFIRMED: True}))
    with pytest.raises(GuardFailed) as too_soon:
        service.fire(FireCommand(dossier, "terminer", team.gestionnaire))
    assert "avant la fin de sa dernière session" in too_soon.value.reasons[0]
    clock.now = START + timedelta(hours=2)  # the last (only) session is over
    service.fire(FireCommand(dossier, "terminer", team.gestionnaire))
    with engine.connect() as conn:
        history = dict(
            conn.execute(
                select(history_table.c.trigger, history_table.c.payload).where(
                    history_table.c.dossier_id == dossier,
                    history_table.c.trigger.in_(["demarrer", "terminer"]),
                )
            ).all()
        )
    assert history == {"demarrer": {EARLY_CONFIRMED: True}, "terminer": {}}


def test_without_sessions_or_by_the_timer_no_confirmation_is_asked(
    timed: World, clock: Clock
) -> None:
    team = timed.team
    service = timed.builder.service
    bare = timed.formation()
    timed.builder.drive(bare, team, "scenario_valide")
    service.fire(FireCommand(bare, "demarrer", team.formateurs[0]))  # no date to go against
    planned = timed.formation()
    timed.builder.editor.add_session(planned, _session(START))
    timed.builder.drive(planned, team, "scenario_valide")
    service.fire(FireCommand(planned, "demarrer", None))  # the system never confirms
