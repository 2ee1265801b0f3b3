"""Deadlines: reminders and escalations once per due point, automatic start and end.

Time is a clock the test moves; the database, the service and the outbox are real. Each
test has a database of its own, since a scan looks at every dossier it holds.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select

from tests.conftest import World, make_world
from tests.support.mail import queued, writer
from workflow.demo import DemoBuilder
from workflow.engine.deadlines import DeadlineTimer
from workflow.engine.service import FireCommand, WorkflowService
from workflow.rules import RULES
from workflow.store.database import make_engine
from workflow.store.migrate import upgrade
from workflow.store.tables import deadline_point_table, dossier_table, history_table
from workflow.store.tables import outbox_table as O


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
def clock() -> Clock:
    return Clock(datetime(2027, 1, 4, 8, 0, tzinfo=UTC))


@pytest.fixture
def setup(
    fresh_database_url: str, data_dir: Path, clock: Clock
) -> Iterator[tuple[Engine, WorkflowService, World]]:
    engine = make_engine(fresh_database_url)
    upgrade(engine)
    outbox = writer()
    service = WorkflowService(engine, RULES, subscribers=[outbox], clock=clock)
    world = make_world(DemoBuilder(engine, data_dir, service))
    yield engine, service, world
    engine.dispose()


def timer(engine: Engine, service: WorkflowService) -> DeadlineTimer:
    return DeadlineTimer(engine, service, subscribers=[writer().on_deadline])


def emails(engine: Engine, dossier: int, template: str) -> list[int | None]:
    with engine.connect() as conn:
        return sorted(
            conn.execute(
                select(O.c.person_id).where(O.c.dossier_id == dossier, O.c.template == template)
            ).scalars(),
            key=lambda p: p or 0,
        )


def state(engine: Engine, dossier: int) -> str:
    with engine.connect() as conn:
        return str(
            conn.execute(
                select(dossier_table.c.state).where(dossier_table.c.id == dossier)
            ).scalar_one()
        )


def test_signature_reminder_goes_once_per_due_point(
    setup: tuple[Engine, WorkflowService, World], clock: Clock
) -> None:
    engine, service, world = setup
    t = world.team
    dossier = world.formation()
    service.fire(FireCommand(dossier, "emettre_contrat", t.pilote))
    service.fire(FireCommand(dossier, "signer", t.formateurs[0]))
    clock.advance(days=6, hours=23)
    assert timer(engine, service).run_once() == 0
    clock.advance(hours=2)
    assert timer(engine, service).run_once() == 1
    # Only the signatory still awaited is reminded.
    assert emails(engine, dossier, "dossier_formation/rappel_signature") == [t.responsable]
    # Another timer process, or the same after a restart: nothing more.
    assert timer(engine, service).run_once() == 0
    clock.advance(days=3)
    assert timer(engine, service).run_once() == 0
    assert emails(engine, dossier, "dossier_formation/rappel_signature") == [t.responsable]
    with engine.connect() as conn:
        text = conn.execute(
            select(O.c.raw).where(O.c.template == "dossier_formation/rappel_signature")
        ).scalar_one()
    assert "attend votre signature depuis le 4 janvier 2027" in text.replace("=\r\n", "")


def test_two_timers_racing_act_once(
    setup: tuple[Engine, WorkflowService, World], clock: Clock
) -> None:
    engine, service, world = setup
    dossiers = [world.formation() for _ in range(6)]
    for dossier in dossiers:
        service.fire(FireCommand(dossier, "emettre_contrat", world.team.pilote))
    clock.advance(days=8)
    results: list[int] = []
    barrier = threading.Barrier(2)

    def run() -> None:
        one = timer(engine, service)
        barrier.wait()
        results.append(one.run_once())

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(results) == 6
    with engine.connect() as conn:
        points = conn.execute(select(func.count()).select_from(deadline_point_table)).scalar_one()
    assert points == 6
    for dossier in dossiers:
        # Two signatories awaited (formateur, responsable): two reminders, not four.
        assert len(emails(engine, dossier, "dossier_formation/rappel_signature")) == 2


def test_sessions_start_and_end_the_training_then_bilan_reminders(
    setup: tuple[Engine, WorkflowService, World], clock: Clock
) -> None:
    engine, service, world = setup
    t = world.team
    builder = DemoBuilder(engine, Path("."), service)
    dossier = world.formation()
    builder.drive(dossier, t, "scenario_valide")
    first = clock.now + timedelta(days=10)
    builder.add_sessions(dossier, t, first)  # two sessions, a week apart, 3 h each
    clock.advance(days=9)
    assert timer(engine, service).run_once() == 0
    clock.now = first + timedelta(minutes=1)
    assert timer(engine, service).run_once() == 1
    assert state(engine, dossier) == "en_cours"
    with engine.connect() as conn:
        started = conn.execute(
            select(history_table.c.actor_id, history_table.c.role).where(
                history_table.c.dossier_id == dossier, history_table.c.trigger == "demarrer"
            )
        ).one()
    assert (started.actor_id, started.role) == (None, "systeme")
    assert t.formateurs[0] in emails(engine, dossier, "dossier_formation/demarrer")
    clock.now = first + timedelta(days=7, hours=2)  # the last session is still running
    assert timer(engine, service).run_once() == 0
    clock.now = first + timedelta(days=7, hours=3, minutes=1)
    assert timer(engine, service).run_once() == 1
    assert state(engine, dossier) == "realisee"
    ended = clock.now
    # A week after the end, the stagiaires who have not answered the questionnaire.
    clock.now = ended + timedelta(days=7, minutes=1)
    assert timer(engine, service).run_once() == 1
    assert emails(engine, dossier, "dossier_formation/rappel_questionnaire") == sorted(t.stagiaires)
    # Bilan due 30 days after the end: reminder at D-7, on the day, escalation after.
    clock.now = ended + timedelta(days=22)
    assert timer(engine, service).run_once() == 0
    clock.now = ended + timedelta(days=23, minutes=1)
    assert timer(engine, service).run_once() == 1
    assert emails(engine, dossier, "dossier_formation/rappel_bilan") == [t.formateurs[0]]
    clock.now = ended + timedelta(days=31, minutes=1)
    assert timer(engine, service).run_once() == 2
    assert emails(engine, dossier, "dossier_formation/rappel_bilan") == [t.formateurs[0]] * 2
    assert emails(engine, dossier, "dossier_formation/escalade_bilan") == [t.gestionnaire]
    with engine.connect() as conn:
        escalation = conn.execute(
            select(O.c.raw).where(O.c.template == "dossier_formation/escalade_bilan")
        ).scalar_one()
    due = (ended + timedelta(days=30)).astimezone(UTC)
    assert "en retard" in escalation
    assert str(due.year) in escalation


def test_coming_back_to_a_state_is_a_new_due_point(
    setup: tuple[Engine, WorkflowService, World], clock: Clock
) -> None:
    engine, service, world = setup
    t = world.team
    builder = DemoBuilder(engine, Path("."), service)
    dossier = world.formation()
    builder.drive(dossier, t, "scenario_soumis")
    clock.advance(days=7, minutes=1)
    assert timer(engine, service).run_once() == 1
    assert emails(engine, dossier, "dossier_formation/rappel_validation_scenario") == [t.pilote]
    service.fire(FireCommand(dossier, "demander_revision", t.pilote, comment="Préciser"))
    service.fire(FireCommand(dossier, "soumettre_scenario", t.concepteur))
    clock.advance(days=7, minutes=1)
    assert timer(engine, service).run_once() == 1
    assert emails(engine, dossier, "dossier_formation/rappel_validation_scenario") == [t.pilote] * 2
    clock.advance(days=7)
    # 14 days after the second submission: the escalation to the gestionnaire.
    assert timer(engine, service).run_once() == 1
    assert emails(engine, dossier, "dossier_formation/escalade_validation_scenario") == [
        t.gestionnaire
    ]


def test_catching_up_after_downtime_sends_one_reminder_per_person(
    setup: tuple[Engine, WorkflowService, World], clock: Clock
) -> None:
    """The timers were down from before « bilan dans 7 jours » until after « bilan attendu
    aujourd'hui »: both are due at once, with the same email to the same formateur. Both
    points are recorded (neither comes back later), one reminder is sent, the latest."""
    engine, service, world = setup
    t = world.team
    builder = DemoBuilder(engine, Path("."), service)
    dossier = world.formation()
    builder.drive(dossier, t, "realisee")
    ended = clock.now
    clock.now = ended + timedelta(days=31, minutes=1)
    # Both bilan reminders, the escalation, and the stagiaires' questionnaire reminder.
    assert timer(engine, service).run_once() == 4
    assert emails(engine, dossier, "dossier_formation/rappel_bilan") == [t.formateurs[0]]
    assert emails(engine, dossier, "dossier_formation/escalade_bilan") == [t.gestionnaire]
    [reminder] = [
        q
        for q in queued(engine, dossier_id=dossier)
        if q.subject.endswith("bilan d'activités attendu")
    ]
    with engine.connect() as conn:
        recorded = dict(
            (str(r.deadline_id), int(r.id))
            for r in conn.execute(
                select(deadline_point_table.c.deadline_id, deadline_point_table.c.id).where(
                    deadline_point_table.c.dossier_id == dossier
                )
            )
        )
    assert sorted(recorded) == [
        "escalade_bilan",
        "rappel_bilan_echeance",
        "rappel_bilan_j_moins_7",
        "rappel_questionnaire",
    ]
    # The one sent is the on-the-day reminder's (its Message-ID names its point).
    assert str(reminder.message["Message-ID"]).startswith(
        f"<formaflow.d{recorded['rappel_bilan_echeance']}.p"
    )
    clock.advance(days=2)
    assert timer(engine, service).run_once() == 0
    assert emails(engine, dossier, "dossier_formation/rappel_bilan") == [t.formateurs[0]]
