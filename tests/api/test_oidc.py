"""Sign-in through an OpenID provider (ProConnect-style), against a fake provider over TCP.

The browser's part is played by hand: the test client asks the app for the sign-in, an
HTTP client follows the app's redirect to the provider, and the test client brings the
provider's answer back to the callback.
"""

from __future__ import annotations

import time
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx2
import pytest
from fastapi.testclient import TestClient
from itsdangerous import TimestampSigner, URLSafeTimedSerializer
from pydantic import SecretStr
from sqlalchemy import Engine, select

from api.app import create_app
from api.deps import SESSION_COOKIE
from api.oidc import FLOW_COOKIE, FLOW_MAX_AGE, FLOW_SALT, OidcClient
from api.settings import ApiSettings
from api.wiring import Container
from tests.support.fake_oidc import Agent, FakeProvider, s256
from workflow.dossiers.editing import DossierEditor
from workflow.store.settings import WorkflowSettings
from workflow.store.tables import person_table

CLIENT_ID = "formaflow-tests"
CLIENT_SECRET = "secret-du-client-de-test"
SECRET_KEY = "cle-de-signature-des-tests-oidc"
PROBLEM = "application/problem+json"


@pytest.fixture(scope="session")
def provider() -> Iterator[FakeProvider]:
    with FakeProvider(CLIENT_ID, CLIENT_SECRET).serving() as running:
        yield running


def oidc_settings(
    provider: FakeProvider, data_dir: Path, base_url: str = "http://testserver"
) -> ApiSettings:
    return ApiSettings(
        env="production",
        data_dir=data_dir,
        base_url=base_url,
        secret_key=SecretStr(SECRET_KEY),
        oidc_issuer=provider.issuer,
        oidc_client_id=CLIENT_ID,
        oidc_client_secret=SecretStr(CLIENT_SECRET),
    )


def make_container(engine: Engine, data_dir: Path, settings: ApiSettings) -> Container:
    container = Container(WorkflowSettings(database_url="sqlite://", data_dir=data_dir), settings)
    container.__dict__["engine"] = engine
    return container


@pytest.fixture
def agent(provider: FakeProvider) -> Agent:
    """A new agent at the provider for each test (the suite shares one database)."""
    provider.reset()
    tag = uuid.uuid4().hex[:10]
    provider.behaviour.agent = Agent(subject=f"sub-{tag}", email=f"agent.{tag}@example.gouv.fr")
    return provider.behaviour.agent


@pytest.fixture
def client(
    engine: Engine, data_dir: Path, provider: FakeProvider, agent: Agent
) -> Iterator[TestClient]:
    container = make_container(engine, data_dir, oidc_settings(provider, data_dir))
    with TestClient(create_app(container), follow_redirects=False) as test_client:
        yield test_client


def start(client: TestClient, provider: FakeProvider) -> str:
    """Ask the app for a sign-in; the provider's authorization URL it redirects to."""
    response = client.get("/auth/oidc/login")
    assert response.status_code == 302, response.text
    location = response.headers["location"]
    assert location.startswith(f"{provider.issuer}/authorize?")
    return location


def at_provider(authorize_url: str) -> str:
    """The browser at the provider, which answers at once; the callback URL it sends back."""
    with httpx2.Client(follow_redirects=False) as browser:
        response = browser.get(authorize_url)
    assert response.status_code == 302, response.text
    callback = response.headers["location"]
    assert callback.startswith("http://testserver/auth/oidc/callback?")
    return callback


def sign_in(client: TestClient, provider: FakeProvider) -> httpx2.Response:
    return client.get(at_provider(start(client, provider)))


def with_param(url: str, **changes: str) -> str:
    parts = urlsplit(url)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()} | changes
    return parts._replace(query=urlencode(query)).geturl()


def person_row(engine: Engine, person_id: int) -> tuple[str, str | None, str | None, str]:
    with engine.connect() as conn:
        row = conn.execute(
            select(
                person_table.c.email,
                person_table.c.oidc_issuer,
                person_table.c.oidc_subject,
                person_table.c.full_name,
            ).where(person_table.c.id == person_id)
        ).one()
    return row.email, row.oidc_issuer, row.oidc_subject, row.full_name


def me(client: TestClient) -> int:
    response = client.get("/api/v1/auth/me")
    assert response.status_code == 200, response.text
    assert response.json()["via"] == "session"
    return int(response.json()["person_id"])


def assert_problem(response: httpx2.Response, status: int, type_: str) -> dict[str, str]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    body = response.json()
    assert body["type"] == f"/api/problemes/{type_}"
    return dict(body)


# The sign-in -----------------------------------------------------------------------


