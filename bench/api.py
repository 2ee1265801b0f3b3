"""What the HTTP edge costs on top of the service, and how fast the dossier list stays at scale.

Run ``python -m bench.api [--n N] [--clients 8] [--quick] [--list-dossiers 100000]
[--list-history 1000000] [--skip-list] [--database sqlite|postgresql|both]``. It prints
numbers and exits 0 unless something crashes: nothing here asserts on a timing. ``--quick``
is a smoke run of well under a minute.

1. Transitions: HTTP against the service called directly
----------------------------------------------------------
*HTTP*: ``POST /api/v1/dossiers/{id}/transitions/valider_bilan`` with ``If-Match: "1"`` and a
bearer token, served by the real application (``api.app.create_app``) under uvicorn with
uvloop and httptools, one worker, in a separate process (``python -m bench.api --serve``)
listening on 127.0.0.1. Eight clients each fire on their own slice of dossiers, one request
after the other, over eight keep-alive TCP connections, with one of two load generators
(``--client``; by default both run, in the same rounds):

- *raw* (the one the target is judged on): HTTP/1.1 written by hand on ``asyncio`` streams
  under uvloop, one connection per client, connected afresh each round (untimed). It
  sends the same request httpx would and reads status line, ``Content-Length`` and body;
  about 0.2 ms of CPU per request, against about 2-4 ms for httpx on this machine, CPU the
  server shares (two cores for client, server and database).
- *httpx*: eight asyncio tasks sharing one ``httpx.AsyncClient`` pool, kept for comparison.

*Direct*: the same number of ``WorkflowService.fire(FireCommand(...))`` calls, from eight
threads each working through their own slice, in the benchmark process.

Why the baseline is fair: both sides fire the same trigger, as the same gestionnaire, on
dossiers inserted the same way (with Core, in ``bilan_soumis`` at version 1), in the same
database, with the same concurrency (8). The direct side uses a ``Container`` built with
the same settings as the server's, so it shares the engine configuration (pool size,
pre-ping, SQLite's ``BEGIN IMMEDIATE``) and whatever subscribers the wiring attaches to
the service. The ratio then measures exactly what the HTTP edge adds: the socket round
trip, uvicorn and Starlette, the middlewares, FastAPI's validation and dependencies, the
bearer-token lookup, whatever the route reads before firing, JSON encoding, and the hop to
the thread pool. The HTTP client runs in the benchmark process on the
same two cores, so its CPU is charged to the HTTP side (an HTTP edge is never free of a
client) and shown apart: CPU per fire is read from /proc for the server process, this
process, PostgreSQL (its postmaster and backends) and the rest of the machine, so the cost
can be put on a layer and other load on the machine can be seen. The series alternate in
rounds (raw, httpx, direct, then the reverse, …) over disjoint dossiers, so machine noise
and table growth hit both alike; the median of the rounds' rates is reported, and the
latency percentiles are taken over every timed fire. A fire is counted only if its answer
is a 200 whose body names this dossier in ``bilan_valide``; afterwards (untimed) every
fired dossier must stand in ``bilan_valide`` and every HTTP answer must have been such a
success, or the benchmark crashes.

2. List latency on PostgreSQL at scale
---------------------------------------
A fresh database on the same server is filled with server-side ``INSERT … SELECT … FROM
generate_series``: ``--list-dossiers`` dossiers over four académies, every state of
``dossier_formation`` and every dispositif, a pilote and a formateur assigned on each (one
pilote holds 100 of them), a few live delegations, ``--list-history`` history rows, then
``ANALYZE``. As superuser the load skips the foreign-key triggers, like ``pg_restore
--disable-triggers``; the rows satisfy them by construction, which is checked.
``GET /api/v1/dossiers`` is then timed through the same uvicorn setup, sequentially (one
request at a time: latency, not throughput), for a gestionnaire of one académie (one
state; then every state) and for the pilote. Each line also shows the time PostgreSQL
spends on the list's SQL (``EXPLAIN ANALYZE`` of the very statement
``workflow.reads.dossier_list.list_dossiers`` issues), how much of it is JIT compilation, the same
with ``jit=off``, and the call made in-process, so the cost splits into planning and
execution, Python data access, and HTTP. A set whose timed requests pass ``--list-budget``
seconds stops early (its p99 is then that of fewer samples, and it is flagged) so that a
slow query cannot stretch the run. When a set misses the p99 target its plan is printed.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import platform
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import psycopg
import sqlalchemy
import uvicorn
import uvloop
from fastapi import FastAPI
from sqlalchemy import Connection, Engine, event, insert, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from api.accounts import Accounts
from api.app import create_app
from api.settings import ApiSettings
from api.wiring import Container
from bench.transitions import (
    Bed,
    _postgresql_available,
    chunks,
    open_bed,
    postgresql_url,
    sqlite_url,
)
from states import get_spec
from states.dispositifs import DISPOSITIFS
from workflow.engine.service import FireCommand
from workflow.reads.dossier_list import DossierFilters, list_dossiers
from workflow.reads.queries import reading
from workflow.store.migrate import upgrade
from workflow.store.settings import WorkflowSettings
from workflow.store.tables import academie_table, assignment_table, delegation_table
from workflow.store.types import utcnow

HOST = "127.0.0.1"
WORKFLOW = "dossier_formation"
WORKFLOW_VERSION = 1
TRIGGER = "valider_bilan"
FROM_STATE = "bilan_soumis"
TO_STATE = "bilan_valide"
TARGET_HTTP_PERCENT = 40
TARGET_LIST_P99_MS = 50.0
LIST_ACADEMIES = 4
LIST_STATE = "bilan_soumis"
PILOTE_DOSSIERS = 100
LIST_MIN_REQUESTS = 20
PROJECT_ROOT = Path(__file__).resolve().parent.parent
READY_TIMEOUT_S = 60.0


@dataclass(frozen=True, slots=True)
class Options:
    n: int
    clients: int
    rounds: int
    databases: tuple[str, ...]
    list_dossiers: int
    list_history: int
    list_requests: int
    list_budget: float
    skip_list: bool
    quick: bool
    workers: int = 1
    client: str = "both"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m bench.api",
        description="Transitions through HTTP vs the service, and list latency at scale.",
    )
    parser.add_argument("--n", type=int, default=3000, help="fires per series (default 3000)")
    parser.add_argument("--clients", type=int, default=8, help="concurrent clients (default 8)")
    parser.add_argument(
        "--workers", type=int, default=1, help="uvicorn worker processes (default 1)"
    )
    parser.add_argument("--rounds", type=int, default=4, help="alternating rounds (default 4)")
    parser.add_argument(
        "--client",
        choices=("raw", "httpx", "both"),
        default="both",
        help="HTTP load generator: raw (asyncio streams; the target is judged on it), httpx, "
        "or both in the same run (default)",
    )
    parser.add_argument(
        "--database", choices=("sqlite", "postgresql", "both"), default="both", dest="database"
    )
    parser.add_argument(
        "--list-dossiers", type=int, default=100_000, help="dossiers for the list (100000)"
    )
    parser.add_argument(
        "--list-history", type=int, default=1_000_000, help="history rows for the list (1000000)"
    )
    parser.add_argument(
        "--list-requests", type=int, default=600, help="timed requests per filter set (600)"
    )
    parser.add_argument(
        "--list-budget",
        type=float,
        default=20.0,
        help="seconds of timed requests per filter set before stopping early, with at least "
        f"{LIST_MIN_REQUESTS} done (default 20; the quick run uses 2.5)",
    )
    parser.add_argument("--skip-list", action="store_true", help="skip the list latency part")
    parser.add_argument(
        "--quick",
        action="store_true",
        help="smoke run: --n 160, 5000 dossiers and 50000 history rows for the list",
    )
    # The server process: ``python -m bench.api --serve URL --port P --data-dir D``.
    parser.add_argument("--serve", metavar="URL", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--data-dir", type=Path, default=None, help=argparse.SUPPRESS)
    return parser


def parse_options(parser: argparse.ArgumentParser, args: argparse.Namespace) -> Options:
    if args.quick:
        n, list_dossiers_, list_history, list_requests = 160, 5_000, 50_000, 500
        list_budget = 2.5
    else:
        list_budget = args.list_budget
        n, list_dossiers_, list_history = args.n, args.list_dossiers, args.list_history
        list_requests = args.list_requests
    if args.clients < 1 or args.rounds < 1 or n < args.clients:
        parser.error("--clients and --rounds must be positive and --n at least --clients")
    if list_dossiers_ < PILOTE_DOSSIERS or list_history < 0 or list_requests < LIST_MIN_REQUESTS:
        parser.error(
            f"--list-dossiers must be at least {PILOTE_DOSSIERS}, --list-history ≥ 0, "
            f"--list-requests ≥ {LIST_MIN_REQUESTS}"
        )
    databases = ("sqlite", "postgresql") if args.database == "both" else (args.database,)
    return Options(
        n=n,
        clients=args.clients,
        rounds=max(1, min(args.rounds, n // args.clients)),
        databases=databases,
        list_dossiers=list_dossiers_,
        list_history=list_history,
        list_requests=list_requests,
        list_budget=list_budget,
        skip_list=args.skip_list,
        quick=args.quick,
        workers=max(1, args.workers),
        client=args.client,
    )


def container_for(url: str, data_dir: Path) -> Container:
    """The wiring the server uses; the direct side builds the very same one."""
    return Container(
        WorkflowSettings(database_url=url, data_dir=data_dir),
        ApiSettings(env="production", data_dir=data_dir),
    )


# The server process ---------------------------------------------------------------------


def app_from_environment() -> FastAPI:
    """The app of one worker when uvicorn runs several (it imports them by name)."""
    return create_app(
        container_for(os.environ["FORMAFLOW_BENCH_URL"], Path(os.environ["FORMAFLOW_BENCH_DATA"]))
    )


def serve(url: str, port: int, data_dir: Path, workers: int = 1) -> None:
    """Entry of the server process: the real application under uvicorn."""
    if workers > 1:
        os.environ["FORMAFLOW_BENCH_URL"], os.environ["FORMAFLOW_BENCH_DATA"] = url, str(data_dir)
        uvicorn.run(
            "bench.api:app_from_environment",
            factory=True,
            host=HOST,
            port=port,
            loop="uvloop",
            http="httptools",
            log_level="warning",
            workers=workers,
        )
        return
    app = create_app(container_for(url, data_dir))
    config = uvicorn.Config(
        app,
        host=HOST,
        port=port,
        loop="uvloop",
        http="httptools",
        log_level="warning",
        workers=1,
    )
    uvicorn.Server(config).run()


@dataclass(frozen=True, slots=True)
class Server:
    pid: int
    base_url: str


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


def wait_ready(process: subprocess.Popen[bytes], base_url: str) -> None:
    deadline = time.monotonic() + READY_TIMEOUT_S
    while time.monotonic() < deadline:
        code = process.poll()
        if code is not None:
            raise RuntimeError(f"the server process exited with code {code} before answering")
        try:
            if httpx.get(f"{base_url}/readyz", timeout=1.0).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.05)
    raise RuntimeError(f"the server at {base_url} was not ready after {READY_TIMEOUT_S:.0f} s")


@contextmanager
def running_server(url: str, data_dir: Path, workers: int = 1) -> Iterator[Server]:
    """Start ``python -m bench.api --serve`` on a free loopback port; stop it after."""
    port = free_port()
    base_url = f"http://{HOST}:{port}"
    command = [sys.executable, "-m", "bench.api", "--serve", url, "--port", str(port)]
    command += ["--data-dir", str(data_dir), "--workers", str(workers)]
    process = subprocess.Popen(command, cwd=PROJECT_ROOT)
    try:
        wait_ready(process, base_url)
        yield Server(process.pid, base_url)
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


# CPU accounting (Linux /proc; reported as unknown elsewhere) ----------------------------

CLOCK_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _stat_fields(pid: int | str) -> list[str] | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat[stat.rindex(")") + 2 :].split()


def process_cpu(pid: int, *, with_children: bool = False) -> float | None:
    """User + system CPU seconds of a process; ``with_children`` adds its children's, the
    live ones and the exited ones it has reaped (PostgreSQL's backends)."""
    fields = _stat_fields(pid)
    if fields is None:
        return None
    ticks = int(fields[11]) + int(fields[12])
    if with_children:
        ticks += int(fields[13]) + int(fields[14])
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                child = _stat_fields(entry.name)
                if child is not None and child[1] == str(pid):
                    ticks += int(child[11]) + int(child[12])
    return ticks / CLOCK_TICKS


def machine_busy() -> float | None:
    """CPU seconds spent not idle, summed over every core, since boot."""
    try:
        first = Path("/proc/stat").read_text().splitlines()[0].split()
    except (OSError, IndexError):
        return None
    ticks = [int(value) for value in first[1:9]]
    return (sum(ticks) - ticks[3] - ticks[4]) / CLOCK_TICKS


def postmaster_pid(url: str) -> int | None:
    """The PostgreSQL server's main process, when it runs on this machine and we may see it."""
    engine = sqlalchemy.create_engine(url)
    try:
        with engine.connect() as conn:
            directory = conn.exec_driver_sql("SHOW data_directory").scalar_one()
        return int(Path(directory, "postmaster.pid").read_text().split()[0])
    except (SQLAlchemyError, OSError, ValueError, IndexError):
        return None
    finally:
        engine.dispose()


def _delta(after: float | None, before: float | None) -> float | None:
    return None if after is None or before is None else after - before


@dataclass(frozen=True, slots=True)
class Cpu:
    """CPU seconds: the server process, this process, PostgreSQL, and the whole machine."""

    server: float | None
    client: float
    database: float | None
    machine: float | None

    def since(self, before: Cpu) -> Cpu:
        return Cpu(
            server=_delta(self.server, before.server),
            client=self.client - before.client,
            database=_delta(self.database, before.database),
            machine=_delta(self.machine, before.machine),
        )

    @property
    def other(self) -> float | None:
        """The rest of the machine's busy time: the kernel's share, and any other load."""
        if self.machine is None or self.server is None:
            return None
        rest = self.machine - self.server - self.client - (self.database or 0.0)
        return max(0.0, rest)  # the counters tick at different grains: never below zero


@dataclass(frozen=True, slots=True)
class Meter:
    server_pid: int
    database_pid: int | None

    def read(self) -> Cpu:
        return Cpu(
            server=process_cpu(self.server_pid, with_children=True),
            client=time.process_time(),
            database=None
            if self.database_pid is None
            else process_cpu(self.database_pid, with_children=True),
            machine=machine_busy(),
        )


# Part 1: transitions ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Round:
    fires: int
    elapsed: float
    latencies: tuple[float, ...]
    cpu: Cpu

    @property
    def rate(self) -> float:
        return self.fires / self.elapsed


@dataclass
class Series:
    name: str
    rounds: list[Round] = field(default_factory=list)

    @property
    def rates(self) -> list[float]:
        return [r.rate for r in self.rounds]

    @property
    def rate(self) -> float:
        return statistics.median(self.rates)

    @property
    def latencies(self) -> list[float]:
        return [value for r in self.rounds for value in r.latencies]

    @property
    def fires(self) -> int:
        return sum(r.fires for r in self.rounds)

    def cpu_ms(self, part: str) -> float | None:
        """CPU milliseconds per fire of one part of ``Cpu`` (``server``, ``client``, …)."""
        total = 0.0
        for r in self.rounds:
            value: float | None = getattr(r.cpu, part)
            if value is None:
                return None
            total += value
        return 1000 * total / self.fires


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]


