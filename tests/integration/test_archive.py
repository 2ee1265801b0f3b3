"""Archiving: a dossier closed for longer than its académie's retention period leaves the
default lists, loses its files, emails and other personal data, all or nothing; what the
decisions need stays, and the decision journal still verifies."""

from __future__ import annotations

import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import Connection, Engine, Table, func, insert, select, update

from tests.conftest import World
from tests.integration.test_cli import reference
from tests.support.cli import run_cli
from workflow.admin.archive import PURGE_STEPS, Archiver, Purged
from workflow.dossiers.inputs import DocumentInput
from workflow.engine.errors import InvalidInput
from workflow.engine.rows import DossierRow
from workflow.payments import journal
from workflow.reads.dossier_list import DossierFilters, list_dossiers
from workflow.reads.queries import reading
from workflow.store.database import make_engine
from workflow.store.tables import (
    decision_table,
    document_table,
    dossier_table,
    history_table,
    outbox_table,
    signature_table,
    task_table,
)
from workflow.store.types import utcnow

D = dossier_table


def closed_days_ago(engine: Engine, dossier_id: int, days: int) -> None:
    with engine.begin() as conn:
        conn.execute(
            update(D)
            .where(D.c.id == dossier_id)
            .values(state_entered_at=utcnow() - timedelta(days=days))
        )


def count(conn: Connection, table: Table, dossier_id: int) -> int:
    return int(
        conn.execute(
            select(func.count()).select_from(table).where(table.c.dossier_id == dossier_id)
        ).scalar_one()
    )


def an_email(engine: Engine, world: World, dossier_id: int) -> None:
    now = utcnow()
    with engine.begin() as conn:
        conn.execute(
            insert(outbox_table).values(
                message_id=f"<{uuid.uuid4().hex}@test>",
                academie_id=world.academie_id,
                dossier_id=dossier_id,
                template="dossier_formation/mettre_en_paiement",
                person_id=world.team.formateurs[0],
                to_email="formatrice@example.org",
                from_email="eafc@example.org",
                subject="Mis en paiement",
                raw="Bonjour Formatrice…",
                status="sent",
                created_at=now,
                next_attempt_at=now,
            )
        )


@pytest.fixture
def paid(world: World, engine: Engine, data_dir: Path) -> tuple[int, int, Path]:
    """A dossier paid long ago with an upload of its own and an email; and a current
    dossier holding an identical copy of one of its files."""
    # A title of its own: the bilan's attendance sheet (a PDF naming it) is then its own file.
    dossier = world.builder.formation(world.academie_id, world.team, title=f"Payé {uuid.uuid4()}")
    world.builder.drive(dossier, world.team, "mis_en_paiement")
    editor = world.builder.editor
    own = f"émargement {uuid.uuid4()}".encode()
    editor.add_document(
        dossier,
        DocumentInput(kind="emargement", filename="a.pdf", content_type="application/pdf"),
        own,
        None,
    )
    shared = f"fiche {uuid.uuid4()}".encode()
    current = world.formation()
    for target in (dossier, current):
        editor.add_document(
            target,
            DocumentInput(kind="autre", filename="b.pdf", content_type="application/pdf"),
            shared,
            None,
        )
    an_email(engine, world, dossier)
    closed_days_ago(engine, dossier, 731)  # the académie keeps closed dossiers 730 days
    with reading(engine) as conn:
        keys = conn.execute(
            select(document_table.c.storage_key).where(document_table.c.dossier_id == dossier)
        ).scalars()
        files = sorted(data_dir / "documents" / key for key in keys)
    assert len(files) == 3 and all(f.exists() for f in files)
    return dossier, current, data_dir


