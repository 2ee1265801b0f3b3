"""The « Tableau de bord », its counts and the dossier list at 1,000,000 dossiers.

Run ``python -m bench.dashboard --data /work/benchdata [--database sqlite|postgresql|both]
[--requests 200] [--budget 30] [--fires 2000]``; ``--quick`` is a smoke run on 5,000
dossiers. It prints figures and exits 0 unless something crashes: nothing here asserts on
a timing.

Data: ``bench.dataset`` — 1,000,000 dossiers over four académies (every state, every
dispositif, dates spread over two years), 10,000,000 history rows, 2,000,000 assignments,
generated once by ``bench/api.py``'s generator (PostgreSQL) or its SQLite port, kept under
``--data`` and copied afresh for each run, then migrated to the code's head (the time the
migration takes is printed: at 1 M it builds the counters).

What is timed, in one run, per database:

1. *Dashboard page*: ``GET /tableau-de-bord`` through HTTP (the real application under
   uvicorn with uvloop and httptools, in its own process, as ``bench/api.py`` serves it),
   with a session cookie, sequentially after a warm-up: as the gestionnaire of one
   académie of 250,000 dossiers (no filter; narrowed to the académie; one state; sorted by
   due date both ways and by whom the dossiers wait on), and as a pilote of 100 dossiers
   (« Mes dossiers »).
2. *Counts*: ``visible_counts`` (the counts by state and their late ones, what the page
   shows) called in this process on one read connection, and the pilote filter's list
   ``visible_pilotes``.
3. *Dossier list*: ``GET /api/v1/dossiers`` for ``bench/api.py``'s three filter sets, with
   a bearer token (target: p99 < 10 ms on PostgreSQL at 1 M).
4. *Transitions at scale*: ``valider_bilan`` through ``WorkflowService.fire`` on fresh
   dossiers of the same académie (inserted with Core, untimed), from 1 thread then from 8
   threads at once — the counters are written in each transition's transaction, so this
   shows what they cost and whether transitions of one académie queue on them.

A set whose timed requests pass ``--budget`` seconds stops early (flagged ``*``).
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import sqlalchemy
from sqlalchemy import Engine, insert, text
from sqlalchemy.exc import SQLAlchemyError

from bench.api import (
    ListPeople,
    container_for,
    list_cases,
    percentile,
    postmaster_pid,
    process_cpu,
    running_server,
    time_list,
)
from bench.dataset import (
    People,
    Size,
    people,
    postgresql_cluster,
    postgresql_dataset,
    sqlite_dataset,
)
from workflow.engine.service import FireCommand

try:  # the page's capped pilote filter; the code before the counters listed them all
    from api.pages.dashboard import PILOTE_CHOICES
    from workflow.dossiers.access import visibility
    from workflow.reads.counts import pilote_choices as capped_pilotes
except ImportError:  # pragma: no cover - measured on the older code for « before »
    capped_pilotes = None  # type: ignore[assignment]
from workflow.reads.queries import reading
from workflow.reads.worklists import visible_counts, visible_pilotes
from workflow.store.migrate import upgrade
from workflow.store.tables import dossier_table
from workflow.store.types import utcnow

TARGET_PAGE_P99_MS = 100.0
TARGET_COUNTS_MS = 10.0
TARGET_LIST_P99_MS = 10.0
WARM_UP = 20
MIN_SAMPLES = 20


@dataclass(frozen=True, slots=True)
class Options:
    data: Path
    size: Size
    databases: tuple[str, ...]
    requests: int
    budget: float
    fires: int


def parse_options(argv: Sequence[str]) -> Options:
    parser = argparse.ArgumentParser(
        prog="python -m bench.dashboard",
        description="Dashboard page, counts and dossier list at 1 M dossiers.",
    )
    parser.add_argument(
        "--data", type=Path, required=True, help="where the generated data is kept (reused)"
    )
    parser.add_argument("--dossiers", type=int, default=1_000_000)
    parser.add_argument("--history", type=int, default=10_000_000)
    parser.add_argument(
        "--database", choices=("sqlite", "postgresql", "both"), default="both", dest="database"
    )
    parser.add_argument("--requests", type=int, default=200, help="timed requests per set")
    parser.add_argument("--budget", type=float, default=30.0, help="seconds per set at most")
    parser.add_argument("--fires", type=int, default=2000, help="transitions per series")
    parser.add_argument(
        "--quick", action="store_true", help="smoke run: 5,000 dossiers, few requests"
    )
    args = parser.parse_args(argv)
    size = Size(args.dossiers, args.history)
    requests, budget, fires = args.requests, args.budget, args.fires
    if args.quick:
        size, requests, budget, fires = Size(5_000, 50_000), MIN_SAMPLES, 2.0, 40
    databases = ("sqlite", "postgresql") if args.database == "both" else (args.database,)
    return Options(args.data, size, databases, max(MIN_SAMPLES, requests), budget, fires)


# --- Timing helpers ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Timing:
    name: str
    samples: tuple[float, ...]
    cut: bool = False
    detail: str = ""
    judged: bool = True
    """False for a set kept only to compare with (what the code did before): no target."""

    def ms(self, q: float) -> float:
        return 1000 * percentile(self.samples, q)


def cpu_seconds(pids: Sequence[int | None]) -> float:
    """CPU seconds of these processes and their children (``None``: this process)."""
    total = 0.0
    for pid in pids:
        used = time.process_time() if pid is None else process_cpu(pid, with_children=True)
        total += used or 0.0
    return total


def timed_calls(
    name: str,
    call: Callable[[], object],
    requests: int,
    budget: float,
    cpu_of: Sequence[int | None] = (None,),
) -> Timing:
    """Sequential calls after a warm-up; stops past ``budget`` s with enough samples. The
    detail says the CPU each call cost ``cpu_of`` (the server and the database for a page,
    this process and the database in process): unlike latency, it hardly moves with the
    machine's other load."""
    for _ in range(min(WARM_UP, requests)):
        call()
    samples: list[float] = []
    deadline = time.perf_counter() + budget
    cut = False
    cpu_before = [cpu_seconds([pid]) for pid in cpu_of]
    while len(samples) < requests:
        if len(samples) >= MIN_SAMPLES and time.perf_counter() > deadline:
            cut = True
            break
        started = time.perf_counter()
        call()
        samples.append(time.perf_counter() - started)
    cpu = [
        1000 * (cpu_seconds([pid]) - before) / len(samples)
        for pid, before in zip(cpu_of, cpu_before, strict=True)
    ]
    return Timing(name, tuple(samples), cut, "CPU " + " + ".join(f"{c:.1f}" for c in cpu) + " ms")