class HttpFirer:
    """Eight (``clients``) asyncio tasks over one pooled ``httpx.AsyncClient``, on uvloop."""

    def __init__(self, base_url: str, token: str, clients: int) -> None:
        self.runner = asyncio.Runner(loop_factory=uvloop.new_event_loop)
        self.clients = clients
        self.failures: list[tuple[int, int, str]] = []
        self.answers = 0
        self.client = self.runner.run(self._open(base_url, token))

    async def _open(self, base_url: str, token: str) -> httpx.AsyncClient:
        return httpx.AsyncClient(
            base_url=base_url,
            headers={"Authorization": f"Bearer {token}", "If-Match": '"1"'},
            limits=httpx.Limits(
                max_connections=self.clients, max_keepalive_connections=self.clients
            ),
            timeout=60.0,
        )

    async def _slice(self, ids: Sequence[int], latencies: list[float]) -> int:
        body: dict[str, Any] = {"comment": None, "payload": {}}
        post = self.client.post
        successes = 0
        for dossier_id in ids:
            started = time.perf_counter()
            response = await post(f"/api/v1/dossiers/{dossier_id}/transitions/{TRIGGER}", json=body)
            latencies.append(time.perf_counter() - started)
            self.answers += 1
            if response.status_code == 200 and _fired(response.content, dossier_id):
                successes += 1
            else:
                self.failures.append((dossier_id, response.status_code, response.text[:300]))
        return successes

    async def _all(self, slices: Sequence[Sequence[int]]) -> tuple[int, list[float]]:
        per_client: list[list[float]] = [[] for _ in slices]
        successes = await asyncio.gather(
            *(
                self._slice(ids, latencies)
                for ids, latencies in zip(slices, per_client, strict=True)
            )
        )
        return sum(successes), [value for latencies in per_client for value in latencies]

    def run(self, ids: Sequence[int], meter: Meter) -> Round:
        slices = chunks(ids, self.clients)
        before = meter.read()
        started = time.perf_counter()
        successes, latencies = self.runner.run(self._all(slices))
        elapsed = time.perf_counter() - started
        return Round(successes, elapsed, tuple(latencies), meter.read().since(before))

    def close(self) -> None:
        self.runner.run(self.client.aclose())
        self.runner.close()


