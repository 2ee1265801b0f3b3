"""The official papers, end to end on a real database: each dispositif's document rendered to
PDF and read back with ``pdftotext``; the PDF sealed when the last signature is given, checked
by pyHanko's own validator (and refused after one byte changed); avenants after a signature;
payment refused until the current version is signed; the chef's HSE proposal."""

from __future__ import annotations

import hashlib
import re
import subprocess
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from email import message_from_string, policy
from email.message import EmailMessage
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from api.app import create_app
from api.documents.rendering import contract_pdf
from api.documents.sealing import check
from api.wiring import Container
from tests.conftest import World, make_world
from tests.support.api import Api, page_session
from tests.support.pdf import page_image
from workflow.demo import DemoBuilder
from workflow.documents.versions import versions
from workflow.dossiers.inputs import PlanningInput, SessionInput
from workflow.engine.errors import GuardFailed, NotPermitted
from workflow.engine.rows import load
from workflow.engine.service import FireCommand
from workflow.payments import journal
from workflow.reads.contract import contract_view
from workflow.store.tables import document_table, history_table, outbox_table, person_table


def pdftotext(pdf: bytes, tmp_path: Path) -> str:
    source = tmp_path / "document.pdf"
    source.write_bytes(pdf)
    out = subprocess.run(
        ["pdftotext", str(source), "-"], check=True, capture_output=True, text=True
    )
    return " ".join(out.stdout.split())


@pytest.fixture
def wired(api_container: Container, data_dir: Path) -> tuple[Container, DemoBuilder, World]:
    """The app's own service and editor (sealer subscribed, avenant hook wired)."""
    builder = DemoBuilder(api_container.engine, data_dir, api_container.service)
    builder.editor = api_container.editor
    return api_container, builder, make_world(builder)


def _prepare(container: Container, builder: DemoBuilder, world: World, dispositif: str) -> int:
    dossier_id = world.formation(dispositif)
    start = datetime.now(UTC).replace(microsecond=0) + timedelta(days=20)
    container.editor.update_planning(
        dossier_id, PlanningInput(etablissement="Collège Marie Curie de Démoville")
    )
    for n, (modality, public) in enumerate(
        (("presentiel", "Professeurs de collège"), ("classe_virtuelle", "Vie scolaire"))
    ):
        container.editor.add_session(
            dossier_id,
            SessionInput(
                starts_at=start + timedelta(days=7 * n),
                duration_minutes=120,
                modality=modality,
                planned_headcount=12,
                formateur_id=world.team.formateurs[0],
                public_type=public,
            ),
        )
    return dossier_id


def _names(container: Container, *ids: int) -> list[str]:
    with container.engine.connect() as conn:
        rows = conn.execute(
            select(person_table.c.id, person_table.c.full_name).where(person_table.c.id.in_(ids))
        ).all()
    by_id = {r.id: r.full_name for r in rows}
    return [by_id[i] for i in ids]


EXPECTED = {
    "vacation_accompagnement": (
        "Contrat d'accompagnement à distance",
        ["une vacation pour deux heures d'intervention", "limitée à huit vacations", "13 h"],
    ),
    "hse_convention_ent": (
        "Convention de formation",
        [
            "Collège Marie Curie de Démoville",
            "Type du public concerné",
            "Professeurs de collège",
            "18 HSE au maximum",
            "Cahier des charges du « formateur-accompagnateur »",
            "Signature du chef d'établissement",
        ],
    ),
    "eafc_taux_a": (
        "Lettre de mission",
        ["entre 10 et 20 vacations", "entre 5 et 10 vacations", "une vacation pour 8", "45,00"],
    ),
}