def page_call(client: httpx.Client, path: str) -> Callable[[], object]:
    def call() -> object:
        response = client.get(path)
        if response.status_code != 200 or "<h1>" not in response.text:
            raise RuntimeError(f"{path}: HTTP {response.status_code} {response.text[:300]}")
        return response

    return call


# --- Transitions at scale -----------------------------------------------------------------


def fresh_dossiers(engine: Engine, academie_id: int, count: int) -> list[int]:
    now = utcnow()
    tag = uuid.uuid4().hex[:8]
    rows = [
        {
            "reference": f"T-{tag}-{n:07d}",
            "title": "Dossier du banc d'essai",
            "academie_id": academie_id,
            "workflow_name": "dossier_formation",
            "workflow_version": 1,
            "dispositif": "vacation_accompagnement",
            "state": "bilan_soumis",
            "version": 1,
            "state_entered_at": now,
            "created_at": now,
            "updated_at": now,
        }
        for n in range(count)
    ]
    with engine.begin() as conn:
        ids = conn.execute(
            insert(dossier_table).returning(dossier_table.c.id, sort_by_parameter_order=True),
            rows,
        ).scalars()
        return [int(i) for i in ids]


def fire_rate(
    fire: Callable[[FireCommand], object], actor: int, ids: list[int], threads: int
) -> float:
    def work(part: Sequence[int]) -> None:
        for dossier_id in part:
            fire(FireCommand(dossier_id, "valider_bilan", actor, expected_version=1))

    parts = [ids[k::threads] for k in range(threads)]
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=threads) as pool:
        for future in [pool.submit(work, part) for part in parts]:
            future.result()
    return len(ids) / (time.perf_counter() - started)


# --- One database ---------------------------------------------------------------------------


@dataclass
class Result:
    database: str
    setup: list[str]
    pages: list[Timing]
    counts: list[Timing]
    lists: list[Timing]
    rates: dict[str, float]
    failures: list[str] = field(default_factory=list)


def academie_of(engine: Engine, slug: str) -> int:
    with engine.connect() as conn:
        value = conn.execute(text("SELECT id FROM academie WHERE slug = :s"), {"s": slug})
        found = int(value.scalar_one())
        conn.rollback()
    return found


