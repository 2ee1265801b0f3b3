"""The email sign-in link of the embedded default: the same answer whatever the address,
a link that opens one session once, within a limit of requests; off when OIDC is on."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from sqlalchemy import select

from api.app import create_app
from api.settings import ApiSettings
from api.wiring import Container
from tests.conftest import World
from workflow.store.tables import outbox_table as O
from workflow.store.tables import person_table as P

LINK = re.compile(r"(/connexion/lien/[A-Za-z0-9_.\-]+)")


def _csrf(client: TestClient, path: str) -> str:
    page = client.get(path)
    assert page.status_code == 200
    found = re.search(r'name="login_csrf" value="([^"]+)"', page.text)
    assert found is not None
    return found.group(1)


def _token_in(text: str) -> str:
    found = re.search(r'name="login_csrf" value="([^"]+)"', text)
    assert found is not None
    return found.group(1)


def _email_of(container: Container, person: int) -> str:
    with container.engine.connect() as conn:
        return str(conn.execute(select(P.c.email).where(P.c.id == person)).scalar_one())


def _links_sent(container: Container, person: int) -> list[str]:
    with container.engine.connect() as conn:
        rows = conn.execute(
            select(O.c.raw).where(O.c.person_id == person, O.c.template == "participants/connexion")
        ).scalars()
        return [m.group(1) for raw in rows if (m := LINK.search(raw.replace("=\r\n", "")))]


def test_a_link_signs_in_once_and_unknown_addresses_get_the_same_answer(
    world: World, api_container: Container
) -> None:
    world.formation()
    stagiaire = world.team.stagiaires[0]
    address = _email_of(api_container, stagiaire)
    with TestClient(create_app(api_container), client=("10.13.0.1", 50000)) as client:
        token = _csrf(client, "/connexion/lien")
        # Each page sets a new double-submit token: the next form carries it.
        sent = client.post("/connexion/lien", data={"email": address.upper(), "login_csrf": token})
        unknown = client.post(
            "/connexion/lien",
            data={"email": "personne@example.org", "login_csrf": _token_in(sent.text)},
        )
        assert sent.status_code == unknown.status_code == 200
        assert (
            "Si un compte formaflow existe" in sent.text
            and "Si un compte formaflow existe" in unknown.text
        )
        forged = client.post("/connexion/lien", data={"email": address, "login_csrf": "faux"})
        assert forged.status_code == 403
        (path,) = _links_sent(api_container, stagiaire)
        opened = client.get(path)
        assert opened.status_code == 200 and "Se connecter" in opened.text
        assert client.get("/mes-formations", follow_redirects=False).status_code == 303
        used = client.post(path, data={"login_csrf": _csrf(client, path)}, follow_redirects=False)
        assert used.status_code == 303
        assert client.get("/", follow_redirects=False).headers["location"] == "/mes-formations"
        assert client.get("/mes-formations").status_code == 200
        again = client.post(path, data={"login_csrf": _csrf(client, path)})
        assert again.status_code == 410 and "déjà servi" in again.text
        broken = client.get("/connexion/lien/ceci-n-est-pas-un-lien")
        assert broken.status_code == 400


def test_requests_are_limited_per_address(world: World, api_container: Container) -> None:
    world.formation()
    address = _email_of(api_container, world.team.stagiaires[1])
    # A client address of its own: the per-client limit counts every test's requests.
    own = (f"10.13.{world.academie_id % 250}.{len(world.slug)}", 50000)
    with TestClient(create_app(api_container), client=own) as client:
        token = _csrf(client, "/connexion/lien")
        statuses = []
        for _ in range(6):
            answer = client.post("/connexion/lien", data={"email": address, "login_csrf": token})
            statuses.append(answer.status_code)
            token = _token_in(answer.text)
    assert statuses == [200] * 5 + [429]
    assert len(_links_sent(api_container, world.team.stagiaires[1])) == 5


def test_no_email_link_when_agents_sign_in_through_oidc(api_container: Container) -> None:
    container = Container(
        api_container.settings,
        ApiSettings(
            env="production",
            data_dir=api_container.api_settings.data_dir,
            base_url="http://testserver",
            oidc_issuer="https://idp.example.org",
            oidc_client_id="formaflow",
        ),
    )
    container.__dict__["engine"] = api_container.engine
    with TestClient(create_app(container)) as client:
        assert client.get("/connexion/lien").status_code == 404
        assert "Recevoir un lien de connexion" not in client.get("/connexion").text
