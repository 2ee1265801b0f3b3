"""Uploaded documents: read within a size limit, recognised by content, safely named.

Neither a file's name nor the Content-Type a client sends proves what it is; its first
bytes do (and, for office documents, the directory of the ZIP archive they are). Only the
formats a dossier needs are accepted: PDF, ODT, DOCX, XLSX, PNG and JPEG. The name must
agree with the content, so that nobody downloads ``liste.pdf`` and opens something else.

The multipart body is parsed here, as it streams in, rather than by Starlette: Starlette
would first copy a file of any size to a temporary file. Here the file's bytes go to a
staged file under the data directory (``workflow.dossiers.files``) only up to the limit,
and reading stops at the first byte beyond it; the staged file is deleted on any refusal.
A browser form's CSRF token (``csrf_token``, which the page puts before the file) is
checked as soon as it is read, before any byte of the file is.
"""

from __future__ import annotations

import hmac
import re
import unicodedata
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, BinaryIO
from urllib.parse import quote

from pydantic import ValidationError
from python_multipart.exceptions import FormParserError
from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.requests import Request

from api.problems import ApiProblem, french_errors
from workflow.dossiers.files import StagedFile
from workflow.dossiers.inputs import DocumentInput
from workflow.language.vocabulary import DOCUMENT_KINDS

if TYPE_CHECKING:
    from python_multipart.multipart import MultipartCallbacks


@dataclass(frozen=True, slots=True)
class FileType:
    content_type: str
    extensions: tuple[str, ...]
    label: str
    """French, as in « le contenu est un document PDF »."""


PDF = FileType("application/pdf", (".pdf",), "un document PDF")
ODT = FileType("application/vnd.oasis.opendocument.text", (".odt",), "un texte OpenDocument")
DOCX = FileType(
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    (".docx",),
    "un document Word (DOCX)",
)
XLSX = FileType(
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    (".xlsx",),
    "un classeur Excel (XLSX)",
)
PNG = FileType("image/png", (".png",), "une image PNG")
JPEG = FileType("image/jpeg", (".jpg", ".jpeg"), "une image JPEG")
ACCEPTED: tuple[FileType, ...] = (PDF, ODT, DOCX, XLSX, PNG, JPEG)
ACCEPTED_LABEL = "PDF, ODT, DOCX, XLSX, PNG ou JPEG"

MAX_FILENAME = 255
FIELD_LIMIT = 4096
"""Bytes allowed in a text field of the form (the document kind, a CSRF token)."""
MAX_PARTS = 8
FORM_OVERHEAD = 64 * 1024
"""Bytes a well-formed request needs beyond the file itself: boundaries, part headers, the
text fields. A declared Content-Length above limit + overhead is refused before reading."""
FORM_FIELDS = frozenset({"kind", "file", "csrf_token"})


# Recognising the content -----------------------------------------------------------------


def sniff(head: bytes, path: Path | BinaryIO) -> FileType | None:
    """The accepted type the file at ``path`` (which starts with ``head``) really is, or
    None. ``path`` may be an open binary file (a small upload read whole)."""
    if head.startswith(b"%PDF-"):
        return PDF
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if head.startswith(b"\xff\xd8\xff"):
        return JPEG
    if head.startswith(b"PK\x03\x04"):
        return _office_document(path)
    return None


def _office_document(path: Path | BinaryIO) -> FileType | None:
    """ODT, DOCX or XLSX, told apart by the archive's directory (never by extracting it)."""
    try:
        with zipfile.ZipFile(path) as archive:
            entries = archive.infolist()
            if entries and entries[0].filename == "mimetype":
                # OpenDocument: the first entry names the type. Only a text document is
                # accepted, not its siblings (spreadsheet, template, master document).
                if entries[0].file_size > 200:
                    return None
                declared = archive.read(entries[0]).decode("ascii", "replace").strip()
                return ODT if declared == ODT.content_type else None
            names = {entry.filename for entry in entries}
    except Exception:
        # Any failure to read the archive (damaged, encrypted, odd compression) only means
        # that this is not a document we recognise; a crafted upload must not become a 500.
        return None
    word, excel = "word/document.xml" in names, "xl/workbook.xml" in names
    if word and not excel:
        return DOCX
    if excel and not word:
        return XLSX
    return None


