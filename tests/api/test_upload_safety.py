"""Uploads and request bodies that must be refused without being read or leaving a file.

The app is called as an ASGI application, with a ``receive`` that counts what the app
pulls from the client: « stop reading at the limit » is then a number of chunks, not a
guess about timing.
"""

from __future__ import annotations

import asyncio
import html
import inspect
import os
import re
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import fastapi.routing
import pytest
from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError
from starlette.types import Message

from api.app import create_app
from api.deps import SESSION_COOKIE
from api.settings import ApiSettings
from api.uploads import UPLOAD_PATH
from api.wiring import Container
from tests.conftest import World
from tests.support.cli import run_cli
from workflow.demo import _tiny_pdf
from workflow.dossiers.inputs import DocumentInput
from workflow.store.settings import WorkflowSettings

BOUNDARY = "limite-XyZ"
CHUNK = 1000


@dataclass
class Answer:
    status: int
    body: bytes
    headers: dict[str, str]
    pulled: int
    """How many chunks of the body the app asked for."""
    pulled_bytes: int = 0
    sent: list[Message] = field(default_factory=list)


def call(
    container: Container,
    path: str,
    body: bytes,
    headers: dict[str, str],
    *,
    declare_length: bool = False,
    chunk: int = CHUNK,
) -> Answer:
    """POST ``body`` to the app in chunks of ``chunk`` bytes, counting what it pulls."""
    app = create_app(container)
    chunks = [body[i : i + chunk] for i in range(0, len(body), chunk)] or [b""]
    pulled = 0
    pulled_bytes = 0
    sent: list[Message] = []

    async def receive() -> Message:
        nonlocal pulled, pulled_bytes
        if pulled >= len(chunks):
            return {"type": "http.disconnect"}
        pulled += 1
        pulled_bytes += len(chunks[pulled - 1])
        return {
            "type": "http.request",
            "body": chunks[pulled - 1],
            "more_body": pulled < len(chunks),
        }

    async def send(message: Message) -> None:
        sent.append(message)

    raw = {k.lower(): v for k, v in headers.items()}
    if declare_length:
        raw.setdefault("content-length", str(len(body)))
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(k.encode(), v.encode()) for k, v in raw.items()] + [(b"host", b"testserver")],
        "client": ("198.51.100.7", 50000),
        "server": ("testserver", 80),
        "state": {},
    }
    asyncio.run(app(scope, receive, send))
    start = next(m for m in sent if m["type"] == "http.response.start")
    body_out = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    answer_headers = {k.decode(): v.decode() for k, v in start["headers"]}
    return Answer(start["status"], body_out, answer_headers, pulled, pulled_bytes, sent)


def multipart(parts: list[tuple[str, bytes, str | None]]) -> tuple[bytes, dict[str, str]]:
    """A multipart body of (name, value, filename) parts, in that order."""
    out = b""
    for name, value, filename in parts:
        disposition = f'form-data; name="{name}"' + (
            f'; filename="{filename}"' if filename is not None else ""
        )
        out += f"--{BOUNDARY}\r\nContent-Disposition: {disposition}\r\n".encode()
        if filename is not None:
            out += b"Content-Type: application/pdf\r\n"
        out += b"\r\n" + value + b"\r\n"
    out += f"--{BOUNDARY}--\r\n".encode()
    return out, {"content-type": f"multipart/form-data; boundary={BOUNDARY}"}


@pytest.fixture
def own(engine: Engine, tmp_path: Path) -> Container:
    """A container with a data directory of its own: every file it holds is this test's."""
    container = Container(
        WorkflowSettings(database_url="sqlite://", data_dir=tmp_path),
        ApiSettings(env="production", data_dir=tmp_path, base_url="http://testserver"),
    )
    container.__dict__["engine"] = engine
    return container


def documents_dir(data_dir: Path) -> Path:
    return data_dir / "documents"


def files_in(data_dir: Path) -> list[Path]:
    root = documents_dir(data_dir)
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def session(container: Container, person: int) -> tuple[dict[str, str], str]:
    token, csrf = container.accounts.open_session(person)
    return {"cookie": f"{SESSION_COOKIE}={token}"}, csrf


PDF = _tiny_pdf("Liste d'émargement").ljust(100 * CHUNK, b" ")


