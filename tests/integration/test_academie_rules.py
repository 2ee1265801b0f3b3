"""What an académie's administration decides really drives the product, without a restart:
its deadline delays drive the timer loop, its rates the next payment decision (an older
decision keeping its own), its required signatories the contract's signature."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from tests.conftest import World, make_world
from tests.support.mail import writer
from workflow.demo import DemoBuilder
from workflow.documents.signatures import signature_status
from workflow.engine.deadlines import DeadlineTimer
from workflow.engine.errors import NotPermitted
from workflow.engine.rows import load
from workflow.engine.service import FireCommand, WorkflowService
from workflow.payments import journal
from workflow.rules import RULES
from workflow.store.database import make_engine
from workflow.store.migrate import upgrade
from workflow.store.tables import decision_rates_table, decision_table, dossier_table
from workflow.store.tables import outbox_table as O
from workflow.store.tables import payment_line_table as PL

REMINDER = "dossier_formation/rappel_signature"


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def timed(
    fresh_database_url: str, data_dir: Path
) -> Iterator[tuple[Engine, WorkflowService, Clock]]:
    """A database of its own: a timer scan looks at every dossier it holds."""
    engine = make_engine(fresh_database_url)
    upgrade(engine)
    clock = Clock(datetime(2027, 1, 4, 8, 0, tzinfo=UTC))
    service = WorkflowService(engine, RULES, subscribers=[writer()], clock=clock)
    yield engine, service, clock
    engine.dispose()


def _reminded(engine: Engine, dossier: int) -> bool:
    with engine.connect() as conn:
        return (
            conn.execute(
                select(O.c.id).where(O.c.dossier_id == dossier, O.c.template == REMINDER)
            ).first()
            is not None
        )


def test_each_academie_s_own_delay_drives_the_timer_loop(
    timed: tuple[Engine, WorkflowService, Clock], data_dir: Path
) -> None:
    engine, service, clock = timed
    builder = DemoBuilder(engine, data_dir, service)
    quick, usual, later = make_world(builder), make_world(builder), make_world(builder)
    quick.configure(delais__rappel_signature="3")
    dossiers = {}
    for name, world in (("quick", quick), ("usual", usual), ("later", later)):
        dossiers[name] = world.formation()
        service.fire(FireCommand(dossiers[name], "emettre_contrat", world.team.pilote))
    timer = DeadlineTimer(engine, service, subscribers=[writer().on_deadline])

    clock.now += timedelta(days=3, hours=1)
    assert timer.run_once() == 1
    assert [_reminded(engine, d) for d in dossiers.values()] == [True, False, False]
    # Changed while the loop runs: the next scan counts with it, nothing to restart.
    later.configure(delais__rappel_signature="5")
    clock.now += timedelta(days=2)
    assert timer.run_once() == 1
    assert [_reminded(engine, d) for d in dossiers.values()] == [True, False, True]
    clock.now += timedelta(days=2)
    assert timer.run_once() == 1  # the spec's 7 days for the académie that set nothing
    assert all(_reminded(engine, d) for d in dossiers.values())
    assert timer.run_once() == 0


def _paid(world: World) -> int:
    dossier = world.formation()
    world.builder.drive(dossier, world.team, "paiement_accorde")
    return dossier


def _decision(engine: Engine, dossier: int) -> tuple[list[Decimal], dict[str, object]]:
    with engine.connect() as conn:
        decision = conn.execute(
            select(decision_table.c.id).where(decision_table.c.dossier_id == dossier)
        ).scalar_one()
        rates = conn.execute(
            select(PL.c.rate).where(PL.c.decision_id == decision).order_by(PL.c.id)
        ).scalars()
        recorded = conn.execute(
            select(decision_rates_table.c.rates).where(
                decision_rates_table.c.decision_id == decision
            )
        ).scalar_one()
        return [Decimal(r) for r in rates], json.loads(recorded)


def test_the_next_decision_uses_the_new_rate_and_the_older_keeps_its_own(
    world: World, engine: Engine
) -> None:
    before = _paid(world)
    world.configure(tarifs__vacation_accompagnement="50,00")
    after = _paid(world)
    old_rates, old_recorded = _decision(engine, before)
    new_rates, new_recorded = _decision(engine, after)
    assert old_rates == [Decimal("45.00")] and new_rates == [Decimal("50.00")]
    assert old_recorded["vacation_accompagnement"] == "45.00"
    assert new_recorded["vacation_accompagnement"] == "50.00"
    assert new_recorded["vacation_taux_a"] == "45.00"
    assert new_recorded["classes_virtuelles"] == [
        {"formateurs": 2, "stagiaires_min": 20, "stagiaires_max": 20, "vacations_par_heure": "0.75"}
    ]
    with engine.connect() as conn:
        report = journal.verify(conn, world.slug)
        entry = conn.execute(
            select(journal.J.c.body).where(
                journal.J.c.dossier_id == after, journal.J.c.kind == journal.KIND_DECISION
            )
        ).scalar_one()
    assert report.ok, report.findings
    assert json.loads(entry)["facts"]["rates"]["vacation_accompagnement"] == "50.00"


def test_an_academie_s_required_signatories_decide_when_the_contract_is_signed(
    world: World, service: WorkflowService, engine: Engine
) -> None:
    t = world.team
    assert t.tuteur is not None
    dossier = world.formation()
    service.fire(FireCommand(dossier, "emettre_contrat", t.pilote))
    with pytest.raises(NotPermitted):  # the default rule: formateurs and the responsable
        service.fire(FireCommand(dossier, "signer", t.tuteur))
    world.configure(
        signataires__vacation_accompagnement=[
            {"role": "formateur", "mode": "chacun"},
            {"role": "tuteur", "mode": "chacun"},
            {"role": "responsable", "mode": "un"},
        ]
    )
    service.fire(FireCommand(dossier, "signer", t.formateurs[0]))
    service.fire(FireCommand(dossier, "signer", t.responsable))
    with engine.connect() as conn:
        status = signature_status(conn, load(conn, dossier).ref)
        state = conn.execute(
            select(dossier_table.c.state).where(dossier_table.c.id == dossier)
        ).scalar_one()
    assert [m.person_id for m in status.missing] == [t.tuteur]
    assert state == "contrat_a_signer"
    result = service.fire(FireCommand(dossier, "signer", t.tuteur))
    assert (result.to_state, result.role) == ("contrat_signe", "tuteur")