def clean_filename(raw: str) -> str:
    """The name to store and to offer on download: no directories, no control or
    invisible formatting characters (a right-to-left override can disguise ``.exe`` as
    ``.pdf``), no leading dots, at most 255 characters with the extension kept."""
    name = unicodedata.normalize("NFC", raw).replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(
        ch for ch in name if unicodedata.category(ch)[0] != "C" and ch not in "\u2028\u2029"
    )
    name = name.strip().lstrip(". ").rstrip(". ")
    if len(name) > MAX_FILENAME:
        suffix = PurePosixPath(name).suffix
        suffix = suffix if len(suffix) <= 16 else ""
        name = name[: MAX_FILENAME - len(suffix)].rstrip() + suffix
    return name


def extension(filename: str) -> str:
    return PurePosixPath(filename).suffix.lower()


def check_type(filename: str, staged: StagedFile) -> FileType:
    """The detected type of an upload; 415 when it is not accepted or its name lies."""
    detected = sniff(staged.head, staged.path)
    if detected is None:
        raise ApiProblem(
            415,
            "type-de-fichier-refuse",
            f"Ce fichier n'est pas d'un type accepté ({ACCEPTED_LABEL}). Le type est reconnu "
            "d'après le contenu du fichier, pas d'après son nom.",
        )
    if extension(filename) not in detected.extensions:
        expected = " ou ".join(detected.extensions)
        found = extension(filename) or "aucune extension"
        raise ApiProblem(
            415,
            "type-de-fichier-refuse",
            f"Le nom du fichier ne correspond pas à son contenu : le contenu est "
            f"{detected.label}, mais le nom se termine par « {found} ». Renommez-le en "
            f"{expected} ou déposez le bon fichier.",
        )
    return detected


def too_large(limit: int) -> ApiProblem:
    return ApiProblem(
        413,
        "fichier-trop-volumineux",
        f"Le fichier dépasse la taille maximale autorisée ({_size_fr(limit)}).",
    )


def _size_fr(size: int) -> str:
    if size >= 1024 * 1024:
        text = f"{size / (1024 * 1024):.1f}".replace(".", ",").removesuffix(",0")
        return f"{text} Mio"
    if size >= 1024:
        return f"{size // 1024} Kio"
    return f"{size} octets"


# Downloading ------------------------------------------------------------------------------


def content_disposition(filename: str) -> str:
    """``attachment`` with the name encoded per RFC 5987 (``filename*``), and a plain ASCII
    fallback for old clients. Every byte that could end or extend the header (quotes,
    semicolons, CR, LF) is percent-encoded or dropped, whatever the stored name holds."""
    ascii_name = unicodedata.normalize("NFKD", filename).encode("ascii", "ignore").decode()
    fallback = "".join(ch if ch.isalnum() or ch in "._- " else "_" for ch in ascii_name)
    fallback = fallback.strip(" .") or "document"
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


# Reading the form --------------------------------------------------------------------------


@dataclass
class UploadForm:
    """The fields of an upload form and its one file (``filename`` None: sent unnamed),
    received into ``staged``. Whoever reads the form discards ``staged`` unless it hands
    it to ``DossierEditor.add_document``, which stores or deletes it."""

    fields: dict[str, str] = field(default_factory=dict)
    has_file: bool = False
    filename: str | None = None
    staged: StagedFile | None = None

    @property
    def size(self) -> int:
        return 0 if self.staged is None else self.staged.size

    def discard(self) -> None:
        if self.staged is not None:
            self.staged.discard()

    def take_bytes(self) -> bytes:
        """The whole file in memory, and the staged copy gone: for small files that are
        parsed, not stored (a PAF spreadsheet)."""
        if self.staged is None:
            return b""
        try:
            return self.staged.path.read_bytes()
        finally:
            self.discard()


