"""RFC 9457 problem details, in French, for every error the API can answer.

Each problem has a stable ``type`` (``/api/problemes/<code>``) that a client can branch on,
a French ``title`` and ``detail`` for a person, and the extra members that help fix the
request: ``missing`` for a failed guard, ``valid_triggers``, ``errors`` per field.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from workflow.engine.errors import (
    DossierNotFound,
    GuardFailed,
    InvalidInput,
    NotPermitted,
    PersonNotFound,
    StaleVersion,
    TriggerNotAvailable,
    WorkflowError,
)

log = logging.getLogger("formaflow.api")

PROBLEM_JSON = "application/problem+json"


class FieldError(BaseModel):
    field: str
    message: str


class Problem(BaseModel):
    type: str
    title: str
    status: int
    detail: str
    instance: str | None = None
    missing: list[str] | None = None
    valid_triggers: list[str] | None = None
    errors: list[FieldError] | None = None


TITLES: dict[str, str] = {
    "requete-invalide": "Requête invalide",
    "authentification-requise": "Authentification requise",
    "identifiants-invalides": "Identifiants invalides",
    "acces-refuse": "Accès refusé",
    "jeton-csrf": "Jeton anti-CSRF manquant ou invalide",
    "introuvable": "Ressource introuvable",
    "methode-non-permise": "Méthode non permise",
    "conflit": "Conflit",
    "requete-en-cours": "Requête déjà en cours",
    "version-perimee": "Version périmée",
    "fichier-trop-volumineux": "Fichier trop volumineux",
    "corps-trop-volumineux": "Requête trop volumineuse",
    "type-de-fichier-refuse": "Type de fichier refusé",
    "saisie-invalide": "Saisie invalide",
    "conditions-non-remplies": "Conditions non remplies",
    "if-match-requis": "En-tête If-Match requis",
    "trop-de-tentatives": "Trop de tentatives",
    "erreur-interne": "Erreur interne",
    "dossier-introuvable": "Dossier introuvable",
    "personne-introuvable": "Personne introuvable",
    "action-indisponible": "Action indisponible",
    "action-non-autorisee": "Action non autorisée",
    "cle-idempotence-reutilisee": "Clé d'idempotence réutilisée",
    "fournisseur-indisponible": "Fournisseur d'identité indisponible",
}


def problem_responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    """The ``responses=`` of a route: these statuses answer a Problem, as problem+json."""
    return {code: {"model": Problem, "content": {PROBLEM_JSON: {}}} for code in codes}


class ApiProblem(Exception):
    """Raised by the edges for HTTP-level problems (authentication, headers, uploads)."""

    def __init__(
        self,
        status: int,
        code: str,
        detail: str,
        headers: dict[str, str] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(detail)
        self.status, self.code, self.detail = status, code, detail
        self.headers = headers or {}
        self.extra = extra


def problem(
    status: int,
    code: str,
    detail: str,
    request: Request | None = None,
    headers: Mapping[str, str] | None = None,
    **extra: Any,
) -> JSONResponse:
    body = Problem(
        type=f"/api/problemes/{code}",
        title=TITLES.get(code, code),
        status=status,
        detail=detail,
        instance=str(request.url.path) if request is not None else None,
        **extra,
    )
    return JSONResponse(
        body.model_dump(exclude_none=True),
        status_code=status,
        media_type=PROBLEM_JSON,
        headers=headers,
    )


def _workflow_status(error: WorkflowError) -> tuple[int, dict[str, Any]]:
    if isinstance(error, DossierNotFound | PersonNotFound):
        return 404, {}
    if isinstance(error, TriggerNotAvailable):
        return 409, {"valid_triggers": error.valid}
    if isinstance(error, NotPermitted):
        return 403, {}
    if isinstance(error, GuardFailed):
        return 422, {"missing": error.reasons}
    if isinstance(error, StaleVersion):
        return 412, {}
    if isinstance(error, InvalidInput):
        fields = [FieldError(field=error.field, message=error.message)] if error.field else None
        return 422, {"errors": fields}
    return 400, {}


_PYDANTIC_FR = {
    "missing": "champ obligatoire",
    "extra_forbidden": "champ inconnu",
    "int_parsing": "nombre entier attendu",
    "int_type": "nombre entier attendu",
    "decimal_parsing": "nombre décimal attendu",
    "decimal_type": "nombre décimal attendu",
    "float_parsing": "nombre attendu",
    "bool_parsing": "booléen attendu (true ou false)",
    "bool_type": "booléen attendu (true ou false)",
    "string_type": "texte attendu",
    "date_parsing": "date attendue (AAAA-MM-JJ)",
    "date_from_datetime_parsing": "date attendue (AAAA-MM-JJ)",
    "datetime_parsing": "date et heure attendues (ISO 8601 avec fuseau)",
    "datetime_from_date_parsing": "date et heure attendues (ISO 8601 avec fuseau)",
    "json_invalid": "JSON invalide",
    "model_attributes_type": "objet JSON attendu",
    "dict_type": "objet JSON attendu",
    "list_type": "liste attendue",
    "string_too_short": "texte trop court",
    "string_too_long": "texte trop long",
    "too_long": "trop d'éléments",
    "greater_than_equal": "valeur trop petite",
    "greater_than": "valeur trop petite",
    "less_than_equal": "valeur trop grande",
    "less_than": "valeur trop grande",
    "decimal_max_places": "deux décimales au plus",
    "decimal_max_digits": "nombre trop grand",
    "string_pattern_mismatch": "format invalide",
    "literal_error": "valeur non autorisée",
    "enum": "valeur non autorisée",
    "uuid_parsing": "identifiant invalide",
    "finite_number": "nombre fini attendu",
    "string_unicode": "texte invalide (caractère Unicode non représentable)",
    "string_sub_type": "texte attendu",
    "int_from_float": "nombre entier attendu",
    "date_type": "date attendue (AAAA-MM-JJ)",
    "date_from_datetime_inexact": "date attendue (AAAA-MM-JJ)",
    "datetime_type": "date et heure attendues (ISO 8601 avec fuseau)",
    "value_error": "valeur invalide",
    "date_past": "date passée attendue",
    "date_future": "date future attendue",
    "timezone_aware": "l'heure doit préciser son fuseau horaire",
    "timezone_naive": "heure sans fuseau attendue",
    "url_parsing": "adresse web invalide",
    "url_scheme": "adresse web invalide",
    "multiple_of": "valeur non autorisée",
    "too_short": "pas assez d'éléments",
    "frozen_set_type": "liste attendue",
    "set_type": "liste attendue",
    "tuple_type": "liste attendue",
    "int_parsing_size": "nombre trop grand",
}


def french_errors(errors: Any) -> list[FieldError]:
    result = []
    for error in errors:
        location = [str(p) for p in error.get("loc", ()) if p not in ("body", "query", "path")]
        kind = str(error.get("type", ""))
        if kind == "value_error":
            message = str(error.get("msg", "")).removeprefix("Value error, ")
        else:
            # An error kind without a French wording says so in French, never in English.
            message = _PYDANTIC_FR.get(kind, "valeur invalide")
        result.append(FieldError(field=".".join(location) or "requête", message=message))
    return result


def response_for(error: WorkflowError | ApiProblem, request: Request) -> JSONResponse:
    if isinstance(error, ApiProblem):
        return problem(
            error.status, error.code, error.detail, request, error.headers, **error.extra
        )
    status, extra = _workflow_status(error)
    return problem(status, error.code, error.message, request, **extra)


METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


def allowed_methods(request: Request) -> str:
    """Every method some route answers at this path, for the ``Allow`` of a 405 (Starlette
    names only the methods of the first route whose path matched): each method is tried
    against the app's routes as they would route it."""
    allowed = [
        method
        for method in METHODS
        if any(
            route.matches({**request.scope, "method": method})[0] is Match.FULL
            for route in request.app.router.routes
        )
    ]
    return ", ".join(allowed)