def measure(label: str, url: str, options: Options, setup: list[str]) -> Result:
    with tempfile.TemporaryDirectory(prefix="formaflow-bench-") as directory:
        data_dir = Path(directory)
        container = container_for(url, data_dir)
        engine = container.engine
        try:
            started = time.perf_counter()
            upgrade(engine)
            setup.append(f"migrated to head in {time.perf_counter() - started:.1f} s")
            who: People = people(engine)
            accounts = container.accounts
            both = (who.gestionnaire_id, who.pilote_id)
            cookies = {p: accounts.open_session(p)[0] for p in both}
            tokens = {p: accounts.create_token(p, "bench") for p in both}
            result = Result(label, setup, [], [], [], {})
            slug = who.academie_slug
            database_pid = None if url.startswith("sqlite") else postmaster_pid(url)
            with running_server(url, data_dir) as server:
                page_sets = [
                    ("gestionnaire, no filter", who.gestionnaire_id, "/tableau-de-bord"),
                    (
                        f"gestionnaire, academie={slug}",
                        who.gestionnaire_id,
                        f"/tableau-de-bord?academie={slug}",
                    ),
                    (
                        "gestionnaire, etat=bilan_soumis",
                        who.gestionnaire_id,
                        "/tableau-de-bord?etat=bilan_soumis",
                    ),
                    ("pilote of 100 (Mes dossiers)", who.pilote_id, "/tableau-de-bord"),
                    # Sorted by a computed column (due date, whom it waits on): ordering
                    # 250,000 rows by an expression unless the plan is bounded.
                    (
                        "gestionnaire, tri=echeance",
                        who.gestionnaire_id,
                        "/tableau-de-bord?tri=echeance",
                    ),
                    (
                        "gestionnaire, tri=-echeance",
                        who.gestionnaire_id,
                        "/tableau-de-bord?tri=-echeance",
                    ),
                    (
                        "gestionnaire, tri=attente",
                        who.gestionnaire_id,
                        "/tableau-de-bord?tri=attente",
                    ),
                ]
                for name, person, path in page_sets:
                    with httpx.Client(
                        base_url=server.base_url,
                        cookies={"formaflow_session": cookies[person]},
                        timeout=120.0,
                    ) as client:
                        size = len(page_call(client, path)().text)  # type: ignore[attr-defined]
                        timing = timed_calls(
                            name,
                            page_call(client, path),
                            options.requests,
                            options.budget,
                            (server.pid, database_pid),
                        )
                        result.pages.append(
                            Timing(
                                timing.name,
                                timing.samples,
                                timing.cut,
                                f"{size // 1024} Kio, server + database {timing.detail}",
                            )
                        )
                list_people = ListPeople(slug, who.gestionnaire_id, who.pilote_id)
                for case in list_cases(list_people):
                    _, latencies, cut = time_list(
                        server, tokens[case.person_id], case, options.requests, options.budget
                    )
                    result.lists.append(Timing(case.name, tuple(latencies), cut))
            now = utcnow()
            calls: list[tuple[str, Callable[[], object]]] = []
            for name, person, academie in (
                ("visible_counts, gestionnaire", who.gestionnaire_id, None),
                (f"visible_counts, gestionnaire, {slug}", who.gestionnaire_id, slug),
                ("visible_counts, pilote", who.pilote_id, None),
            ):

                def count(person: int = person, academie: str | None = academie) -> object:
                    with reading(engine) as conn:
                        return visible_counts(conn, person, now, academie)

                calls.append((name, count))

            def pilotes() -> object:
                with reading(engine) as conn:
                    return visible_pilotes(conn, who.gestionnaire_id, now)

            calls.append(("visible_pilotes (all), gestionnaire", pilotes))
            if capped_pilotes is not None:
                capped = capped_pilotes

                def pilote_filter() -> object:
                    with reading(engine) as conn:
                        seen = visibility(conn, who.gestionnaire_id, now)
                        return capped(conn, seen, PILOTE_CHOICES)

                calls.append(("pilote filter (≤ 200), gestionnaire", pilote_filter))
            for name, call in calls:
                timing = timed_calls(
                    name, call, options.requests, options.budget, (None, database_pid)
                )
                result.counts.append(
                    Timing(
                        name,
                        timing.samples,
                        timing.cut,
                        f"here + database {timing.detail}",
                        # Every pilote, as the page listed them before the cap: compared with.
                        judged=not name.startswith("visible_pilotes (all)"),
                    )
                )
            academie_id = academie_of(engine, slug)
            fire = container.service.fire
            for threads in (1, 8):
                ids = fresh_dossiers(engine, academie_id, options.fires + 40)
                try:
                    fire_rate(fire, who.gestionnaire_id, ids[:40], threads)  # warm-up
                    result.rates[f"{threads} thread(s)"] = fire_rate(
                        fire, who.gestionnaire_id, ids[40:], threads
                    )
                except SQLAlchemyError as error:  # reported, not fatal: the rest is measured
                    result.failures.append(f"{threads} thread(s): {type(error).__name__}: {error}")
            return result
        finally:
            engine.dispose()


