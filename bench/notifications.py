"""Draining the outbox: the relay against a naive sender and against the bare SMTP ceiling.

Run ``python -m bench.notifications [--messages N] [--naive-messages M] [--rounds R]
[--database sqlite|postgresql|both]``. In the same run, against the same SMTP sink (an
aiosmtpd server in another process, counting and discarding):

- **naive**: the stdlib's smtplib, one connection per message, no database;
- **bare ceiling**: the very bytes the outbox holds, loaded beforehand, pushed by aiosmtplib
  over the same number of connections as the relay, with no database work at all;
- **relay**: ``notifications.relay.Relay.drain`` on N pending rows — claim with a lease,
  send, mark — the whole product path.

Rounds alternate (naive, bare, relay) and the median of each is reported with the ratios
relay ÷ naive and relay ÷ bare. Targets: ≥ 3× naive and ≥ 60 % of the bare ceiling.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import smtplib
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import aiosmtplib
import uvloop
from sqlalchemy import Engine, func, select, update

from notifications.relay import Relay, SmtpTarget
from notifications.settings import MailSettings
from tests.support.mail import enqueue
from tests.support.postgres import server
from tests.support.smtp import free_port
from workflow.store.database import make_engine
from workflow.store.migrate import upgrade
from workflow.store.tables import outbox_table as O

CONNECTIONS = 8

_TEXT = (
    "Bonjour Camille Morel,\n\nLe bilan d'activités du dossier « Classe virtuelle en cycle 3 » "
    "est soumis.\n\nPar : Sophie Bernard, le 1 décembre 2026 à 19:42.\n\n"
    "CE QUE VOUS AVEZ À FAIRE\nVérifiez le bilan (heures déclarées, stagiaires effectifs, "
    "listes d'émargement) : validez-le, ou demandez un complément.\n"
    "- Valider le bilan : http://127.0.0.1:8000/dossiers/{n}/actions/valider_bilan\n"
    "- Demander un complément : http://127.0.0.1:8000/dossiers/{n}/actions/demander_complement\n"
    "\nDossier 26-DEM-{n:04d} — Classe virtuelle en cycle 3\nÉtat : Bilan soumis\n"
) * 2


@dataclass(frozen=True)
class Options:
    messages: int
    naive_messages: int
    rounds: int
    databases: tuple[str, ...]


def parse_options(argv: Sequence[str]) -> Options:
    parser = argparse.ArgumentParser(prog="python -m bench.notifications", description=__doc__)
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--naive-messages", type=int, default=2_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--database", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--quick", action="store_true", help="smoke run: 300 messages, 1 round")
    args = parser.parse_args(argv)
    if args.quick:
        args.messages, args.naive_messages, args.rounds = 300, 100, 1
    if min(args.messages, args.naive_messages, args.rounds) < 1:
        parser.error("counts must be positive")
    databases = ("sqlite", "postgresql") if args.database == "both" else (args.database,)
    return Options(args.messages, args.naive_messages, args.rounds, databases)


@contextmanager
def sink() -> Iterator[int]:
    """The SMTP sink in another process, so that it does not share our CPU time slice."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "bench.smtp_sink", "--port", str(port)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        assert process.stdout.readline().startswith("ready"), "the SMTP sink did not start"
        yield port
    finally:
        process.terminate()
        process.wait(timeout=30)
        if process.stdout is not None:
            process.stdout.close()


def reset(engine: Engine) -> None:
    with engine.begin() as conn:
        conn.execute(update(O).values(status="pending", attempts=0, lease_until=None, sent_at=None))


def stored(engine: Engine) -> list[tuple[str, str, bytes]]:
    with engine.connect() as conn:
        rows = conn.execute(select(O.c.from_email, O.c.to_email, O.c.raw).order_by(O.c.id)).all()
    return [(r.from_email, r.to_email, r.raw.encode("ascii")) for r in rows]


def naive(port: int, messages: Sequence[tuple[str, str, bytes]]) -> float:
    started = time.perf_counter()
    for sender, recipient, raw in messages:
        with smtplib.SMTP("127.0.0.1", port) as smtp:
            smtp.sendmail(sender, [recipient], raw)
    return len(messages) / (time.perf_counter() - started)


async def _bare(port: int, messages: Sequence[tuple[str, str, bytes]]) -> None:
    async def worker(share: Sequence[tuple[str, str, bytes]]) -> None:
        async with aiosmtplib.SMTP(hostname="127.0.0.1", port=port, start_tls=False) as smtp:
            for sender, recipient, raw in share:
                await smtp.sendmail(sender, [recipient], raw)

    await asyncio.gather(*(worker(messages[i::CONNECTIONS]) for i in range(CONNECTIONS)))


def bare(port: int, messages: Sequence[tuple[str, str, bytes]]) -> float:
    started = time.perf_counter()
    uvloop.run(_bare(port, messages))
    return len(messages) / (time.perf_counter() - started)


def relay(engine: Engine, port: int, count: int) -> float:
    settings = MailSettings(relay_connections=CONNECTIONS, relay_batch=200)
    target = SmtpTarget("127.0.0.1", port)
    started = time.perf_counter()
    attempted = uvloop.run(Relay(engine, settings, target).drain())
    elapsed = time.perf_counter() - started
    with engine.connect() as conn:
        sent = conn.execute(select(func.count()).where(O.c.status == "sent")).scalar_one()
    assert attempted == count and sent == count, (attempted, sent, count)
    return count / elapsed


def bench(label: str, url: str, options: Options, port: int) -> None:
    engine = make_engine(url)
    upgrade(engine)
    enqueue(engine, options.messages, to="camille.morel+{n}@example.org", body=_TEXT)
    messages = stored(engine)
    results: dict[str, list[float]] = {"naive": [], "bare": [], "relay": []}
    for _ in range(options.rounds):
        results["naive"].append(naive(port, messages[: options.naive_messages]))
        results["bare"].append(bare(port, messages))
        reset(engine)
        results["relay"].append(relay(engine, port, options.messages))
    engine.dispose()
    median = {name: statistics.median(values) for name, values in results.items()}
    for name, values in results.items():
        shown = ", ".join(f"{v:,.0f}" for v in values)
        print(f"  {label:10} {name:6} {median[name]:8,.0f} msg/s   (rounds: {shown})")
    print(
        f"relay/naive: {label} {median['relay'] / median['naive']:.2f}x   "
        f"relay/bare: {label} {100 * median['relay'] / median['bare']:.0f} %"
    )


def main(argv: Sequence[str]) -> None:
    options = parse_options(argv)
    print(
        f"{options.messages:,} messages (naive: {options.naive_messages:,}), "
        f"{CONNECTIONS} SMTP connections, {options.rounds} round(s), {os.cpu_count()} cores"
    )
    with sink() as port:
        for database in options.databases:
            if database == "sqlite":
                with tempfile.TemporaryDirectory() as directory:
                    bench("sqlite", f"sqlite:///{Path(directory) / 'bench.db'}", options, port)
            else:
                with server() as url:
                    bench("postgresql", url, options, port)


if __name__ == "__main__":
    main(sys.argv[1:])
