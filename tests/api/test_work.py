"""Work on a dossier over HTTP: scenario, sessions, bilan, attendance, documents, demande.

Uploads are checked by content: the tests build real small files of every accepted type
(PNG and office documents are assembled in memory) and lying or oversized ones.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import struct
import zipfile
import zlib
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from starlette.requests import Request
from starlette.types import Message

from api.problems import ApiProblem
from api.uploads import clean_filename, content_disposition, read_upload_form
from api.wiring import Container
from tests.conftest import World
from tests.support.api import Api
from workflow.demo import _tiny_pdf
from workflow.dossiers.inputs import DossierInput

JSON_PROBLEM = "application/problem+json"
DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
ODT_TYPE = "application/vnd.oasis.opendocument.text"


def url(dossier: int, part: str) -> str:
    return f"/api/v1/dossiers/{dossier}/{part}"


def problem(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(JSON_PROBLEM)
    body: dict[str, Any] = response.json()
    assert body["type"] == f"/api/problemes/{code}"
    return body


# Files ---------------------------------------------------------------------------------------


def png() -> bytes:
    """A valid 1×1 greyscale PNG."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = struct.pack(">I", zlib.crc32(kind + data))
        return struct.pack(">I", len(data)) + kind + data + crc

    header = struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00\x00"))
        + chunk(b"IEND", b"")
    )


def jpeg() -> bytes:
    """A JFIF header and end marker: what a JPEG starts and ends with."""
    return b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00\xff\xd9"