def unique_pdf() -> bytes:
    """Bytes no other test stored: files are content-addressed, rows shared by the suite."""
    return _tiny_pdf(f"Liste {uuid.uuid4().hex}")


# A refused upload writes nothing ------------------------------------------------------------


@pytest.mark.parametrize("path", ["/dossiers/{}/documents", "/api/v1/dossiers/{}/documents"])
def test_a_refused_upload_writes_nothing_and_reads_nothing(
    own: Container, world: World, path: str
) -> None:
    """On a dossier one may not see (the page used to store the file, then refuse), or
    may see without the right to deposit."""
    dossier = world.formation()
    for person, status in ((world.outsider, 404), (world.team.stagiaires[0], None)):
        cookie, csrf = session(own, person)
        body, headers = multipart(
            [
                ("csrf_token", csrf.encode(), None),
                ("kind", b"emargement", None),
                ("file", PDF, "liste.pdf"),
            ]
        )
        answer = call(own, path.format(dossier), body, cookie | headers)
        if status is not None:
            assert answer.status == status, answer.body
        else:
            assert answer.status == 403, answer.body
            page = html.unescape(answer.body.decode())
            assert "pour « déposer un document »" in page
        assert answer.pulled == 0, "refused before a byte of the body was read"
        assert files_in(own.settings.data_dir) == []


def test_an_accepted_page_upload_stores_one_file_and_its_row(own: Container, world: World) -> None:
    dossier = world.formation()
    cookie, csrf = session(own, world.team.formateurs[0])
    body, headers = multipart(
        [
            ("csrf_token", csrf.encode(), None),
            ("kind", b"emargement", None),
            ("file", PDF, "liste.pdf"),
        ]
    )
    answer = call(own, f"/dossiers/{dossier}/documents", body, cookie | headers)
    assert answer.status == 303, answer.body
    stored = files_in(own.settings.data_dir)
    assert [p.read_bytes() for p in stored] == [PDF]
    incoming = documents_dir(own.settings.data_dir) / ".incoming"
    assert not incoming.exists() or not any(incoming.iterdir())


def test_a_transaction_that_fails_after_the_file_was_placed_leaves_no_file(
    own: Container, world: World
) -> None:
    dossier = world.formation()
    data = DocumentInput(kind="emargement", filename="liste.pdf", content_type="application/pdf")
    with pytest.raises(IntegrityError):
        # An uploader who does not exist: the row's foreign key fails after the move.
        own.editor.add_document(dossier, data, unique_pdf(), uploaded_by=2**31 - 2)
    assert files_in(own.settings.data_dir) == []


def test_orphan_files_are_listed_then_removed(
    own: Container, world: World, database_url: str
) -> None:
    from workflow.dossiers.files import StagedFile, storage_key  # noqa: PLC0415

    dossier = world.formation()
    data_dir = own.settings.data_dir
    data = DocumentInput(kind="emargement", filename="liste.pdf", content_type="application/pdf")
    own.editor.add_document(dossier, data, unique_pdf(), uploaded_by=world.team.formateurs[0])
    kept = files_in(data_dir)
    stray = documents_dir(data_dir) / storage_key("ab" * 32)
    stray.parent.mkdir(parents=True, exist_ok=True)
    stray.write_bytes(b"nobody points here")
    interrupted = StagedFile.of_bytes(data_dir, b"half an upload")
    two_hours_ago = time.time() - 7200
    os.utime(interrupted.path, (two_hours_ago, two_hours_ago))
    in_progress = StagedFile.of_bytes(data_dir, b"still arriving")

    listed = run_cli(database_url, data_dir, "fichiers", "orphelins")
    assert listed.returncode == 0, listed.stderr
    assert str(stray) in listed.stdout and "sans document" in listed.stdout
    assert str(interrupted.path) in listed.stdout and "dépôt interrompu" in listed.stdout
    assert "2 fichier(s) orphelin(s)" in listed.stdout
    assert stray.exists() and interrupted.path.exists()

    removed = run_cli(database_url, data_dir, "fichiers", "orphelins", "--supprimer")
    assert removed.returncode == 0, removed.stderr
    assert "2 fichier(s) supprimé(s)" in removed.stdout
    assert files_in(data_dir) == sorted([*kept, in_progress.path])