@pytest.mark.parametrize("dispositif", sorted(EXPECTED))
def test_each_dispositif_renders_signs_and_seals_its_document(
    dispositif: str, wired: tuple[Container, DemoBuilder, World], tmp_path: Path, data_dir: Path
) -> None:
    container, builder, world = wired
    dossier_id = _prepare(container, builder, world, dispositif)
    service = container.service
    service.fire(FireCommand(dossier_id, "emettre_contrat", world.team.pilote))
    signatories = builder.signatories(world.team, dispositif)

    # The draft, as read before anyone signs: the parties and the figures.
    with container.engine.connect() as conn:
        view = contract_view(conn, load(conn, dossier_id))
    draft = pdftotext(contract_pdf(view, datetime.now(UTC)), tmp_path)
    heading, figures = EXPECTED[dispositif]
    assert heading in draft
    # Every page's running footer names the dossier and the document, escaped for CSS (not
    # for HTML: « d&#39;accompagnement » was printed as such).
    assert f"{view.dossier.reference} — {view.label} — page 1" in draft
    assert "&#" not in draft
    for name in _names(container, *signatories):
        assert name in draft
    for figure in figures:
        assert figure in draft, figure
    assert ("Aucune signature n'a encore été donnée" in draft) or (
        dispositif == "hse_convention_ent" and "En attente de signature" in draft
    )
    assert view.sha256 in draft.replace(" ", "")

    for person in signatories:
        service.fire(
            FireCommand(dossier_id, "signer", person, payload={"texte_sha256": view.sha256})
        )

    with container.engine.connect() as conn:
        dossier = load(conn, dossier_id)
        assert dossier.state == "contrat_signe"
        [version] = versions(conn, dossier_id)
        assert version.sha256 == view.sha256  # signed as seen
        sealed = conn.execute(
            select(document_table).where(
                document_table.c.dossier_id == dossier_id,
                document_table.c.kind == "contrat_scelle",
            )
        ).one()
        assert version.sealed_document_id == sealed.id
        report = journal.verify(conn, world.slug)
    assert report.ok, report.findings
    stored = (data_dir / "documents" / sealed.storage_key).read_bytes()
    assert hashlib.sha256(stored).hexdigest() == sealed.sha256
    text = pdftotext(stored, tmp_path)
    for name in _names(container, *signatories):
        assert name in text
    assert "Signatures données" in text or "Signatures" in text
    assert "Ce fichier porte le sceau électronique" in text
    assert view.sha256 in text.replace(" ", "")

    root = data_dir / "sceau" / "certificat.pem"
    good = check(stored, root)
    assert good.intact and good.valid and good.trusted and good.covers_whole_file
    tampered = bytearray(stored)
    tampered[len(stored) // 3] ^= 0x01
    bad = check(bytes(tampered), root)
    assert not (bad.intact and bad.valid)
    page_image(stored, f"document-{dispositif}")
    page_image(stored, f"document-{dispositif}-derniere-page", last=True)


def test_an_added_formateur_makes_an_avenant_that_blocks_payment_until_signed(
    wired: tuple[Container, DemoBuilder, World], tmp_path: Path
) -> None:
    container, builder, world = wired
    world.configure_hse("20.00")
    dossier_id = _prepare(container, builder, world, "vacation_accompagnement")
    builder.drive(dossier_id, world.team, "contrat_signe")
    newcomer = world.person("julie")
    container.editor.assign(
        newcomer, "formateur", dossier_id=dossier_id, actor_id=world.team.pilote
    )
    with container.engine.connect() as conn:
        dossier = load(conn, dossier_id)
        assert dossier.state == "contrat_signe"  # the dossier stays where it is
        all_versions = versions(conn, dossier_id)
        assert [v.number for v in all_versions] == [1, 2]
        assert all_versions[1].changes == ("Signataire ajouté : Julie (formateur).",)
        last = conn.execute(
            select(history_table.c.trigger, history_table.c.comment)
            .where(history_table.c.dossier_id == dossier_id)
            .order_by(history_table.c.version.desc())
        ).first()
        assert last is not None and last.trigger == "etablir_avenant"
        assert "Avenant n° 1" in str(last.comment)
        mails = conn.execute(
            select(outbox_table.c.person_id, outbox_table.c.raw).where(
                outbox_table.c.dossier_id == dossier_id,
                outbox_table.c.template == "dossier_formation/etablir_avenant",
            )
        ).all()
    told = {m.person_id for m in mails}
    assert {newcomer, world.team.responsable} <= told
    letter = message_from_string(
        next(m.raw for m in mails if m.person_id == newcomer), policy=policy.default
    )
    assert isinstance(letter, EmailMessage)
    url = f"{container.mail_settings.base_url}/dossiers/{dossier_id}/contrat"
    html, plain = (letter.get_body(preferencelist=(k,)) for k in ("html", "plain"))
    assert html is not None and plain is not None
    assert f'<a href="{url}">' in html.get_content()
    assert f"Lisez l'avenant et signez-le pour votre part : {url}" in plain.get_content()
    assert world.team.formateurs[0] not in told  # not concerned: their terms did not change

    mine = {a.trigger: a for a in container.service.available(dossier_id, newcomer)}
    assert mine["signer_avenant"].ready

    # The newcomer works and declares hours like the others.
    team = replace(world.team, formateurs=[*world.team.formateurs, newcomer])
    builder.drive(dossier_id, team, "bilan_valide")
    with pytest.raises(GuardFailed) as refused:
        container.service.fire(FireCommand(dossier_id, "accorder_paiement", world.team.responsable))
    message = str(refused.value)
    assert "avenant n° 1" in message and "Julie" in message and "Responsable" in message
    assert "Accorder le paiement" in message

    # The newcomer, then the responsable, read the avenant on the contract page and sign it
    # there (the « À traiter » page is another branch's: the contract page is where the
    # email's link « Lisez le contrat » leads).
    with TestClient(create_app(container)) as client:
        for person in (newcomer, world.team.responsable):
            csrf = page_session(client, container, person)
            page = client.get(f"/dossiers/{dossier_id}/contrat")
            assert page.status_code == 200
            assert "Votre signature est attendue" in page.text
            assert "Signataire ajouté : Julie (formateur)." in page.text
            form = {
                "csrf_token": csrf,
                "version": _hidden(page.text, "version"),
                "texte_sha256": _hidden(page.text, "texte_sha256"),
                "trigger": _hidden(page.text, "trigger"),
            }
            assert form["trigger"] == "signer_avenant"
            signed = client.post(
                f"/dossiers/{dossier_id}/contrat/signer", data=form, follow_redirects=True
            )
            assert signed.status_code == 200, signed.text
            assert "Vous avez signé le" in signed.text
            assert "Signer l&#39;avenant" not in signed.text
            client.cookies.clear()

    with container.engine.connect() as conn:
        all_versions = versions(conn, dossier_id)
        assert all_versions[1].sealed_document_id is not None  # sealed at its last signature
        assert journal.verify(conn, world.slug).ok
        kinds = list(
            conn.execute(
                select(history_table.c.trigger)
                .where(history_table.c.dossier_id == dossier_id)
                .order_by(history_table.c.version)
            ).scalars()
        )
    assert kinds.count("signer_avenant") == 2 and kinds.count("etablir_avenant") == 1
    container.service.fire(FireCommand(dossier_id, "accorder_paiement", world.team.responsable))
    del tmp_path


def _hidden(html: str, name: str) -> str:
    found = re.search(rf'name="{name}" value="([^"]*)"', html)
    assert found is not None, name
    return found.group(1)


def test_the_ent_hours_are_the_chefs_proposal(
    wired: tuple[Container, DemoBuilder, World], tmp_path: Path
) -> None:
    container, builder, world = wired
    dossier_id = _prepare(container, builder, world, "hse_convention_ent")
    builder.drive(dossier_id, world.team, "realisee")
    formatrice, chef = world.team.formateurs[0], world.team.chef_etablissement
    assert chef is not None
    body = {
        "participants_enrolled": 12,
        "participants_effective": 10,
        "view_formateurs": "Bonne appropriation de l'ENT.",
        "hours": [{"person_id": formatrice, "hours": "14"}],
    }
    refusal = "seul le chef d'établissement, ou un gestionnaire EAFC pour son compte"
    with TestClient(create_app(container)) as client:
        api = Api(client, container)
        refused = api.put(f"/api/v1/dossiers/{dossier_id}/bilan", formatrice, json=body)
        assert refused.status_code == 403
        assert refusal in refused.json()["detail"]
        # The formateurs' own view without touching the hours is theirs to write.
        own = {k: v for k, v in body.items() if k != "hours"}
        assert api.put(f"/api/v1/dossiers/{dossier_id}/bilan", formatrice, json=own).is_success

        csrf = page_session(client, container, formatrice)
        page = client.post(
            f"/dossiers/{dossier_id}/bilan",
            data={"csrf_token": csrf, f"heures-{formatrice}": "14", "inscrits": "12"},
        )
        assert page.status_code == 409
        assert refusal in page.text.replace("&#39;", "'")
        client.cookies.clear()

        accepted = api.put(f"/api/v1/dossiers/{dossier_id}/bilan", chef, json=body)
        assert accepted.status_code == 200, accepted.text
        assert accepted.json()["hours"][0]["hours"] == "14.00"
        on_behalf = {**body, "hours": [{"person_id": formatrice, "hours": "15"}]}
        gestion = api.put(
            f"/api/v1/dossiers/{dossier_id}/bilan", world.team.gestionnaire, json=on_behalf
        )
        assert gestion.status_code == 200, gestion.text
        fiche = api.get(f"/api/v1/dossiers/{dossier_id}/exports/fiche-bilan-ent.pdf", chef)
        assert fiche.status_code == 200 and fiche.headers["content-type"] == "application/pdf"
    text = pdftotext(fiche.content, tmp_path)
    assert "Fiche bilan « Formation ENT »" in text
    assert "Professeurs de collège" not in text  # planned sessions are not held ones
    assert "15 h" in text and "15 HSE" in text
    assert f"Gestionnaire {world.slug[-1]}" in text or "pour Cheffe" in text
    page_image(fiche.content, "document-fiche_bilan_ent")


def test_fiche_and_bilan_as_pdf(
    wired: tuple[Container, DemoBuilder, World], tmp_path: Path
) -> None:
    container, builder, world = wired
    dossier_id = _prepare(container, builder, world, "vacation_accompagnement")
    builder.drive(dossier_id, world.team, "paiement_accorde")
    with TestClient(create_app(container)) as client:
        api = Api(client, container)
        fiche = api.get(
            f"/api/v1/dossiers/{dossier_id}/exports/fiche-remuneration.pdf", world.team.pilote
        )
        bilan = api.get(f"/api/v1/dossiers/{dossier_id}/exports/bilan.pdf", world.team.pilote)
        contrat = api.get(f"/api/v1/dossiers/{dossier_id}/exports/contrat.pdf", world.team.pilote)
        hidden = api.get(f"/api/v1/dossiers/{dossier_id}/exports/bilan.pdf", world.outsider)
    assert hidden.status_code == 404
    for response, name, expected in (
        (fiche, "fiche_remuneration", "Fiche de rémunération"),
        (bilan, "bilan", "Bilan d'activités"),
        (contrat, "contrat_lecture", "Contrat d'accompagnement à distance"),
    ):
        assert response.status_code == 200, response.text
        assert response.content.startswith(b"%PDF-")
        assert expected in pdftotext(response.content, tmp_path), name
        page_image(response.content, f"document-{name}")


def _files(data_dir: Path) -> set[Path]:
    return set((data_dir / "documents").rglob("*")) if (data_dir / "documents").exists() else set()


def test_signed_as_seen_and_no_file_left_by_a_rolled_back_last_signature(
    wired: tuple[Container, DemoBuilder, World], data_dir: Path
) -> None:
    container, builder, world = wired
    dossier_id = _prepare(container, builder, world, "vacation_accompagnement")
    service = container.service
    service.fire(FireCommand(dossier_id, "emettre_contrat", world.team.pilote))
    with container.engine.connect() as conn:
        shown = contract_view(conn, load(conn, dossier_id)).sha256
    formatrice, responsable = world.team.formateurs[0], world.team.responsable

    # The text changed after it was read (planned hours): that reading cannot be signed.
    container.editor.update_planning(
        dossier_id, PlanningInput(planned_hours_distance=Decimal("15"))
    )
    with pytest.raises(GuardFailed) as stale:
        service.fire(FireCommand(dossier_id, "signer", formatrice, payload={"texte_sha256": shown}))
    assert "relisez-le avant de signer" in str(stale.value)
    with container.engine.connect() as conn:
        shown = contract_view(conn, load(conn, dossier_id)).sha256
    service.fire(FireCommand(dossier_id, "signer", formatrice, payload={"texte_sha256": shown}))

    # A non-signatory may not sign; the pilote is told which roles may.
    with pytest.raises(NotPermitted):
        service.fire(FireCommand(dossier_id, "signer", world.team.pilote))

    # The last signature's transaction fails after the PDF was written: no row, no file.
    before = _files(data_dir)

    def fail(_conn: object, _result: object) -> None:
        raise RuntimeError("panne simulée après le scellement")

    with pytest.raises(RuntimeError):
        service.fire(FireCommand(dossier_id, "signer", responsable), also=fail)
    assert _files(data_dir) == before
    with container.engine.connect() as conn:
        assert load(conn, dossier_id).state == "contrat_a_signer"
        assert not conn.execute(
            select(document_table.c.id).where(document_table.c.dossier_id == dossier_id)
        ).all()
    service.fire(FireCommand(dossier_id, "signer", responsable))
    after = _files(data_dir) - before
    assert len([p for p in after if p.is_file()]) == 1  # produced once
    with container.engine.connect() as conn:
        [version] = versions(conn, dossier_id)
        assert version.sha256 == shown and version.sealed_document_id is not None
        assert "Heures prévues à distance : 15 h" in version.text
