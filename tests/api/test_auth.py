"""Local sign-in, sessions, failed-login limits and API tokens, with a clock the test drives.

Each test signs in from its own client address: failed sign-ins are counted per address in
the database the whole suite shares, so one test's failures must not lock out another's.
"""

from __future__ import annotations

import subprocess
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path

import httpx2
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from api.accounts import Accounts
from api.app import create_app
from api.deps import CSRF_HEADER, SESSION_COOKIE
from api.settings import ApiSettings
from api.wiring import Container
from tests.support.cli import run_cli as run_formaflow
from tests.support.live_server import serving
from workflow.dossiers.editing import DossierEditor
from workflow.store.database import make_engine
from workflow.store.settings import WorkflowSettings
from workflow.store.tables import web_session_table
from workflow.store.types import utcnow

PASSWORD = "correct-cheval-batterie-agrafe"
PROBLEM = "application/problem+json"


class FakeClock:
    """The time as the accounts see it; moves only when the test says so."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(utcnow())


def make_container(
    engine: Engine, data_dir: Path, clock: FakeClock, **settings: object
) -> Container:
    api_settings = ApiSettings(
        env="production",
        data_dir=data_dir,
        base_url=str(settings.pop("base_url", "http://testserver")),
        **settings,  # type: ignore[arg-type]
    )
    container = Container(
        WorkflowSettings(database_url="sqlite://", data_dir=data_dir), api_settings
    )
    container.__dict__["engine"] = engine
    container.__dict__["accounts"] = Accounts(engine, api_settings, clock=clock)
    return container


@contextmanager
def browser(container: Container, base_url: str = "http://testserver") -> Iterator[TestClient]:
    """A test client from an address of its own."""
    address = (f"198.51.100.{uuid.uuid4().int % 250 + 1}-{uuid.uuid4().hex[:8]}", 50000)
    with TestClient(create_app(container), base_url=base_url, client=address) as client:
        yield client


@pytest.fixture
def container(engine: Engine, data_dir: Path, clock: FakeClock) -> Container:
    return make_container(engine, data_dir, clock)


@pytest.fixture
def client(container: Container) -> Iterator[TestClient]:
    with browser(container) as test_client:
        yield test_client


@pytest.fixture
def account(container: Container, engine: Engine, data_dir: Path) -> tuple[int, str]:
    """A local account with a password: (person id, email)."""
    email = f"agent.{uuid.uuid4().hex[:10]}@example.org"
    person = DossierEditor(engine, data_dir).create_person(email, "Agent Local")
    container.accounts.set_password(person, PASSWORD)
    return person, email


def login(client: TestClient, email: str, password: str = PASSWORD) -> httpx2.Response:
    return client.post("/api/v1/auth/login", json={"email": email, "password": password})


def me(client: TestClient, **headers: str) -> httpx2.Response:
    return client.get("/api/v1/auth/me", headers=headers)


def session_cookie(response: httpx2.Response) -> str:
    return next(
        c for c in response.headers.get_list("set-cookie") if c.startswith(f"{SESSION_COOKIE}=")
    )


def assert_problem(response: httpx2.Response, status: int, type_: str) -> dict[str, str]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    body = response.json()
    assert body["type"] == f"/api/problemes/{type_}"
    return dict(body)


# Sessions --------------------------------------------------------------------------


def test_login_opens_an_httponly_lax_session(client: TestClient, account: tuple[int, str]) -> None:
    person, email = account
    response = login(client, email.upper())
    assert response.status_code == 200, response.text
    assert response.json()["person_id"] == person and response.json()["csrf_token"]
    cookie = session_cookie(response).lower()
    assert "httponly" in cookie and "samesite=lax" in cookie and "path=/" in cookie
    assert "secure" not in cookie  # served over http here
    assert me(client).json()["via"] == "session"


def test_session_cookie_is_secure_over_https(
    engine: Engine, data_dir: Path, clock: FakeClock
) -> None:
    container = make_container(engine, data_dir, clock, base_url="https://formaflow.example")
    email = f"agent.{uuid.uuid4().hex[:10]}@example.org"
    person = DossierEditor(engine, data_dir).create_person(email, "Agent Https")
    container.accounts.set_password(person, PASSWORD)
    with browser(container, base_url="https://formaflow.example") as client:
        response = login(client, email)
        assert response.status_code == 200, response.text
        assert "; secure" in session_cookie(response).lower()
        assert me(client).status_code == 200


def test_each_login_gets_a_new_session(
    client: TestClient, container: Container, account: tuple[int, str]
) -> None:
    _, email = account
    first = login(client, email).cookies[SESSION_COOKIE]
    second = login(client, email).cookies[SESSION_COOKIE]
    assert first != second
    one, two = container.accounts.session(first), container.accounts.session(second)
    assert one is not None and two is not None
    assert one.session_id != two.session_id and one.csrf_token != two.csrf_token


def test_logout_revokes_the_session_on_the_server(
    client: TestClient, container: Container, engine: Engine, account: tuple[int, str]
) -> None:
    _, email = account
    signed_in = login(client, email)
    token, csrf = signed_in.cookies[SESSION_COOKIE], signed_in.json()["csrf_token"]

    assert_problem(client.post("/api/v1/auth/logout"), 403, "jeton-csrf")
    assert client.post("/api/v1/auth/logout", headers={CSRF_HEADER: csrf}).status_code == 204

    client.cookies.set(SESSION_COOKIE, token)  # the old cookie, replayed
    assert_problem(me(client), 401, "authentification-requise")
    principal_gone = container.accounts.session(token)
    assert principal_gone is None
    with engine.connect() as conn:
        revoked = conn.execute(
            select(web_session_table.c.revoked_at).where(web_session_table.c.csrf_token == csrf)
        ).scalar_one()
    assert revoked is not None


def test_idle_session_expires(
    client: TestClient, clock: FakeClock, account: tuple[int, str]
) -> None:
    _, email = account
    assert login(client, email).status_code == 200
    clock.advance(minutes=29)
    assert me(client).status_code == 200  # activity moves the idle deadline
    clock.advance(minutes=29)
    assert me(client).status_code == 200
    clock.advance(minutes=30, seconds=1)
    assert_problem(me(client), 401, "authentification-requise")


def test_active_session_still_ends_at_its_absolute_limit(
    engine: Engine, data_dir: Path, clock: FakeClock
) -> None:
    container = make_container(
        engine, data_dir, clock, session_idle_minutes=30, session_absolute_hours=2
    )
    email = f"agent.{uuid.uuid4().hex[:10]}@example.org"
    person = DossierEditor(engine, data_dir).create_person(email, "Agent Actif")
    container.accounts.set_password(person, PASSWORD)
    with browser(container) as client:
        assert login(client, email).status_code == 200
        for _ in range(4):
            clock.advance(minutes=25)
            assert me(client).status_code == 200  # 100 minutes, never idle
        clock.advance(minutes=20)  # 2 hours after sign-in
        assert_problem(me(client), 401, "authentification-requise")


# Failed sign-ins -------------------------------------------------------------------


def test_wrong_password_is_a_french_401(client: TestClient, account: tuple[int, str]) -> None:
    _, email = account
    wrong = assert_problem(login(client, email, "pas-le-bon-mot"), 401, "identifiants-invalides")
    assert wrong["title"] == "Identifiants invalides"
    assert wrong["detail"] == "Adresse électronique ou mot de passe incorrect."
    unknown = login(client, f"personne.{uuid.uuid4().hex}@example.org", PASSWORD)
    assert assert_problem(unknown, 401, "identifiants-invalides")["detail"] == wrong["detail"]
    assert SESSION_COOKIE not in client.cookies


def test_too_many_failures_lock_the_account_until_the_window_passes(
    engine: Engine, data_dir: Path, clock: FakeClock, account: tuple[int, str]
) -> None:
    """Counted in the database: failures from two processes and addresses add up."""
    _, email = account
    first, second = (make_container(engine, data_dir, clock) for _ in range(2))
    limit = first.api_settings.login_max_failures
    window = first.api_settings.login_window_minutes
    with browser(first) as one, browser(second) as two:
        for attempt in range(limit):
            client = one if attempt % 2 else two
            assert login(client, email, "mauvais").status_code == 401

        locked = assert_problem(login(one, email), 429, "trop-de-tentatives")
        assert locked["title"] == "Trop de tentatives"
        assert f"réessayez dans {window} minutes" in locked["detail"]
        assert login(two, email).headers["Retry-After"] == str(window * 60)

        clock.advance(minutes=window - 1)
        assert login(one, email).status_code == 429  # still inside the window
        clock.advance(minutes=1, seconds=1)
        assert login(one, email).status_code == 200


def test_a_stranger_failing_at_an_address_cannot_lock_its_owner_out(
    engine: Engine, data_dir: Path, clock: FakeClock, account: tuple[int, str]
) -> None:
    """Anyone could lock any account for the whole window by failing five times at its
    address. Now the failing client is stopped, the owner is not."""
    _, email = account
    container = make_container(engine, data_dir, clock)
    limit = container.api_settings.login_max_failures
    with browser(container) as stranger, browser(container) as owner:
        for _ in range(limit):
            assert login(stranger, email, "mauvais").status_code == 401
        assert_problem(login(stranger, email), 429, "trop-de-tentatives")
        assert_problem(login(stranger, "autre@example.org", "x"), 429, "trop-de-tentatives")

        assert login(owner, email).status_code == 200
        assert_problem(login(stranger, email), 429, "trop-de-tentatives")


@pytest.mark.parametrize(("trusted", "believed"), [("", False), ("127.0.0.1", True)])
def test_forwarded_addresses_are_believed_only_from_configured_proxies(
    engine: Engine, data_dir: Path, account: tuple[int, str], trusted: str, believed: bool
) -> None:
    """Over real uvicorn with the options ``formaflow serve`` gives it. The clock is a year
    back, so these failures from 127.0.0.1 lock no other test's sign-in."""
    _, email = account
    clock = FakeClock(utcnow() - timedelta(days=365))
    container = make_container(engine, data_dir, clock, trusted_proxies=trusted)
    limit = container.api_settings.login_max_failures
    options = container.api_settings.uvicorn_proxy_options()
    with (
        serving(create_app(container), options=options) as url,
        httpx2.Client(base_url=url, timeout=60) as http,
    ):
        statuses = []
        for n in range(limit + 1):
            forwarded = {"X-Forwarded-For": f"203.0.113.{n + 1}"}
            body = {"email": email, "password": "mauvais"}
            statuses.append(
                http.post("/api/v1/auth/login", json=body, headers=forwarded).status_code
            )
    # A believed header makes each attempt come from a new client, never over the limit
    # (the address itself is closed only to clients that failed); an ignored one keeps
    # them all on 127.0.0.1, stopped after ``limit`` failures.
    expected = [401] * limit + ([401] if believed else [429])
    assert statuses == expected