class RawFirer:
    """Eight (``clients``) asyncio tasks, each on its own keep-alive TCP connection, speaking
    HTTP/1.1 by hand over ``asyncio`` streams (uvloop).

    Why not httpx: on these two cores the client shares the CPU with the server, and httpx
    spends about 2 ms of CPU per request (its models, header objects and pool), which the
    server then lacks. This client builds each request from fixed bytes and reads the status
    line, ``Content-Length`` and body, nothing more: the same request on the same real
    socket, at a fraction of the CPU. It is strict rather than general: an answer without
    ``Content-Length``, or one that closes the connection, makes it raise.
    """

    def __init__(self, base_url: str, token: str, clients: int) -> None:
        self.runner = asyncio.Runner(loop_factory=uvloop.new_event_loop)
        self.clients = clients
        self.failures: list[tuple[int, int, str]] = []
        self.answers = 0
        host, _, port = base_url.removeprefix("http://").partition(":")
        self.host, self.port = host, int(port)
        body = b'{"comment":null,"payload":{}}'
        self.head_tail = (
            f"Host: {host}:{port}\r\nAuthorization: Bearer {token}\r\n"
            f'If-Match: "1"\r\nContent-Type: application/json\r\n'
            f"Content-Length: {len(body)}\r\n\r\n"
        ).encode() + body

    async def _open(self) -> list[tuple[asyncio.StreamReader, asyncio.StreamWriter]]:
        return [await asyncio.open_connection(self.host, self.port) for _ in range(self.clients)]

    async def _close(
        self, connections: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]]
    ) -> None:
        for _, writer in connections:
            writer.close()
            await writer.wait_closed()

    async def _slice(
        self,
        connection: tuple[asyncio.StreamReader, asyncio.StreamWriter],
        ids: Sequence[int],
        latencies: list[float],
    ) -> int:
        reader, writer = connection
        tail = self.head_tail
        successes = 0
        for dossier_id in ids:
            request = f"POST /api/v1/dossiers/{dossier_id}/transitions/{TRIGGER} HTTP/1.1\r\n"
            started = time.perf_counter()
            writer.write(request.encode() + tail)
            head = await reader.readuntil(b"\r\n\r\n")
            status, length = _status_and_length(head)
            body = await reader.readexactly(length)
            latencies.append(time.perf_counter() - started)
            self.answers += 1
            if status == 200 and _fired(body, dossier_id):
                successes += 1
            else:
                self.failures.append((dossier_id, status, body[:300].decode(errors="replace")))
        return successes

    async def _all(
        self,
        connections: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]],
        slices: Sequence[Sequence[int]],
    ) -> tuple[int, list[float]]:
        per_client: list[list[float]] = [[] for _ in slices]
        successes = await asyncio.gather(
            *(
                self._slice(connection, ids, latencies)
                for connection, ids, latencies in zip(connections, slices, per_client, strict=True)
            )
        )
        return sum(successes), [value for latencies in per_client for value in latencies]

    def run(self, ids: Sequence[int], meter: Meter) -> Round:
        slices = chunks(ids, self.clients)
        # Connected afresh each round, untimed: uvicorn closes a keep-alive connection left
        # idle for 5 s, as it is while the other series runs.
        connections = self.runner.run(self._open())
        try:
            before = meter.read()
            started = time.perf_counter()
            successes, latencies = self.runner.run(self._all(connections, slices))
            elapsed = time.perf_counter() - started
            after = meter.read()
        finally:
            self.runner.run(self._close(connections))
        return Round(successes, elapsed, tuple(latencies), after.since(before))

    def close(self) -> None:
        self.runner.close()


