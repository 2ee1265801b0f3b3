"""Every history row chained to the previous one of its dossier: a changed author, a row
removed or slipped in, is named by ``formaflow audit verify``."""

from __future__ import annotations

import importlib.util
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType

from sqlalchemy import Connection, Engine, MetaData, Table, insert, select, text

from tests.conftest import World
from tests.support.cli import run_cli
from workflow.engine.history import GENESIS, HistoryReport, row_hash, verify_history
from workflow.store.database import is_postgresql, make_engine
from workflow.store.migrate import upgrade
from workflow.store.tables import dossier_table, history_table, person_table

MIGRATION = (
    Path(__file__).resolve().parents[2] / "workflow/store/migrations/versions/0008_history_chain.py"
)


@contextmanager
def behind_the_codes_back(engine: Engine) -> Iterator[Connection]:
    """A connection with the history's append-only triggers lifted, as a database
    administrator could; they are back when the block commits."""
    with engine.begin() as conn:
        if is_postgresql(conn):
            conn.execute(text("ALTER TABLE history DISABLE TRIGGER history_append_only"))
            yield conn
            conn.execute(text("ALTER TABLE history ENABLE TRIGGER history_append_only"))
            return
        for action in ("update", "delete"):
            conn.execute(text(f"DROP TRIGGER history_no_{action}"))
        yield conn
        for action in ("UPDATE", "DELETE"):
            conn.execute(
                text(
                    f"CREATE TRIGGER history_no_{action.lower()} BEFORE {action} ON history "
                    "BEGIN SELECT RAISE(ABORT, 'history is append-only'); END"
                )
            )


def _report(engine: Engine, world: World) -> HistoryReport:
    with engine.connect() as conn:
        return verify_history(conn, world.academie_id)


def _lines(engine: Engine, dossier: int) -> list[dict[str, object]]:
    with engine.connect() as conn:
        return [
            dict(r._mapping)
            for r in conn.execute(
                select(history_table)
                .where(history_table.c.dossier_id == dossier)
                .order_by(history_table.c.version)
            )
        ]


def _reference(engine: Engine, dossier: int) -> str:
    with engine.connect() as conn:
        return str(
            conn.execute(
                select(dossier_table.c.reference).where(dossier_table.c.id == dossier)
            ).scalar_one()
        )


def test_each_row_chains_to_the_previous_one_and_the_dossier_keeps_the_last(
    world: World, engine: Engine
) -> None:
    dossier = world.formation()
    world.builder.drive(dossier, world.team, "scenario_valide")
    lines = _lines(engine, dossier)
    assert len(lines) >= 4
    prev = GENESIS
    for line in lines:
        assert line["prev_hash"] == prev
        assert line["row_hash"] == row_hash(prev, line)
        prev = str(line["row_hash"])
    with engine.connect() as conn:
        head = conn.execute(
            select(dossier_table.c.history_head).where(dossier_table.c.id == dossier)
        ).scalar_one()
    assert head == prev
    report = _report(engine, world)
    assert report.ok and report.rows >= len(lines)


def test_changing_who_fired_a_transition_is_found_and_named(world: World, engine: Engine) -> None:
    dossier = world.formation()
    world.builder.drive(dossier, world.team, "scenario_valide")
    validated = next(
        line for line in _lines(engine, dossier) if line["trigger"] == "valider_scenario"
    )
    with behind_the_codes_back(engine) as conn:
        conn.execute(
            text("update history set actor_id = :other where id = :id"),
            {"other": world.outsider, "id": validated["id"]},
        )
    [finding] = _report(engine, world).findings
    reference = _reference(engine, dossier)
    assert finding.reference == reference and finding.version == validated["version"]
    assert finding.message.startswith(
        f"Historique du dossier {reference}, ligne v{validated['version']} "
        "(« Valider le scénario hybride », le "
    )
    assert "elle a été modifiée" in finding.message


def test_a_removed_row_and_a_removed_last_row_are_found(world: World, engine: Engine) -> None:
    middle, last = world.formation(), world.formation()
    for dossier in (middle, last):
        world.builder.drive(dossier, world.team, "scenario_valide")
    second = _lines(engine, middle)[1]
    final = _lines(engine, last)[-1]
    with behind_the_codes_back(engine) as conn:
        conn.execute(
            text("delete from history where id in (:a, :b)"), {"a": second["id"], "b": final["id"]}
        )
    findings = {f.reference: f for f in _report(engine, world).findings}
    assert set(findings) == {_reference(engine, middle), _reference(engine, last)}
    assert findings[_reference(engine, middle)].version == int(str(second["version"])) + 1
    assert "ne suit pas la ligne précédente" in findings[_reference(engine, middle)].message
    assert "des lignes ont été supprimées" in findings[_reference(engine, last)].message