# Bearer tokens ---------------------------------------------------------------------


def test_bearer_token_works_until_revoked(
    client: TestClient, container: Container, account: tuple[int, str]
) -> None:
    person, _ = account
    token = container.accounts.create_token(person, "tests")
    auth = {"Authorization": f"Bearer {token}"}
    response = me(client, **auth)
    assert response.status_code == 200 and response.json()["via"] == "token"
    assert response.json()["person_id"] == person
    assert container.accounts.revoke_token(token) == 1
    refused = assert_problem(me(client, **auth), 401, "authentification-requise")
    assert refused["detail"] == "Jeton d'API invalide, expiré ou révoqué."


def test_bearer_token_expires(
    client: TestClient, container: Container, clock: FakeClock, account: tuple[int, str]
) -> None:
    person, _ = account
    token = container.accounts.create_token(person, "tests", days=1)
    auth = {"Authorization": f"Bearer {token}"}
    clock.advance(hours=23, minutes=59)
    assert me(client, **auth).status_code == 200
    clock.advance(minutes=1)
    response = me(client, **auth)
    assert_problem(response, 401, "authentification-requise")
    assert response.headers["WWW-Authenticate"] == 'Bearer error="invalid_token"'


# The formaflow command -------------------------------------------------------------


def run_cli(
    url: str, data: Path, *args: str, password: str | None = None
) -> subprocess.CompletedProcess[str]:
    extra = None if password is None else {"FORMAFLOW_NEW_PASSWORD": password}
    return run_formaflow(url, data, *args, extra=extra)