def _fired(body: bytes, dossier_id: int) -> bool:
    """Whether a 200 answer says what was asked: this dossier, now in the target state. A
    fire is counted only then (and any other answer makes the benchmark fail afterwards)."""
    try:
        answer = json.loads(body)
    except ValueError:
        return False
    return (
        isinstance(answer, dict)
        and answer.get("dossier_id") == dossier_id
        and answer.get("to_state") == TO_STATE
    )


def _status_and_length(head: bytes) -> tuple[int, int]:
    """The status code and ``Content-Length`` of a response head (status line + headers)."""
    lines = head.split(b"\r\n")
    status = int(lines[0].split(b" ", 2)[1])
    length: int | None = None
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        name = name.strip().lower()
        if name == b"content-length":
            length = int(value)
        elif name == b"connection" and value.strip().lower() == b"close":
            raise RuntimeError("the server closed a keep-alive connection")
    if length is None:
        raise RuntimeError(f"an answer without Content-Length: {head[:200]!r}")
    return status, length


class DirectFirer:
    """Eight (``clients``) threads calling ``WorkflowService.fire`` on their own slices."""

    def __init__(self, container: Container, actor_id: int, clients: int) -> None:
        self.fire = container.service.fire
        self.actor_id = actor_id
        self.clients = clients
        self.pool = ThreadPoolExecutor(max_workers=clients, thread_name_prefix="direct")

    def _slice(self, ids: Sequence[int]) -> list[float]:
        fire, actor = self.fire, self.actor_id
        latencies: list[float] = []
        for dossier_id in ids:
            started = time.perf_counter()
            fire(FireCommand(dossier_id, TRIGGER, actor, expected_version=1))
            latencies.append(time.perf_counter() - started)
        return latencies

    def run(self, ids: Sequence[int], meter: Meter) -> Round:
        slices = chunks(ids, self.clients)
        before = meter.read()
        started = time.perf_counter()
        futures = [self.pool.submit(self._slice, part) for part in slices]
        latencies = [value for future in futures for value in future.result()]
        elapsed = time.perf_counter() - started
        return Round(len(ids), elapsed, tuple(latencies), meter.read().since(before))

    def close(self) -> None:
        self.pool.shutdown()


@dataclass(frozen=True, slots=True)
class TransitionResult:
    database: str
    detail: str
    http: Series
    """The HTTP series the target is judged on: the raw client's, or httpx's if alone."""
    direct: Series
    load: tuple[float, float]
    """The machine's one-minute load average before and after."""
    httpx: Series | None = None
    """The same fires through httpx, when both clients ran (for comparison)."""

    @property
    def percent(self) -> float:
        return 100 * self.http.rate / self.direct.rate

    @property
    def httpx_percent(self) -> float | None:
        return None if self.httpx is None else 100 * self.httpx.rate / self.direct.rate


Firer = RawFirer | HttpFirer | DirectFirer


def measure_transitions(
    label: str, detail: str, url: str, data_dir: Path, options: Options
) -> TransitionResult:
    bed: Bed = open_bed(label, url, data_dir)
    container = container_for(url, data_dir)
    try:
        token = container.accounts.create_token(bed.gestionnaire_id, "bench")
        clients, rounds = options.clients, options.rounds
        warm = clients * 5
        clients_used = {"raw": ["raw HTTP"], "httpx": ["httpx HTTP"]}
        names = [*clients_used.get(options.client, ["raw HTTP", "httpx HTTP"]), "direct"]
        # Setup, untimed: every dossier any series will touch, inserted in one go each.
        ids = {name: bed.dossiers(FROM_STATE, warm + options.n) for name in names}
        database_pid = None if url.startswith("sqlite") else postmaster_pid(url)
        load_before = os.getloadavg()[0]
        with running_server(url, data_dir, options.workers) as server:
            meter = Meter(server.pid, database_pid)
            firers: dict[str, Firer] = {}
            for name in names:
                if name == "raw HTTP":
                    firers[name] = RawFirer(server.base_url, token, clients)
                elif name == "httpx HTTP":
                    firers[name] = HttpFirer(server.base_url, token, clients)
                else:
                    firers[name] = DirectFirer(container, bed.gestionnaire_id, clients)
            series = {name: Series(name) for name in names}
            try:
                # Warm-up, untimed: pools, connections, threads, statement caches.
                for name in names:
                    firers[name].run(ids[name][:warm], meter)
                parts = {name: chunks(ids[name][warm:], rounds) for name in names}
                for number in range(rounds):
                    # Alternate the order (A B C, then C B A, …) so drift hits all alike.
                    for name in names if number % 2 == 0 else names[::-1]:
                        series[name].rounds.append(firers[name].run(parts[name][number], meter))
            finally:
                for firer in firers.values():
                    firer.close()
        # Sanity, untimed: a refused or silently skipped fire would flatter the rate.
        for name, firer in firers.items():
            if isinstance(firer, DirectFirer):
                continue
            if firer.failures:
                shown = "; ".join(f"dossier {d}: {s} {body}" for d, s, body in firer.failures[:3])
                raise RuntimeError(
                    f"{label}: {len(firer.failures)} {name} answers were not a 200 that fired "
                    f"the dossier into {TO_STATE}: {shown}"
                )
            if firer.answers != len(ids[name]):
                raise RuntimeError(
                    f"{label}: {firer.answers} {name} answers for {len(ids[name])} fires"
                )
        for name in names:
            reached = bed.count_in(ids[name], TO_STATE)
            if reached != len(ids[name]):
                raise RuntimeError(
                    f"{label}: only {reached} of {len(ids[name])} {name} dossiers reached "
                    f"{TO_STATE}"
                )
        load = (load_before, os.getloadavg()[0])
        primary = series.get("raw HTTP") or series["httpx HTTP"]
        extra = series.get("httpx HTTP") if "raw HTTP" in series else None
        return TransitionResult(label, detail, primary, series["direct"], load, extra)
    finally:
        container.engine.dispose()
        bed.engine.dispose()


