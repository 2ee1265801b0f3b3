"""Sign-in and sign-out pages: ``/connexion`` (local account, OIDC button when configured),
``/deconnexion``, and ``/`` which sends each person to their main page.

The sign-in form is protected against login CSRF by a double-submit token: a random value
in a cookie and in the form, which another site can neither read nor set.
"""

from __future__ import annotations

import hmac
import secrets
from typing import Annotated

from fastapi import APIRouter, Form, Query, Request, Response
from fastapi.responses import RedirectResponse
from starlette.concurrency import run_in_threadpool

from api.deps import SESSION_COOKIE, Wired, set_session_cookie
from api.oidc import LOGIN_PATH
from api.pages.errors import PageRoute
from api.pages.flash import Flash, set_flash
from api.pages.rendering import render
from api.pages.viewer import MaybeSeen, Seen
from api.problems import ApiProblem

router = APIRouter(route_class=PageRoute, include_in_schema=False)

LOGIN_CSRF_COOKIE = "formaflow_login_csrf"
LOGIN_CSRF_SECONDS = 3600


def safe_next(target: str | None) -> str:
    """Only a path of this site: ``/x``, never ``//host``, ``/\\host`` or a scheme."""
    if (
        not target
        or not target.startswith("/")
        or target.startswith(("//", "/\\"))
        or any(ord(c) < 32 or c == "\\" for c in target)
    ):
        return "/"
    return target


def _form(
    request: Request,
    wired: Wired,
    *,
    suivant: str,
    email: str = "",
    errors: list[tuple[str, str]] | None = None,
    field_errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    token = secrets.token_urlsafe(24)
    response = render(
        request,
        "pages/connexion.html",
        {
            "page_title": "Connexion",
            "suivant": suivant,
            "email": email,
            "login_csrf": token,
            "errors": errors or [],
            "field_errors": field_errors or {},
            "oidc_enabled": wired.api_settings.oidc_enabled,
            "oidc_label": wired.api_settings.oidc_label,
            "oidc_path": LOGIN_PATH,
        },
        status_code=status_code,
    )
    response.set_cookie(
        LOGIN_CSRF_COOKIE,
        token,
        max_age=LOGIN_CSRF_SECONDS,
        path="/connexion",
        httponly=True,
        samesite="strict",
        secure=wired.api_settings.cookie_secure,
    )
    return response


@router.get("/connexion")
def login_page(
    request: Request, wired: Wired, suivant: Annotated[str | None, Query(max_length=500)] = None
) -> Response:
    return _form(request, wired, suivant=safe_next(suivant))


@router.post("/connexion")
async def login(
    request: Request,
    wired: Wired,
    email: Annotated[str, Form(max_length=320)] = "",
    password: Annotated[str, Form(max_length=1000)] = "",
    login_csrf: Annotated[str, Form(max_length=100)] = "",
    suivant: Annotated[str, Form(max_length=500)] = "/",
) -> Response:
    target = safe_next(suivant)
    expected = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    if not expected or not hmac.compare_digest(login_csrf.encode(), expected.encode()):
        message = "Le formulaire a expiré : saisissez de nouveau vos identifiants."
        return _form(
            request, wired, suivant=target, email=email, errors=[("", message)], status_code=403
        )
    field_errors = {}
    if not email.strip():
        field_errors["email"] = "Saisissez votre adresse électronique."
    if not password:
        field_errors["mot-de-passe"] = "Saisissez votre mot de passe."
    if field_errors:
        return _form(
            request,
            wired,
            suivant=target,
            email=email,
            errors=list(field_errors.items()),
            field_errors=field_errors,
            status_code=422,
        )
    client = request.client.host if request.client else "inconnu"
    try:
        person_id = await run_in_threadpool(wired.accounts.authenticate, email, password, client)
    except ApiProblem as problem:
        return _form(
            request,
            wired,
            suivant=target,
            email=email,
            errors=[("", problem.detail)],
            status_code=problem.status,
        )
    token, _ = await run_in_threadpool(wired.accounts.open_session, person_id)
    response = RedirectResponse(target, status_code=303)
    set_session_cookie(response, wired, token)
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/connexion")
    return response


@router.get("/deconnexion")
def logout_page(request: Request, viewer: Seen) -> Response:
    return render(request, "pages/deconnexion.html", {"page_title": "Se déconnecter"})


@router.post("/deconnexion")
async def logout(request: Request, viewer: Seen, wired: Wired) -> Response:
    if viewer.principal.session_id is not None:
        await run_in_threadpool(wired.accounts.close_session, viewer.principal.session_id)
    response = RedirectResponse("/connexion", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    set_flash(request, response, Flash("info", "Vous êtes déconnecté."))
    return response


@router.get("/")
def home(viewer: Seen) -> Response:
    return RedirectResponse(viewer.home, status_code=303)


@router.get("/accessibilite")
def accessibility(request: Request, viewer: MaybeSeen, wired: Wired) -> Response:
    return render(
        request, "pages/accessibilite.html", {"page_title": "Déclaration d'accessibilité"}
    )