def test_cli_creates_a_user_and_tokens_that_the_api_accepts(
    fresh_database_url: str, tmp_path: Path, clock: FakeClock
) -> None:
    email = "gestionnaire.cli@example.org"
    created = run_cli(
        fresh_database_url, tmp_path, "user", "create", email, "--name", "Gestionnaire CLI",
        password=PASSWORD,
    )  # fmt: skip
    assert created.returncode == 0, created.stderr
    assert f"Compte créé pour {email}." in created.stdout

    issued = run_cli(fresh_database_url, tmp_path, "token", "create", email, "--name", "test")
    assert issued.returncode == 0, issued.stderr
    token = issued.stdout.strip()
    assert token.startswith("ffk_")

    engine = make_engine(fresh_database_url)
    try:
        container = make_container(engine, tmp_path, clock)
        with browser(container) as client:
            assert login(client, email).status_code == 200
            client.cookies.clear()
            auth = {"Authorization": f"Bearer {token}"}
            assert me(client, **auth).json()["email"] == email

            revoked = run_cli(fresh_database_url, tmp_path, "token", "revoke", token[:10])
            assert revoked.returncode == 0, revoked.stderr
            assert "1 jeton(s) révoqué(s)." in revoked.stdout
            assert_problem(me(client, **auth), 401, "authentification-requise")
    finally:
        engine.dispose()


def test_cli_refuses_a_short_password_in_french(fresh_database_url: str, tmp_path: Path) -> None:
    result = run_cli(
        fresh_database_url, tmp_path, "user", "create", "court@example.org", "--name", "Court",
        password="court",
    )  # fmt: skip
    assert result.returncode == 2
    assert "Le mot de passe doit compter au moins 12 caractères." in result.stderr
    assert "Traceback" not in result.stderr
    # Nothing was half-created: the same address can be used right away.
    again = run_cli(
        fresh_database_url, tmp_path, "user", "create", "court@example.org", "--name", "Court",
        password="assez long maintenant",
    )  # fmt: skip
    assert again.returncode == 0, again.stderr
