"""A dossier without a planned start is in the budget of the plan year it was created in,
under « à dater » — never in no budget at all (26-DEM-0023, paid, was absent from its
year's budget)."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime
from decimal import Decimal

from openpyxl import load_workbook
from sqlalchemy import Engine, update

from api.exports import files
from tests.conftest import World
from workflow.language.french import PARIS
from workflow.reads.reports import Scope, budget, plan_year_of
from workflow.store.tables import dossier_table

NOW = datetime.now(UTC)


def test_an_undated_paid_dossier_is_in_its_creation_year_under_a_dater(
    world: World, engine: Engine
) -> None:
    year = plan_year_of(NOW.astimezone(PARIS).date())
    assert year is not None
    undated = world.builder.formation(
        world.academie_id, world.team, title="Tutorat des néo-titulaires", undated=True
    )
    world.builder.drive(undated, world.team, "mis_en_paiement")
    dated = world.builder.formation(
        world.academie_id, world.team, title="Classe inversée", start=date(year, 10, 5)
    )
    later = world.builder.formation(
        world.academie_id, world.team, title="L'an prochain", start=date(year + 1, 10, 5)
    )
    assert later
    with engine.connect() as conn:
        this_year = budget(conn, Scope(academie=world.slug, plan_year=year), NOW)
        next_year = budget(conn, Scope(academie=world.slug, plan_year=year + 1), NOW)
        every = budget(conn, Scope(academie=world.slug), NOW)
        sheet = files.budget_file(conn, Scope(academie=world.slug, plan_year=year), "xlsx", NOW)
    assert [(r.title, r.plan_year, r.dated) for r in this_year.rows] == [
        ("Classe inversée", f"{year}-{year + 1}", True),
        ("Tutorat des néo-titulaires", "à dater", False),  # after the dated ones
    ]
    assert this_year.rows[1].realised == Decimal("225.00")
    assert this_year.totals["realised"] == Decimal("225.00")
    assert this_year.totals["a_dater_realised"] == Decimal("225.00")
    assert [r.title for r in next_year.rows] == ["L'an prochain"]
    assert [r.plan_year for r in every.rows][-1] == "à dater"
    assert dated
    rows = list(load_workbook(io.BytesIO(sheet.content)).active.iter_rows(values_only=True))
    assert rows[2][3] == "à dater"
    assert rows[-1][0] == "Total"
    assert (
        "dont 1 dossier(s) à dater (sans date de début prévue, en fin de tableau) : "
        "225,00 € prévus, 225,00 € réalisés" in str(rows[-1][-2])  # then the PAF id column
    )


def test_a_dossier_created_before_september_belongs_to_the_previous_plan(
    world: World, engine: Engine
) -> None:
    undated = world.builder.formation(
        world.academie_id, world.team, title="Sans date", undated=True
    )

    august = datetime(2026, 8, 31, 21, 30, tzinfo=UTC)  # 31 August 23:30 in Paris
    with engine.begin() as conn:
        conn.execute(
            update(dossier_table).where(dossier_table.c.id == undated).values(created_at=august)
        )
    with engine.connect() as conn:
        before = budget(conn, Scope(academie=world.slug, plan_year=2025), NOW)
        after = budget(conn, Scope(academie=world.slug, plan_year=2026), NOW)
    assert [r.title for r in before.rows] == ["Sans date"]
    assert after.rows == ()