def test_audit_verify_names_the_row_whose_author_was_changed(
    loaded: tuple[str, Path],
) -> None:
    url, data = loaded
    ok = run_cli(url, data, "audit", "verify")
    assert ok.returncode == 0, ok.stderr
    assert "Historique intègre : " in ok.stdout
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            row = conn.execute(
                select(history_table.c.id, history_table.c.version, dossier_table.c.reference)
                .join(dossier_table, dossier_table.c.id == history_table.c.dossier_id)
                .where(history_table.c.trigger == "valider_bilan")
                .order_by(history_table.c.id)
                .limit(1)
            ).one()
            someone = conn.execute(
                select(person_table.c.id).where(person_table.c.email == "lea.martin@example.org")
            ).scalar_one()
        with behind_the_codes_back(engine) as conn:
            conn.execute(
                text("update history set actor_id = :p where id = :id"),
                {"p": someone, "id": row.id},
            )
    finally:
        engine.dispose()
    broken = run_cli(url, data, "audit", "verify")
    assert broken.returncode == 1
    assert (
        f"Historique du dossier {row.reference}, ligne v{row.version} (« Valider le bilan »"
        in broken.stderr
    )
    assert "Historique ALTÉRÉ : 1 dossier(s) touché(s)" in broken.stderr


def _migration() -> ModuleType:
    spec = importlib.util.spec_from_file_location("history_chain_migration", MIGRATION)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_migration_hashes_rows_as_the_service_does() -> None:
    at = datetime(2026, 3, 12, 9, 30, 0, 120_000, tzinfo=UTC)
    row = {
        "dossier_id": 7,
        "version": 3,
        "trigger": "demander_revision",
        "from_state": "scenario_soumis",
        "to_state": "scenario_a_reviser",
        "actor_id": 12,
        "on_behalf_of_id": None,
        "role": "pilote",
        "comment": "Préciser l'accompagnement « à distance »",
        "payload": {"b": [1, 2.5, "é"], "a": {"z": None}},
        "at": at,
    }
    assert _migration()._hash(GENESIS, row) == row_hash(GENESIS, row)
    naive = {**row, "at": at.replace(tzinfo=None)}  # SQLite reads UTC back naive
    assert _migration()._hash(GENESIS, naive) == row_hash(GENESIS, row)


def test_rows_written_before_the_chain_are_chained_by_the_migration(
    fresh_database_url: str,
) -> None:
    engine = make_engine(fresh_database_url)
    try:
        upgrade(engine, "0007")
        now = datetime(2026, 2, 1, 8, 0, tzinfo=UTC)
        with engine.begin() as conn:
            # The tables as they stood before the chain (later migrations add columns).
            before = MetaData()
            old_academie, old_dossier, old_history = (
                Table(name, before, autoload_with=conn)
                for name in ("academie", "dossier", "history")
            )
            academie = conn.execute(
                insert(old_academie).values(
                    slug="ancienne", name="Ancienne", code="ANC", created_at=now
                )
            ).inserted_primary_key[0]  # type: ignore[index]
            dossier = conn.execute(
                insert(old_dossier).values(
                    reference="26-ANC-0001",
                    title="Dossier d'avant la chaîne",
                    academie_id=academie,
                    workflow_name="dossier_formation",
                    workflow_version=1,
                    state="contrat_a_signer",
                    version=2,
                    state_entered_at=now,
                    created_at=now,
                    updated_at=now,
                )
            ).inserted_primary_key[0]  # type: ignore[index]
            conn.execute(
                insert(old_history).values(
                    dossier_id=dossier,
                    version=2,
                    trigger="emettre_contrat",
                    from_state="brouillon",
                    to_state="contrat_a_signer",
                    role="gestionnaire",
                    comment="Émis avant la chaîne",
                    payload={"note": "é"},
                    at=now,
                )
            )
        upgrade(engine)
        with engine.connect() as conn:
            report = verify_history(conn, int(academie))
            line = conn.execute(select(history_table)).one()
            head = conn.execute(select(dossier_table.c.history_head)).scalar_one()
        assert report.ok and (report.rows, report.dossiers) == (1, 1)
        assert line.prev_hash == GENESIS and head == line.row_hash
    finally:
        engine.dispose()