# Part 2: list latency at scale ---------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ListPeople:
    academie_slug: str
    gestionnaire_id: int
    pilote_id: int


@dataclass(frozen=True, slots=True)
class Generation:
    seconds: dict[str, float]
    dossiers: int
    history: int
    assignments: int
    people: int


INSERT_PEOPLE = text(
    """
    INSERT INTO person (email, full_name, active, created_at)
    SELECT 'personne' || g || '@charge.example.org', 'Personne ' || g, true, :now
    FROM generate_series(1, :count) AS g
    RETURNING id
    """
)

INSERT_DOSSIERS = text(
    """
    INSERT INTO dossier (reference, title, academie_id, workflow_name, workflow_version,
                         dispositif, state, version, state_entered_at, created_at, updated_at)
    SELECT 'L-' || lpad(s.g::text, 9, '0'),
           'Formation hybride n° ' || s.g,
           (CAST(:academies AS integer[]))[1 + s.g % cardinality(CAST(:academies AS integer[]))],
           :workflow,
           :workflow_version,
           (CAST(:dispositifs AS text[]))
               [1 + floor(s.r1 * cardinality(CAST(:dispositifs AS text[])))::integer],
           (CAST(:states AS text[]))
               [1 + floor(s.r2 * cardinality(CAST(:states AS text[])))::integer],
           1 + :per_dossier + CASE WHEN s.g <= :extra THEN 1 ELSE 0 END,
           s.updated,
           s.updated - s.r1 * interval '365 days',
           s.updated
    FROM (
        SELECT g, random() AS r1, random() AS r2,
               CAST(:now AS timestamptz) - random() * interval '730 days' AS updated
        FROM generate_series(1, :count) AS g
    ) AS s
    ORDER BY s.g
    """
)

INSERT_HISTORY = text(
    """
    INSERT INTO history (dossier_id, version, trigger, from_state, to_state, actor_id,
                         on_behalf_of_id, role, comment, payload, at)
    SELECT :first_dossier + d.i,
           v.n,
           (CAST(:triggers AS text[]))[1 + (v.n - 1) % :transition_count],
           (CAST(:sources AS text[]))[1 + (v.n - 1) % :transition_count],
           (CAST(:dests AS text[]))[1 + (v.n - 1) % :transition_count],
           (CAST(:actors AS integer[]))[1 + (d.i + v.n) % cardinality(CAST(:actors AS integer[]))],
           NULL,
           'gestionnaire',
           NULL,
           CAST('{}' AS json),
           CAST(:now AS timestamptz) - (100 - v.n) * interval '1 day' + d.i * interval '1 second'
    FROM generate_series(0, :dossier_count - 1) AS d(i)
    CROSS JOIN LATERAL generate_series(
        1, :per_dossier + CASE WHEN d.i < :extra THEN 1 ELSE 0 END
    ) AS v(n)
    """
)

INSERT_DOSSIER_ASSIGNMENTS = text(
    """
    INSERT INTO assignment (person_id, role, dossier_id, academie_id, created_at)
    SELECT CASE WHEN (d.id - :first_dossier) % :pilote_stride = 0
                     AND (d.id - :first_dossier) / :pilote_stride < :pilote_dossiers
                THEN :pilote
                ELSE (CAST(:pilotes AS integer[]))
                         [1 + d.id % cardinality(CAST(:pilotes AS integer[]))]
           END,
           'pilote', d.id, CAST(NULL AS integer), :now
    FROM dossier AS d
    UNION ALL
    SELECT (CAST(:formateurs AS integer[]))[1 + d.id % cardinality(CAST(:formateurs AS integer[]))],
           'formateur', d.id, CAST(NULL AS integer), :now
    FROM dossier AS d
    """
)