def test_first_sign_in_creates_an_account_keyed_on_issuer_and_subject(
    client: TestClient, provider: FakeProvider, agent: Agent, engine: Engine
) -> None:
    authorize = start(client, provider)
    flow_cookie = client.cookies.get(FLOW_COOKIE)
    assert flow_cookie
    query = parse_qs(urlsplit(authorize).query)
    assert query["code_challenge_method"] == ["S256"]
    assert query["redirect_uri"] == ["http://testserver/auth/oidc/callback"]
    assert "openid" in query["scope"][0].split()

    done = client.get(at_provider(authorize))

    assert done.status_code == 303, done.text
    assert done.headers["location"] == "/"
    grant = provider.authorizations[-1]
    assert grant.nonce and grant.state and len(grant.code_challenge) == 43
    person_id = me(client)
    email, issuer, subject, name = person_row(engine, person_id)
    assert (email, issuer, subject) == (agent.email, provider.issuer, agent.subject)
    assert name == "Agnès Durand"


def test_second_sign_in_reuses_the_account_with_a_new_session(
    client: TestClient, provider: FakeProvider
) -> None:
    assert sign_in(client, provider).status_code == 303
    first_cookie = client.cookies[SESSION_COOKIE]
    first = me(client)
    assert sign_in(client, provider).status_code == 303
    assert client.cookies[SESSION_COOKIE] != first_cookie
    assert me(client) == first


def test_existing_local_account_with_the_same_email_is_linked(
    client: TestClient, provider: FakeProvider, agent: Agent, engine: Engine, data_dir: Path
) -> None:
    provider.behaviour.email_verified = True
    local = DossierEditor(engine, data_dir).create_person(agent.email.upper(), "Agnès Durand")
    assert person_row(engine, local)[1:3] == (None, None)

    assert sign_in(client, provider).status_code == 303

    assert me(client) == local
    assert person_row(engine, local)[1:3] == (provider.issuer, agent.subject)


def test_an_existing_account_is_not_linked_without_email_verified(
    client: TestClient, provider: FakeProvider, agent: Agent, engine: Engine, data_dir: Path
) -> None:
    """A provider that does not say the email is verified (the claim absent) cannot hand
    over the local account holding that address."""
    assert provider.behaviour.email_verified is None
    local = DossierEditor(engine, data_dir).create_person(agent.email, "Agnès Durand")

    body = assert_problem(sign_in(client, provider), 403, "acces-refuse")

    assert "n'a pas confirmé qu'elle est vérifiée" in body["detail"]
    assert person_row(engine, local)[1:3] == (None, None)
    assert client.get("/api/v1/auth/me").status_code == 401


def test_session_cookie_is_httponly_lax_and_flow_cookie_short_lived_and_scoped(
    client: TestClient, provider: FakeProvider
) -> None:
    started = client.get("/auth/oidc/login")
    flow = started.headers["set-cookie"].lower()
    assert flow.startswith(f"{FLOW_COOKIE}=")
    assert "httponly" in flow and "samesite=lax" in flow and "secure" not in flow
    assert f"max-age={FLOW_MAX_AGE}" in flow and "path=/auth/oidc" in flow

    done = client.get(at_provider(started.headers["location"]))

    cookies = [c.lower() for c in done.headers.get_list("set-cookie")]
    session = next(c for c in cookies if c.startswith(f"{SESSION_COOKIE}="))
    assert "httponly" in session and "samesite=lax" in session and "path=/" in session
    cleared = next(c for c in cookies if c.startswith(f"{FLOW_COOKIE}="))
    assert "max-age=0" in cleared
    assert client.cookies.get(FLOW_COOKIE) is None


def test_cookies_are_secure_when_the_product_is_served_over_https(
    engine: Engine, data_dir: Path, provider: FakeProvider, agent: Agent
) -> None:
    settings = oidc_settings(provider, data_dir, base_url="https://testserver")
    app = create_app(make_container(engine, data_dir, settings))
    with TestClient(app, base_url="https://testserver", follow_redirects=False) as client:
        started = client.get("/auth/oidc/login")
        assert "; secure" in started.headers["set-cookie"].lower()
        query = parse_qs(urlsplit(started.headers["location"]).query)
        assert query["redirect_uri"] == ["https://testserver/auth/oidc/callback"]
        with httpx2.Client(follow_redirects=False) as browser:
            back = browser.get(started.headers["location"]).headers["location"]
        done = client.get(back)
    assert done.status_code == 303, done.text
    session = next(
        c for c in done.headers.get_list("set-cookie") if c.startswith(f"{SESSION_COOKIE}=")
    )
    assert "; secure" in session.lower()


