"""FastAPI dependencies: the container, the caller, and the CSRF check.

A request is authenticated by a bearer token (other systems) or by the session cookie (the
browser). Cookie-authenticated requests that change something must carry the session's
CSRF token in ``X-CSRF-Token`` (or a ``csrf_token`` form field): a page of another site can
make the browser send the cookie, never read the token.
"""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import Depends, Path, Request, Response
from starlette.concurrency import run_in_threadpool

from api.accounts import Principal
from api.problems import ApiProblem
from api.wiring import Container

SESSION_COOKIE = "formaflow_session"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def set_session_cookie(response: Response, container: Container, token: str) -> None:
    """The session cookie, the same whether one signed in locally or through OIDC."""
    settings = container.api_settings
    response.set_cookie(
        SESSION_COOKIE,
        token,
        httponly=True,
        samesite="lax",
        secure=settings.cookie_secure,
        max_age=settings.session_absolute_hours * 3600,
        path="/",
    )


async def get_container(request: Request) -> Container:
    """``async`` on purpose: FastAPI runs a plain ``def`` dependency in the thread pool, and
    that hop (a thread wake-up and a return to the event loop) cost more than all of this
    attribute read, on every request."""
    container = request.app.state.container
    assert isinstance(container, Container)
    return container


Wired = Annotated[Container, Depends(get_container)]


async def _csrf_from_form(request: Request) -> str | None:
    content_type = request.headers.get("content-type", "")
    if content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
        form = await request.form()
        value = form.get("csrf_token")
        return value if isinstance(value, str) else None
    return None


async def current_principal(request: Request, container: Wired) -> Principal:
    authorization = request.headers.get("authorization", "")
    if authorization.lower().startswith("bearer "):
        # The lookup is a database round trip: keep it off the event loop.
        principal = await run_in_threadpool(container.accounts.bearer, authorization[7:].strip())
        if principal is None:
            raise ApiProblem(
                401,
                "authentification-requise",
                "Jeton d'API invalide, expiré ou révoqué.",
                headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
            )
        return principal
    cookie = request.cookies.get(SESSION_COOKIE)
    principal = await run_in_threadpool(container.accounts.session, cookie) if cookie else None
    if principal is None:
        raise ApiProblem(
            401,
            "authentification-requise",
            "Connectez-vous (session) ou présentez un jeton d'API (Bearer).",
            headers={"WWW-Authenticate": "Bearer"},
        )
    if request.method not in SAFE_METHODS:
        sent = request.headers.get(CSRF_HEADER) or await _csrf_from_form(request)
        expected = principal.csrf_token or ""
        if not sent or not hmac.compare_digest(sent.encode(), expected.encode()):
            if "multipart/form-data" in request.headers.get("content-type", ""):
                # The form was parsed for its token: free its spooled files now.
                await (await request.form()).close()
            raise ApiProblem(
                403, "jeton-csrf", "Jeton anti-CSRF manquant ou invalide : rechargez la page."
            )
    return principal


Caller = Annotated[Principal, Depends(current_principal)]

RowId = Annotated[int, Path(ge=1, le=2**31 - 1)]
"""A row id in a path: bounded, so no input reaches the database as an overflow."""
