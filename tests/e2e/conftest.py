"""Browser fixtures: the app served by uvicorn on the suite's database, one Debian
Chromium for the whole session, a fresh browser context (no cookies) per test."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Playwright, sync_playwright
from sqlalchemy import select, update

from api.app import create_app
from api.wiring import Container
from tests.conftest import World, make_world
from tests.support.browser import CHROMIUM, CHROMIUM_ARGS, PASSWORD, new_context
from tests.support.live_server import serving
from workflow.demo import DemoBuilder
from workflow.store.tables import person_table


@pytest.fixture(scope="session")
def playwright_driver() -> Iterator[Playwright]:
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} est absent : `make test` installe le paquet Debian chromium.")
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="session")
def browser(playwright_driver: Playwright) -> Iterator[Browser]:
    browser = playwright_driver.chromium.launch(
        executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
    )
    yield browser
    browser.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context: BrowserContext = new_context(browser)
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def live_url(api_container: Container) -> Iterator[str]:
    with serving(create_app(api_container)) as url:
        yield url


@dataclass
class People:
    """The e-mail address of each person of a test's world (all can sign in)."""

    world: World
    emails: dict[int, str]

    def email(self, person_id: int) -> str:
        return self.emails[person_id]


@pytest.fixture
def people(builder: DemoBuilder, api_container: Container) -> People:
    world = make_world(builder)
    team = world.team
    ids = {
        team.pilote,
        team.gestionnaire,
        team.responsable,
        *team.formateurs,
        *(p for p in (team.concepteur, team.tuteur, team.chef_etablissement) if p),
        world.outsider,
    }
    with api_container.engine.connect() as conn:
        rows = conn.execute(
            select(person_table.c.id, person_table.c.email).where(person_table.c.id.in_(ids))
        ).all()
    # One argon2 hash for everyone: hashing is deliberately slow, and these are test people.
    hashed = api_container.accounts.hasher.hash(PASSWORD)
    with api_container.engine.begin() as conn:
        conn.execute(
            update(person_table).where(person_table.c.id.in_(ids)).values(password_hash=hashed)
        )
    return People(world, {int(r.id): r.email for r in rows})


@pytest.fixture
def start_worker(api_container: Container) -> Iterator[Callable[[], None]]:
    """The bulk-action worker of ``formaflow serve``, started when the test says so (a test
    that wants to see a batch waiting launches it first)."""
    stop = threading.Event()
    thread = threading.Thread(
        target=lambda: _work(api_container, stop), name="bulk-worker", daemon=True
    )
    yield thread.start
    stop.set()
    if thread.is_alive():
        thread.join(timeout=30)


def _work(container: Container, stop: threading.Event) -> None:
    while not stop.is_set():
        if not container.bulk.run_once("e2e"):
            stop.wait(0.2)
