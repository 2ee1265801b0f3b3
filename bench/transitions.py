"""Throughput of ``WorkflowService.fire`` against a hand-written ceiling, and its memory.

Run ``python -m bench.transitions [--n N] [--rss-n M] [--database sqlite|postgresql|both]``
(``--quick`` for a smoke run of a few seconds). It prints numbers and always exits 0 unless
something crashes: nothing here asserts on a timing.

What is compared
----------------
*Service*: ``valider_bilan`` (bilan_soumis → bilan_valide, role gestionnaire held on the
académie, no guard) fired through the real ``WorkflowService`` with no subscriber, one
transaction per fire, sequentially from one thread.

*Hand-written ceiling*: the same state change written by hand with SQLAlchemy Core — the
version-guarded ``UPDATE dossier`` and the ``INSERT INTO history`` in one
``engine.begin()``. That is the least SQL any correct transition must write (optimistic
concurrency plus the audit row). It runs on the *same* engine as the service, so both share
the driver, the pool (and its pre-ping on PostgreSQL) and SQLite's ``BEGIN IMMEDIATE`` hook:
the ratio measures only what the service adds on top (loading and locking the dossier, the
role query, spec and Machine lookups, building the event and the result), not plumbing
differences. It reads nothing, checks no role and runs no guard, so 100 % is out of reach by
construction; the target is to stay within a factor of two (≥ 50 %).

The two series alternate in rounds (A B, B A, A B, …) over disjoint sets of dossiers that
were inserted directly in ``bilan_soumis`` with Core, so machine noise and table growth hit
both alike; the median of the rounds is reported. An extra line shows ``demarrer``
(scenario_valide → en_cours), which also creates the phase's tasks, to show their cost.

Memory: RSS before and after many fires through the service on a SQLite file, feeding it
batches of fresh dossiers inserted (untimed) between batches, and the size of the shared
Machine's model list, which must stay 0.
"""

from __future__ import annotations

import argparse
import gc
import itertools
import os
import platform
import resource
import sqlite3
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
import sqlalchemy
from sqlalchemy import Engine, bindparam, func, insert, select, update

from tests.support.postgres import _binary, server
from workflow.dossiers.editing import DossierEditor
from workflow.engine.machines import machine_for
from workflow.engine.service import FireCommand, WorkflowService
from workflow.rules import RULES
from workflow.store.database import make_engine
from workflow.store.migrate import upgrade
from workflow.store.tables import assignment_table, dossier_table, history_table, task_table
from workflow.store.types import utcnow

WORKFLOW = "dossier_formation"
WORKFLOW_VERSION = 1
DISPOSITIF = "vacation_accompagnement"
TARGET_PERCENT = 50
STAGIAIRES_PER_DOSSIER = 2
RSS_BATCH = 10_000
URL_VARIABLE = "FORMAFLOW_TEST_DATABASE_URL"

Fire = Callable[[int], None]


@dataclass(frozen=True, slots=True)
class Options:
    n: int
    rss_n: int
    rounds: int
    databases: tuple[str, ...]
    quick: bool


def parse_options(argv: Sequence[str]) -> Options:
    parser = argparse.ArgumentParser(
        prog="python -m bench.transitions",
        description="Transitions/s through WorkflowService.fire vs a hand-written Core ceiling.",
    )
    parser.add_argument("--n", type=int, default=2000, help="fires per series (default 2000)")
    parser.add_argument(
        "--rss-n", type=int, default=100_000, help="fires for the memory check (default 100000)"
    )
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds (default 3)")
    parser.add_argument(
        "--database", choices=("sqlite", "postgresql", "both"), default="both", dest="database"
    )
    parser.add_argument("--quick", action="store_true", help="smoke run: --n 200 --rss-n 2000")
    args = parser.parse_args(argv)
    n, rss_n = (200, 2000) if args.quick else (args.n, args.rss_n)
    if n < 1 or rss_n < 0 or args.rounds < 1:
        parser.error("--n and --rounds must be positive, --rss-n not negative")
    databases = ("sqlite", "postgresql") if args.database == "both" else (args.database,)
    return Options(
        n=n,
        rss_n=rss_n,
        rounds=min(args.rounds, n),
        databases=databases,
        quick=args.quick,
    )