def archive(entries: list[tuple[str, bytes]]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        for name, data in entries:
            method = zipfile.ZIP_STORED if name == "mimetype" else zipfile.ZIP_DEFLATED
            zf.writestr(zipfile.ZipInfo(name), data, compress_type=method)
    return buffer.getvalue()


def odt(mimetype: str = ODT_TYPE) -> bytes:
    return archive(
        [
            ("mimetype", mimetype.encode()),
            ("content.xml", b"<office:document-content/>"),
            ("META-INF/manifest.xml", b"<manifest:manifest/>"),
        ]
    )


def docx() -> bytes:
    return archive(
        [
            ("[Content_Types].xml", b"<Types/>"),
            ("_rels/.rels", b"<Relationships/>"),
            ("word/document.xml", b"<w:document/>"),
        ]
    )


def xlsx() -> bytes:
    return archive(
        [
            ("[Content_Types].xml", b"<Types/>"),
            ("xl/workbook.xml", b"<workbook/>"),
            ("xl/worksheets/sheet1.xml", b"<worksheet/>"),
        ]
    )


def upload(
    api: Api,
    dossier: int,
    person: int,
    filename: str,
    content: bytes,
    kind: str = "emargement",
    client_type: str = "application/octet-stream",
) -> Any:
    return api.post(
        url(dossier, "documents"),
        person,
        data={"kind": kind},
        files={"file": (filename, content, client_type)},
    )


def document_count(api: Api, dossier: int, person: int) -> int:
    response = api.get(url(dossier, "documents"), person)
    assert response.status_code == 200, response.text
    return len(response.json())


# Scenario ------------------------------------------------------------------------------------


def scenario_body(tutor: int) -> dict[str, Any]:
    return {
        "objectives": "Concevoir une séance hybride.",
        "competences": "Scénariser ; accompagner.",
        "prerequisites": "Compte M@gistère.",
        "public": "Enseignants de lycée",
        "hours_presentiel": "6",
        "hours_distance": "4.5",
        "accompaniment_plan": "Retour sous 72 h.",
        "validation_criteria": "Une séance scénarisée déposée.",
        "penser_a": "Réserver la salle.",
        "sequences": [
            {
                "title": "Lancement",
                "a_faire_en_amont": "Envoyer les liens.",
                "steps": [
                    {
                        "period": "Semaine 1",
                        "scheduled_at": "2026-03-02T09:00:00+01:00",
                        "duration_minutes": 180,
                        "content": "Présentation",
                        "modality": "presentiel",
                    },
                    {
                        "period": "Semaine 2",
                        "duration_minutes": 90,
                        "content": "Classe virtuelle",
                        "modality": "classe_virtuelle",
                        "connection_link": "https://visio.example.org/s2",
                    },
                ],
            },
            {
                "title": "Mise en œuvre",
                "steps": [
                    {
                        "duration_minutes": 600,
                        "content": "Forum",
                        "modality": "asynchrone",
                        "led_by": "tuteur",
                        "tutor_id": tutor,
                    }
                ],
            },
        ],
    }


def test_scenario_round_trip_by_the_concepteur(world: World, api: Api) -> None:
    dossier = world.formation()
    concepteur = world.team.concepteur
    assert concepteur is not None and world.team.tuteur is not None
    empty = api.get(url(dossier, "scenario"), concepteur)
    assert empty.status_code == 200, empty.text
    assert empty.json()["sequences"] == [] and empty.json()["updated_at"] is None
    assert empty.json()["objectives"] == ""

    saved = api.put(url(dossier, "scenario"), concepteur, json=scenario_body(world.team.tuteur))
    assert saved.status_code == 200, saved.text
    read = api.get(url(dossier, "scenario"), concepteur)
    assert read.status_code == 200 and read.json() == saved.json()
    body = read.json()
    assert Decimal(body["hours_distance"]) == Decimal("4.5")
    assert [s["position"] for s in body["sequences"]] == [1, 2]
    assert [s["position"] for s in body["sequences"][0]["steps"]] == [1, 2]
    first, second = body["sequences"][0]["steps"]
    assert first["scheduled_at"].startswith("2026-03-02T08:00:00")  # stored in UTC
    assert second["connection_link"] == "https://visio.example.org/s2"
    assert body["sequences"][1]["steps"][0]["tutor_id"] == world.team.tuteur
    assert body["updated_at"] is not None

    # The pilote reads the same grid; a second save replaces it as a whole.
    assert api.get(url(dossier, "scenario"), world.team.pilote).json() == body
    shorter = {**scenario_body(world.team.tuteur), "sequences": [{"title": "Unique"}]}
    assert api.put(url(dossier, "scenario"), concepteur, json=shorter).status_code == 200
    again = api.get(url(dossier, "scenario"), concepteur).json()
    assert [s["title"] for s in again["sequences"]] == ["Unique"]


def test_scenario_is_refused_to_a_stagiaire(world: World, api: Api) -> None:
    dossier = world.formation()
    stagiaire = world.team.stagiaires[0]
    assert api.get(url(dossier, "scenario"), stagiaire).status_code == 200
    refused = api.put(url(dossier, "scenario"), stagiaire, json={"objectives": "Pirater"})
    body = problem(refused, 403, "action-non-autorisee")
    assert "modifier le scénario" in body["detail"]
    assert api.get(url(dossier, "scenario"), world.team.pilote).json()["objectives"] == ""


@pytest.mark.parametrize("who", ["outsider", "other_academie_gestionnaire"])
def test_scenario_is_hidden_from_people_outside_the_dossier(
    world: World, api: Api, who: str
) -> None:
    dossier = world.formation()
    person = getattr(world, who)
    problem(api.get(url(dossier, "scenario"), person), 404, "dossier-introuvable")
    put = api.put(url(dossier, "scenario"), person, json={"objectives": "x"})
    problem(put, 404, "dossier-introuvable")
    assert api.get(url(dossier, "scenario"), world.team.pilote).json()["objectives"] == ""


def test_scenario_is_frozen_once_submitted(world: World, api: Api) -> None:
    dossier = world.formation()
    world.builder.drive(dossier, world.team, "scenario_soumis")
    concepteur = world.team.concepteur
    assert concepteur is not None
    before = api.get(url(dossier, "scenario"), concepteur).json()
    assert before["sequences"], "the builder wrote a complete scenario"
    refused = api.put(url(dossier, "scenario"), concepteur, json={"objectives": "Trop tard"})
    body = problem(refused, 422, "saisie-invalide")
    assert "Impossible de modifier le scénario" in body["detail"]
    assert api.get(url(dossier, "scenario"), concepteur).json() == before


@pytest.mark.parametrize(
    ("step", "message"),
    [
        ({"scheduled_at": "2026-03-02T09:00:00"}, "fuseau horaire"),
        ({"scheduled_at": "0001-01-01T00:00:00+05:00"}, "date hors limites"),
        ({"content": "nul \u0000 ici"}, "caractère nul"),
        ({"tutor_id": 2**70}, "nombre trop grand"),
    ],
)
def test_scenario_values_the_database_cannot_store_are_refused_in_french(
    world: World, api: Api, step: dict[str, Any], message: str
) -> None:
    dossier = world.formation()
    body = {"sequences": [{"title": "S1", "steps": [step]}]}
    refused = api.put(url(dossier, "scenario"), world.team.pilote, json=body)
    assert message in problem(refused, 422, "saisie-invalide")["detail"]
    assert api.get(url(dossier, "scenario"), world.team.pilote).json()["sequences"] == []


# Sessions ------------------------------------------------------------------------------------


def session_body(formateur: int, **changes: Any) -> dict[str, Any]:
    return {
        "starts_at": "2026-04-07T14:00:00+02:00",
        "duration_minutes": 180,
        "modality": "classe_virtuelle",
        "connection_link": "https://visio.example.org/cv1",
        "planned_headcount": 12,
        "formateur_id": formateur,
        **changes,
    }


def test_sessions_are_created_listed_and_updated(world: World, api: Api) -> None:
    dossier = world.formation()
    formateur = world.team.formateurs[0]
    assert api.get(url(dossier, "sessions"), formateur).json() == []

    later = api.post(url(dossier, "sessions"), formateur, json=session_body(formateur))
    assert later.status_code == 201, later.text
    earlier = api.post(
        url(dossier, "sessions"),
        world.team.pilote,
        json=session_body(formateur, starts_at="2026-03-31T09:00:00+02:00", modality="presentiel"),
    )
    assert earlier.status_code == 201, earlier.text
    session = later.json()
    assert later.headers["Location"] == url(dossier, f"sessions/{session['id']}")
    assert session["held"] is False and session["actual_headcount"] is None
    assert session["starts_at"].startswith("2026-04-07T12:00:00")

    listed = api.get(url(dossier, "sessions"), world.team.stagiaires[0]).json()
    assert [s["id"] for s in listed] == [earlier.json()["id"], session["id"]]

    held = session_body(formateur, held=True, actual_headcount=9, trainer_count=2)
    updated = api.put(url(dossier, f"sessions/{session['id']}"), formateur, json=held)
    assert updated.status_code == 200, updated.text
    assert updated.json()["held"] is True and updated.json()["actual_headcount"] == 9
    relisted = {s["id"]: s for s in api.get(url(dossier, "sessions"), formateur).json()}
    assert relisted[session["id"]]["trainer_count"] == 2
    assert relisted[earlier.json()["id"]]["held"] is False


def test_a_session_is_only_reachable_through_its_own_dossier(world: World, api: Api) -> None:
    first, second = world.formation(), world.formation()
    formateur = world.team.formateurs[0]
    created = api.post(url(first, "sessions"), formateur, json=session_body(formateur))
    session_id = created.json()["id"]
    held = session_body(formateur, held=True, actual_headcount=3)
    wrong = api.put(url(second, f"sessions/{session_id}"), formateur, json=held)
    problem(wrong, 404, "introuvable")
    missing = api.put(url(first, "sessions/2147483000"), formateur, json=held)
    problem(missing, 404, "introuvable")
    assert api.get(url(first, "sessions"), formateur).json()[0]["held"] is False


def test_sessions_refuse_stagiaires_and_bad_input(world: World, api: Api) -> None:
    dossier = world.formation()
    formateur = world.team.formateurs[0]
    refused = api.post(
        url(dossier, "sessions"), world.team.stagiaires[0], json=session_body(formateur)
    )
    problem(refused, 403, "action-non-autorisee")
    naive = api.post(
        url(dossier, "sessions"), formateur, json=session_body(formateur, starts_at="2026-04-07")
    )
    problem(naive, 422, "saisie-invalide")
    unknown = api.post(
        url(dossier, "sessions"), formateur, json=session_body(formateur, modality="radio")
    )
    assert "modalité inconnue" in problem(unknown, 422, "saisie-invalide")["detail"]
    assert api.get(url(dossier, "sessions"), formateur).json() == []


# Bilan, attendance, and submitting the bilan -------------------------------------------------


def bilan_body(world: World, **changes: Any) -> dict[str, Any]:
    return {
        "participants_enrolled": 10,
        "participants_effective": 8,
        "view_chef_etablissement": "Les équipes se sont approprié l'outil.",
        "view_formateurs": "Bonne dynamique.",
        "eval_fiabilite": "Aucun incident.",
        "eval_faisabilite": "Rythme adapté.",
        "eval_accompagnement": "Échanges réguliers.",
        "eval_effets": "Séances menées en classe.",
        "hours": [{"person_id": f, "hours": "12.5"} for f in world.team.formateurs],
        **changes,
    }


def test_bilan_and_emargement_through_the_api_then_the_bilan_is_submitted(
    world: World, api: Api
) -> None:
    dossier = world.formation()
    world.builder.drive(dossier, world.team, "realisee")
    formateur = world.team.formateurs[0]

    empty = api.get(url(dossier, "bilan"), formateur).json()
    assert empty["participants_effective"] is None and empty["hours"] == []

    attendance = api.put(url(dossier, "attendance"), formateur, json={"participants_effective": 7})
    assert attendance.status_code == 200, attendance.text
    assert attendance.json()["participants_effective"] == 7
    assert attendance.json()["participants_enrolled"] is None

    saved = api.put(url(dossier, "bilan"), formateur, json=bilan_body(world))
    assert saved.status_code == 200, saved.text
    assert [Decimal(h["hours"]) for h in saved.json()["hours"]] == [Decimal("12.5")]
    assert api.get(url(dossier, "bilan"), world.team.gestionnaire).json() == saved.json()

    # Headcounts alone: the qualitative part stays; more present than enrolled is refused.
    counted = api.put(url(dossier, "attendance"), formateur, json={"participants_effective": 9})
    assert counted.json()["participants_enrolled"] == 10
    assert counted.json()["participants_effective"] == 9
    assert counted.json()["eval_effets"] == "Séances menées en classe."
    too_many = api.put(url(dossier, "attendance"), formateur, json={"participants_effective": 11})
    assert "que d'inscrits" in problem(too_many, 422, "saisie-invalide")["detail"]
    both = api.put(
        url(dossier, "attendance"),
        formateur,
        json={"participants_enrolled": 4, "participants_effective": 5},
    )
    problem(both, 422, "saisie-invalide")
    assert api.get(url(dossier, "bilan"), formateur).json()["participants_effective"] == 9

    not_yet = api.fire(dossier, "soumettre_bilan", formateur)
    missing = problem(not_yet, 422, "conditions-non-remplies")["missing"]
    assert missing == ["les listes d'émargement téléversées"]

    sheet = upload(api, dossier, formateur, "émargement.pdf", _tiny_pdf("Émargement"))
    assert sheet.status_code == 201, sheet.text
    submitted = api.fire(dossier, "soumettre_bilan", formateur)
    assert submitted.status_code == 200, submitted.text
    assert submitted.json()["to_state"] == "bilan_soumis"

    frozen = api.put(url(dossier, "bilan"), formateur, json=bilan_body(world))
    assert "Impossible de modifier le bilan" in problem(frozen, 422, "saisie-invalide")["detail"]
    late = api.put(url(dossier, "attendance"), formateur, json={"participants_effective": 1})
    problem(late, 422, "saisie-invalide")
    assert api.get(url(dossier, "bilan"), formateur).json()["participants_effective"] == 9


def test_bilan_is_refused_before_the_training_and_to_a_stagiaire(world: World, api: Api) -> None:
    dossier = world.formation()
    formateur = world.team.formateurs[0]
    early = api.put(url(dossier, "attendance"), formateur, json={"participants_effective": 3})
    problem(early, 422, "saisie-invalide")
    world.builder.drive(dossier, world.team, "en_cours")
    stagiaire = api.put(url(dossier, "bilan"), world.team.stagiaires[0], json=bilan_body(world))
    problem(stagiaire, 403, "action-non-autorisee")
    twice = bilan_body(world, hours=[{"person_id": formateur, "hours": "1"}] * 2)
    duplicate = api.put(url(dossier, "bilan"), formateur, json=twice)
    assert "une seule ligne" in problem(duplicate, 422, "saisie-invalide")["detail"]
    assert api.get(url(dossier, "bilan"), formateur).json()["updated_at"] is None


# Documents -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("filename", "content", "detected"),
    [
        ("émargement séance 1.pdf", _tiny_pdf("Liste"), "application/pdf"),
        ("photo-liste.PNG", png(), "image/png"),
        ("scan.jpeg", jpeg(), "image/jpeg"),
        ("scan.jpg", jpeg(), "image/jpeg"),
        ("fiche.docx", docx(), DOCX_TYPE),
        ("heures.xlsx", xlsx(), XLSX_TYPE),
        ("compte-rendu.odt", odt(), ODT_TYPE),
    ],
)
def test_accepted_uploads_keep_the_detected_type_and_download_identically(
    world: World, api: Api, filename: str, content: bytes, detected: str
) -> None:
    dossier = world.formation()
    formateur = world.team.formateurs[0]
    created = upload(api, dossier, formateur, filename, content, client_type="text/html")
    assert created.status_code == 201, created.text
    document = created.json()
    assert document["content_type"] == detected  # not the client's text/html
    assert document["filename"] == filename and document["kind"] == "emargement"
    assert document["kind_label"] == "Liste d'émargement"
    assert document["size_bytes"] == len(content)
    assert document["sha256"] == hashlib.sha256(content).hexdigest()
    assert document["uploaded_by_id"] == formateur
    assert created.headers["Location"] == url(dossier, f"documents/{document['id']}")
    assert [d["id"] for d in api.get(url(dossier, "documents"), world.team.pilote).json()] == [
        document["id"]
    ]

    downloaded = api.get(url(dossier, f"documents/{document['id']}"), world.team.gestionnaire)
    assert downloaded.status_code == 200
    assert downloaded.content == content
    assert downloaded.headers["content-type"] == detected
    assert downloaded.headers["x-content-type-options"] == "nosniff"
    disposition = downloaded.headers["content-disposition"]
    assert disposition.startswith("attachment; ")
    assert disposition.endswith("filename*=UTF-8''" + _rfc5987(filename))


