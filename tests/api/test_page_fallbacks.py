"""An unknown address is a French page for a person and problem+json for a program; one
upload check serves the API and the bilan page, so both refuse the same files alike."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from starlette.requests import Request

from api.pages.errors import wants_page
from api.problems import ApiProblem
from api.uploads import UploadForm, document_from
from tests.conftest import World
from tests.support.api import Api
from workflow.demo import _tiny_pdf
from workflow.dossiers.files import StagedFile

BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"


@pytest.mark.parametrize(
    "accept", [BROWSER_ACCEPT, "*/*", "", "text/html", "application/json;q=0.5, text/html"]
)
def test_an_unknown_browser_address_is_the_french_404_page(client: TestClient, accept: str) -> None:
    headers = {"Accept": accept} if accept else {}
    response = client.get("/nimporte-quoi", headers=headers)
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")
    assert '<html lang="fr"' in response.text
    assert "<h1>Page introuvable</h1>" in response.text
    assert "Cette adresse ne correspond à aucune page de formaflow." in response.text
    assert "Not Found" not in response.text


def test_a_wrong_method_on_a_page_is_a_french_405_page(client: TestClient) -> None:
    response = client.delete("/connexion", headers={"Accept": BROWSER_ACCEPT})
    assert response.status_code == 405
    assert response.headers["content-type"].startswith("text/html")
    assert "<h1>Méthode non permise</h1>" in response.text
    assert "GET" in response.headers["allow"]


@pytest.mark.parametrize(
    ("path", "accept"),
    [
        ("/api/v1/nimporte-quoi", BROWSER_ACCEPT),
        ("/api/nimporte-quoi", ""),
        ("/api", BROWSER_ACCEPT),
        ("/nimporte-quoi", "application/json"),
        ("/nimporte-quoi", "application/problem+json, text/html;q=0.5"),
    ],
)
def test_programs_keep_problem_json(client: TestClient, path: str, accept: str) -> None:
    headers = {"Accept": accept} if accept else {}
    response = client.get(path, headers=headers)
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["type"] == "/api/problemes/introuvable"
    assert body["detail"] == "Cette adresse n'existe pas."


def test_a_wrong_method_on_the_api_stays_problem_json(client: TestClient) -> None:
    response = client.delete("/api/v1/dossiers", headers={"Accept": BROWSER_ACCEPT})
    assert response.status_code == 405
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["type"] == "/api/problemes/methode-non-permise"


def test_probes_are_for_programs() -> None:
    def request(path: str, accept: str) -> Request:
        headers = [(b"accept", accept.encode())]
        return Request({"type": "http", "path": path, "headers": headers, "query_string": b""})

    assert not wants_page(request("/healthz/x", BROWSER_ACCEPT))
    assert not wants_page(request("/metrics/x", BROWSER_ACCEPT))
    assert wants_page(request("/apidoc", "*/*"))
    assert wants_page(request("/x", "application/json;q=0.8, text/html;q=0.9"))
    assert wants_page(request("/x", "application/json;q=nonsense, text/html;q=0.1"))


# The shared upload check -----------------------------------------------------------------

PDF = _tiny_pdf("Liste")
CASES = [
    # (fields, has_file, filename, content, status, message part)
    ({"kind": "facture"}, True, "a.pdf", PDF, 422, "Type de document inconnu"),
    ({"kind": "emargement"}, False, None, b"", 422, "Choisissez un fichier à déposer."),
    ({"kind": "emargement"}, True, "", b"", 422, "Choisissez un fichier à déposer."),
    ({"kind": "emargement"}, True, "\u202e..", PDF, 422, "n'a pas de nom"),
    ({"kind": "emargement"}, True, "vide.pdf", b"", 422, "est vide"),
    ({"kind": "emargement"}, True, "notes.txt", b"hello", 415, "pas d'un type accepté"),
    ({"kind": "emargement"}, True, "liste.png", PDF, 415, "ne correspond pas à son contenu"),
]


def _form(
    tmp_path: Path, fields: dict[str, str], has_file: bool, filename: str | None, content: bytes
) -> UploadForm:
    staged = StagedFile.of_bytes(tmp_path, content) if has_file else None
    return UploadForm(fields=fields, has_file=has_file, filename=filename, staged=staged)


@pytest.mark.parametrize(("fields", "has_file", "filename", "content", "status", "words"), CASES)
def test_document_from_refuses_in_french(
    tmp_path: Path,
    fields: dict[str, str],
    has_file: bool,
    filename: str | None,
    content: bytes,
    status: int,
    words: str,
) -> None:
    form = _form(tmp_path, fields, has_file, filename, content)
    with pytest.raises(ApiProblem) as raised:
        document_from(form)
    assert raised.value.status == status
    assert words in raised.value.detail


def test_document_from_keeps_the_detected_type_and_the_clean_name(tmp_path: Path) -> None:
    form = _form(tmp_path, {"kind": "emargement"}, True, "dir/../Liste .pdf", PDF)
    data = document_from(form)
    assert (data.kind, data.filename, data.content_type) == (
        "emargement",
        "Liste .pdf",
        "application/pdf",
    )


def _signed_in(api: Api, person: int) -> str:
    """Sign ``person`` in on the test client (cookie session); their CSRF token."""
    api.container.accounts.set_password(person, "un mot de passe solide")
    email = api.get("/api/v1/auth/me", person).json()["email"]
    login = api.client.post(
        "/api/v1/auth/login", json={"email": email, "password": "un mot de passe solide"}
    )
    assert login.status_code == 200, login.text
    token: str = login.json()["csrf_token"]
    return token


@pytest.mark.parametrize(
    ("kind", "filename", "content", "words"),
    [
        ("facture", "a.pdf", PDF, "Type de document inconnu"),
        ("emargement", "vide.pdf", b"", "est vide"),
        ("emargement", "liste.png", PDF, "ne correspond pas à son contenu"),
    ],
)
def test_the_api_and_the_bilan_page_refuse_the_same_upload_alike(
    world: World, api: Api, kind: str, filename: str, content: bytes, words: str
) -> None:
    dossier = world.formation()
    world.builder.drive(dossier, world.team, "realisee")
    formateur = world.team.formateurs[0]
    files = {"file": (filename, content, "application/octet-stream")}
    by_api = api.post(
        f"/api/v1/dossiers/{dossier}/documents", formateur, data={"kind": kind}, files=files
    )
    assert by_api.headers["content-type"] == "application/problem+json"
    detail = by_api.json()["detail"]
    assert words in detail

    csrf = _signed_in(api, formateur)
    by_page = api.client.post(
        f"/dossiers/{dossier}/documents", data={"kind": kind, "csrf_token": csrf}, files=files
    )
    assert by_page.status_code == 422
    assert by_page.headers["content-type"].startswith("text/html")
    shown = re.search(r'fr-message--error">([^<]*)</p>', by_page.text)
    assert shown is not None
    assert shown.group(1).replace("&#39;", "'").replace("&amp;", "&") == detail
    listed = api.get(f"/api/v1/dossiers/{dossier}/documents", formateur)
    assert listed.json() == []