def test_archiving_purges_files_and_personal_data_and_keeps_the_decisions(
    engine: Engine, world: World, paid: tuple[int, int, Path]
) -> None:
    dossier, current, data_dir = paid
    with reading(engine) as conn:
        before = {
            table.name: count(conn, table, dossier)
            for table in (history_table, signature_table, decision_table)
        }
        keys = conn.execute(
            select(document_table.c.storage_key, document_table.c.kind).where(
                document_table.c.dossier_id == dossier
            )
        ).all()
        shared_file = next(data_dir / "documents" / k for k, kind in keys if kind == "autre")
        own_files = [data_dir / "documents" / k for k, kind in keys if kind != "autre"]
        assert count(conn, task_table, dossier) > 0
    archiver = Archiver(engine, data_dir)
    due = archiver.due(world.slug)
    assert [c.dossier_id for c in due] == [dossier]
    result = archiver.archive(due[0])

    assert result.error is None
    assert result.lines[0].startswith("3 documents déposés supprimés (")
    assert "1 courriel effacé de la boîte d'envoi" in result.lines
    assert any(line.endswith("tâches de la charte effacées") for line in result.lines)
    assert result.files_deleted == 2
    assert not any(f.exists() for f in own_files)
    assert shared_file.exists()  # the current dossier still holds it
    with reading(engine) as conn:
        assert conn.execute(select(D.c.archived_at).where(D.c.id == dossier)).scalar() is not None
        for table in (document_table, outbox_table, task_table):
            assert count(conn, table, dossier) == 0, table.name
        after = {
            table.name: count(conn, table, dossier)
            for table in (history_table, signature_table, decision_table)
        }
        assert count(conn, document_table, current) == 1
        assert journal.verify(conn, world.slug).ok
        listed, _ = list_dossiers(conn, world.team.gestionnaire, DossierFilters(), utcnow())
        archived, _ = list_dossiers(
            conn, world.team.gestionnaire, DossierFilters(archived=True), utcnow()
        )
    assert after == before and before["payment_decision"] == 1
    assert dossier not in [r.id for r in listed] and current in [r.id for r in listed]
    assert [r.id for r in archived] == [dossier]
    assert archiver.due(world.slug) == []  # done once
    with pytest.raises(InvalidInput, match="archivé"):
        world.builder.editor.add_document(
            dossier,
            DocumentInput(kind="autre", filename="c.pdf", content_type="application/pdf"),
            b"trop tard",
            None,
            actor_id=world.team.gestionnaire,
        )


def test_a_failing_step_leaves_the_dossier_untouched(
    engine: Engine, world: World, paid: tuple[int, int, Path]
) -> None:
    dossier, _, data_dir = paid

    def broken(conn: Connection, row: DossierRow) -> Purged:
        raise RuntimeError("disque plein")

    archiver = Archiver(engine, data_dir, steps=(*PURGE_STEPS, broken))
    (candidate,) = archiver.due(world.slug)
    result = archiver.archive(candidate)
    assert result.error is not None and "rien n'a été modifié" in result.error
    with reading(engine) as conn:
        assert conn.execute(select(D.c.archived_at).where(D.c.id == dossier)).scalar() is None
        assert count(conn, document_table, dossier) == 3
        assert count(conn, outbox_table, dossier) == 1
        keys = conn.execute(
            select(document_table.c.storage_key).where(document_table.c.dossier_id == dossier)
        ).scalars()
        assert all((data_dir / "documents" / key).exists() for key in keys)


def test_only_dossiers_closed_past_the_retention_period_are_due(
    engine: Engine, world: World, data_dir: Path
) -> None:
    recent = world.formation()
    world.builder.drive(recent, world.team, "annule")
    closed_days_ago(engine, recent, 729)
    stalled = world.formation()  # a draft untouched for years is not closed
    closed_days_ago(engine, stalled, 2000)
    old = world.formation()
    world.builder.drive(old, world.team, "annule")
    closed_days_ago(engine, old, 800)
    assert [c.dossier_id for c in Archiver(engine, data_dir).due(world.slug)] == [old]


def test_formaflow_archive_prints_what_it_does_and_the_journal_still_verifies(
    loaded: tuple[str, Path],
) -> None:
    url, data = loaded
    paid = reference(url, "dossier_formation", "mis_en_paiement")
    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(
                update(D)
                .where(D.c.reference == paid)
                .values(state_entered_at=utcnow() - timedelta(days=800))
            )
    finally:
        engine.dispose()
    simulated = run_cli(url, data, "archive", "--simulation")
    assert simulated.returncode == 0, simulated.stderr
    lines = simulated.stdout.splitlines()
    assert lines[0].startswith("Simulation — 1 dossier(s) clos depuis plus longtemps")
    assert lines[1].startswith(f"{paid} « ") and lines[1].endswith(": serait archivé.")
    assert "Simulation terminée : 1 dossier(s) seraient archivés" in simulated.stdout
    done = run_cli(url, data, "archive")
    assert done.returncode == 0, done.stderr
    assert f"{paid} « " in done.stdout and ": archivé." in done.stdout
    assert "courriels effacés de la boîte d'envoi" in done.stdout
    assert "Archivage terminé : 1 dossier(s) archivé(s), 0 en échec." in done.stdout
    assert run_cli(url, data, "archive").stdout.startswith("Aucun dossier à archiver")
    verified = run_cli(url, data, "audit", "verify")
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert verified.stdout.startswith("Journal des décisions intègre : ")
    unknown = run_cli(url, data, "archive", "--academie", "nulle-part")
    assert unknown.returncode == 2 and "Académie inconnue : nulle-part" in unknown.stderr