def _rfc5987(name: str) -> str:
    return quote(name, safe="")


@pytest.mark.parametrize(
    ("filename", "content", "status", "words"),
    [
        ("outil.exe", b"MZ\x90\x00\x03" + b"\x00" * 60, 415, "pas d'un type accepté"),
        ("notes.txt", "Présents : 12".encode(), 415, "pas d'un type accepté"),
        ("notes.pdf", b"<html>pas un pdf</html>", 415, "pas d'un type accepté"),
        # Decision: a lying extension is a 415 too, with its own message: the content is
        # acceptable, the name announces another type.
        ("liste.pdf", png(), 415, "ne correspond pas à son contenu"),
        ("liste", _tiny_pdf("Sans extension"), 415, "aucune extension"),
        ("tableau.odt", odt("application/vnd.oasis.opendocument.spreadsheet"), 415, "accepté"),
        ("archive.docx", archive([("autre.xml", b"<x/>")]), 415, "pas d'un type accepté"),
        ("abime.docx", b"PK\x03\x04" + b"\x00" * 40, 415, "pas d'un type accepté"),
        ("vide.pdf", b"", 422, "vide"),
    ],
)
def test_refused_uploads_write_nothing(
    world: World, api: Api, filename: str, content: bytes, status: int, words: str
) -> None:
    dossier = world.formation()
    formateur = world.team.formateurs[0]
    code = "type-de-fichier-refuse" if status == 415 else "saisie-invalide"
    refused = upload(api, dossier, formateur, filename, content)
    assert words in problem(refused, status, code)["detail"]
    assert document_count(api, dossier, formateur) == 0