@contextmanager
def database_url(label: str, options: Options, setup: list[str]) -> Iterator[str]:
    if label == "sqlite":
        yield sqlite_dataset(options.data, options.size, setup)
        return
    with postgresql_cluster(options.data) as admin:
        yield postgresql_dataset(admin, options.size, setup)


# --- Report ---------------------------------------------------------------------------------


def verdict(value: float, target: float) -> str:
    return f"< {target:.0f} ms {'met' if value < target else 'MISSED'}"


def print_timings(title: str, timings: Sequence[Timing], target: float | None, q: float) -> None:
    print(f"  {title}")
    print(f"    {'set':<46}{'n':>5}{'p50':>9}{'p95':>9}{'p99':>9}   target")
    for t in timings:
        count = f"{len(t.samples)}{'*' if t.cut else ''}"
        goal = "" if target is None else verdict(t.ms(q), target)
        if not t.judged:
            goal = "(before: no target)"
        extra = f"  ({t.detail})" if t.detail else ""
        print(
            f"    {t.name:<46}{count:>5}{t.ms(50):>9.1f}{t.ms(95):>9.1f}"
            f"{t.ms(99):>9.1f}   {goal}{extra}"
        )


def print_result(result: Result, options: Options) -> None:
    print()
    print(f"{result.database}: " + "; ".join(result.setup))
    print_timings("Dashboard page, GET /tableau-de-bord (ms)", result.pages, TARGET_PAGE_P99_MS, 99)
    print_timings(
        "Counts, in process, one read connection each (ms)",
        result.counts,
        TARGET_COUNTS_MS,
        99,
    )
    list_target = TARGET_LIST_P99_MS if result.database == "postgresql" else None
    print_timings(
        "Dossier list, GET /api/v1/dossiers, limit=50 (ms)", result.lists, list_target, 99
    )
    rates = ", ".join(f"{name}: {rate:,.0f}/s" for name, rate in result.rates.items())
    print(f"  Transitions (valider_bilan, service, one académie of the data set): {rates}")
    for failure in result.failures:
        print(f"  Transitions FAILED, {failure[:300]}")
    if any(t.cut for t in [*result.pages, *result.counts, *result.lists]):
        print(f"  * stopped early: the set's timed calls passed {options.budget:g} s")


def main(argv: Sequence[str] | None = None) -> int:
    options = parse_options(sys.argv[1:] if argv is None else argv)
    started = time.perf_counter()
    print(
        f"formaflow dashboard benchmark — Python {platform.python_version()}, SQLAlchemy "
        f"{sqlalchemy.__version__}, {os.cpu_count()} CPU; {options.size.dossiers:,} dossiers, "
        f"{options.size.history:,} history rows; load average {os.getloadavg()[0]:.1f}"
    )
    results: list[Result] = []
    for label in options.databases:
        setup: list[str] = []
        with database_url(label, options, setup) as url:
            results.append(measure(label, url, options, setup))
        print_result(results[-1], options)
    print()
    elapsed = time.perf_counter() - started
    print(f"Total time: {elapsed:.0f} s; load average {os.getloadavg()[0]:.1f}")
    summary: list[str] = []
    for result in results:
        page = max(t.ms(99) for t in result.pages)
        counts = max(t.ms(99) for t in result.counts if t.name.startswith("visible_counts"))
        line = f"{result.database}: page p99 ≤ {page:.0f} ms, counts p99 ≤ {counts:.1f} ms"
        if result.database == "postgresql":
            line += f", list p99 ≤ {max(t.ms(99) for t in result.lists):.1f} ms"
        summary.append(line)
    print("; ".join(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
