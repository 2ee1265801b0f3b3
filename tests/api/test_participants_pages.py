"""The stagiaires' pages without a browser: the import's dry run then its confirmation, a
refused file, a withdrawal, a justified correction, attestations sent, a purge refused
before its time. Every refusal is a French message on the page, never a 500, and a refused
form writes nothing."""

from __future__ import annotations

import re
from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import select

from api.wiring import Container
from tests.conftest import World
from tests.support.api import page_session
from tests.support.participants import as_csv, schools, trainees
from tests.support.pdf import page_image, pdf_pages, pdf_text
from workflow.dossiers.dates import EARLY_CONFIRMED
from workflow.engine.service import FireCommand
from workflow.participants.roster import roster, slots
from workflow.store.tables import correction_table
from workflow.store.types import utcnow


def _active(container: Container, dossier: int) -> int:
    with container.engine.connect() as conn:
        return len(roster(conn, dossier, active_only=True))


def test_the_import_reads_then_imports_what_it_showed(
    world: World, client: TestClient, api_container: Container
) -> None:
    dossier = world.formation()
    places = schools(api_container, world)
    csrf = page_session(client, api_container, world.team.formateurs[0])
    path = f"/dossiers/{dossier}/stagiaires"
    assert client.get(path).status_code == 200
    empty = client.post(f"{path}/import", data={"csrf_token": csrf}, files={"file": ("", b"")})
    assert empty.status_code == 422 and "Choisissez le fichier" in empty.text
    odd = client.post(
        f"{path}/import", data={"csrf_token": csrf}, files={"file": ("liste.ods", b"xyz")}
    )
    assert odd.status_code == 422 and "Seuls les fichiers CSV et XLSX" in odd.text
    rows = trainees(world, 4, places)
    bad = client.post(
        f"{path}/import",
        data={"csrf_token": csrf},
        files={
            "file": ("liste.csv", as_csv([*rows, ["X", "Y", "y@example.org", "Nulle part", ""]]))
        },
    )
    assert bad.status_code == 422
    assert "Rien ne sera importé" in bad.text and "Ligne 6 (Y X)" in bad.text
    assert 'name="donnees"' not in bad.text
    before = _active(api_container, dossier)
    good = client.post(
        f"{path}/import", data={"csrf_token": csrf}, files={"file": ("liste.csv", as_csv(rows))}
    )
    assert good.status_code == 200 and "Le fichier peut être importé" in good.text
    signed = re.search(r'name="donnees" value="([^"]+)"', good.text)
    assert signed is not None and _active(api_container, dossier) == before
    tampered = client.post(
        f"{path}/import/confirmer",
        data={"csrf_token": csrf, "donnees": signed.group(1)[:-2] + "xx"},
    )
    assert tampered.status_code == 422 and "plus valable" in tampered.text
    assert _active(api_container, dossier) == before
    done = client.post(
        f"{path}/import/confirmer",
        data={"csrf_token": csrf, "donnees": signed.group(1)},
        follow_redirects=False,
    )
    assert done.status_code == 303 and _active(api_container, dossier) == before + 4
    # The same confirmation again finds them enrolled: nothing twice.
    again = client.post(
        f"{path}/import/confirmer", data={"csrf_token": csrf, "donnees": signed.group(1)}
    )
    assert again.status_code == 200 and _active(api_container, dossier) == before + 4
    # The team page counts them (they are participants, not team members).
    team = client.get(f"/dossiers/{dossier}/equipe")
    assert f"Stagiaires inscrits : {before + 4}" in team.text


def test_one_by_one_withdrawal_and_french_refusals(
    world: World, client: TestClient, api_container: Container
) -> None:
    dossier = world.formation()
    places = schools(api_container, world)
    csrf = page_session(client, api_container, world.team.pilote)
    path = f"/dossiers/{dossier}/stagiaires"
    refused = client.post(path, data={"csrf_token": csrf, "courriel": "pas une adresse"})
    assert refused.status_code == 422
    for message in (
        "Nom : champ obligatoire",
        "Prénom : champ obligatoire",
        "adresse électronique invalide",
    ):
        assert message in refused.text
    before = _active(api_container, dossier)
    added = client.post(
        path,
        data={
            "csrf_token": csrf,
            "nom": "Durand",
            "prenom": "Aya",
            "courriel": "aya.durand@example.org",
            "etablissement": str(places.lycee.id),
            "discipline": "Anglais",
        },
        follow_redirects=False,
    )
    assert added.status_code == 303 and _active(api_container, dossier) == before + 1
    twice = client.post(
        path,
        data={
            "csrf_token": csrf,
            "nom": "D",
            "prenom": "A",
            "courriel": "aya.durand@example.org",
            "etablissement": str(places.lycee.id),
        },
    )
    assert twice.status_code == 422 and "déjà inscrit" in twice.text
    with api_container.engine.connect() as conn:
        aya = next(p for p in roster(conn, dossier) if p.email == "aya.durand@example.org")
    confirm = client.get(f"{path}/{aya.enrolment_id}/desinscrire")
    assert confirm.status_code == 200 and "Aya Durand" in confirm.text
    gone = client.post(
        f"{path}/{aya.enrolment_id}/desinscrire",
        data={"csrf_token": csrf, "motif": "Congé"},
        follow_redirects=False,
    )
    assert gone.status_code == 303 and _active(api_container, dossier) == before
    assert client.get(f"{path}/{aya.enrolment_id}/desinscrire").status_code == 404
    listed = client.get(path).text
    assert "Désinscrit·e le" in listed and "Congé" in listed
    purge = client.post(f"{path}/purger", data={"csrf_token": csrf, "confirme": "oui"})
    assert purge.status_code == 403  # a pilote does not purge; the EAFC does, when due


