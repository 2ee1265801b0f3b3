"""« À traiter », everyone's home page, on the demo as ``make run`` shows it.

The demo académie (every state of both workflows, reached through the real service) is
loaded into a database of its own and served; each role signs in and lands on « À
traiter ». What it lists is checked against what that person is expected to do in the
demo, every page is photographed at 1280 and 390 px wide (``accueil-<role>-<width>.png``)
and checked by axe-core, and neither width scrolls sideways.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import update

from api.app import create_app
from api.settings import ApiSettings
from api.wiring import Container
from tests.support.browser import PASSWORD, check_page, sign_in
from tests.support.live_server import serving
from workflow.demo import DemoSummary, load_demo
from workflow.engine.rows import load
from workflow.store.academie_settings import PACKAGED
from workflow.store.settings import WorkflowSettings, get_settings
from workflow.store.tables import person_table

WIDTHS = (1280, 390)


@dataclass
class DemoSite:
    url: str
    summary: DemoSummary
    container: Container

    def email(self, login: str) -> str:
        return f"{login}@example.org"


@pytest.fixture(scope="module")
def demo_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoSite]:
    data = tmp_path_factory.mktemp("demo-site")
    academies = get_settings().academies_dir
    assert academies is not None
    if not (academies / "demo.toml").exists():
        (academies / "demo.toml").write_text((PACKAGED / "demo.toml").read_text("utf-8"), "utf-8")
    container = Container(
        WorkflowSettings(database_url=f"sqlite:///{data / 'demo.db'}", data_dir=data),
        ApiSettings(env="production", data_dir=data, base_url="http://testserver"),
    )
    from workflow.store.migrate import upgrade  # noqa: PLC0415 (test set-up only)

    upgrade(container.engine)
    summary = load_demo(container.engine, Path(data), container.service)
    hashed = container.accounts.hasher.hash(PASSWORD)
    with container.engine.begin() as conn:
        conn.execute(update(person_table).values(password_hash=hashed))
    with serving(create_app(container)) as url:
        yield DemoSite(url, summary, container)
    container.close()


def _home(page: Page, site: DemoSite, login: str, name: str) -> None:
    sign_in(page, site.url, site.email(login))
    expect(page).to_have_url(re.compile(r"/a-traiter$"))
    expect(page.get_by_role("heading", name="À traiter", level=1)).to_be_visible()
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        check_page(page, f"accueil-{name}-{width}")
        scroll, inner = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
        assert scroll <= inner, f"« À traiter » de {login} défile de côté à {width} px"
    page.set_viewport_size({"width": 1280, "height": 900})


def _groups(page: Page) -> list[str]:
    return [
        re.sub(r"\s*\(\d+\)$", "", h)
        for h in page.locator("main section h2").all_inner_texts()
        if re.search(r"\(\d+\)$", h)
    ]


@pytest.mark.parametrize(
    ("login", "name", "groups"),
    [
        ("nadia.rousseau", "pilote", ["Scénarios à valider"]),
        ("lucie.fontaine", "conceptrice", ["Scénarios à rédiger ou à réviser"]),
        ("claire.dubois", "formatrice", ["Scénarios à rédiger ou à réviser"]),
        ("anne.lambert", "cheffe-etablissement", ["Bilans d'activités à rédiger ou à compléter"]),
        ("camille.morel", "gestionnaire", ["Bilans d'activités à examiner"]),
        ("helene.garnier", "responsable", ["Contrats et avenants à signer", "Paiements à décider"]),
    ],
)
def test_each_role_lands_on_what_waits_for_them(
    page: Page, demo_site: DemoSite, login: str, name: str, groups: list[str]
) -> None:
    _home(page, demo_site, login, name)
    found = _groups(page)
    for group in groups:
        assert group in found, (login, found)


def test_the_dashboard_says_whom_each_dossier_waits_on_and_sorts_by_it(
    page: Page, demo_site: DemoSite
) -> None:
    sign_in(page, demo_site.url, demo_site.email("camille.morel"))
    page.goto(f"{demo_site.url}/tableau-de-bord")
    table = page.get_by_role("table", name="Dossiers sans échéance dépassée")
    headers = table.locator("thead th").all_inner_texts()
    cleaned = [h.split("(")[0].strip(" ▲▼\n") for h in headers]
    first = cleaned.index("En attente de")  # after the selection box, when there is one
    assert cleaned[first : first + 3] == ["En attente de", "Depuis", "Échéance"]
    signing = demo_site.summary.dossiers["dossier_formation:contrat_a_signer"]
    row = table.locator("tr", has=page.locator(f'a[href="/dossiers/{signing}"]'))
    # The contract waits on its signatories who have not signed (the formateur and the
    # responsable), due seven days after it was issued.
    expect(row.locator("td").nth(3)).to_contain_text("Julien Petit (formateur)")
    expect(row.locator("td").nth(3)).to_contain_text("Hélène Garnier")
    page.get_by_role("link", name=re.compile(r"^Échéance")).first.click()
    expect(page).to_have_url(re.compile(r"tri=echeance"))
    table = page.get_by_role("table", name="Dossiers sans échéance dépassée")
    expect(table.locator("th[aria-sort=ascending]")).to_contain_text("Échéance")
    dues = [d for d in table.locator("tbody tr td:nth-child(6)").all_inner_texts()]
    dated = [d for d in dues if d != "—"]
    assert dated and dues[: len(dated)] == dated  # dated first, undated last
    check_page(page, "tableau-de-bord-echeance")
    page.get_by_role("link", name=re.compile(r"^En attente de")).first.click()
    expect(page).to_have_url(re.compile(r"tri=attente"))
    waiting = table.locator("tbody tr td:nth-child(4)").all_inner_texts()
    assert len(waiting) > 5


def test_the_formatrice_records_sessions_then_ends_the_training_on_confirmation(
    page: Page, demo_site: DemoSite
) -> None:
    """Last (it moves the demo on): the training under way has held its first session, the
    second is ahead. « Enregistrer les sessions » from « À traiter »; the session ahead
    cannot be marked held (nothing is saved); ending the training before its last session
    asks to confirm it, and the history says so."""
    dossier = demo_site.summary.dossiers["dossier_formation:en_cours"]
    sign_in(page, demo_site.url, demo_site.email("claire.dubois"))
    card = page.locator("main li", has=page.locator(f"text=/{_reference(demo_site, dossier)}/"))
    card.get_by_role("link", name=re.compile("^Enregistrer les sessions")).click()
    expect(page).to_have_url(re.compile(rf"/dossiers/{dossier}/sessions$"))
    rows = page.locator("main table tbody tr")
    expect(rows).to_have_count(2)
    # The session ahead: « tenue » is refused next to the box, in French.
    rows.nth(1).get_by_role("link", name=re.compile("^Modifier")).click()
    page.locator("label[for=tenue]").click()
    page.get_by_role("button", name="Enregistrer la session").click()
    expect(page.locator("#tenue-erreur")).to_contain_text(
        "Une session ne peut être marquée tenue qu'une fois commencée"
    )
    check_page(page, "sessions-tenue-refusee")
    # The session already begun was recorded as held (by the demo, as a person may).
    page.goto(f"{demo_site.url}/dossiers/{dossier}/sessions")
    expect(rows.nth(0)).to_contain_text("Tenue")
    expect(rows.nth(1)).to_contain_text("Prévue")
    # Ending before the last session: the box to tick says when it ends.
    box = page.get_by_label(re.compile("^La dernière session se termine le "))
    expect(box).to_be_visible()
    _look_both(page, "sessions-terminer-avant-la-date")
    page.get_by_role("button", name="Terminer la formation").click()
    expect(
        page.get_by_text("Il manque : votre confirmation de terminer la formation")
    ).to_be_visible()
    page.locator("label[for=avant-date]").click()
    page.get_by_role("button", name="Confirmer : Terminer la formation").click()
    expect(page.get_by_text("Action effectuée : Terminer la formation")).to_be_visible()
    page.goto(f"{demo_site.url}/dossiers/{dossier}")
    expect(
        page.get_by_text("Terminée avant la fin de la dernière session, sur confirmation.")
    ).to_be_visible()


def _reference(site: DemoSite, dossier: int) -> str:
    with site.container.engine.connect() as conn:
        return load(conn, dossier).reference


def _look_both(page: Page, name: str) -> None:
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        check_page(page, f"{name}-{width}")
    page.set_viewport_size({"width": 1280, "height": 900})
