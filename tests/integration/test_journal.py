"""The decision journal on a real database: chained in the transition's transaction,
append-only, and every edit, insertion or deletion made behind the code's back is found."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

import pytest
from sqlalchemy import Connection, Engine, select, text
from sqlalchemy.exc import DBAPIError

from tests.conftest import World, make_world
from workflow.engine.errors import WorkflowError
from workflow.engine.service import FireCommand, FireResult, WorkflowService
from workflow.payments import journal
from workflow.store.database import is_postgresql
from workflow.store.tables import decision_table, journal_table


def _report(engine: Engine, world: World) -> journal.Report:
    with engine.connect() as conn:
        return journal.verify(conn, world.slug)


def _entries(engine: Engine, world: World) -> list[tuple[int, str, str]]:
    with engine.connect() as conn:
        rows = conn.execute(
            select(journal_table.c.position, journal_table.c.kind, journal_table.c.entry_hash)
            .where(journal_table.c.academie_id == world.academie_id)
            .order_by(journal_table.c.position)
        ).all()
    return [(int(r.position), str(r.kind), str(r.entry_hash)) for r in rows]


@contextmanager
def behind_the_codes_back(engine: Engine) -> Iterator[Connection]:
    """A connection with the journal's append-only triggers lifted, as a database
    administrator could; they are back when the block commits."""
    with engine.begin() as conn:
        if is_postgresql(conn):
            conn.execute(
                text("ALTER TABLE decision_journal DISABLE TRIGGER decision_journal_append_only")
            )
            yield conn
            conn.execute(
                text("ALTER TABLE decision_journal ENABLE TRIGGER decision_journal_append_only")
            )
            return
        for action in ("update", "delete"):
            conn.execute(text(f"DROP TRIGGER decision_journal_no_{action}"))
        yield conn
        for action in ("UPDATE", "DELETE"):
            conn.execute(
                text(
                    f"CREATE TRIGGER decision_journal_no_{action.lower()} BEFORE {action} ON "
                    "decision_journal BEGIN SELECT RAISE(ABORT, 'decision_journal is "
                    "append-only'); END"
                )
            )


def _paid(world: World) -> int:
    dossier = world.formation()
    world.builder.drive(dossier, world.team, "paiement_accorde")
    return dossier


def test_signatures_and_the_decision_are_chained_in_order(world: World, engine: Engine) -> None:
    _paid(world)
    entries = _entries(engine, world)
    # The contract's version is journalled at its first signature (documents/versions).
    assert [(p, k) for p, k, _ in entries] == [
        (1, "version"),
        (2, "signature"),
        (3, "signature"),
        (4, "decision"),
    ]
    report = _report(engine, world)
    assert report.ok and report.entries == 4
    assert report.last_hashes == {world.slug: entries[-1][2]}
    with engine.connect() as conn:
        first = conn.execute(
            select(journal_table).where(
                journal_table.c.academie_id == world.academie_id, journal_table.c.position == 2
            )
        ).one()
    assert first.prev_hash == entries[0][2]
    assert first.entry_hash == journal.entry_hash(first.prev_hash, first.body)


def test_a_refused_decision_leaves_no_entry(world: World, service: WorkflowService) -> None:
    dossier = world.formation("hse_convention_ent")  # no HSE rate: the decision is refused
    world.builder.drive(dossier, world.team, "bilan_valide")
    before = _entries(service.engine, world)
    with pytest.raises(WorkflowError):
        service.fire(FireCommand(dossier, "accorder_paiement", world.team.responsable))
    assert _entries(service.engine, world) == before


@pytest.mark.parametrize("table", ["payment_decision", "payment_line", "decision_journal"])
def test_decisions_and_the_journal_are_append_only(
    table: str, world: World, engine: Engine
) -> None:
    dossier = _paid(world)
    with engine.connect() as conn:
        decision = conn.execute(
            select(decision_table.c.id).where(decision_table.c.dossier_id == dossier)
        ).scalar_one()
    column = {"payment_decision": "id", "payment_line": "decision_id"}.get(table)
    where = f"{column} = {decision}" if column else f"dossier_id = {dossier}"
    for statement in (
        f"update {table} set id = id where {where}",
        f"delete from {table} where {where}",
    ):
        with pytest.raises(DBAPIError, match="append-only"), engine.begin() as conn:
            conn.execute(text(statement))
    assert _report(engine, world).ok


def test_an_edited_entry_is_found(world: World, engine: Engine) -> None:
    _paid(world)
    with behind_the_codes_back(engine) as conn:
        conn.execute(
            text(
                "update decision_journal set body = replace(body, '225.00', '2250.00') "
                "where academie_id = :a and position = 4"
            ),
            {"a": world.academie_id},
        )
    [finding] = _report(engine, world).findings
    assert (finding.position, finding.problem) == (4, "modifiee")
    prefix = f"Académie « {world.slug} », entrée n° 4 : elle a été modifiée"
    assert finding.message.startswith(prefix)


def test_an_entry_rehashed_after_its_edit_is_still_found(world: World, engine: Engine) -> None:
    _paid(world)
    with behind_the_codes_back(engine) as conn:
        row = conn.execute(
            select(journal_table).where(
                journal_table.c.academie_id == world.academie_id, journal_table.c.position == 4
            )
        ).one()
        body = row.body.replace('"225.00"', '"2250.00"')
        conn.execute(
            text("update decision_journal set body = :b, entry_hash = :h where id = :i"),
            {"b": body, "h": journal.entry_hash(row.prev_hash, body), "i": row.id},
        )
    [finding] = _report(engine, world).findings
    assert (finding.position, finding.problem) == (4, "modifiee")


def test_a_deleted_entry_is_found(world: World, engine: Engine) -> None:
    _paid(world)
    with behind_the_codes_back(engine) as conn:
        conn.execute(
            text("delete from decision_journal where academie_id = :a and position = 2"),
            {"a": world.academie_id},
        )
    [finding] = _report(engine, world).findings
    assert (finding.position, finding.problem) == (2, "supprimee")
    assert "l'entrée n° 2 a été supprimée" in finding.message


def test_a_deleted_last_entry_is_found(world: World, engine: Engine) -> None:
    _paid(world)
    with behind_the_codes_back(engine) as conn:
        conn.execute(
            text("delete from decision_journal where academie_id = :a and position = 4"),
            {"a": world.academie_id},
        )
    [finding] = _report(engine, world).findings
    assert (finding.position, finding.problem) == (4, "supprimee")
    assert "décision de paiement" in finding.message


def test_an_inserted_entry_is_found(world: World, engine: Engine) -> None:
    dossier = _paid(world)
    last = _entries(engine, world)[-1][2]
    body = journal.canonical({"forged": True})
    with engine.begin() as conn:  # inserting needs no trigger lifted
        conn.execute(
            text(
                "insert into decision_journal (academie_id, position, kind, source_id, "
                "dossier_id, recorded_at, body, prev_hash, entry_hash) values "
                "(:a, 5, 'decision', 999999, :d, :t, :b, :p, :h)"
            ),
            {
                "a": world.academie_id,
                "d": dossier,
                "t": "2026-01-01 00:00:00",
                "b": body,
                "p": last,
                "h": journal.entry_hash(last, body),
            },
        )
    [finding] = _report(engine, world).findings
    assert (finding.position, finding.problem) == (5, "inseree")
    assert "elle a été insérée" in finding.message


def test_an_entry_slipped_into_the_middle_is_found(world: World, engine: Engine) -> None:
    _paid(world)
    with behind_the_codes_back(engine) as conn:
        # Make room after entry 1 and copy entry 1 into the gap.
        conn.execute(
            text(
                "update decision_journal set position = position + 10 "
                "where academie_id = :a and position > 1"
            ),
            {"a": world.academie_id},
        )
        conn.execute(
            text(
                "update decision_journal set position = position - 9 "
                "where academie_id = :a and position > 10"
            ),
            {"a": world.academie_id},
        )
        conn.execute(
            text(
                "insert into decision_journal (academie_id, position, kind, source_id, "
                "dossier_id, recorded_at, body, prev_hash, entry_hash) select academie_id, 2, "
                "kind, source_id + 1000000, dossier_id, recorded_at, body, entry_hash, "
                "entry_hash from decision_journal where academie_id = :a and position = 1"
            ),
            {"a": world.academie_id},
        )
    [finding] = _report(engine, world).findings
    assert (finding.position, finding.problem) == (2, "inseree")


def test_other_academies_are_not_affected_by_a_broken_chain(world: World, engine: Engine) -> None:
    other = make_world(world.builder)
    _paid(world)
    _paid(other)
    with behind_the_codes_back(engine) as conn:
        conn.execute(
            text("delete from decision_journal where academie_id = :a and position = 1"),
            {"a": world.academie_id},
        )
    assert not _report(engine, world).ok
    assert _report(engine, other).ok


THREADS = 6


def test_parallel_decisions_and_signatures_never_fork_the_chain(
    world: World, service: WorkflowService, engine: Engine
) -> None:
    """Decisions on different dossiers of one académie at the same instant (and signatures
    among them) all succeed, one after the other in the chain."""
    deciding = [world.formation() for _ in range(THREADS)]
    signing = [world.formation() for _ in range(THREADS)]
    for dossier in deciding:
        world.builder.drive(dossier, world.team, "bilan_valide")
    for dossier in signing:
        world.builder.drive(dossier, world.team, "contrat_a_signer")
    before = len(_entries(engine, world))
    barrier = threading.Barrier(2 * THREADS)

    def attempt(command: FireCommand) -> FireResult | Exception:
        barrier.wait()
        try:
            return service.fire(command)
        except Exception as error:  # reported by the assertion below
            return error

    commands = [FireCommand(d, "accorder_paiement", world.team.responsable) for d in deciding] + [
        FireCommand(d, "signer", world.team.formateurs[0]) for d in signing
    ]
    with ThreadPoolExecutor(2 * THREADS) as pool:
        outcomes = list(pool.map(attempt, commands))
    assert all(isinstance(o, FireResult) for o in outcomes), outcomes
    entries = _entries(engine, world)
    # Each first signature of a contract also journals that contract's version.
    assert [p for p, _, _ in entries] == list(range(1, before + 3 * THREADS + 1))
    assert len({h for _, _, h in entries}) == len(entries)
    assert _report(engine, world).ok
