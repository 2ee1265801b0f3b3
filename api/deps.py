"""FastAPI dependencies: the container, the caller, and the CSRF check.

A request is authenticated by a bearer token (other systems) or by the session cookie (the
browser). Cookie-authenticated requests that change something must carry the session's
CSRF token in ``X-CSRF-Token`` (or a ``csrf_token`` form field): a page of another site can
make the browser send the cookie, never read the token.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Path, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from starlette.concurrency import run_in_threadpool

from api.accounts import Principal
from api.problems import ApiProblem
from api.uploads import CSRF_PENDING, UPLOAD_PATH
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


def get_container_of(request: Request) -> Container:
    container = request.app.state.container
    assert isinstance(container, Container)
    return container


async def get_container(request: Request) -> Container:
    """``async`` on purpose: FastAPI runs a plain ``def`` dependency in the thread pool, and
    that hop (a thread wake-up and a return to the event loop) cost more than all of this
    attribute read, on every request."""
    return get_container_of(request)


Wired = Annotated[Container, Depends(get_container)]


async def _csrf_from_form(request: Request) -> str | None:
    content_type = request.headers.get("content-type", "")
    if content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
        form = await request.form()
        value = form.get("csrf_token")
        return value if isinstance(value, str) else None
    return None


def _bearer_token(request: Request) -> str | None:
    authorization = request.headers.get("authorization", "")
    if authorization.lower().startswith("bearer "):
        return authorization[7:].strip()
    return None


def bearer_principal(container: Container, token: str) -> Principal:
    """The holder of a bearer token, or 401. A database round trip: call it off the loop."""
    principal = container.accounts.bearer(token)
    if principal is None:
        raise ApiProblem(
            401,
            "authentification-requise",
            "Jeton d'API invalide, expiré ou révoqué.",
            headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
        )
    return principal


async def current_principal(request: Request, container: Wired) -> Principal:
    token = _bearer_token(request)
    if token is not None:
        # The lookup is a database round trip: keep it off the event loop.
        return await run_in_threadpool(bearer_principal, container, token)
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
        content_type = request.headers.get("content-type", "")
        if (
            CSRF_HEADER not in request.headers
            and content_type.startswith("multipart/form-data")
            and UPLOAD_PATH.match(request.url.path)
        ):
            # Parsing the form here would read the whole file before anything else.
            request.scope[CSRF_PENDING] = principal.csrf_token or ""
            return principal
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


_DEFERRED_BEARER = "formaflow.deferred_bearer"


@dataclass(frozen=True, slots=True)
class Credentials:
    """The caller of a route that does all its database work in one thread-pool call.

    A cookie session is resolved (and its CSRF token checked) by the dependency, as for
    ``Caller``; a bearer token only once the route is in the thread pool, by ``principal``,
    in the same hop as the work. Why: each hop to the thread pool and back cost more CPU
    than the token lookup itself, and a transition then took three (container, token,
    endpoint). Use with ``route_class_override=AuthenticatedFirst`` so that an invalid
    token still answers 401 before any 422, as on every other route.
    """

    token: str | None = None
    resolved: Principal | None = None

    def principal(self, container: Container) -> Principal:
        """Who is calling, or 401 (``ApiProblem``). Blocking: call it off the event loop."""
        if self.resolved is not None:
            return self.resolved
        assert self.token is not None
        return bearer_principal(container, self.token)


async def deferred_credentials(request: Request, container: Wired) -> Credentials:
    token = _bearer_token(request)
    if token is None:
        return Credentials(resolved=await current_principal(request, container))
    request.scope[_DEFERRED_BEARER] = token
    return Credentials(token=token)


DeferredCaller = Annotated[Credentials, Depends(deferred_credentials)]


class AuthenticatedFirst(APIRoute):
    """A route whose bearer token is checked late (``DeferredCaller``) still answers 401
    before 422: when FastAPI refuses the input after the dependency deferred a token, the
    token is checked first. (A body that is not JSON at all is refused before any
    dependency runs, here as on every route.)"""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def authenticated_first(request: Request) -> Response:
            try:
                return await handler(request)
            except RequestValidationError:
                token = request.scope.get(_DEFERRED_BEARER)
                if isinstance(token, str):
                    await run_in_threadpool(bearer_principal, get_container_of(request), token)
                raise

        return authenticated_first


RowId = Annotated[int, Path(ge=1, le=2**31 - 1)]
"""A row id in a path: bounded, so no input reaches the database as an overflow."""