def test_upload_form_mistakes_are_refused(world: World, api: Api) -> None:
    dossier = world.formation()
    formateur = world.team.formateurs[0]
    pdf = _tiny_pdf("Liste")
    unknown_kind = upload(api, dossier, formateur, "a.pdf", pdf, kind="facture")
    assert "Type de document inconnu" in problem(unknown_kind, 422, "saisie-invalide")["detail"]
    no_file = api.post(url(dossier, "documents"), formateur, data={"kind": "contrat"})
    # httpx sends a urlencoded body when there is no file: not a multipart upload.
    problem(no_file, 415, "requete-invalide")
    as_json = api.post(url(dossier, "documents"), formateur, json={"kind": "contrat"})
    problem(as_json, 415, "requete-invalide")
    extra = api.post(
        url(dossier, "documents"),
        formateur,
        data={"kind": "contrat", "autre": "x"},
        files={"file": ("a.pdf", pdf, "application/pdf")},
    )
    assert "Champ inconnu" in problem(extra, 422, "saisie-invalide")["detail"]
    assert document_count(api, dossier, formateur) == 0


def test_too_large_uploads_are_refused_without_a_row(
    world: World, api: Api, api_container: Container
) -> None:
    dossier = world.formation()
    formateur = world.team.formateurs[0]
    api_container.api_settings.max_upload_bytes = 1000
    just_enough = _tiny_pdf("x").ljust(1000, b" ")
    accepted = upload(api, dossier, formateur, "limite.pdf", just_enough)
    assert accepted.status_code == 201, accepted.text
    over = upload(api, dossier, formateur, "gros.pdf", just_enough + b" ")
    assert "1000 octets" in problem(over, 413, "fichier-trop-volumineux")["detail"]
    huge = upload(api, dossier, formateur, "enorme.pdf", just_enough + b" " * 200_000)
    problem(huge, 413, "fichier-trop-volumineux")
    assert document_count(api, dossier, formateur) == 1


