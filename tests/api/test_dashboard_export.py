"""The « Tableau de bord » export over HTTP: the file holds exactly the dossiers the page
lists for the same filters (late ones first), never another académie's, and opens as a
French spreadsheet would expect (CSV: BOM and « ; »; XLSX: typed hours and dates).

The page is read as HTML by the same client with the same filters, so the comparison is
between what a person sees and what they download, not between two copies of one query.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import re
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from openpyxl import load_workbook
from sqlalchemy import select, update

from states import get_spec
from tests.conftest import World
from tests.support.api import Api
from workflow.dossiers.inputs import DossierInput
from workflow.language.french import PARIS
from workflow.store.tables import academie_table, dossier_table

HEADERS = [
    "Référence",
    "Titre",
    "Académie",
    "Circuit",
    "Dispositif",
    "État",
    "Phase",
    "Pilote",
    "Heures prévues",
    "dont présentiel (h)",
    "dont à distance (h)",
    "Participants prévus",
    "Début prévu",
    "Fin prévue",
    "Dans cet état depuis le",
    "Mis à jour le",
    "Échéance dépassée",
    "Échéances dépassées (détail)",
    "Identifiant PAF",
    "En attente de",
    "Échéance",
]
COLUMN = {name: i for i, name in enumerate(HEADERS)}
SECTIONS = re.compile(r'<section aria-labelledby="titre-(?:retard|dossiers)".*?</section>', re.S)
LINK = re.compile(r'<a (?:class="[^"]*" )?href="/dossiers/\d+">([^<]+)</a>')


@dataclass
class Scene:
    world: World
    second_slug: str
    second_name: str
    pilote2: int
    refs: dict[str, str]
    """Reference of each dossier by its short name in the scene."""
    late: set[str]


def _reference(api: Api, dossier_id: int) -> str:
    with api.container.engine.connect() as conn:
        return str(
            conn.execute(
                select(dossier_table.c.reference).where(dossier_table.c.id == dossier_id)
            ).scalar_one()
        )


def _academie_name(api: Api, academie_id: int) -> str:
    with api.container.engine.connect() as conn:
        return str(
            conn.execute(
                select(academie_table.c.name).where(academie_table.c.id == academie_id)
            ).scalar_one()
        )


def _backdate(api: Api, dossier_id: int, days: int) -> None:
    """Make the dossier's stay in its state older, as if the days had passed."""
    at = datetime.now(UTC) - timedelta(days=days)
    with api.container.engine.begin() as conn:
        conn.execute(
            update(dossier_table)
            .where(dossier_table.c.id == dossier_id)
            .values(state_entered_at=at, updated_at=at)
        )


@pytest.fixture
def scene(world: World, api: Api) -> Scene:
    """The world's gestionnaire is also gestionnaire of a second académie; a third académie
    (where they hold no role) has a dossier of the same team that they must never see."""
    editor = world.builder.editor
    tag = uuid.uuid4().hex[:6]
    second_slug, second_name = f"seconde-{tag}", f"Seconde académie {tag}"
    second = editor.create_academie(second_slug, second_name, f"S{tag}")
    third = editor.create_academie(f"tierce-{tag}", f"Tierce académie {tag}", f"R{tag}")
    editor.assign(world.team.gestionnaire, "gestionnaire", academie_id=second)
    editor.assign(world.team.responsable, "responsable", academie_id=second)  # signs contracts
    pilote2 = world.person("pilote-bis")
    team2 = dataclasses.replace(world.team, pilote=pilote2)
    b = world.builder
    ids = {
        "a_brouillon": b.formation(world.academie_id, world.team, title="Alpha brouillon"),
        "a_soumis": b.formation(
            world.academie_id,
            world.team,
            title="Alpha soumis",
            dispositif="eafc_taux_a",
            hours_distance=Decimal("7.5"),
            start=date(2027, 3, 15),
        ),
        "b_brouillon": b.formation(
            second, team2, title="Bêta brouillon", dispositif="hse_convention_ent"
        ),
        "b_soumis": b.formation(second, world.team, title="Bêta soumis"),
        "c_brouillon": b.formation(third, world.team, title="Gamma brouillon"),
    }
    for name in ("a_soumis", "b_soumis"):
        b.drive(ids[name], world.team, "scenario_soumis")
    _backdate(api, ids["a_soumis"], 10)  # the pilote's 7-day reminder point has passed
    refs = {name: _reference(api, dossier_id) for name, dossier_id in ids.items()}
    return Scene(world, second_slug, second_name, pilote2, refs, {refs["a_soumis"]})