# The test bed -------------------------------------------------------------------------


@dataclass
class Bed:
    """A migrated database holding one académie, its people, and fresh dossiers on demand."""

    label: str
    engine: Engine
    service: WorkflowService
    academie_id: int
    gestionnaire_id: int
    formateur_id: int
    stagiaire_ids: tuple[int, ...]
    tag: str
    serial: Iterator[int] = field(default_factory=lambda: itertools.count(1))

    def dossiers(self, state: str, count: int, *, with_team: bool = False) -> list[int]:
        """Insert ``count`` dossiers standing in ``state`` (version 1), in one transaction.

        ``with_team`` also assigns the formateur and the stagiaires on each of them.
        """
        if count == 0:
            return []
        now = utcnow()
        rows = [
            {
                "reference": f"B-{self.tag}-{next(self.serial):08d}",
                "title": "Dossier du banc d'essai",
                "academie_id": self.academie_id,
                "workflow_name": WORKFLOW,
                "workflow_version": WORKFLOW_VERSION,
                "dispositif": DISPOSITIF,
                "state": state,
                "version": 1,
                "state_entered_at": now,
                "created_at": now,
                "updated_at": now,
            }
            for _ in range(count)
        ]
        with self.engine.begin() as conn:
            ids = list(
                conn.execute(
                    insert(dossier_table).returning(
                        dossier_table.c.id, sort_by_parameter_order=True
                    ),
                    rows,
                ).scalars()
            )
            if with_team:
                team = [(self.formateur_id, "formateur")] + [
                    (person, "stagiaire") for person in self.stagiaire_ids
                ]
                conn.execute(
                    insert(assignment_table),
                    [
                        {
                            "person_id": person,
                            "role": role,
                            "dossier_id": dossier_id,
                            "created_at": now,
                        }
                        for dossier_id in ids
                        for person, role in team
                    ],
                )
        return [int(i) for i in ids]

    def count_in(self, ids: Sequence[int], state: str) -> int:
        with self.engine.connect() as conn:
            found = conn.execute(
                select(func.count())
                .select_from(dossier_table)
                .where(dossier_table.c.id.in_(ids), dossier_table.c.state == state)
            ).scalar_one()
            conn.rollback()
        return int(found)


def open_bed(label: str, url: str, data_dir: Path) -> Bed:
    engine = make_engine(url)
    upgrade(engine)
    editor = DossierEditor(engine, data_dir)
    tag = uuid.uuid4().hex[:8]
    academie_id = editor.create_academie(
        f"banc-{tag}", "Académie du banc d'essai", code=tag.upper()
    )

    def person(name: str) -> int:
        return editor.create_person(f"{name}.{tag}@example.org", name.replace(".", " ").title())

    gestionnaire_id = person("gestionnaire.banc")
    editor.assign(gestionnaire_id, "gestionnaire", academie_id=academie_id)
    return Bed(
        label=label,
        engine=engine,
        service=WorkflowService(engine, RULES),
        academie_id=academie_id,
        gestionnaire_id=gestionnaire_id,
        formateur_id=person("formateur.banc"),
        stagiaire_ids=tuple(
            person(f"stagiaire{i}.banc") for i in range(1, STAGIAIRES_PER_DOSSIER + 1)
        ),
        tag=tag,
    )


# The two ways of firing -----------------------------------------------------------------


def service_valider_bilan(bed: Bed) -> Fire:
    fire = bed.service.fire
    actor = bed.gestionnaire_id

    def run(dossier_id: int) -> None:
        fire(FireCommand(dossier_id, "valider_bilan", actor, expected_version=1))

    return run


def service_demarrer(bed: Bed) -> Fire:
    fire = bed.service.fire
    actor = bed.formateur_id

    def run(dossier_id: int) -> None:
        fire(FireCommand(dossier_id, "demarrer", actor, expected_version=1))

    return run