def test_uploads_need_a_role_that_may_deposit(world: World, api: Api) -> None:
    dossier = world.formation()
    pdf = _tiny_pdf("Liste")
    stagiaire = upload(api, dossier, world.team.stagiaires[0], "a.pdf", pdf)
    problem(stagiaire, 403, "action-non-autorisee")
    outsider = upload(api, dossier, world.outsider, "a.pdf", pdf)
    problem(outsider, 404, "dossier-introuvable")
    problem(api.get(url(dossier, "documents"), world.outsider), 404, "dossier-introuvable")
    assert document_count(api, dossier, world.team.pilote) == 0


def test_a_document_downloads_only_through_its_dossier_with_a_safe_name(
    world: World, api: Api
) -> None:
    first, second = world.formation(), world.formation()
    formateur = world.team.formateurs[0]
    # Sent raw: httpx (like browsers) would percent-encode the quotes and control characters.
    raw_name = 'C:\\Users\\moi\\Liste \\"finale\\";\u202e séance\u0007 1.pdf'
    body = _multipart(_tiny_pdf("Liste"), filename=raw_name)
    created = api.post(url(first, "documents"), formateur, content=body, headers=MULTIPART)
    assert created.status_code == 201, created.text
    document = created.json()
    assert document["filename"] == 'Liste "finale"; séance 1.pdf'
    path = f"documents/{document['id']}"
    problem(api.get(url(second, path), formateur), 404, "introuvable")
    problem(
        api.get(url(first, path), world.other_academie_gestionnaire), 404, "dossier-introuvable"
    )
    downloaded = api.get(url(first, path), formateur)
    disposition = downloaded.headers["content-disposition"]
    assert disposition == (
        'attachment; filename="Liste _finale__ seance 1.pdf"; '
        "filename*=UTF-8''Liste%20%22finale%22%3B%20s%C3%A9ance%201.pdf"
    )