def test_callback_may_reach_another_api_process(
    client: TestClient,
    provider: FakeProvider,
    engine: Engine,
    data_dir: Path,
) -> None:
    """Nothing of the flow is kept in memory: a second app finishes what the first began."""
    callback = at_provider(start(client, provider))
    other = create_app(make_container(engine, data_dir, oidc_settings(provider, data_dir)))
    with TestClient(other, follow_redirects=False) as second:
        second.cookies.set(FLOW_COOKIE, client.cookies[FLOW_COOKIE], path="/auth/oidc")
        done = second.get(callback)
        assert done.status_code == 303, done.text
        assert me(second) > 0


def test_discovery_is_fetched_once_per_app(client: TestClient, provider: FakeProvider) -> None:
    before = provider.hits["discovery"]
    assert sign_in(client, provider).status_code == 303
    assert sign_in(client, provider).status_code == 303
    assert provider.hits["discovery"] == before + 1


def test_discovery_and_keys_are_fetched_again_after_an_hour(
    engine: Engine, data_dir: Path, provider: FakeProvider, agent: Agent
) -> None:
    now = [1000.0]
    settings = oidc_settings(provider, data_dir)
    app = create_app(make_container(engine, data_dir, settings))
    app.state.oidc = OidcClient(settings, monotonic=lambda: now[0])
    before = provider.hits.copy()
    with TestClient(app, follow_redirects=False) as client:
        assert sign_in(client, provider).status_code == 303
        now[0] += 3599
        assert sign_in(client, provider).status_code == 303
        assert provider.hits - before == Counter({"discovery": 1, "jwks": 1})
        now[0] += 2
        assert sign_in(client, provider).status_code == 303
    assert provider.hits - before == Counter({"discovery": 2, "jwks": 2})


def test_keys_rotated_by_the_provider_are_fetched_at_once(
    client: TestClient, provider: FakeProvider
) -> None:
    assert sign_in(client, provider).status_code == 303  # the old keys are now cached
    old_kid, jwks_before = provider.kid, provider.hits["jwks"]
    provider.rotate_keys()
    assert provider.kid != old_kid
    assert sign_in(client, provider).status_code == 303
    assert provider.hits["jwks"] == jwks_before + 1


def test_claims_given_only_at_userinfo_as_a_signed_jwt(
    client: TestClient, provider: FakeProvider, agent: Agent, engine: Engine
) -> None:
    provider.behaviour.claims_in_userinfo = True
    assert sign_in(client, provider).status_code == 303
    email, _, subject, name = person_row(engine, me(client))
    assert (email, subject, name) == (agent.email, agent.subject, "Agnès Durand")


# What must be refused --------------------------------------------------------------


def test_tampered_state_is_refused(client: TestClient, provider: FakeProvider) -> None:
    callback = at_provider(start(client, provider))
    response = client.get(with_param(callback, state="etat-fabrique"))
    body = assert_problem(response, 400, "requete-invalide")
    assert "ne correspond pas à la connexion commencée" in body["detail"]
    assert client.cookies.get(SESSION_COOKIE) is None


def test_callback_without_the_flow_cookie_is_refused(
    client: TestClient, provider: FakeProvider
) -> None:
    callback = at_provider(start(client, provider))
    client.cookies.delete(FLOW_COOKIE, path="/auth/oidc")
    body = assert_problem(client.get(callback), 400, "requete-invalide")
    assert "recommencez" in body["detail"]


def test_forged_or_expired_flow_cookie_is_refused(
    client: TestClient, provider: FakeProvider
) -> None:
    callback = at_provider(start(client, provider))
    state = parse_qs(urlsplit(callback).query)["state"][0]

    class TenMinutesAgo(TimestampSigner):
        def get_timestamp(self) -> int:
            return int(time.time()) - FLOW_MAX_AGE - 1

    def replace_flow_cookie(value: str) -> None:
        client.cookies.delete(FLOW_COOKIE)
        client.cookies.set(FLOW_COOKIE, value, path="/auth/oidc")

    old = URLSafeTimedSerializer(SECRET_KEY, salt=FLOW_SALT, signer=TenMinutesAgo)
    replace_flow_cookie(old.dumps([state, "n", "v"]))
    assert_problem(client.get(callback), 400, "requete-invalide")

    forged = URLSafeTimedSerializer("une-autre-cle", salt=FLOW_SALT)
    replace_flow_cookie(forged.dumps([state, "n", "v"]))
    assert_problem(client.get(callback), 400, "requete-invalide")

    # Control: the same content, fresh and signed with the right key, passes the cookie
    # check and goes on to the provider, which refuses the verifier "v".
    fresh = URLSafeTimedSerializer(SECRET_KEY, salt=FLOW_SALT)
    replace_flow_cookie(fresh.dumps([state, "n", "v"]))
    assert_problem(client.get(callback), 401, "authentification-requise")


