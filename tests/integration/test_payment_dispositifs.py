"""A dossier of each dispositif through ``accorder_paiement``: amounts, stored lines, journal."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from sqlalchemy import Engine, select

from tests.conftest import World
from workflow.reads.queries import payment_decision
from workflow.store.tables import journal_table


@pytest.mark.parametrize(
    ("dispositif", "expected"),
    [
        (
            "vacation_accompagnement",
            [("accompagnement", "vacation", "5.00", "45.00", "225.00", "5 × 45,00 € = 225,00 €")],
        ),
        (
            "hse_convention_ent",
            [("hse", "HSE", "13.00", "20.00", "260.00", "13 × 20,00 € = 260,00 €")],
        ),
        (
            "eafc_taux_a",
            [
                ("conception", "vacation", "12.00", "45.00", "540.00", "12 × 45,00 € = 540,00 €"),
                ("tutorat", "vacation", "0.63", "45.00", "28.35", "0,63 × 45,00 € = 28,35 €"),
            ],
        ),
    ],
)
def test_each_dispositif_is_decided_stored_and_journaled(
    dispositif: str,
    expected: list[tuple[str, str, str, str, str, str]],
    world: World,
    engine: Engine,
) -> None:
    world.configure_hse("20.00")
    dossier = world.formation(dispositif)
    payload = (
        {"conception": {str(world.team.concepteur): "12"}} if dispositif == "eafc_taux_a" else {}
    )
    world.builder.drive(
        dossier, world.team, "paiement_accorde", payloads={"accorder_paiement": payload}
    )
    with engine.connect() as conn:
        decision = payment_decision(conn, dossier)
        entry = conn.execute(
            select(journal_table.c.body).where(
                journal_table.c.dossier_id == dossier, journal_table.c.kind == "decision"
            )
        ).scalar_one()
    assert decision is not None
    got = [
        (
            line.component,
            line.unit,
            str(line.units),
            str(line.rate),
            str(line.amount),
            line.steps[-1],
        )
        for line in decision.lines
    ]
    assert got == expected
    assert decision.total == sum((Decimal(e[4]) for e in expected), Decimal(0))
    facts = json.loads(entry)["facts"]
    assert facts["total"] == str(decision.total)
    assert [line["amount"] for line in facts["lines"]] == [e[4] for e in expected]
    assert facts["lines"][0]["steps"] == decision.lines[0].steps