def test_content_disposition_cannot_be_broken_by_a_stored_name() -> None:
    header = content_disposition('a"\r\nSet-Cookie: x=1;\x00 b.pdf')
    assert "\r" not in header and "\n" not in header and "\x00" not in header
    assert header.count(";") == 2 and header.count('"') == 2
    assert header.endswith("filename*=UTF-8''a%22%0D%0ASet-Cookie%3A%20x%3D1%3B%00%20b.pdf")
    assert content_disposition("……").startswith('attachment; filename="document"')


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("../../etc/passwd.pdf", "passwd.pdf"),
        ("..\\..\\boot.ini", "boot.ini"),
        ("rapport\u202efdp.exe", "rapportfdp.exe"),
        ("  .cache.pdf ", "cache.pdf"),
        ("..", ""),
        ("ligne\nsuivante\t.pdf", "lignesuivante.pdf"),
        ("é" * 300 + ".docx", "é" * 250 + ".docx"),
    ],
)
def test_clean_filename(raw: str, clean: str) -> None:
    assert clean_filename(raw) == clean
    assert len(clean_filename(raw)) <= 255


def _request(chunks: list[bytes], pulled: list[int], headers: dict[str, str]) -> Request:
    async def receive() -> Message:
        pulled.append(1)
        index = len(pulled) - 1
        if index >= len(chunks):
            return {"type": "http.disconnect"}
        return {
            "type": "http.request",
            "body": chunks[index],
            "more_body": index < len(chunks) - 1,
        }

    scope = {
        "type": "http",
        "method": "POST",
        "path": "/",
        "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
    }
    return Request(scope, receive)