def hand_written_valider_bilan(bed: Bed) -> Fire:
    """The ceiling: UPDATE guarded by version + INSERT history, one transaction, Core."""
    engine = bed.engine
    D = dossier_table
    change_state = (
        update(D)
        .where(D.c.id == bindparam("p_id"), D.c.version == bindparam("p_version"))
        .values(
            state=bindparam("p_state"),
            version=D.c.version + 1,
            updated_at=bindparam("p_now"),
            state_entered_at=bindparam("p_now"),
        )
    )
    append_history = insert(history_table)
    actor = bed.gestionnaire_id

    def run(dossier_id: int) -> None:
        now = utcnow()
        with engine.begin() as conn:
            changed = conn.execute(
                change_state,
                {"p_id": dossier_id, "p_version": 1, "p_state": "bilan_valide", "p_now": now},
            ).rowcount
            if changed != 1:
                raise RuntimeError(f"dossier {dossier_id} was not at version 1")
            conn.execute(
                append_history,
                {
                    "dossier_id": dossier_id,
                    "version": 2,
                    "trigger": "valider_bilan",
                    "from_state": "bilan_soumis",
                    "to_state": "bilan_valide",
                    "actor_id": actor,
                    "on_behalf_of_id": None,
                    "role": "gestionnaire",
                    "comment": None,
                    "payload": {},
                    "at": now,
                },
            )

    return run


def timed(fire: Fire, ids: Sequence[int]) -> float:
    """Transitions per second of ``fire`` over ``ids``, sequentially."""
    start = time.perf_counter()
    for dossier_id in ids:
        fire(dossier_id)
    return len(ids) / (time.perf_counter() - start)


def chunks(ids: Sequence[int], parts: int) -> list[Sequence[int]]:
    size, extra = divmod(len(ids), parts)
    result: list[Sequence[int]] = []
    start = 0
    for part in range(parts):
        end = start + size + (1 if part < extra else 0)
        result.append(ids[start:end])
        start = end
    return result


# Throughput ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Throughput:
    database: str
    detail: str
    baseline_rates: tuple[float, ...]
    service_rates: tuple[float, ...]
    demarrer_rate: float
    demarrer_count: int
    tasks_per_demarrer: float

    @property
    def baseline(self) -> float:
        return statistics.median(self.baseline_rates)

    @property
    def service(self) -> float:
        return statistics.median(self.service_rates)

    @property
    def percent(self) -> float:
        return 100 * self.service / self.baseline