def _invalid(detail: str) -> ApiProblem:
    return ApiProblem(422, "saisie-invalide", detail)


def _malformed(detail: str) -> ApiProblem:
    return ApiProblem(400, "requete-invalide", detail)


def _csrf_refused() -> ApiProblem:
    return ApiProblem(
        403, "jeton-csrf", "Jeton anti-CSRF manquant ou invalide : rechargez la page."
    )


def _text(raw: bytes) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


class _FormReader:
    """Callbacks of the streaming multipart parser; raise as soon as a limit is passed."""

    def __init__(
        self, limit: int, data_dir: Path, csrf: str | None, fields: frozenset[str] = FORM_FIELDS
    ) -> None:
        self.limit = limit
        self.data_dir = data_dir
        self.csrf = csrf
        """The session's CSRF token when the form must carry it (cookie session), else None."""
        self.fields = fields | {"csrf_token"}
        self.form = UploadForm()
        self.finished = False
        self._parts = 0
        self._header_name = bytearray()
        self._header_value = bytearray()
        self._disposition = b""
        self._name = ""
        self._is_file = False
        self._value = bytearray()

    def callbacks(self) -> MultipartCallbacks:
        return {
            "on_part_begin": self.on_part_begin,
            "on_header_field": self.on_header_field,
            "on_header_value": self.on_header_value,
            "on_header_end": self.on_header_end,
            "on_headers_finished": self.on_headers_finished,
            "on_part_data": self.on_part_data,
            "on_part_end": self.on_part_end,
            "on_end": self.on_end,
        }

    def on_part_begin(self) -> None:
        self._parts += 1
        if self._parts > MAX_PARTS:
            raise _invalid("Le formulaire contient trop de champs.")
        self._disposition = b""
        self._name = ""
        self._is_file = False
        self._value = bytearray()

    def on_header_field(self, data: bytes, start: int, end: int) -> None:
        self._header_name += data[start:end]

    def on_header_value(self, data: bytes, start: int, end: int) -> None:
        self._header_value += data[start:end]

    def on_header_end(self) -> None:
        if bytes(self._header_name).strip().lower() == b"content-disposition":
            self._disposition = bytes(self._header_value)
        self._header_name = bytearray()
        self._header_value = bytearray()

    def on_headers_finished(self) -> None:
        _, options = parse_options_header(self._disposition)
        if b"name" not in options:
            raise _malformed("Une partie du formulaire n'a pas de nom (Content-Disposition).")
        self._name = _text(options[b"name"])
        if self._name not in self.fields:
            raise _invalid(f"Champ inconnu dans le formulaire : « {self._name[:64]} ».")
        self._is_file = self._name == "file"
        if self._is_file:
            if self.csrf is not None:
                # The token must come, and be right, before any byte of the file is read.
                raise _csrf_refused()
            if self.form.has_file:
                raise _invalid("Un seul fichier par dépôt.")
            self.form.has_file = True
            filename = options.get(b"filename")
            self.form.filename = None if filename is None else _text(filename)
            self.form.staged = StagedFile.create(self.data_dir)
        elif self._name in self.form.fields:
            raise _invalid(f"Le champ « {self._name} » est en double.")

    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        if self._is_file:
            staged = self.form.staged
            assert staged is not None
            if staged.size + (end - start) > self.limit:
                raise too_large(self.limit)
            staged.write(data[start:end])
        else:
            if len(self._value) + (end - start) > FIELD_LIMIT:
                raise _invalid(f"Le champ « {self._name} » est trop long.")
            self._value += data[start:end]

    def on_part_end(self) -> None:
        if not self._is_file:
            value = _text(bytes(self._value))
            self.form.fields[self._name] = value
            if self._name == "csrf_token" and self.csrf is not None:
                if not value or not hmac.compare_digest(value.encode(), self.csrf.encode()):
                    raise _csrf_refused()
                self.csrf = None

    def on_end(self) -> None:
        self.finished = True