def _multipart(content: bytes, filename: str = "liste.pdf") -> bytes:
    boundary = "limite-XyZ"
    return (
        (
            f"--{boundary}\r\n"
            'Content-Disposition: form-data; name="kind"\r\n\r\n'
            "emargement\r\n"
            f"--{boundary}\r\n"
            f'Content-Disposition: form-data; name="file"; filename="{filename}"\r\n'
            "Content-Type: application/pdf\r\n\r\n"
        ).encode()
        + content
        + f"\r\n--{boundary}--\r\n".encode()
    )


MULTIPART = {"content-type": "multipart/form-data; boundary=limite-XyZ"}


def _files_under(directory: Path) -> list[Path]:
    return [p for p in directory.rglob("*") if p.is_file()]


def test_reading_stops_at_the_first_chunk_beyond_the_limit(tmp_path: Path) -> None:
    body = _multipart(b"A" * 100_000)
    chunks = [body[i : i + 1000] for i in range(0, len(body), 1000)]
    pulled: list[int] = []
    with pytest.raises(ApiProblem) as refused:
        asyncio.run(read_upload_form(_request(chunks, pulled, MULTIPART), 5000, tmp_path))
    assert refused.value.status == 413
    assert len(pulled) <= 7, "the rest of the body must not be read"
    assert _files_under(tmp_path) == [], "the staged part is deleted"


def test_reading_a_form_split_in_tiny_chunks(tmp_path: Path) -> None:
    pdf = _tiny_pdf("Morceaux")
    body = _multipart(pdf)
    chunks = [body[i : i + 7] for i in range(0, len(body), 7)]
    form = asyncio.run(read_upload_form(_request(chunks, [], MULTIPART), len(pdf), tmp_path))
    assert form.fields == {"kind": "emargement"}
    assert form.filename == "liste.pdf" and form.staged is not None
    assert form.staged.path.read_bytes() == pdf and form.staged.head == pdf[:64]
    assert form.staged.path.is_relative_to(tmp_path / "documents" / ".incoming")
    form.discard()
    assert _files_under(tmp_path) == []


def test_a_truncated_form_is_a_bad_request(tmp_path: Path) -> None:
    body = _multipart(_tiny_pdf("Coupé"))[:-30]
    with pytest.raises(ApiProblem) as refused:
        asyncio.run(read_upload_form(_request([body], [], MULTIPART), 10_000, tmp_path))
    assert refused.value.status == 400 and "incomplet" in refused.value.detail
    assert _files_under(tmp_path) == []