# Size limits and CSRF before the file ---------------------------------------------------


def test_a_cookie_upload_without_its_csrf_token_before_the_file_is_not_read(
    own: Container, world: World
) -> None:
    dossier = world.formation()
    cookie, csrf = session(own, world.team.formateurs[0])
    body, headers = multipart(
        [
            ("kind", b"emargement", None),
            ("file", PDF, "liste.pdf"),
            ("csrf_token", csrf.encode(), None),
        ]
    )
    answer = call(own, f"/api/v1/dossiers/{dossier}/documents", body, cookie | headers)
    assert answer.status == 403, answer.body
    assert b"jeton-csrf" in answer.body
    assert answer.pulled <= 2, f"{answer.pulled} chunks read before refusing"
    assert files_in(own.settings.data_dir) == []


def test_a_cookie_upload_stops_reading_at_the_limit(own: Container, world: World) -> None:
    own.api_settings.max_upload_bytes = 5 * CHUNK
    dossier = world.formation()
    cookie, csrf = session(own, world.team.formateurs[0])
    body, headers = multipart(
        [
            ("csrf_token", csrf.encode(), None),
            ("kind", b"emargement", None),
            ("file", PDF, "liste.pdf"),
        ]
    )
    answer = call(own, f"/api/v1/dossiers/{dossier}/documents", body, cookie | headers)
    assert answer.status == 413, answer.body
    assert answer.pulled <= 7, f"{answer.pulled} chunks of 100 read"
    assert files_in(own.settings.data_dir) == []
    declared = call(
        own,
        f"/api/v1/dossiers/{dossier}/documents",
        body,
        cookie | headers,
        declare_length=True,
    )
    assert declared.status == 413 and declared.pulled == 0


def test_a_json_body_is_refused_on_its_length_and_never_read_past_the_limit(
    own: Container, world: World
) -> None:
    own.api_settings.max_body_bytes = 64 * 1024
    token = own.accounts.create_token(world.team.pilote, "tests")
    auth = {"authorization": f"Bearer {token}", "content-type": "application/json"}
    big = b'{"title": "' + b"x" * (1024 * 1024) + b'", "academie": "demo"}'
    declared = call(own, "/api/v1/dossiers", big, auth, declare_length=True)
    assert declared.status == 413, declared.body
    assert b"corps-trop-volumineux" in declared.body
    assert "taille maximale" in declared.body.decode()
    assert declared.pulled == 0

    streamed = call(own, "/api/v1/dossiers", big, auth, chunk=4096)
    assert streamed.status == 413, streamed.body
    assert streamed.pulled_bytes <= 64 * 1024 + 4096

    small = b'{"title": "Petit", "academie": "inconnue-' + b"x" * 10 + b'"}'
    assert call(own, "/api/v1/dossiers", small, auth).status == 422


def test_a_page_form_is_never_read_past_the_limit(own: Container, world: World) -> None:
    own.api_settings.max_body_bytes = 64 * 1024
    dossier = world.formation()
    cookie, csrf = session(own, world.team.pilote)
    form = f"csrf_token={csrf}&titre=".encode() + b"x" * (1024 * 1024)
    headers = cookie | {"content-type": "application/x-www-form-urlencoded"}
    answer = call(own, f"/dossiers/{dossier}/planification", form, headers, chunk=4096)
    assert answer.status == 413, answer.body
    assert answer.pulled_bytes <= 64 * 1024 + 4096


def test_every_route_that_reads_an_upload_is_declared_as_one(own: Container) -> None:
    """A route reading its multipart body itself must be in ``UPLOAD_ROUTES``: else the
    body limit cuts its file at 2 MiB and the CSRF check reads the whole form first."""
    app = create_app(own)
    readers = []
    for route in fastapi.routing.iter_route_contexts(app.routes):
        endpoint = getattr(route, "endpoint", None)
        if endpoint is None or "POST" not in (getattr(route, "methods", None) or set()):
            continue
        if "read_upload_form(" in inspect.getsource(endpoint):
            readers.append(re.sub(r"\{[^}]+\}", "1", str(route.path)))
    assert readers, "no upload route found: the check itself is broken"
    assert [path for path in readers if not UPLOAD_PATH.match(path)] == []
