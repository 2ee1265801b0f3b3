"""Spec versions: a version still used cannot silently disappear, and running dossiers move
from one version to another with ``formaflow workflow migrate`` (all or nothing).

The second version is a real spec, defined here from the first: « Contrat à signer » is
renamed « Signatures en cours » (``signatures_en_cours``), everything else unchanged. It is
registered beside version 1 for the test only, as a developer would add it to ``states/``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select

import states
from states import dossier_formation
from states.spec import WorkflowSpec
from tests.support.cli import run_cli
from workflow.engine.machines import machine_for
from workflow.store.database import make_engine
from workflow.store.tables import dossier_table as D
from workflow.store.tables import history_table as H

NAME = "dossier_formation"
OLD, NEW = "contrat_a_signer", "signatures_en_cours"


def _renamed(state: str) -> str:
    return NEW if state == OLD else state


def second_version() -> WorkflowSpec:
    v1 = dossier_formation.SPEC
    return replace(
        v1,
        version=2,
        states=tuple(
            replace(s, id=NEW, label="Signatures en cours") if s.id == OLD else s for s in v1.states
        ),
        transitions=tuple(
            replace(
                t,
                sources=tuple(_renamed(s) for s in t.sources),
                dest=_renamed(t.dest),
                notifications=tuple(
                    replace(n, only_to=_renamed(n.only_to) if n.only_to else None)
                    for n in t.notifications
                ),
            )
            for t in v1.transitions
        ),
        deadlines=tuple(
            replace(d, states=tuple(_renamed(s) for s in d.states)) for d in v1.deadlines
        ),
    )


@pytest.fixture
def with_v2(monkeypatch: pytest.MonkeyPatch) -> Iterator[WorkflowSpec]:
    spec = second_version()
    monkeypatch.setitem(states.SPECS, spec.key, spec)
    yield spec
    machine_for.cache_clear()


@pytest.fixture
def demo(loaded: tuple[str, Path]) -> Iterator[tuple[str, Path, Engine]]:
    url, data = loaded
    engine = make_engine(url)
    yield url, data, engine
    engine.dispose()


def _by_version(engine: Engine) -> dict[int, int]:
    with engine.connect() as conn:
        rows = conn.execute(
            select(D.c.workflow_version, func.count())
            .where(D.c.workflow_name == NAME)
            .group_by(D.c.workflow_version)
        ).all()
    return {int(v): int(n) for v, n in rows}


def _snapshot(engine: Engine) -> tuple[object, ...]:
    with engine.connect() as conn:
        dossiers = conn.execute(
            select(D.c.id, D.c.workflow_version, D.c.state, D.c.version).order_by(D.c.id)
        ).all()
        lines = conn.execute(select(func.count()).select_from(H)).scalar_one()
    return (tuple(tuple(r) for r in dossiers), lines)


def test_a_removed_version_still_in_use_stops_every_command_that_reads_dossiers(
    demo: tuple[str, Path, Engine], with_v2: WorkflowSpec, monkeypatch: pytest.MonkeyPatch
) -> None:
    url, data, engine = demo
    on_v1 = _by_version(engine)[1]
    monkeypatch.delitem(states.SPECS, (NAME, 1))
    with engine.connect() as conn:
        reference = conn.execute(
            select(D.c.reference).where(D.c.workflow_name == NAME, D.c.state == OLD)
        ).scalar_one()
    expected = (
        f"la version 1 du workflow « {NAME} » n'est plus définie (versions définies : 2), "
        f"mais {on_v1} dossier(s) l'utilisent"
    )
    for args in (
        ["status"],
        ["history", reference],
        ["fire", reference, "annuler", "--as", "paul.lefevre@example.org", "--comment", "x"],
        ["timers", "--once"],
        ["export", "dossiers", "--format", "csv", "--output", str(data / "d.csv")],
        ["serve", "--port", "0"],
    ):
        result = run_cli(url, data, *args)
        assert result.returncode == 1, (args, result.stdout)
        assert expected in result.stderr, (args, result.stderr)
        assert f"formaflow workflow migrate {NAME} --from 1" in result.stderr
        assert "Traceback" not in result.stderr and "KeyError" not in result.stderr


def test_migrate_refuses_unmapped_states_then_moves_every_running_dossier_once(
    demo: tuple[str, Path, Engine], with_v2: WorkflowSpec, monkeypatch: pytest.MonkeyPatch
) -> None:
    url, data, engine = demo
    before = _snapshot(engine)
    with engine.connect() as conn:
        waiting = conn.execute(
            select(D.c.id, D.c.reference).where(D.c.workflow_name == NAME, D.c.state == OLD)
        ).all()
        finished = conn.execute(
            select(func.count())
            .select_from(D)
            .where(D.c.workflow_name == NAME, D.c.state.in_(dossier_formation.SPEC.terminal_states))
        ).scalar_one()
    assert waiting and finished
    migrate = ["workflow", "migrate", NAME, "--from", "1", "--to", "2"]

    refused = run_cli(url, data, *migrate)
    assert refused.returncode == 1
    assert f"« Contrat à signer » ({OLD}) — {len(waiting)} dossier(s)" in refused.stderr, (
        refused.stderr
    )
    assert "rien n'a été déplacé" in refused.stderr
    assert _snapshot(engine) == before, "a refused migration writes nothing"

    bad = run_cli(url, data, *migrate, "--map", f"{OLD}=inconnu")
    assert bad.returncode == 1 and "« inconnu » n'est pas un état de la version 2" in bad.stderr
    assert run_cli(url, data, *migrate, "--map", "sans-egal").returncode == 2

    mapped = [*migrate, "--map", f"{OLD}={NEW}"]
    rehearsal = run_cli(url, data, *mapped, "--dry-run")
    assert rehearsal.returncode == 0, rehearsal.stderr
    assert "Simulation (rien n'est écrit)" in rehearsal.stdout
    assert f"{waiting[0].reference} : « Contrat à signer » → « Signatures en cours »" in (
        rehearsal.stdout
    )
    assert _snapshot(engine) == before

    on_v1 = _by_version(engine)[1]
    done = run_cli(url, data, *mapped)
    assert done.returncode == 0, done.stderr
    running = on_v1 - finished
    assert done.stdout.startswith(f"{running} dossier(s) migré(s) de la version 1 à la version 2")
    assert f"{finished} dossier(s) terminé(s) restent en version 1" in done.stdout
    assert _by_version(engine) == {1: finished, 2: running}
    with engine.connect() as conn:
        moved = conn.execute(
            select(H.c.dossier_id, H.c.from_state, H.c.to_state, H.c.actor_id, H.c.comment).where(
                H.c.trigger == "migrer_version"
            )
        ).all()
        states_now = {
            int(r.id): str(r.state)
            for r in conn.execute(
                select(D.c.id, D.c.state).where(D.c.id.in_([w.id for w in waiting]))
            )
        }
    assert len(moved) == running and len({m.dossier_id for m in moved}) == running
    assert {m.comment for m in moved} == {"migré de la version 1 à 2"}
    assert {m.actor_id for m in moved} == {None}
    assert set(states_now.values()) == {NEW}
    assert {(m.from_state, m.to_state) for m in moved if m.dossier_id in states_now} == {(OLD, NEW)}
    assert run_cli(url, data, *mapped).stdout.startswith("Aucun dossier en cours")

    # The moved dossier runs on version 2 now; its history reads in French across versions.
    reference = waiting[0].reference
    cancelled = run_cli(
        url, data, "fire", reference, "annuler", "--as", "helene.garnier@example.org",
        "--comment", "Reporté à l'an prochain",
    )  # fmt: skip
    assert cancelled.returncode == 0, cancelled.stderr
    assert f"{reference} : Signatures en cours → Annulé" in cancelled.stdout
    shown = run_cli(url, data, "history", reference).stdout
    assert (
        "Migration vers une autre version du workflow par Système (action automatique), "
        "« Contrat à signer » → « Signatures en cours » — « migré de la version 1 à 2 »" in shown
    )
    assert (
        "Annuler le dossier par Hélène Garnier (Responsable académique de la formation), "
        "« Signatures en cours » → « Annulé »" in shown
    )
    assert run_cli(url, data, "audit", "verify").returncode == 0

    # Version 1 can go once its finished dossiers have moved too.
    monkeypatch.delitem(states.SPECS, (NAME, 1))
    assert run_cli(url, data, "status").returncode == 1
    assert run_cli(url, data, *migrate, "--termines").returncode == 0
    assert _by_version(engine) == {2: on_v1}
    assert run_cli(url, data, "status").returncode == 0
