"""The DSFR frame of every page: the institution under the Marianne, the footer's mandatory
links, the legal pages they lead to (readable signed in or not), skip links that point to
anchors of the page itself, and a cookie page that names exactly the cookies formaflow
sets. Runs on SQLite and PostgreSQL like the rest of the suite."""

from __future__ import annotations

import re
from http.cookies import SimpleCookie

from fastapi.testclient import TestClient

from api.wiring import Container
from tests.conftest import World
from tests.support.api import PAGE_PASSWORD, page_session
from workflow.admin.service import Administration
from workflow.store.tables import person_table

FOOTER_SITES = ["info.gouv.fr", "service-public.gouv.fr", "legifrance.gouv.fr", "data.gouv.fr"]
FOOTER_PAGES = {
    "/accessibilite": "Accessibilité : partiellement conforme",
    "/mentions-legales": "Mentions légales",
    "/donnees-personnelles": "Données personnelles",
    "/gestion-des-cookies": "Gestion des cookies",
}
LOGO = re.compile(r'<p class="fr-logo">(.*?)</p>', re.S)


def _anchors_resolve(html: str) -> None:
    """Each skip link's target is an id of the same page."""
    block = html[html.index('class="fr-skiplinks"') : html.index("</nav>")]
    targets = re.findall(r'href="#([^"]+)"', block)
    assert targets, "no skip link"
    for target in targets:
        assert f'id="{target}"' in html, f"skip link to #{target}, absent from the page"


def _footer_complete(html: str) -> None:
    footer = html[html.index('<footer class="fr-footer"') :]
    for site in FOOTER_SITES:
        assert f'href="https://{site}"' in footer, site
    for href, label in FOOTER_PAGES.items():
        assert f'href="{href}">{label}</a>' in footer, href


def test_anonymous_pages_have_the_dsfr_frame(client: TestClient) -> None:
    for path in ["/connexion", *FOOTER_PAGES]:
        page = client.get(path)
        assert page.status_code == 200, path
        _footer_complete(page.text)
        _anchors_resolve(page.text)
        # No menu for someone signed out, so no « Menu » skip link to a missing anchor.
        assert "#navigation-principale" not in page.text, path
        assert [m.strip() for m in LOGO.findall(page.text)] == ["République<br>Française"] * 2


def test_the_institution_of_the_persons_academie_is_under_the_marianne(
    client: TestClient, api_container: Container, world: World
) -> None:
    # The académie's setting, as its administrateur changes it (in the database, no restart).
    Administration(api_container.engine).change_settings(
        world.slug, {"institution": "Région académique Nord-Test"}, actor_id=None
    )
    dossier = world.formation()

    # Staff of the académie, and a formatrice who holds a role on one of its dossiers only.
    for person in (world.team.gestionnaire, world.team.formateurs[0]):
        page_session(client, api_container, person)
        public = ("/mentions-legales", "/donnees-personnelles", "/accessibilite")
        for path in ("/mes-taches", f"/dossiers/{dossier}", *public):
            page = client.get(path)
            assert page.status_code == 200, path
            logos = [m.strip() for m in LOGO.findall(page.text)]
            assert logos == ["Région<br>académique Nord-Test"] * 2, (path, logos)
            _footer_complete(page.text)
            _anchors_resolve(page.text)
            assert 'id="navigation-principale"' in page.text
        client.post("/api/v1/auth/logout")
        client.cookies.clear()

    # Someone with no académie and no dossier: the DSFR's default.
    page_session(client, api_container, world.outsider)
    page = client.get("/mes-taches")
    assert [m.strip() for m in LOGO.findall(page.text)] == ["République<br>Française"] * 2


def _set_cookies(response: object) -> set[str]:
    headers = response.headers.get_list("set-cookie")  # type: ignore[attr-defined]
    names: set[str] = set()
    for header in headers:
        cookie: SimpleCookie = SimpleCookie()
        cookie.load(header)
        names |= set(cookie)
    return names


def test_the_cookie_page_names_exactly_the_cookies_set(
    client: TestClient, api_container: Container, world: World
) -> None:
    api_container.accounts.set_password(world.team.formateurs[0], PAGE_PASSWORD)
    with api_container.engine.connect() as conn:
        email = conn.execute(
            person_table.select()
            .with_only_columns(person_table.c.email)
            .where(person_table.c.id == world.team.formateurs[0])
        ).scalar_one()
    seen: set[str] = set()
    form = client.get("/connexion")
    seen |= _set_cookies(form)
    token = re.search(r'name="login_csrf" value="([^"]+)"', form.text)
    assert token is not None
    signed_in = client.post(
        "/connexion",
        data={"email": email, "password": PAGE_PASSWORD, "login_csrf": token[1]},
        follow_redirects=False,
    )
    assert signed_in.status_code == 303
    seen |= _set_cookies(signed_in)
    logout_form = client.get("/deconnexion")
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', logout_form.text)
    assert csrf is not None
    out = client.post("/deconnexion", data={"csrf_token": csrf[1]}, follow_redirects=False)
    seen |= _set_cookies(out)
    assert len(seen) == 3, seen  # session, the sign-in form's CSRF, the flash message

    page = client.get("/gestion-des-cookies")
    assert page.status_code == 200
    listed = set(re.findall(r"<td[^>]*><code>([^<]+)</code></td>", page.text))
    assert listed == seen
    assert "article 82 de la loi n° 78-17 du 6 janvier 1978" in page.text.lower()
    assert "aucun bandeau" in page.text
