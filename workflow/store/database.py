"""Engines for SQLite and PostgreSQL, tuned so that the service's one transaction is safe.

SQLite: WAL, foreign keys on, and every transaction opened with ``BEGIN IMMEDIATE`` so two
writers never both read a version and then both try to write it; a read-only unit of work
may ask for a plain ``BEGIN`` through the ``sqlite_begin`` execution option.
PostgreSQL: the service locks the dossier row with ``SELECT … FOR UPDATE``.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.pool import ConnectionPoolEntry

from workflow.store.settings import WorkflowSettings, get_settings


def make_engine(url: str | None = None, settings: WorkflowSettings | None = None) -> Engine:
    settings = settings or get_settings()
    url = url or settings.database_url
    if url.startswith("sqlite"):
        return _sqlite_engine(url, settings)
    return create_engine(
        url,
        pool_size=settings.pool_size,
        max_overflow=settings.pool_size,
        pool_pre_ping=True,
        # Short OLTP queries: JIT compilation cost up to 200 ms a query here for nothing.
        connect_args={"options": "-c jit=off"},
    )


def _sqlite_engine(url: str, settings: WorkflowSettings) -> Engine:
    engine = create_engine(
        url,
        connect_args={
            "check_same_thread": False,
            "timeout": settings.sqlite_busy_timeout_ms / 1000,
        },
        pool_size=settings.pool_size,
        max_overflow=settings.pool_size,
    )
    busy_ms = settings.sqlite_busy_timeout_ms

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
        # Take transaction control away from the driver: we emit BEGIN ourselves.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_ms)}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        mode = connection.get_execution_options().get("sqlite_begin", "IMMEDIATE")
        connection.exec_driver_sql("BEGIN" if mode == "DEFERRED" else "BEGIN IMMEDIATE")

    return engine


def is_postgresql(engine: Engine | Connection) -> bool:
    return engine.dialect.name == "postgresql"


def failure_message(error: DBAPIError) -> str:
    """A French sentence for an ops person when the database itself is the problem.

    The two cases met in practice are a schema that was never created or is behind the
    code (a command run before ``formaflow db upgrade``), and a server that cannot be
    reached; the driver's own text follows, since it names the table or the host.
    """
    detail = str(error.orig).strip().splitlines()[0] if error.orig is not None else ""
    missing = "no such table" in detail or type(error.orig).__name__ == "UndefinedTable"
    if missing:
        return (
            "La base de données n'est pas initialisée ou pas à jour : lancez "
            f"« formaflow db upgrade » (détail : {detail})."
        )
    if isinstance(error, OperationalError):
        return f"La base de données est injoignable ou refuse la requête (détail : {detail})."
    return f"La base de données a refusé la requête (détail : {detail})."