def test_a_correction_needs_its_justification(
    world: World, client: TestClient, api_container: Container
) -> None:
    dossier = world.formation()
    team = world.team
    world.builder.add_sessions(dossier, team, utcnow() - timedelta(days=2))
    world.builder.drive(dossier, team, "en_cours")
    csrf = page_session(client, api_container, team.formateurs[0])
    with api_container.engine.connect() as conn:
        session = slots(conn, dossier)[0]
        people = roster(conn, dossier, active_only=True)
    form = {"csrf_token": csrf, **{f"statut-{p.enrolment_id}": "present" for p in people}}
    saved = client.post(
        f"/dossiers/{dossier}/presences/sessions/{session.id}", data=form, follow_redirects=False
    )
    assert saved.status_code == 303
    # The émargement sheet of that session, as a PDF read back with pdftotext.
    sheet = client.get(f"/dossiers/{dossier}/emargement/sessions/{session.id}/pdf")
    assert sheet.status_code == 200 and sheet.headers["content-type"] == "application/pdf"
    text = pdf_text(sheet.content)
    assert people[0].full_name in text and "Présent" in text
    page_image(sheet.content, "document-emargement-session")
    wrong = client.post(
        f"/dossiers/{dossier}/presences/sessions/{session.id}",
        data={"csrf_token": csrf, f"statut-{people[0].enrolment_id}": "en retard"},
    )
    assert wrong.status_code == 422 and "statut de présence inconnu" in wrong.text
    early = client.post(
        f"/dossiers/{dossier}/effectifs",
        data={"csrf_token": csrf, "figure": "effectifs", "valeur": "1", "justification": "Départs"},
    )
    assert early.status_code == 422 and "dans l&#39;état actuel du dossier" in early.text
    api_container.service.fire(
        FireCommand(dossier, "terminer", team.formateurs[0], payload={EARLY_CONFIRMED: True})
    )
    missing = client.post(
        f"/dossiers/{dossier}/effectifs",
        data={"csrf_token": csrf, "figure": "effectifs", "valeur": "1", "justification": " "},
    )
    assert missing.status_code == 422 and "justification obligatoire" in missing.text
    done = client.post(
        f"/dossiers/{dossier}/effectifs",
        data={
            "csrf_token": csrf,
            "figure": "effectifs",
            "valeur": "1",
            "justification": "Un seul a tout suivi",
        },
        follow_redirects=False,
    )
    assert done.status_code == 303
    bilan = client.get(f"/dossiers/{dossier}/bilan").text
    assert "Un seul a tout suivi" in bilan and "(corrigé)" in bilan
    with api_container.engine.connect() as conn:
        recorded = conn.execute(
            select(correction_table.c.value, correction_table.c.computed).where(
                correction_table.c.dossier_id == dossier
            )
        ).all()
    assert [(r.value, r.computed) for r in recorded] == [(1, 2)]
    sent = client.post(
        f"/dossiers/{dossier}/stagiaires/attestations/envoyer",
        data={"csrf_token": csrf},
        follow_redirects=False,
    )
    assert sent.status_code == 303
    printable = client.get(f"/dossiers/{dossier}/stagiaires/attestations")
    assert printable.status_code == 200 and printable.headers["content-type"] == "application/pdf"
    assert pdf_pages(printable.content) == 2  # one attestation per page
    read = " ".join(pdf_text(printable.content).split())
    assert "L'École académique de la formation continue atteste que" in read
    assert "Je soussigné" not in read and "pour Académie" not in read
    page_image(printable.content, "document-attestation")