def _page_refs(api: Api, person: int, params: dict[str, str]) -> list[str]:
    response = api.get("/tableau-de-bord", person, params=params)
    assert response.status_code == 200, response.text
    return [ref for section in SECTIONS.findall(response.text) for ref in LINK.findall(section)]


def _xlsx_rows(api: Api, person: int, params: dict[str, str]) -> list[list[object]]:
    response = api.get("/tableau-de-bord/export", person, params={**params, "format": "xlsx"})
    assert response.status_code == 200, response.text
    sheet = load_workbook(io.BytesIO(response.content)).active
    assert sheet is not None
    rows = [list(row) for row in sheet.iter_rows(values_only=True)]
    assert rows[0] == HEADERS
    return rows[1:]


def _csv_rows(api: Api, person: int, params: dict[str, str]) -> list[list[str]]:
    response = api.get("/tableau-de-bord/export", person, params={**params, "format": "csv"})
    assert response.status_code == 200, response.text
    assert response.content.startswith(b"\xef\xbb\xbf")  # UTF-8 BOM: Excel reads UTF-8
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig")), delimiter=";"))
    assert rows[0] == HEADERS
    return rows[1:]


def test_the_export_holds_what_the_page_lists_for_each_filter(api: Api, scene: Scene) -> None:
    world, refs = scene.world, scene.refs
    phase = get_spec("dossier_formation").state("scenario_soumis").phase
    gestionnaire = world.team.gestionnaire
    cases: list[tuple[dict[str, str], list[str]]] = [
        # Late first, then the others, most recently updated first.
        ({}, [refs["a_soumis"], refs["b_soumis"], refs["b_brouillon"], refs["a_brouillon"]]),
        ({"academie": world.slug}, [refs["a_soumis"], refs["a_brouillon"]]),
        ({"academie": scene.second_slug}, [refs["b_soumis"], refs["b_brouillon"]]),
        ({"academie": world.slug, "etat": "scenario_soumis"}, [refs["a_soumis"]]),
        ({"academie": scene.second_slug, "etat": "scenario_soumis"}, [refs["b_soumis"]]),
        ({"phase": phase}, [refs["a_soumis"], refs["b_soumis"]]),
        ({"dispositif": "hse_convention_ent"}, [refs["b_brouillon"]]),
        ({"pilote": str(scene.pilote2)}, [refs["b_brouillon"]]),
        ({"q": "ALPHA"}, [refs["a_soumis"], refs["a_brouillon"]]),
        ({"q": refs["b_soumis"].lower()}, [refs["b_soumis"]]),
        ({"academie": world.slug, "dispositif": "hse_convention_ent"}, []),
    ]
    for params, expected in cases:
        shown = _page_refs(api, gestionnaire, params)
        assert shown == expected, params
        assert [r[0] for r in _xlsx_rows(api, gestionnaire, params)] == shown, params
        assert [r[0] for r in _csv_rows(api, gestionnaire, params)] == shown, params