UPLOAD_ROUTES = (
    r"/(api/v1/)?dossiers/[0-9]+/documents",
    r"/paf",
    r"/api/v1/paf/imports",
)
"""The routes that read a multipart body themselves (``read_upload_form``), as it streams,
within their own limit, checking a form's CSRF token there, before the file. A route that
calls ``read_upload_form`` must be listed here (``tests/api/test_upload_safety.py``)."""
UPLOAD_PATH = re.compile("^(?:" + "|".join(UPLOAD_ROUTES) + ")$")

CSRF_PENDING = "formaflow.csrf_in_upload"
"""Request-scope key: the session's CSRF token, left by ``api.deps.current_principal`` for
the upload form to check as it streams (a browser form cannot send X-CSRF-Token)."""


async def read_upload_form(
    request: Request, limit: int, data_dir: Path, fields: frozenset[str] = FORM_FIELDS
) -> UploadForm:
    """The form of an upload request, its file staged under ``data_dir`` and at most
    ``limit`` bytes; the caller owns the staged file (``UploadForm.discard``, or
    ``take_bytes`` for a small file read whole). ``fields`` are the names it may have (a
    document's by default, ``file`` among them).

    413 as soon as the file passes the limit (or the declared body is far beyond it),
    415 for a body that is not ``multipart/form-data``, 400 for a broken one, 403 when a
    cookie session's form does not carry its CSRF token before the file. Nothing stays on
    disk after a refusal.
    """
    media_type, params = parse_options_header(request.headers.get("content-type", ""))
    if media_type != b"multipart/form-data":
        raise ApiProblem(
            415,
            "requete-invalide",
            "Envoyez le document en multipart/form-data, avec les champs « kind » et « file ».",
        )
    boundary = params.get(b"boundary")
    if not boundary:
        raise _malformed("L'en-tête Content-Type ne donne pas de délimiteur (boundary).")
    declared = request.headers.get("content-length", "")
    if (
        declared.isascii()
        and declared.isdigit()
        and (len(declared) > 18 or int(declared) > limit + FORM_OVERHEAD)
    ):
        raise too_large(limit)
    csrf = request.scope.get(CSRF_PENDING)
    reader = _FormReader(limit, data_dir, csrf if isinstance(csrf, str) else None, fields)
    try:
        parser = MultipartParser(boundary, reader.callbacks())
        async for chunk in request.stream():
            parser.write(chunk)
        parser.finalize()
        if reader.csrf is not None:
            raise _csrf_refused()
        if not reader.finished:
            raise _malformed("Le corps multipart de la requête est incomplet.")
    except FormParserError as error:
        reader.form.discard()
        raise _malformed("Le corps multipart de la requête est mal formé.") from error
    except BaseException:
        reader.form.discard()
        raise
    return reader.form


# Checking what the form describes -------------------------------------------------------


def document_from(form: UploadForm) -> DocumentInput:
    """What an upload form describes, checked once for the API and the pages alike: a known
    kind, one named non-empty file whose content is an accepted type that its name agrees
    with. Refusals are ``ApiProblem`` (422, or 415 for the type) with a French message,
    which the API answers as problem+json and a page shows next to the file field."""
    kind = form.fields.get("kind", "")
    if kind not in DOCUMENT_KINDS:
        raise _invalid(
            f"Type de document inconnu : choisissez parmi {', '.join(DOCUMENT_KINDS.values())}."
        )
    if form.staged is None or not (form.filename or form.size):
        # A browser sends an unnamed empty part when nothing was chosen.
        raise _invalid("Choisissez un fichier à déposer.")
    filename = clean_filename(form.filename or "")
    if not filename:
        raise _invalid("Le fichier déposé n'a pas de nom.")
    if not form.size:
        raise _invalid("Le fichier déposé est vide : choisissez un fichier non vide.")
    detected = check_type(filename, form.staged)
    try:
        return DocumentInput(kind=kind, filename=filename, content_type=detected.content_type)
    except ValidationError as error:
        errors = french_errors(error.errors())
        detail = "Le document est invalide : " + " ; ".join(e.message for e in errors) + "."
        raise ApiProblem(422, "saisie-invalide", detail, errors=errors) from error
