"""Errors on a page become French pages, never JSON and never a 500 with a traceback.

The API answers problem+json through the app's exception handlers; page routes use
``PageRoute``, which catches the same errors first and renders them for a person: not
signed in → redirect to the sign-in page, not visible → « page introuvable », a refused
action → its French message.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Callable, Coroutine
from typing import Any
from urllib.parse import quote

from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException as StarletteHTTPException

from api.pages.rendering import render
from api.pages.viewer import LoginRequired
from api.problems import ApiProblem, allowed_methods
from workflow.engine.errors import DossierNotFound, NotPermitted, PersonNotFound, WorkflowError
from workflow.engine.tasks import TaskNotFound

log = logging.getLogger("formaflow.pages")

NOT_FOUND = "La page demandée n'existe pas, ou vous n'avez pas accès à ce dossier."
UNKNOWN_ADDRESS = (
    "Cette adresse ne correspond à aucune page de formaflow. Vérifiez-la, ou repartez de l'accueil."
)
WRONG_METHOD = (
    "Cette page ne s'utilise pas ainsi (méthode non permise). Rouvrez-la depuis un lien de "
    "formaflow plutôt que depuis l'adresse."
)
MACHINE_PATHS = ("/api/", "/healthz", "/readyz", "/metrics")
"""Addresses read by programs: their errors stay RFC 9457 problem+json, whatever Accept."""


def login_redirect(request: Request) -> RedirectResponse:
    # After sign-in, come back to the page; a form post cannot be replayed, so its
    # sender lands on their home page instead.
    target = "/"
    if request.method == "GET":
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(f"/connexion?suivant={quote(target, safe='/')}", status_code=303)


def error_page(request: Request, status: int, title: str, detail: str) -> Response:
    return render(
        request,
        "pages/error.html",
        {"page_title": title, "status": status, "title": title, "detail": detail},
        status_code=status,
    )


def page_for(request: Request, error: Exception) -> Response:
    if isinstance(error, LoginRequired):
        return login_redirect(request)
    if isinstance(error, DossierNotFound | TaskNotFound | PersonNotFound):
        return error_page(request, 404, "Page introuvable", NOT_FOUND)
    if isinstance(error, NotPermitted):
        return error_page(request, 403, "Accès refusé", error.message)
    if isinstance(error, WorkflowError):
        return error_page(request, 409, "Action impossible", error.message)
    if isinstance(error, ApiProblem):
        if error.code == "jeton-csrf":
            return error_page(
                request,
                403,
                "Formulaire expiré",
                "Ce formulaire a expiré ou ne vient pas de cette application : "
                "rechargez la page puis recommencez.",
            )
        title = "Page introuvable" if error.status == 404 else "Action impossible"
        return error_page(request, error.status, title, error.detail)
    if isinstance(error, RequestValidationError):
        return error_page(request, 404, "Page introuvable", NOT_FOUND)
    if isinstance(error, StarletteHTTPException) and error.status_code == 404:
        return error_page(request, 404, "Page introuvable", NOT_FOUND)
    if isinstance(error, StarletteHTTPException) and error.status_code == 413:
        return error_page(request, 413, "Envoi trop volumineux", str(error.detail))
    log.exception("unexpected error on page %s %s", request.method, request.url.path)
    return error_page(
        request,
        500,
        "Erreur inattendue",
        "Une erreur inattendue est survenue ; elle a été journalisée. Réessayez plus tard.",
    )


def wants_page(request: Request) -> bool:
    """Whether an error for this request is read by a person in a browser: any address
    outside the API and the probes, unless the client prefers JSON to HTML."""
    path = request.url.path
    if path == "/api" or path.startswith(MACHINE_PATHS):
        return False
    return _prefers_html(request.headers.get("accept", ""))


def _prefers_html(accept: str) -> bool:
    """HTML unless JSON ranks strictly higher (no Accept, or ``*/*``, is a browser URL)."""
    html, json = 0.0, -1.0
    for item in accept.split(","):
        media, _, params = item.strip().partition(";")
        quality = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        media = media.strip().lower()
        if media in ("text/html", "application/xhtml+xml"):
            html = max(html, quality)
        elif media in ("application/json", "application/problem+json"):
            json = max(json, quality)
    return html >= json


def install_fallback(app: FastAPI) -> None:
    """Unknown addresses and wrong methods outside any route (Starlette's own 404 and 405)
    as French pages for people, leaving the API's problem+json handler for programs."""
    api_handler = app.exception_handlers[StarletteHTTPException]

    async def http_error(request: Request, error: Exception) -> Response:
        assert isinstance(error, StarletteHTTPException)
        if wants_page(request) and error.status_code in (404, 405):
            if error.status_code == 404:
                return error_page(request, 404, "Page introuvable", UNKNOWN_ADDRESS)
            page = error_page(request, 405, "Méthode non permise", WRONG_METHOD)
            page.headers["Allow"] = allowed_methods(request)
            return page
        answered = api_handler(request, error)
        return await answered if inspect.isawaitable(answered) else answered

    app.add_exception_handler(StarletteHTTPException, http_error)


class PageRoute(APIRoute):
    """A route whose errors are rendered as French pages (see the module docstring)."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def guarded(request: Request) -> Response:
            try:
                return await handler(request)
            except Exception as error:
                return page_for(request, error)

        return guarded