# Demande d'ouverture de parcours -------------------------------------------------------------


def demande_body() -> dict[str, Any]:
    return {
        "nom_parcours": "Hybrider ses cours au lycée",
        "objectifs": "Concevoir des activités à distance.",
        "description": "Trois modules de deux semaines.",
        "pilote_nom": "Pilote de test",
        "pilote_courriel": "pilote@example.org",
        "concepteurs": "Concepteur de test",
        "associe_presentiel": True,
        "duree_presentiel_h": "3",
        "duree_distance_h": "6.5",
        "accompagnement_distance": "Tutorat asynchrone, réponse sous 48 h.",
        "publics": ["lycee", "autres"],
        "public_autre": "Documentalistes",
        "format_parcours": "Parcours accompagné",
    }


def test_demande_round_trip_on_an_ouverture_parcours(world: World, api: Api) -> None:
    editor = world.builder.editor
    dossier = editor.create_dossier(
        DossierInput(
            title="Ouverture d'un parcours",
            academie_id=world.academie_id,
            workflow="ouverture_parcours",
        )
    )
    concepteur = world.team.concepteur
    assert concepteur is not None
    editor.assign(concepteur, "concepteur", dossier_id=dossier)

    empty = api.get(url(dossier, "demande"), concepteur)
    assert empty.status_code == 200, empty.text
    assert empty.json()["nom_parcours"] == "" and empty.json()["publics"] == []

    saved = api.put(url(dossier, "demande"), concepteur, json=demande_body())
    assert saved.status_code == 200, saved.text
    assert saved.json()["publics"] == ["lycee", "autres"]
    assert Decimal(saved.json()["duree_distance_h"]) == Decimal("6.5")
    assert api.get(url(dossier, "demande"), world.team.gestionnaire).json() == saved.json()

    unknown = api.put(url(dossier, "demande"), concepteur, json={"publics": ["marins"]})
    assert "public inconnu" in problem(unknown, 422, "saisie-invalide")["detail"]
    stranger = api.put(url(dossier, "demande"), world.outsider, json=demande_body())
    problem(stranger, 404, "dossier-introuvable")
    assert api.get(url(dossier, "demande"), concepteur).json() == saved.json()


def test_demande_belongs_to_ouverture_parcours_only(world: World, api: Api) -> None:
    dossier = world.formation()
    problem(api.get(url(dossier, "demande"), world.team.pilote), 404, "introuvable")
    refused = api.put(url(dossier, "demande"), world.team.pilote, json=demande_body())
    body = problem(refused, 422, "saisie-invalide")
    assert "n'est pas une demande d'ouverture" in body["detail"]


def test_a_browser_form_with_its_csrf_field_uploads_too(world: World, api: Api) -> None:
    """A plain HTML form cannot set X-CSRF-Token: the token travels as a form field, the
    CSRF check reads the form first, and the upload still finds its file."""
    dossier = world.formation()
    formateur = world.team.formateurs[0]
    api.container.accounts.set_password(formateur, "un mot de passe solide")
    email = api.get("/api/v1/auth/me", formateur).json()["email"]
    client = api.client
    login = client.post(
        "/api/v1/auth/login", json={"email": email, "password": "un mot de passe solide"}
    )
    assert login.status_code == 200, login.text
    pdf = _tiny_pdf("Formulaire")
    files = {"file": ("liste.pdf", pdf, "application/pdf")}
    path = url(dossier, "documents")
    data = {"kind": "emargement", "csrf_token": login.json()["csrf_token"]}
    accepted = client.post(path, data=data, files=files)
    assert accepted.status_code == 201, accepted.text
    assert accepted.json()["content_type"] == "application/pdf"
    assert client.get(f"{path}/{accepted.json()['id']}").content == pdf
    client.post("/api/v1/auth/logout", headers={"X-CSRF-Token": data["csrf_token"]})