def test_a_callback_cannot_be_replayed(client: TestClient, provider: FakeProvider) -> None:
    callback = at_provider(start(client, provider))
    assert client.get(callback).status_code == 303
    assert_problem(client.get(callback), 400, "requete-invalide")


def test_provider_denial_is_a_french_problem(client: TestClient, provider: FakeProvider) -> None:
    provider.behaviour.deny = True
    callback = at_provider(start(client, provider))
    body = assert_problem(client.get(callback), 401, "authentification-requise")
    assert "n'a pas autorisé la connexion (access_denied)" in body["detail"]
    assert client.cookies.get(SESSION_COOKIE) is None


def test_wrong_nonce_is_refused(client: TestClient, provider: FakeProvider) -> None:
    provider.behaviour.wrong_nonce = True
    body = assert_problem(sign_in(client, provider), 401, "identifiants-invalides")
    assert body["detail"] == (
        "La réponse du fournisseur d'identité n'a pas pu être vérifiée : connexion refusée."
    )
    assert client.cookies.get(SESSION_COOKIE) is None


def test_id_token_signed_by_another_key_is_refused(
    client: TestClient, provider: FakeProvider
) -> None:
    provider.behaviour.foreign_key = True
    assert_problem(sign_in(client, provider), 401, "identifiants-invalides")
    assert client.cookies.get(SESSION_COOKIE) is None


@pytest.mark.parametrize(
    "overrides",
    [
        {"iss": "https://usurpateur.example.org"},
        {"aud": "un-autre-client"},
        {"exp": int(time.time()) - 3600},
        {"nonce": None},
        {"sub": None},
    ],
    ids=["issuer", "audience", "expired", "no-nonce", "no-subject"],
)
def test_id_token_with_wrong_claims_is_refused(
    client: TestClient, provider: FakeProvider, overrides: dict[str, object]
) -> None:
    provider.behaviour.id_token_overrides = overrides
    assert_problem(sign_in(client, provider), 401, "identifiants-invalides")


def test_unverified_email_is_refused(client: TestClient, provider: FakeProvider) -> None:
    provider.behaviour.email_verified = False
    body = assert_problem(sign_in(client, provider), 403, "acces-refuse")
    assert "n'a pas vérifié votre adresse électronique" in body["detail"]


def test_code_from_another_sign_in_fails_pkce_at_the_provider(
    client: TestClient, provider: FakeProvider
) -> None:
    """Code injection: a code obtained for one verifier, brought back with another flow."""
    stolen = at_provider(start(client, provider))  # flow 1: its verifier is now lost
    victim = at_provider(start(client, provider))  # flow 2: the browser's current cookie
    injected = with_param(victim, code=parse_qs(urlsplit(stolen).query)["code"][0])

    body = assert_problem(client.get(injected), 401, "authentification-requise")

    assert "a refusé la connexion (invalid_grant)" in body["detail"]
    assert provider.refusals == ["code_verifier"]
    assert client.cookies.get(SESSION_COOKIE) is None


def test_fake_provider_accepts_only_the_right_verifier() -> None:
    """The S256 transform the fake checks against is RFC 7636's (appendix B example)."""
    verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
    assert s256(verifier) == "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"


def test_unreachable_provider_is_a_french_problem_not_a_500(
    engine: Engine, data_dir: Path, provider: FakeProvider
) -> None:
    settings = oidc_settings(provider, data_dir).model_copy(
        update={"oidc_issuer": "http://127.0.0.1:9/nulle-part"}
    )
    app = create_app(make_container(engine, data_dir, settings))
    with TestClient(app, follow_redirects=False) as client:
        body = assert_problem(client.get("/auth/oidc/login"), 502, "fournisseur-indisponible")
    assert "réessayez" in body["detail"]


def test_routes_answer_404_when_oidc_is_not_configured(engine: Engine, data_dir: Path) -> None:
    settings = ApiSettings(
        env="production",
        data_dir=data_dir,
        base_url="http://testserver",
        oidc_issuer=None,
        oidc_client_id=None,
    )
    app = create_app(make_container(engine, data_dir, settings))
    with TestClient(app, follow_redirects=False) as client:
        for path in ("/auth/oidc/login", "/auth/oidc/callback?code=x&state=y"):
            body = assert_problem(client.get(path), 404, "introuvable")
            assert "n'est pas activée" in body["detail"]