def test_another_academies_dossiers_never_appear(api: Api, scene: Scene) -> None:
    world, refs = scene.world, scene.refs
    gamma = refs["c_brouillon"]
    gestionnaire = world.team.gestionnaire
    third_slug = "tierce-" + scene.second_slug.removeprefix("seconde-")
    for params in ({}, {"academie": third_slug}, {"q": gamma}, {"q": "Gamma"}):
        assert gamma not in _page_refs(api, gestionnaire, params)
        assert gamma not in [r[0] for r in _xlsx_rows(api, gestionnaire, params)]
        assert gamma not in [r[0] for r in _csv_rows(api, gestionnaire, params)]
    # Naming an académie one does not manage narrows to nothing; it never widens.
    assert _xlsx_rows(api, gestionnaire, {"academie": third_slug}) == []
    # The gestionnaire of an académie without dossiers downloads an empty sheet.
    assert _xlsx_rows(api, world.other_academie_gestionnaire, {}) == []
    assert _csv_rows(api, world.other_academie_gestionnaire, {"academie": world.slug}) == []
    # The pilote of the third académie's dossier does see it: it is theirs.
    assert gamma in [r[0] for r in _csv_rows(api, world.team.pilote, {})]


def test_the_xlsx_has_french_headers_and_typed_values(api: Api, scene: Scene) -> None:
    world, refs = scene.world, scene.refs
    response = api.get(
        "/tableau-de-bord/export", world.team.gestionnaire, params={"academie": world.slug}
    )
    assert response.headers["content-type"].startswith(
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    today = datetime.now(PARIS).date().isoformat()
    assert f'filename="tableau-de-bord-{today}.xlsx"' in response.headers["content-disposition"]
    assert response.headers["cache-control"] == "no-store"
    book = load_workbook(io.BytesIO(response.content))
    sheet = book.active
    assert sheet is not None and sheet.title == "Tableau de bord"
    assert all(cell.font.bold for cell in sheet[1])
    assert sheet.freeze_panes == "A2"
    assert sheet.column_dimensions["B"].width == 40
    rows = {row[0]: row for row in sheet.iter_rows(min_row=2, values_only=True)}
    late, draft = rows[refs["a_soumis"]], rows[refs["a_brouillon"]]
    assert late[COLUMN["Titre"]] == "Alpha soumis"
    assert late[COLUMN["Académie"]] == _academie_name(api, world.academie_id)
    assert late[COLUMN["Circuit"]] == "Dossier de formation hybride"
    assert late[COLUMN["État"]] == "Scénario soumis au pilote"
    assert late[COLUMN["Phase"]] == "Conception"
    assert late[COLUMN["Dispositif"]] == "Parcours EAFC rémunéré au taux A"
    assert Decimal(str(late[COLUMN["Heures prévues"]])) == Decimal("13.5")
    assert Decimal(str(late[COLUMN["dont présentiel (h)"]])) == Decimal("6")
    assert Decimal(str(late[COLUMN["dont à distance (h)"]])) == Decimal("7.5")
    assert late[COLUMN["Participants prévus"]] == 20
    start = late[COLUMN["Début prévu"]]
    assert isinstance(start, datetime) and start.date() == date(2027, 3, 15)
    end = late[COLUMN["Fin prévue"]]
    assert isinstance(end, datetime) and end.date() == date(2027, 4, 26)
    assert late[COLUMN["Échéance dépassée"]] == "Oui"
    detail = late[COLUMN["Échéances dépassées (détail)"]]
    assert isinstance(detail, str) and detail.startswith("Rappel au pilote")
    assert draft[COLUMN["Échéance dépassée"]] == "Non"
    assert draft[COLUMN["Échéances dépassées (détail)"]] is None
    assert Decimal(str(draft[COLUMN["Heures prévues"]])) == Decimal("19")
    assert "Pilote" in str(draft[COLUMN["Pilote"]])
    # Dates are typed cells shown the French way.
    body = list(sheet.iter_rows(min_row=2))
    assert body[0][COLUMN["Début prévu"]].number_format == "DD/MM/YYYY"
    assert body[0][COLUMN["Mis à jour le"]].number_format == "DD/MM/YYYY HH:MM"


def test_the_csv_is_french(api: Api, scene: Scene) -> None:
    world, refs = scene.world, scene.refs
    response = api.get(
        "/tableau-de-bord/export",
        world.team.gestionnaire,
        params={"academie": world.slug, "format": "csv"},
    )
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert ".csv" in response.headers["content-disposition"]
    rows = {
        r[0]: r
        for r in csv.reader(io.StringIO(response.content.decode("utf-8-sig")), delimiter=";")
    }
    late = rows[refs["a_soumis"]]
    assert late[COLUMN["Heures prévues"]] == "13,50"
    assert late[COLUMN["Début prévu"]] == "15/03/2027"
    assert late[COLUMN["Échéance dépassée"]] == "Oui"
    with api.container.engine.connect() as conn:
        entered, updated = conn.execute(
            select(dossier_table.c.state_entered_at, dossier_table.c.updated_at).where(
                dossier_table.c.reference == refs["a_soumis"]
            )
        ).one()
    assert late[COLUMN["Dans cet état depuis le"]] == entered.astimezone(PARIS).strftime("%d/%m/%Y")
    assert late[COLUMN["Mis à jour le"]] == updated.astimezone(PARIS).strftime("%d/%m/%Y %H:%M")
    assert rows[refs["a_brouillon"]][COLUMN["Échéance dépassée"]] == "Non"


def test_the_export_holds_every_row_past_the_first_page(api: Api, world: World) -> None:
    editor = world.builder.editor
    for n in range(53):
        editor.create_dossier(
            DossierInput(
                title=f"Lot {n:02d}", academie_id=world.academie_id, dispositif="eafc_taux_a"
            )
        )
    gestionnaire = world.team.gestionnaire
    page = api.get("/tableau-de-bord", gestionnaire, params={"q": "Lot "})
    assert "Seuls les 50 premiers sont affichés" in page.text
    shown = _page_refs(api, gestionnaire, {"q": "Lot "})
    exported = [r[0] for r in _xlsx_rows(api, gestionnaire, {"q": "Lot "})]
    assert len(shown) == 50 and len(exported) == 53
    assert exported[:50] == shown


def test_the_page_keeps_the_filters_and_links_the_exports(api: Api, scene: Scene) -> None:
    world = scene.world
    params = {"academie": scene.second_slug, "etat": "scenario_soumis", "q": "Bêta"}
    html = api.get("/tableau-de-bord", world.team.gestionnaire, params=params).text
    # Only the gestionnaire's own académies are offered, theirs selected.
    options = re.search(r'<select class="fr-select" id="filtre-academie".*?</select>', html, re.S)
    assert options is not None
    assert f'<option value="{scene.second_slug}" selected>{scene.second_name}</option>' in (
        options.group(0)
    )
    assert f'value="{world.slug}"' in options.group(0)
    assert "tierce-" not in options.group(0) and "autre-" not in options.group(0)
    assert 'value="Bêta"' in html
    xlsx = re.search(r'href="(/tableau-de-bord/export\?[^"]*format=xlsx)"', html)
    assert xlsx is not None
    link = xlsx.group(1).replace("&amp;", "&")
    assert f"academie={scene.second_slug}" in link and "etat=scenario_soumis" in link
    assert "q=B%C3%AAta" in link
    assert "format=csv" in html
    # Someone without an académie role has no académie filter.
    assert 'id="filtre-academie"' not in api.get("/tableau-de-bord", world.team.pilote).text
    empty = api.get("/tableau-de-bord", world.team.gestionnaire, params={"q": "rien de tel"})
    assert "Aucun dossier ne correspond à ces filtres." in empty.text
    assert "Exporter (XLSX)" not in empty.text


def test_the_export_needs_a_session(api: Api) -> None:
    response = api.client.get("/tableau-de-bord/export?format=csv", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/connexion?suivant=")