def generate_list_data(engine: Engine, options: Options) -> tuple[ListPeople, Generation]:
    """Fill a fresh, migrated database with server-side SQL; returns who to list as."""
    spec = get_spec(WORKFLOW, WORKFLOW_VERSION)
    now = utcnow()
    count = options.list_dossiers
    pilote_count = max(10, count // 100)
    formateur_count = max(20, count // 50)
    seconds: dict[str, float] = {}

    def step(name: str) -> Callable[[], None]:
        started = time.perf_counter()

        def done() -> None:
            seconds[name] = time.perf_counter() - started

        return done

    with engine.begin() as conn:
        conn.execute(text("SELECT setseed(0.42)"))
        superuser = conn.execute(
            text("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
        ).scalar()
        if superuser:
            # Skip the foreign-key triggers during the load, as pg_restore --disable-triggers
            # does: the generated rows satisfy them by construction (ids checked below).
            conn.execute(text("SET LOCAL session_replication_role = replica"))
        done = step("people")
        academies = [
            int(i)
            for i in conn.execute(
                insert(academie_table).returning(academie_table.c.id, sort_by_parameter_order=True),
                [
                    {
                        "slug": f"charge-{k}",
                        "name": f"Académie de charge {k}",
                        "code": f"CH{k}",
                        "created_at": now,
                    }
                    for k in range(1, LIST_ACADEMIES + 1)
                ],
            ).scalars()
        ]
        people = sorted(
            int(i)
            for i in conn.execute(
                INSERT_PEOPLE,
                {"now": now, "count": LIST_ACADEMIES + 1 + pilote_count + formateur_count},
            ).scalars()
        )
        gestionnaires = people[:LIST_ACADEMIES]
        pilote = people[LIST_ACADEMIES]
        pilotes = people[LIST_ACADEMIES + 1 : LIST_ACADEMIES + 1 + pilote_count]
        formateurs = people[LIST_ACADEMIES + 1 + pilote_count :]
        conn.execute(
            insert(assignment_table),
            [
                {
                    "person_id": person,
                    "role": "gestionnaire",
                    "academie_id": academie,
                    "created_at": now,
                }
                for person, academie in zip(gestionnaires, academies, strict=True)
            ],
        )
        done()

        done = step("dossiers")
        conn.execute(
            INSERT_DOSSIERS,
            {
                "academies": academies,
                "workflow": WORKFLOW,
                "workflow_version": WORKFLOW_VERSION,
                "dispositifs": list(DISPOSITIFS),
                "states": [state.id for state in spec.states],
                "per_dossier": options.list_history // count,
                "extra": options.list_history % count,
                "now": now,
                "count": count,
            },
        )
        first, last = conn.execute(text("SELECT min(id), max(id) FROM dossier")).one()
        if last - first + 1 != count:
            raise RuntimeError(f"dossier ids are not contiguous: {first}..{last} for {count}")
        done()

        done = step("history")
        transitions = [(t, source) for t in spec.transitions for source in t.sources]
        conn.execute(
            INSERT_HISTORY,
            {
                "first_dossier": first,
                "dossier_count": count,
                "per_dossier": options.list_history // count,
                "extra": options.list_history % count,
                "triggers": [t.trigger for t, _ in transitions],
                "sources": [source for _, source in transitions],
                "dests": [t.dest for t, _ in transitions],
                "transition_count": len(transitions),
                "actors": [*gestionnaires, *pilotes],
                "now": now,
            },
        )
        low, high = conn.execute(text("SELECT min(dossier_id), max(dossier_id) FROM history")).one()
        if options.list_history and (low, high) != (
            first,
            min(last, first + options.list_history - 1),
        ):
            raise RuntimeError(f"history points outside the dossiers: {low}..{high}")
        done()

        done = step("assignments")
        conn.execute(
            INSERT_DOSSIER_ASSIGNMENTS,
            {
                "first_dossier": first,
                "pilote_stride": max(1, count // PILOTE_DOSSIERS),
                "pilote_dossiers": PILOTE_DOSSIERS,
                "pilote": pilote,
                "pilotes": pilotes,
                "formateurs": formateurs,
                "now": now,
            },
        )
        # A few live delegations between other pilotes, so that clause has rows to look at.
        conn.execute(
            insert(delegation_table),
            [
                {
                    "delegator_id": pilotes[k],
                    "substitute_id": pilotes[k + 1],
                    "role": "pilote",
                    "dossier_id": None,
                    "starts_at": now - timedelta(days=30),
                    "ends_at": now + timedelta(days=30),
                    "created_at": now,
                }
                for k in range(0, min(40, len(pilotes) - 1), 2)
            ],
        )
        assignments = int(conn.execute(text("SELECT count(*) FROM assignment")).scalar_one())
        done()

    done = step("ANALYZE")
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("ANALYZE"))
    done()
    slug = "charge-1"
    return (
        ListPeople(slug, gestionnaires[0], pilote),
        Generation(
            seconds=seconds,
            dossiers=count,
            history=options.list_history,
            assignments=assignments,
            people=len(people),
        ),
    )


@dataclass(frozen=True, slots=True)
class ListCase:
    name: str
    person_id: int
    query: Mapping[str, str | int]
    filters: DossierFilters


def plan_figure(plan: Sequence[str], prefix: str) -> float | None:
    """A figure in ms from an ``EXPLAIN ANALYZE`` text: ``Execution Time:`` or JIT's ``Timing:``."""
    for line in plan:
        stripped = line.strip()
        if stripped.startswith(prefix):
            value = stripped.rsplit("Total", 1)[-1] if prefix == "Timing:" else stripped
            return float(value.split(":")[-1].split()[0])
    return None


@dataclass(frozen=True, slots=True)
class ListResult:
    case: ListCase
    items: int
    latencies: tuple[float, ...]
    budget_hit: bool
    in_process: tuple[float, ...]
    plan: list[str]
    """``EXPLAIN (ANALYZE, BUFFERS)`` of the statement, with the server's settings."""
    plan_without_jit: list[str]
    """The same with ``SET LOCAL jit = off``, to tell compilation from execution."""

    @property
    def p99_ms(self) -> float:
        return 1000 * percentile(self.latencies, 99)

    @property
    def sql_ms(self) -> float | None:
        return plan_figure(self.plan, "Execution Time:")

    @property
    def jit_ms(self) -> float:
        """JIT compilation inside ``sql_ms`` (0 when the planner did not JIT)."""
        return plan_figure(self.plan, "Timing:") or 0.0

    @property
    def sql_without_jit_ms(self) -> float | None:
        return plan_figure(self.plan_without_jit, "Execution Time:")


def list_cases(people: ListPeople) -> list[ListCase]:
    slug = people.academie_slug
    return [
        ListCase(
            f"gestionnaire, etat={LIST_STATE}&academie={slug}",
            people.gestionnaire_id,
            {"etat": LIST_STATE, "academie": slug, "limit": 50},
            DossierFilters(state=LIST_STATE, academie=slug, limit=50),
        ),
        ListCase(
            f"gestionnaire, academie={slug} (every state)",
            people.gestionnaire_id,
            {"academie": slug, "limit": 50},
            DossierFilters(academie=slug, limit=50),
        ),
        ListCase(
            f"pilote of {PILOTE_DOSSIERS}, tri=-mis_a_jour",
            people.pilote_id,
            {"tri": "-mis_a_jour", "limit": 50},
            DossierFilters(sort="-mis_a_jour", limit=50),
        ),
    ]


def list_statement(engine: Engine, case: ListCase) -> tuple[str, Any]:
    """The SQL and parameters ``list_dossiers`` sends to the driver for this case."""
    seen: list[tuple[str, Any]] = []

    def capture(
        _conn: Connection, _cursor: Any, statement: str, parameters: Any, *_rest: Any
    ) -> None:
        seen.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", capture)
    try:
        with reading(engine) as conn:
            list_dossiers(conn, case.person_id, case.filters, utcnow())
    finally:
        event.remove(engine, "before_cursor_execute", capture)
    statements = [(sql, params) for sql, params in seen if "FROM dossier" in sql]
    if not statements:
        raise RuntimeError("list_dossiers issued no statement on dossier")
    return statements[-1]


def explain(engine: Engine, case: ListCase, *, jit: bool) -> list[str]:
    sql, parameters = list_statement(engine, case)
    with engine.connect() as conn:  # a transaction: ``SET LOCAL`` needs one
        if not jit:
            conn.exec_driver_sql("SET LOCAL jit = off")
        conn.exec_driver_sql(f"EXPLAIN (ANALYZE, BUFFERS) {sql}", parameters)  # warm caches
        rows = conn.exec_driver_sql(f"EXPLAIN (ANALYZE, BUFFERS) {sql}", parameters).all()
    return [str(row[0]) for row in rows]


def warm_up_count(requests: int) -> int:
    return max(50, requests // 10)


def time_list(
    server: Server, token: str, case: ListCase, requests: int, budget: float
) -> tuple[int, list[float], bool]:
    """Sequential GETs after a warm-up; stops early, with at least LIST_MIN_REQUESTS, past
    ``budget`` s
    (and cuts the warm-up short, with at least 5, past a fifth of it)."""
    headers = {"Authorization": f"Bearer {token}"}
    params = {key: str(value) for key, value in case.query.items()}
    latencies: list[float] = []
    items = -1
    warm = warm_up_count(requests)
    deadline = time.perf_counter() + budget / 5
    with httpx.Client(base_url=server.base_url, headers=headers, timeout=60.0) as client:
        number = 0
        while len(latencies) < requests:
            if number < warm and number >= 5 and time.perf_counter() > deadline:
                number = warm  # a slow set: the warm-up too is cut short
            if number == warm:
                deadline = time.perf_counter() + budget
            elif len(latencies) >= LIST_MIN_REQUESTS and time.perf_counter() > deadline:
                return items, latencies, True
            started = time.perf_counter()
            response = client.get("/api/v1/dossiers", params=params)
            spent = time.perf_counter() - started
            if response.status_code != 200:
                raise RuntimeError(
                    f"list '{case.name}': HTTP {response.status_code} {response.text[:300]}"
                )
            found = len(response.json()["items"])
            if items not in (-1, found) or found == 0:
                raise RuntimeError(f"list '{case.name}': {found} items (before: {items})")
            items = found
            if number >= warm:
                latencies.append(spent)
            number += 1
    return items, latencies, False


def time_in_process(engine: Engine, case: ListCase, calls: int, budget: float) -> list[float]:
    """The same list called in-process, as the route does: one read connection per call."""
    latencies: list[float] = []
    deadline = time.perf_counter() + budget
    for number in range(calls + 10):
        if len(latencies) >= 10 and time.perf_counter() > deadline:
            break
        started = time.perf_counter()
        with reading(engine) as conn:
            list_dossiers(conn, case.person_id, case.filters, utcnow())
        if number >= 10:
            latencies.append(time.perf_counter() - started)
    return latencies


@dataclass(frozen=True, slots=True)
class ListRun:
    generation: Generation
    results: list[ListResult]
    jit_settings: str


@contextmanager
def fresh_database(url: str) -> Iterator[str]:
    """A new, empty database on the same server; dropped afterwards."""
    name = f"formaflow_bench_list_{uuid.uuid4().hex[:8]}"
    admin = sqlalchemy.create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
        try:
            yield make_url(url).set(database=name).render_as_string(hide_password=False)
        finally:
            with admin.connect() as conn:
                conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        admin.dispose()


def jit_settings(engine: Engine) -> str:
    with reading(engine) as conn:
        values = {
            name: conn.exec_driver_sql(f"SHOW {name}").scalar_one()
            for name in ("jit", "jit_above_cost")
        }
    return ", ".join(f"{name}={value}" for name, value in values.items())


def measure_list(url: str, options: Options) -> ListRun:
    with (
        tempfile.TemporaryDirectory(prefix="formaflow-bench-") as directory,
        fresh_database(url) as list_url,
    ):
        data_dir = Path(directory)
        container = container_for(list_url, data_dir)
        engine = container.engine
        try:
            upgrade(engine)
            people, generation = generate_list_data(engine, options)
            accounts: Accounts = container.accounts
            tokens = {
                person: accounts.create_token(person, "bench")
                for person in (people.gestionnaire_id, people.pilote_id)
            }
            results: list[ListResult] = []
            with running_server(list_url, data_dir) as server:
                for case in list_cases(people):
                    items, latencies, budget_hit = time_list(
                        server,
                        tokens[case.person_id],
                        case,
                        options.list_requests,
                        options.list_budget,
                    )
                    results.append(
                        ListResult(
                            case=case,
                            items=items,
                            latencies=tuple(latencies),
                            budget_hit=budget_hit,
                            in_process=tuple(
                                time_in_process(engine, case, 100, options.list_budget / 8)
                            ),
                            plan=explain(engine, case, jit=True),
                            plan_without_jit=explain(engine, case, jit=False),
                        )
                    )
            return ListRun(generation, results, jit_settings(engine))
        finally:
            engine.dispose()


# Report --------------------------------------------------------------------------------


def ms(seconds: float) -> str:
    return f"{1000 * seconds:.1f}"


def cpu_text(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f}"


def _series_cells(series: Series) -> str:
    return (
        f"{series.rate:>8,.0f}{ms(percentile(series.latencies, 50)):>8}"
        f"{ms(percentile(series.latencies, 99)):>8}"
    )


def print_transitions(results: Sequence[TransitionResult], options: Options) -> None:
    print()
    print(
        f"Transitions — {TRIGGER} through HTTP vs WorkflowService.fire called directly, "
        f"{options.n:,} fires per series, {options.clients} concurrent clients / "
        f"{options.clients} threads"
    )
    print(
        f"  {options.rounds} alternating rounds (A B C, then C B A, …) over disjoint dossiers; "
        "rates are the median of the rounds, latencies over every timed fire; a fire counts "
        f"only if answered 200 with this dossier now in {TO_STATE}"
    )
    print(
        f"  HTTP: uvicorn (uvloop, httptools, {options.workers} worker(s)) in its own "
        f"process on 127.0.0.1, {options.clients} keep-alive connections from this one; "
        "raw = HTTP/1.1 written by hand on asyncio streams (uvloop), httpx = one "
        "httpx.AsyncClient pool"
    )
    for result in results:
        print(f"  {result.database}: {result.detail}")
        for series in (result.http, result.httpx):
            if series is None:
                continue
            pairs = ", ".join(
                f"{r_http:,.0f} / {r_direct:,.0f}"
                for r_http, r_direct in zip(series.rates, result.direct.rates, strict=True)
            )
            print(f"    per round, {series.name} / direct (fires/s): {pairs}")
    print()
    header = (
        f"  {'database, client':<24}{'HTTP/s':>8}{'p50 ms':>8}{'p99 ms':>8}"
        f"{'direct/s':>10}{'p50 ms':>8}{'p99 ms':>8}{'HTTP ÷ direct':>15}"
    )
    print(header + f"{'target':>10}")
    print("  " + "-" * (len(header) + 8))
    for result in results:
        direct = result.direct
        direct_cells = (
            f"{direct.rate:>10,.0f}{ms(percentile(direct.latencies, 50)):>8}"
            f"{ms(percentile(direct.latencies, 99)):>8}"
        )
        verdict = "met" if result.percent >= TARGET_HTTP_PERCENT else "MISSED"
        name = f"{result.database}, {result.http.name.split()[0]}"
        print(
            f"  {name:<24}{_series_cells(result.http)}{direct_cells}"
            f"{result.percent:>13.0f} %   ≥ {TARGET_HTTP_PERCENT} % {verdict}"
        )
        if result.httpx is not None and result.httpx_percent is not None:
            name = f"{result.database}, httpx"
            print(
                f"  {name:<24}{_series_cells(result.httpx)}{direct_cells}"
                f"{result.httpx_percent:>13.0f} %   (comparison)"
            )
    print()
    print(
        "  CPU ms per fire, from /proc — server: the uvicorn process; bench: this process "
        "(the HTTP client, or the direct threads); PostgreSQL: its server and backends; "
        "other: the rest of the machine's busy time (kernel, other load). Load average "
        "(1 min) before → after."
    )
    parts = ("server", "client", "database", "other")
    print(
        f"  {'':<24}"
        + "".join(f"{name:>12}" for name in ("server", "bench", "PostgreSQL", "other"))
    )
    for result in results:
        for series in (result.http, result.httpx, result.direct):
            if series is None:
                continue
            cells = "".join(f"{cpu_text(series.cpu_ms(part)):>12}" for part in parts)
            print(f"  {result.database + ' ' + series.name:<24}{cells}")
        print(f"  {result.database + ' load':<24}{result.load[0]:>12.2f} → {result.load[1]:.2f}")


def print_list(run: ListRun, options: Options, detail: str) -> None:
    generation = run.generation
    print()
    print(
        f"List latency — GET /api/v1/dossiers on PostgreSQL: {generation.dossiers:,} dossiers "
        f"({LIST_ACADEMIES} académies, every state, every dispositif), "
        f"{generation.history:,} history rows, {generation.assignments:,} assignments, "
        f"{generation.people:,} people"
    )
    print(f"  {detail}; {run.jit_settings}")
    spent = ", ".join(f"{name} {value:.1f} s" for name, value in generation.seconds.items())
    print(f"  generated with INSERT … SELECT FROM generate_series: {spent}")
    print(
        f"  {options.list_requests} sequential requests per filter set after "
        f"{warm_up_count(options.list_requests)} warm-up ones (fewer, at least "
        f"{LIST_MIN_REQUESTS}, when a set's timed requests pass {options.list_budget:g} s); "
        "same uvicorn setup; limit=50"
    )
    print(
        "  SQL = PostgreSQL's execution time of the list's statement (EXPLAIN ANALYZE), of "
        "which JIT = compiling it; no-JIT = the same with jit=off; in-proc = list_dossiers "
        "called through the engine in this process (p50)"
    )
    print()
    header = (
        f"  {'filter set':<50}{'reqs':>5}{'rows':>5}{'SQL':>7}{'JIT':>7}{'no-JIT':>8}"
        f"{'in-proc':>9}{'p50':>7}{'p95':>7}{'p99 ms':>8}"
    )
    print(header + f"{'target':>10}")
    print("  " + "-" * (len(header) + 14))
    for result in run.results:
        sql, bare = result.sql_ms, result.sql_without_jit_ms
        verdict = "met" if result.p99_ms < TARGET_LIST_P99_MS else "MISSED"
        count = f"{len(result.latencies)}{'*' if result.budget_hit else ''}"
        print(
            f"  {result.case.name:<50}{count:>5}{result.items:>5}"
            f"{'n/a' if sql is None else f'{sql:.1f}':>7}{result.jit_ms:>7.1f}"
            f"{'n/a' if bare is None else f'{bare:.1f}':>8}"
            f"{ms(statistics.median(result.in_process)):>9}"
            f"{ms(percentile(result.latencies, 50)):>7}{ms(percentile(result.latencies, 95)):>7}"
            f"{result.p99_ms:>8.1f}   < {TARGET_LIST_P99_MS:.0f} ms {verdict}"
        )
    if any(result.budget_hit for result in run.results):
        print(f"  * stopped early: the set's timed requests passed {options.list_budget:g} s")
    for result in run.results:
        if result.p99_ms >= TARGET_LIST_P99_MS:
            print()
            print(
                f"  Slow: '{result.case.name}' — EXPLAIN (ANALYZE, BUFFERS) of the statement "
                "list_dossiers issues, server settings:"
            )
            for line in result.plan:
                print(f"    {line}")
            print("  and with jit=off, the lines that carry time:")
            for line in result.plan_without_jit:
                if "actual time" in line or "Time:" in line:
                    print(f"    {line}")


def postgresql_detail(url: str, origin: str) -> str:
    engine = sqlalchemy.create_engine(url)
    try:
        with engine.connect() as conn:
            version = conn.exec_driver_sql("SHOW server_version").scalar_one()
    finally:
        engine.dispose()
    return f"PostgreSQL {version} via psycopg {psycopg.__version__}, {origin}"


def run_sqlite(options: Options) -> TransitionResult:
    with sqlite_url() as (url, root):
        detail = f"SQLite {sqlite3.sqlite_version}, file, WAL, synchronous=NORMAL"
        return measure_transitions("sqlite", detail, url, root, options)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    if args.serve:
        serve(args.serve, args.port, args.data_dir or Path(tempfile.mkdtemp()), args.workers)
        return 0
    options = parse_options(parser, args)
    started = time.perf_counter()
    print(
        f"formaflow API benchmark — Python {platform.python_version()}, "
        f"SQLAlchemy {sqlalchemy.__version__}, uvicorn {uvicorn.__version__}, "
        f"httpx {httpx.__version__}, {os.cpu_count()} CPU"
        + (" (quick smoke run)" if options.quick else "")
    )
    results: list[TransitionResult] = []
    list_run: ListRun | None = None
    list_detail = ""
    skipped: list[str] = []
    if "sqlite" in options.databases:
        results.append(run_sqlite(options))
    if "postgresql" in options.databases:
        if _postgresql_available():
            with (
                tempfile.TemporaryDirectory(prefix="formaflow-bench-") as directory,
                postgresql_url() as (url, origin),
            ):
                detail = postgresql_detail(url, origin)
                results.append(
                    measure_transitions("postgresql", detail, url, Path(directory), options)
                )
                if not options.skip_list:
                    list_detail = detail
                    list_run = measure_list(url, options)
        else:
            skipped.append("postgresql (no PostgreSQL binaries and no database URL)")
    print_transitions(results, options)
    if list_run is not None:
        print_list(list_run, options, list_detail)
    for reason in skipped:
        print(f"  skipped: {reason}")
    print()
    print(f"Total time: {time.perf_counter() - started:.1f} s")
    summary = [
        f"{r.database} {r.percent:.0f} %"
        + ("" if r.httpx_percent is None else f" (httpx client: {r.httpx_percent:.0f} %)")
        for r in results
    ]
    line = f"HTTP/direct: {', '.join(summary) or 'n/a'} (target ≥ {TARGET_HTTP_PERCENT} %)"
    if list_run is not None:
        worst = max(list_run.results, key=lambda r: r.p99_ms)
        line += f" ; list p99: {worst.p99_ms:.1f} ms (target < {TARGET_LIST_P99_MS:.0f} ms)"
    elif options.skip_list:
        line += " ; list: skipped"
    else:
        line += " ; list: skipped (needs PostgreSQL)"
    print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
