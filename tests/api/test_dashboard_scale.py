"""The dashboard as an académie grows: past ``PILOTE_CHOICES`` pilotes, the pilote filter
asks for an address instead of listing them all (and the export follows it); archived
dossiers leave the API's list too, where ``archives=true`` shows them."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta

from sqlalchemy import event, select, update

from api.pages.dashboard import PILOTE_CHOICES
from tests.conftest import World
from tests.support.api import Api
from workflow.store.tables import dossier_table, person_table
from workflow.store.types import utcnow


def _references(html: str) -> list[str]:
    return re.findall(r'<a (?:class="[^"]*" )?href="/dossiers/\d+">([^<]+)</a>', html)


def test_many_pilotes_turn_the_filter_into_an_address_field(api: Api, world: World) -> None:
    editor = world.builder.editor
    crowded = world.formation()
    for n in range(PILOTE_CHOICES):
        editor.assign(world.person(f"pilote-{n}"), "pilote", dossier_id=crowded)
    mine = world.builder.formation(world.academie_id, world.team, title="Le dossier de Paul")
    paul = world.person("paul")
    editor.assign(paul, "pilote", dossier_id=mine)
    with api.container.engine.connect() as conn:
        email = conn.execute(
            select(person_table.c.email).where(person_table.c.id == paul)
        ).scalar_one()
        reference = conn.execute(
            select(dossier_table.c.reference).where(dossier_table.c.id == mine)
        ).scalar_one()
    gestionnaire = world.team.gestionnaire

    page = api.get("/tableau-de-bord", gestionnaire)
    assert page.status_code == 200
    assert '<select class="fr-select" id="filtre-pilote"' not in page.text
    assert re.search(
        r'<input class="fr-input" id="filtre-pilote" name="pilote" type="email"', page.text
    )

    narrowed = api.get("/tableau-de-bord", gestionnaire, params={"pilote": email.upper()})
    assert _references(narrowed.text) == [reference]
    exported = api.get(
        "/tableau-de-bord/export", gestionnaire, params={"pilote": email, "format": "csv"}
    )
    rows = list(csv.reader(io.StringIO(exported.content.decode("utf-8-sig")), delimiter=";"))
    assert [r[0] for r in rows[1:]] == [reference]

    unknown = api.get("/tableau-de-bord", gestionnaire, params={"pilote": "personne@nulle.part"})
    assert unknown.status_code == 200
    assert "Aucune personne n&#39;a l&#39;adresse personne@nulle.part." in unknown.text
    assert _references(unknown.text) == []


def test_few_pilotes_keep_the_list(api: Api, world: World) -> None:
    world.formation()
    page = api.get("/tableau-de-bord", world.team.gestionnaire)
    assert '<select class="fr-select" id="filtre-pilote" name="pilote"' in page.text


def test_the_api_list_leaves_archived_dossiers_out_unless_asked(api: Api, world: World) -> None:
    old = world.formation()
    world.builder.drive(old, world.team, "annule")
    kept = world.formation()
    with api.container.engine.begin() as conn:
        conn.execute(
            update(dossier_table)
            .where(dossier_table.c.id == old)
            .values(archived_at=utcnow(), state_entered_at=utcnow() - timedelta(days=800))
        )
    person = world.team.gestionnaire
    default = api.get("/api/v1/dossiers", person).json()["items"]
    archived = api.get("/api/v1/dossiers", person, params={"archives": "true"}).json()["items"]
    assert [d["id"] for d in default] == [kept]
    assert [d["id"] for d in archived] == [old]
    one = api.get(f"/api/v1/dossiers/{old}", person).json()
    assert one["archived_at"] is not None
    assert api.get(f"/api/v1/dossiers/{kept}", person).json()["archived_at"] is None
    outsider = api.get("/api/v1/dossiers", world.outsider, params={"archives": "true"})
    assert outsider.json()["items"] == []


def test_every_sort_lists_every_dossier_and_reads_the_delays_once(api: Api, world: World) -> None:
    """A validated scenario without a session yet has no due date: it is not late, and the
    page lists it with the others (it stood in neither list). Whatever the sort, the page
    reads the académies' deadline delays once, for its counts, lists and due dates."""
    validated = world.formation()
    world.builder.drive(validated, world.team, "scenario_valide")
    signing = world.formation()
    world.builder.drive(signing, world.team, "contrat_a_signer")
    with api.container.engine.connect() as conn:
        references = dict(
            conn.execute(
                select(dossier_table.c.id, dossier_table.c.reference).where(
                    dossier_table.c.id.in_([validated, signing])
                )
            ).all()
        )
    statements: list[str] = []

    def record(*args: object) -> None:
        statements.append(str(args[2]))

    engine = api.container.engine
    for tri in ("", "echeance", "-echeance", "attente", "-attente", "depuis"):
        statements.clear()
        event.listen(engine, "before_cursor_execute", record)
        try:
            page = api.get("/tableau-de-bord", world.team.gestionnaire, params={"tri": tri})
        finally:
            event.remove(engine, "before_cursor_execute", record)
        assert page.status_code == 200
        assert sorted(_references(page.text)) == sorted(references.values()), tri
        delays = [s for s in statements if "FROM academie_setting" in s and " LIKE " in s]
        assert len(delays) == 1, tri
