"""Two people acting at once on one dossier: exactly one wins, the rest are told why."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import Engine

from tests.conftest import World
from tests.support.snapshots import history_rows
from workflow.engine.errors import StaleVersion, WorkflowError
from workflow.engine.service import FireCommand, FireResult, WorkflowService

THREADS = 16


@pytest.mark.parametrize("expected_version", [True, False], ids=["avec-version", "sans-version"])
def test_sixteen_threads_firing_one_transition_yield_one_success(
    expected_version: bool, world: World, service: WorkflowService, engine: Engine
) -> None:
    dossier = world.formation()
    world.builder.drive(dossier, world.team, "bilan_soumis")
    version = len(history_rows(engine, dossier)) + 1
    barrier = threading.Barrier(THREADS)

    def attempt(_: int) -> FireResult | WorkflowError:
        barrier.wait()
        try:
            return service.fire(
                FireCommand(
                    dossier,
                    "valider_bilan",
                    world.team.gestionnaire,
                    expected_version=version if expected_version else None,
                )
            )
        except WorkflowError as error:
            return error

    with ThreadPoolExecutor(THREADS) as pool:
        outcomes = list(pool.map(attempt, range(THREADS)))
    successes = [o for o in outcomes if isinstance(o, FireResult)]
    failures = [o for o in outcomes if isinstance(o, WorkflowError)]
    assert len(successes) == 1 and len(failures) == THREADS - 1
    # With a version the losers are stale; without one they find the trigger no longer valid.
    assert all(isinstance(f, StaleVersion) == expected_version for f in failures)
    rows = history_rows(engine, dossier)
    assert [r.trigger for r in rows].count("valider_bilan") == 1
    assert rows[-1].to_state == "bilan_valide" and rows[-1].version == version + 1
