"""« Décision de paiement » for an ``eafc_taux_a`` dossier without a browser: the decided
conception vacations and an adjustment of a bilan line in one decision. The adjustment
fields are numbered on the proposal before the decided figures add their lines, so the
page must find each adjusted line again, refuse by field, write nothing when refused, and
fire exactly the payload the barème then records."""

from __future__ import annotations

import re
from decimal import Decimal

from fastapi.testclient import TestClient
from sqlalchemy import select

from api.wiring import Container
from tests.conftest import World
from tests.support.api import page_session
from workflow.reads.queries import payment_decision
from workflow.store.tables import dossier_table


def _version(container: Container, dossier: int) -> int:
    with container.engine.connect() as conn:
        return int(
            conn.execute(
                select(dossier_table.c.version).where(dossier_table.c.id == dossier)
            ).scalar_one()
        )


def test_conception_and_an_adjusted_tutorat_line_in_one_decision(
    world: World, client: TestClient, api_container: Container
) -> None:
    team = world.team
    assert team.concepteur is not None and team.tuteur is not None
    dossier = world.formation("eafc_taux_a")
    world.builder.drive(dossier, team, "bilan_valide")  # the tutrice followed 5 trainees
    csrf = page_session(client, api_container, team.responsable)
    path = f"/dossiers/{dossier}/paiement"

    page = client.get(path)
    assert page.status_code == 200
    assert "Vacations de conception (entre 10 et 20)" in page.text
    assert "Vacations de mise à jour (entre 5 et 10)" in page.text
    assert "Entre 0 et 0,63 vacations ; proposé : 0,63" in page.text  # tutorat: 5 ÷ 8
    conception, update = f"conception-{team.concepteur}", f"mise-a-jour-{team.concepteur}"
    form = {"csrf_token": csrf, conception: "15", update: "", "unites-0": "0,5"}

    # Out of both ranges: one message per field, nothing written.
    before = _version(api_container, dossier)
    refused = client.post(
        path, data={**form, conception: "9", "unites-0": "1", "justification": "x"}
    )
    assert refused.status_code == 422
    assert "Le formulaire contient 2 erreurs" in refused.text
    assert f'id="{conception}-erreur">La conception d&#39;un parcours' in refused.text
    assert 'id="unites-0-erreur">L&#39;ajustement doit rester entre 0 et 0,63' in refused.text
    assert _version(api_container, dossier) == before

    checked = client.post(
        path, data={**form, "etape": "verifier", "justification": "Un stagiaire parti"}
    )
    assert checked.status_code == 200
    # 15 × 45 € + 0,5 × 45 € (the tutorat line adjusted from 0,63).
    assert re.search(r"Vérifiez la décision : 697,50\s€", checked.text)
    assert "15 vacations" in checked.text and "0,5 vacation<" in checked.text

    done = client.post(
        path,
        data={
            **form,
            "etape": "confirmer",
            "justification": "Un stagiaire parti",
            "version": str(before),
        },
        follow_redirects=False,
    )
    assert done.status_code == 303, done.text
    with api_container.engine.connect() as conn:
        decision = payment_decision(conn, dossier)
    assert decision is not None and decision.total == Decimal("697.50")
    assert decision.justification == "Un stagiaire parti"
    assert [(line.person_id, line.component, line.units) for line in decision.lines] == [
        (team.concepteur, "conception", Decimal(15)),
        (team.tuteur, "tutorat", Decimal("0.5")),
    ]
