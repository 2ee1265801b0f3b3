"""Shared fixtures: one real database per run, SQLite by default or PostgreSQL.

``make test`` runs the suite twice: once on a SQLite file, once with
``FORMAFLOW_TEST_DATABASE_URL`` pointing at a throw-away PostgreSQL server. Tests never
clean up: each builds its own académie and people with unique names, so they can share one
migrated database and still never see each other's rows.
"""

from __future__ import annotations

import itertools
import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, create_engine, make_url, text

from api.app import create_app
from api.settings import ApiSettings
from api.wiring import Container
from tests.support.api import Api
from workflow.admin.academies import seed_settings
from workflow.admin.service import Administration
from workflow.demo import DemoBuilder, Team
from workflow.dossiers.editing import DossierEditor
from workflow.engine.service import WorkflowService
from workflow.rules import RULES
from workflow.store.academie_settings import PACKAGED
from workflow.store.database import make_engine
from workflow.store.migrate import upgrade
from workflow.store.settings import WorkflowSettings, get_settings

_counter = itertools.count(1)


def pytest_report_header() -> str:
    url = os.environ.get("FORMAFLOW_TEST_DATABASE_URL")
    return f"formaflow database: {'PostgreSQL' if url else 'SQLite'}"


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = os.environ.get("FORMAFLOW_TEST_DATABASE_URL")
    if url:
        return url
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'formaflow.db'}"


@pytest.fixture(scope="session")
def engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    upgrade(engine)
    yield engine
    engine.dispose()


@pytest.fixture(scope="session", autouse=True)
def academies_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """An empty seed directory for the run: académie settings live in the database, so a
    test that found a file here would be testing something the product no longer reads."""
    directory = tmp_path_factory.mktemp("academies")
    previous = os.environ.get("FORMAFLOW_ACADEMIES_DIR")
    os.environ["FORMAFLOW_ACADEMIES_DIR"] = str(directory)
    get_settings.cache_clear()
    yield directory
    if previous is None:
        os.environ.pop("FORMAFLOW_ACADEMIES_DIR", None)
    else:
        os.environ["FORMAFLOW_ACADEMIES_DIR"] = previous
    get_settings.cache_clear()


@pytest.fixture(scope="session")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("data")


@pytest.fixture
def service(engine: Engine) -> WorkflowService:
    return WorkflowService(engine, RULES)


@pytest.fixture
def editor(engine: Engine, data_dir: Path) -> DossierEditor:
    return DossierEditor(engine, data_dir)


@pytest.fixture
def builder(engine: Engine, data_dir: Path, service: WorkflowService) -> DemoBuilder:
    return DemoBuilder(engine, data_dir, service)


@dataclass
class World:
    """A fresh académie with its own people: nothing another test created is visible."""

    academie_id: int
    slug: str
    team: Team
    outsider: int
    other_academie_gestionnaire: int
    builder: DemoBuilder

    def person(self, label: str) -> int:
        return self.builder.editor.create_person(
            f"{label}.{uuid.uuid4().hex[:10]}@example.org", label.title()
        )

    def configure(self, **settings: object) -> None:
        """Settings of the académie changed as its administration would (``tarifs.hse``…
        are written ``tarifs__hse``); they apply at once."""
        wanted = {key.replace("__", "."): value for key, value in settings.items()}
        Administration(self.builder.engine).change_settings(self.academie_id, wanted, actor_id=None)

    def configure_hse(self, rate: str) -> None:
        """An HSE rate, as the académie's administration would set it (the seeds give none)."""
        self.configure(tarifs__hse=rate)

    def formation(self, dispositif: str = "vacation_accompagnement", **kwargs: object) -> int:
        return self.builder.formation(
            self.academie_id,
            self.team,
            title="Dossier de test",
            dispositif=dispositif,
            **kwargs,  # type: ignore[arg-type]
        )


def make_world(builder: DemoBuilder, config: str | None = "demo") -> World:
    """A fresh académie seeded with the packaged ``<config>.toml`` settings (or none)."""
    n = next(_counter)
    tag = uuid.uuid4().hex[:6]
    editor = builder.editor
    slug = f"test-{tag}{n}"

    def person(label: str) -> int:
        return editor.create_person(f"{label}.{tag}{n}@example.org", f"{label.title()} {n}")

    academie_id = editor.create_academie(slug, f"Académie de test {n}", f"T{tag}")
    if config is not None:
        # The packaged seed's settings (rates, signature, delays…), its name aside.
        seed = seed_settings((PACKAGED / f"{config}.toml").read_text("utf-8"), where=config)
        seed.pop("nom", None)
        Administration(builder.engine).change_settings(academie_id, seed, actor_id=None)
    other = editor.create_academie(f"autre-{tag}{n}", f"Autre académie {n}", f"U{tag}")
    team = Team(
        pilote=person("pilote"),
        formateurs=[person("formatrice")],
        gestionnaire=person("gestionnaire"),
        responsable=person("responsable"),
        concepteur=person("concepteur"),
        tuteur=person("tutrice"),
        chef_etablissement=person("cheffe"),
        ien=person("ien"),
        coordonnateur_reseau=person("coordo"),
        stagiaires=[person("stagiaire-a"), person("stagiaire-b")],
    )
    editor.assign(team.gestionnaire, "gestionnaire", academie_id=academie_id)
    editor.assign(team.responsable, "responsable", academie_id=academie_id)
    other_gestionnaire = person("gestionnaire-autre")
    editor.assign(other_gestionnaire, "gestionnaire", academie_id=other)
    return World(academie_id, slug, team, person("outsider"), other_gestionnaire, builder)


@pytest.fixture
def world(builder: DemoBuilder) -> World:
    return make_world(builder)


@pytest.fixture
def fresh_database_url(database_url: str, tmp_path: Path) -> Iterator[str]:
    """An empty database of the same kind as the suite's, dropped afterwards."""
    if database_url.startswith("sqlite"):
        yield f"sqlite:///{tmp_path / 'fresh.db'}"
        return
    name = f"formaflow_fresh_{uuid.uuid4().hex[:12]}"
    admin = create_engine(database_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(database_url).set(database=name).render_as_string(hide_password=False)
    try:
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def api_container(engine: Engine, data_dir: Path) -> Container:
    """The app's container on the suite's database (production mode: no demo loading)."""
    container = Container(
        WorkflowSettings(database_url="sqlite://", data_dir=data_dir),
        ApiSettings(env="production", data_dir=data_dir, base_url="http://testserver"),
    )
    container.__dict__["engine"] = engine
    return container


@pytest.fixture
def client(api_container: Container) -> Iterator[TestClient]:
    with TestClient(create_app(api_container)) as test_client:
        yield test_client


@pytest.fixture
def api(client: TestClient, api_container: Container) -> Api:
    return Api(client, api_container)