def measure_throughput(bed: Bed, options: Options, detail: str) -> Throughput:
    n, rounds = options.n, options.rounds
    warm = max(5, min(50, n // 10))
    # Setup, untimed: every dossier either series will touch, inserted in one go each.
    service_ids = bed.dossiers("bilan_soumis", warm + n)
    baseline_ids = bed.dossiers("bilan_soumis", warm + n)
    demarrer_count = max(1, n // 4)
    demarrer_ids = bed.dossiers("scenario_valide", warm + demarrer_count, with_team=True)

    service = service_valider_bilan(bed)
    baseline = hand_written_valider_bilan(bed)
    demarrer = service_demarrer(bed)
    # Warm-up, untimed: statement caches, spec and Machine lookups, pool connections.
    timed(baseline, baseline_ids[:warm])
    timed(service, service_ids[:warm])
    timed(demarrer, demarrer_ids[:warm])

    baseline_rates: list[float] = []
    service_rates: list[float] = []
    for number, (base_chunk, service_chunk) in enumerate(
        zip(chunks(baseline_ids[warm:], rounds), chunks(service_ids[warm:], rounds), strict=True)
    ):
        if number % 2 == 0:
            baseline_rates.append(timed(baseline, base_chunk))
            service_rates.append(timed(service, service_chunk))
        else:
            service_rates.append(timed(service, service_chunk))
            baseline_rates.append(timed(baseline, base_chunk))
    demarrer_rate = timed(demarrer, demarrer_ids[warm:])

    # Sanity, untimed: every fire really happened (a silent no-op would flatter the rate).
    for ids, state in (
        (service_ids, "bilan_valide"),
        (baseline_ids, "bilan_valide"),
        (demarrer_ids, "en_cours"),
    ):
        if bed.count_in(ids, state) != len(ids):
            raise RuntimeError(f"{bed.label}: not every dossier reached {state}")
    with bed.engine.connect() as conn:
        tasks = conn.execute(
            select(func.count())
            .select_from(task_table)
            .where(task_table.c.dossier_id.in_(demarrer_ids))
        ).scalar_one()
        conn.rollback()
    return Throughput(
        database=bed.label,
        detail=detail,
        baseline_rates=tuple(baseline_rates),
        service_rates=tuple(service_rates),
        demarrer_rate=demarrer_rate,
        demarrer_count=demarrer_count,
        tasks_per_demarrer=int(tasks) / len(demarrer_ids),
    )


# Memory --------------------------------------------------------------------------------


def rss_mib() -> float:
    """Current resident set size; the peak from ``getrusage`` where /proc is missing."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


@dataclass(frozen=True, slots=True)
class Memory:
    fires: int
    batch: int
    before: float
    after: float
    trail: tuple[float, ...]
    """RSS after each batch's fires."""
    batch_rates: tuple[float, ...]
    models_before: int
    models_after: int
    rate: float


def machine_models() -> int:
    return len(machine_for(WORKFLOW, WORKFLOW_VERSION).machine.models)


def measure_memory(bed: Bed, fires: int) -> Memory:
    fire = service_valider_bilan(bed)
    timed(fire, bed.dossiers("bilan_soumis", 100))  # warm-up, untimed
    sizes = [RSS_BATCH] * (fires // RSS_BATCH) + ([fires % RSS_BATCH] if fires % RSS_BATCH else [])
    batch = bed.dossiers("bilan_soumis", sizes[0])
    gc.collect()
    before, models_before = rss_mib(), machine_models()
    trail: list[float] = []
    batch_rates: list[float] = []
    elapsed = 0.0
    for following in [*sizes[1:], 0]:
        start = time.perf_counter()
        for dossier_id in batch:
            fire(dossier_id)
        spent = time.perf_counter() - start
        elapsed += spent
        batch_rates.append(len(batch) / spent)
        gc.collect()
        trail.append(rss_mib())
        batch = bed.dossiers("bilan_soumis", following)
    gc.collect()
    return Memory(
        fires=fires,
        batch=sizes[0],
        before=before,
        after=rss_mib(),
        trail=tuple(trail),
        batch_rates=tuple(batch_rates),
        models_before=models_before,
        models_after=machine_models(),
        rate=fires / elapsed,
    )


# Databases ------------------------------------------------------------------------------


@contextmanager
def sqlite_url() -> Iterator[tuple[str, Path]]:
    with tempfile.TemporaryDirectory(prefix="formaflow-bench-") as directory:
        root = Path(directory)
        yield f"sqlite:///{root / 'bench.db'}", root


@contextmanager
def postgresql_url() -> Iterator[tuple[str, str]]:
    """The test database if one is configured, else a throw-away local server."""
    configured = os.environ.get(URL_VARIABLE)
    if configured:
        yield configured, f"from {URL_VARIABLE}"
        return
    with server() as url:
        yield url, "throw-away local server, Unix socket, fsync=off, synchronous_commit=off"


def run_sqlite(options: Options) -> Throughput:
    with sqlite_url() as (url, root):
        bed = open_bed("sqlite", url, root)
        try:
            return measure_throughput(
                bed, options, f"SQLite {sqlite3.sqlite_version}, file, WAL, synchronous=NORMAL"
            )
        finally:
            bed.engine.dispose()


def run_postgresql(options: Options) -> Throughput:
    with (
        tempfile.TemporaryDirectory(prefix="formaflow-bench-") as directory,
        postgresql_url() as (url, origin),
    ):
        bed = open_bed("postgresql", url, Path(directory))
        try:
            version = ".".join(str(v) for v in bed.engine.dialect.server_version_info or ())
            return measure_throughput(
                bed, options, f"PostgreSQL {version} via psycopg {psycopg.__version__}, {origin}"
            )
        finally:
            bed.engine.dispose()


def run_memory(options: Options) -> Memory:
    with sqlite_url() as (url, root):
        bed = open_bed("sqlite", url, root)
        try:
            return measure_memory(bed, options.rss_n)
        finally:
            bed.engine.dispose()


def _postgresql_available() -> bool:
    if os.environ.get(URL_VARIABLE):
        return True
    try:
        _binary("initdb")
    except SystemExit:
        return False
    return True


# Report --------------------------------------------------------------------------------


def rate(value: float) -> str:
    return f"{value:,.0f}"


def print_throughput(results: Sequence[Throughput], options: Options) -> None:
    print()
    print(
        f"Throughput — valider_bilan, {options.n:,} fires per series, sequential, one thread, "
        "one transaction per fire, no subscribers"
    )
    print(
        f"  {options.rounds} alternating rounds (hand-written then service, then the reverse, "
        "…) over disjoint dossiers; median of the rounds; untimed warm-up before"
    )
    for result in results:
        print(f"  {result.database}: {result.detail}")
        pairs = ", ".join(
            f"{rate(b)} / {rate(s)}"
            for b, s in zip(result.baseline_rates, result.service_rates, strict=True)
        )
        print(f"    per round, hand-written / service: {pairs}")
    print()
    header = f"  {'database':<12}{'hand-written/s':>16}{'service/s':>12}{'service ÷ hand':>17}"
    print(header + f"{'target':>9}")
    print("  " + "-" * (len(header) + 7))
    for result in results:
        verdict = "met" if result.percent >= TARGET_PERCENT else "MISSED"
        print(
            f"  {result.database:<12}{rate(result.baseline):>16}{rate(result.service):>12}"
            f"{result.percent:>15.0f} %   ≥ {TARGET_PERCENT} % {verdict}"
        )
    print()
    for result in results:
        print(
            f"  demarrer on {result.database}: {rate(result.demarrer_rate)} transitions/s over "
            f"{result.demarrer_count:,} dossiers, {result.tasks_per_demarrer:.0f} tasks created "
            f"per fire (1 formateur + {STAGIAIRES_PER_DOSSIER} stagiaires): "
            f"{100 * result.demarrer_rate / result.service:.0f} % of valider_bilan"
        )


def print_memory(memory: Memory) -> None:
    print()
    print(
        f"Memory — SQLite only: {memory.fires:,} fires of valider_bilan through the service, "
        f"on batches of {memory.batch:,} fresh dossiers inserted with Core between batches "
        "(untimed)"
    )
    trail = " ".join(f"{value:.1f}" for value in memory.trail)
    print(
        f"  RSS before {memory.before:.1f} MiB, after {memory.after:.1f} MiB, "
        f"difference {memory.after - memory.before:+.1f} MiB"
    )
    print(f"  RSS after each batch's fires (MiB): {trail}")
    print(
        f"  shared Machine's model list: {memory.models_before} before, "
        f"{memory.models_after} after (must stay 0)"
    )
    print(
        f"  service rate over the run: {rate(memory.rate)} transitions/s; per batch: "
        + " ".join(rate(value) for value in memory.batch_rates)
    )


def main(argv: Sequence[str] | None = None) -> int:
    options = parse_options(sys.argv[1:] if argv is None else argv)
    started = time.perf_counter()
    print(
        f"formaflow transition benchmark — Python {platform.python_version()}, "
        f"SQLAlchemy {sqlalchemy.__version__}, {os.cpu_count()} CPU"
        + (" (quick smoke run)" if options.quick else "")
    )
    results: list[Throughput] = []
    skipped: list[str] = []
    for database in options.databases:
        if database == "sqlite":
            results.append(run_sqlite(options))
        elif len(options.databases) > 1 and not _postgresql_available():
            skipped.append("postgresql (no PostgreSQL binaries and no database URL)")
        else:
            results.append(run_postgresql(options))
    print_throughput(results, options)
    for reason in skipped:
        print(f"  skipped: {reason}")
    if options.rss_n:
        print_memory(run_memory(options))
    print()
    print(f"Total time: {time.perf_counter() - started:.1f} s")
    summary: list[str] = [f"{r.database} {r.percent:.0f} %" for r in results]
    print(f"service/hand-written: {', '.join(summary)} (target ≥ {TARGET_PERCENT} %)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
