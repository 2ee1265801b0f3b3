"""Fixtures shared by the integration tests: a migrated empty database, and the demo for
the ``formaflow`` command's tests."""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, make_url, text

from tests.support.cli import run_cli
from workflow.store.database import make_engine
from workflow.store.migrate import upgrade


@pytest.fixture(scope="session")
def demo_template(
    database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, Path]]:
    """The demo loaded once, by the command itself; each test works on a copy of it."""
    data = tmp_path_factory.mktemp("demo-template")
    name = f"formaflow_demo_{uuid.uuid4().hex[:12]}"
    url = f"sqlite:///{data / 'demo.db'}" if database_url.startswith("sqlite") else (
        _database(database_url, name)
    )  # fmt: skip
    if not url.startswith("sqlite"):
        _admin(database_url, f'CREATE DATABASE "{name}"')
    try:
        result = run_cli(url, data, "demo")
        assert result.returncode == 0, result.stderr
        assert "Académie de démonstration créée : 21 personnes, 27 dossiers." in result.stdout
        yield url, data
    finally:
        if not url.startswith("sqlite"):
            _admin(database_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def loaded(
    demo_template: tuple[str, Path], database_url: str, tmp_path: Path
) -> Iterator[tuple[str, Path]]:
    """A copy of the demo: its database (a file copy, or a PostgreSQL template copy) and
    its data directory (documents, secret key)."""
    template_url, template_data = demo_template
    data = tmp_path / "data"
    shutil.copytree(template_data, data)
    if template_url.startswith("sqlite"):
        yield f"sqlite:///{data / 'demo.db'}", data
        return
    name = f"formaflow_copy_{uuid.uuid4().hex[:12]}"
    template = make_url(template_url).database
    _admin(database_url, f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
    try:
        yield _database(database_url, name), data
    finally:
        _admin(database_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _database(server_url: str, name: str) -> str:
    return make_url(server_url).set(database=name).render_as_string(hide_password=False)


def _admin(server_url: str, statement: str) -> None:
    admin = create_engine(server_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(statement))
    finally:
        admin.dispose()


@pytest.fixture
def fresh_engine(fresh_database_url: str) -> Iterator[Engine]:
    """An empty database of the suite's kind, at the latest schema."""
    engine = make_engine(fresh_database_url)
    upgrade(engine)
    yield engine
    engine.dispose()