def install(app: FastAPI) -> None:
    @app.exception_handler(WorkflowError)
    async def _workflow(request: Request, error: WorkflowError) -> JSONResponse:
        return response_for(error, request)

    @app.exception_handler(ApiProblem)
    async def _api(request: Request, error: ApiProblem) -> JSONResponse:
        return response_for(error, request)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, error: RequestValidationError) -> JSONResponse:
        errors = french_errors(error.errors())
        detail = " ; ".join(f"{e.field} : {e.message}" for e in errors)
        return problem(
            422,
            "saisie-invalide",
            f"La requête contient des erreurs : {detail}.",
            request,
            errors=errors,
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, error: StarletteHTTPException) -> JSONResponse:
        codes = {
            404: ("introuvable", "Cette adresse n'existe pas."),
            405: ("methode-non-permise", "Cette méthode n'est pas permise ici."),
            400: ("requete-invalide", "La requête est mal formée."),
            401: ("authentification-requise", "Connectez-vous pour continuer."),
            403: ("acces-refuse", "Accès refusé."),
            413: ("corps-trop-volumineux", str(error.detail)),
        }
        code, detail = codes.get(error.status_code, ("requete-invalide", str(error.detail)))
        headers = dict(error.headers or {})
        if error.status_code == 405:
            headers["Allow"] = allowed_methods(request)
        return problem(error.status_code, code, detail, request, headers=headers)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, error: Exception) -> JSONResponse:
        log.exception("unexpected error on %s %s", request.method, request.url.path)
        return problem(
            500,
            "erreur-interne",
            "Une erreur inattendue est survenue ; elle a été journalisée.",
            request,
        )
