"""How fast « À traiter » and the shared lateness rule stay for a large académie.

Run ``python -m bench.todo [--dossiers 50000] [--rounds 5] [--database sqlite|postgresql|both]``.
It prints figures and exits 0; nothing here asserts on a timing.

One académie holds ``--dossiers`` formation dossiers spread evenly over the spec's 15 states
(a pilote per 100 dossiers, a formateur per 50), each dossier after the training with its
« terminer » history row (the bilan's due date counts from it), states entered over the
last 60 days so that some are late. Measured, median of ``--rounds`` (after one warm-up):

- the candidates query of « À traiter » for the gestionnaire (one SQL statement built from
  the specs: the dossiers in a state where something awaits a gestionnaire);
- the whole « À traiter » of the gestionnaire: candidates (at most 100), the service's
  ``available`` on each, the académie's queue (counts by state with the late ones) and its
  late dossiers — what the home page computes;
- the same for a formateur (about 50 dossiers of their own);
- the late count of the académie by ``late_clause`` (the rule the timers use), alone;
- « en attente de » for a page of 50 dossiers (``expectations``).
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable, Sequence
from datetime import timedelta

from sqlalchemy import Engine, func, insert, select

from bench.transitions import _postgresql_available, postgresql_url, sqlite_url
from states import get_spec
from workflow.engine.due import deadline_delays, late_clause
from workflow.engine.rows import DossierRow
from workflow.engine.service import WorkflowService
from workflow.reads.expectations import expectations
from workflow.reads.queries import reading
from workflow.reads.todo import candidates, todo
from workflow.rules import RULES
from workflow.store.database import make_engine
from workflow.store.migrate import upgrade
from workflow.store.tables import (
    academie_table,
    assignment_table,
    dossier_table,
    history_table,
    person_table,
)
from workflow.store.types import utcnow

AFTER_TRAINING = {
    "realisee",
    "bilan_soumis",
    "bilan_a_completer",
    "bilan_valide",
    "paiement_accorde",
    "paiement_refuse",
    "mis_en_paiement",
}


def generate(engine: Engine, count: int) -> tuple[int, int]:
    """The académie's dossiers and people; returns (gestionnaire, one formateur)."""
    spec = get_spec("dossier_formation")
    states = [s.id for s in spec.states]
    now = utcnow()
    with engine.begin() as conn:
        academie = conn.execute(
            insert(academie_table).values(
                slug="grande", name="Grande académie", code="GR", created_at=now
            )
        ).inserted_primary_key
        assert academie is not None
        academie_id = int(academie[0])
        pilotes, formateurs = max(1, count // 100), max(1, count // 50)
        conn.execute(
            insert(person_table),
            [
                {"email": f"p{n}@example.org", "full_name": f"Personne {n}", "created_at": now}
                for n in range(1 + pilotes + formateurs)
            ],
        )
        people = sorted(int(i) for i in conn.execute(select(person_table.c.id)).scalars())
        gestionnaire, pilote_ids, formateur_ids = (
            people[0],
            people[1 : 1 + pilotes],
            people[1 + pilotes :],
        )
        conn.execute(
            insert(assignment_table).values(
                person_id=gestionnaire, role="gestionnaire", academie_id=academie_id, created_at=now
            )
        )
        rows = []
        for n in range(count):
            entered = now - timedelta(minutes=(n * 7919) % (60 * 24 * 60))
            rows.append(
                {
                    "reference": f"26-GR-{n:06d}",
                    "title": f"Dossier {n}",
                    "academie_id": academie_id,
                    "workflow_name": spec.name,
                    "workflow_version": spec.version,
                    "dispositif": "vacation_accompagnement",
                    "state": states[n % len(states)],
                    "version": 2,
                    "state_entered_at": entered,
                    "created_at": entered,
                    "updated_at": entered,
                }
            )
        for start in range(0, count, 5000):
            conn.execute(insert(dossier_table), rows[start : start + 5000])
        dossiers = conn.execute(
            select(dossier_table.c.id, dossier_table.c.state, dossier_table.c.state_entered_at)
        ).all()
        team = []
        history = []
        for n, d in enumerate(dossiers):
            team.append(
                {
                    "person_id": pilote_ids[n % len(pilote_ids)],
                    "role": "pilote",
                    "dossier_id": d.id,
                    "created_at": now,
                }
            )
            team.append(
                {
                    "person_id": formateur_ids[(n // 7) % len(formateur_ids)],
                    "role": "formateur",
                    "dossier_id": d.id,
                    "created_at": now,
                }
            )
            if d.state in AFTER_TRAINING:
                history.append(
                    {
                        "dossier_id": d.id,
                        "version": 1,
                        "trigger": "terminer",
                        "from_state": "en_cours",
                        "to_state": "realisee",
                        "role": "formateur",
                        "payload": {},
                        "at": d.state_entered_at,
                    }
                )
        for start in range(0, len(team), 5000):
            conn.execute(insert(assignment_table), team[start : start + 5000])
        for start in range(0, len(history), 5000):
            conn.execute(insert(history_table), history[start : start + 5000])
    return gestionnaire, formateur_ids[0]


def timed(rounds: int, work: Callable[[], object]) -> float:
    """Median milliseconds of ``work`` over ``rounds`` runs, after one warm-up run."""
    work()
    samples = []
    for _ in range(rounds):
        started = time.perf_counter()
        work()
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples)


def measure(label: str, url: str, count: int, rounds: int) -> None:
    engine = make_engine(url)
    try:
        upgrade(engine)
        started = time.perf_counter()
        gestionnaire, formateur = generate(engine, count)
        print(f"{label}: {count} dossiers generated in {time.perf_counter() - started:.1f} s")
        service = WorkflowService(engine, RULES)
        now = service.clock()

        def found() -> int:
            with reading(engine) as conn:
                return len(candidates(conn, gestionnaire, now, 100)[0])

        def late() -> int:
            with reading(engine) as conn:
                clause = late_clause(now, deadline_delays(conn))
                return int(
                    conn.execute(
                        select(func.count()).select_from(dossier_table).where(clause)
                    ).scalar_one()
                )

        def page() -> int:
            with reading(engine) as conn:
                ids = conn.execute(select(dossier_table).limit(50)).all()
                rows = [
                    DossierRow(**{k: r._asdict()[k] for k in DossierRow.__slots__}) for r in ids
                ]
                return len(expectations(conn, rows, now, deadline_delays(conn)))

        mine = todo(service, gestionnaire)
        theirs = todo(service, formateur)
        queued_late = sum(line.late for line in mine.queue.lines) if mine.queue else 0
        print(
            f"  gestionnaire: {mine.count} dossier(s) à traiter shown (more: {mine.more}), "
            f"{queued_late} late in the queue; "
            f"formateur: {theirs.count} à traiter, {len(theirs.waiting)} waiting on others; "
            f"{late()} late by late_clause"
        )
        figures: Sequence[tuple[str, float]] = [
            ("candidates query (gestionnaire, ≤ 100)", timed(rounds, found)),
            (
                "« À traiter » of the gestionnaire (whole page's reads)",
                timed(rounds, lambda: todo(service, gestionnaire)),
            ),
            ("« À traiter » of a formateur", timed(rounds, lambda: todo(service, formateur))),
            ("late count of the académie (late_clause)", timed(rounds, late)),
            ("« en attente de » for 50 rows", timed(rounds, page)),
        ]
        for name, ms in figures:
            print(f"  {name}: {ms:.1f} ms")
    finally:
        engine.dispose()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.todo", description=__doc__)
    parser.add_argument("--dossiers", type=int, default=50_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--database", choices=("sqlite", "postgresql", "both"), default="both")
    args = parser.parse_args(argv)
    if args.database in ("sqlite", "both"):
        with sqlite_url() as (url, _root):
            measure("SQLite", url, args.dossiers, args.rounds)
    if args.database in ("postgresql", "both"):
        if not _postgresql_available():
            print("PostgreSQL: skipped (no binaries and no database URL)")
        else:
            with postgresql_url() as (url, origin):
                measure(f"PostgreSQL ({origin})", url, args.dossiers, args.rounds)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
