"""Sign-in through the OpenID Connect provider (ProConnect for state agents).

Browser navigations, not API calls: ``/auth/oidc/login`` sends the person to the provider,
which sends them back to ``/auth/oidc/callback``; on success the callback opens a session
exactly like the local login and sends the person to ``/``. Both answer 404 when no provider
is configured.
"""

from __future__ import annotations

import hmac
import logging
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import RedirectResponse
from starlette.concurrency import run_in_threadpool

from api.deps import Wired, set_session_cookie
from api.oidc import (
    CALLBACK_PATH,
    FLOW_COOKIE,
    FLOW_COOKIE_PATH,
    FLOW_MAX_AGE,
    LOGIN_PATH,
    FlowCookie,
    OidcClient,
)
from api.problems import ApiProblem, problem_responses, response_for

log = logging.getLogger("formaflow.oidc")

router = APIRouter(tags=["authentification"])

ERRORS = problem_responses(400, 401, 403, 404, 502)


def oidc_client(request: Request, wired: Wired) -> OidcClient:
    """The app's relying party, built on first use so its caches are shared by requests."""
    settings = wired.api_settings
    client = getattr(request.app.state, "oidc", None)
    if not isinstance(client, OidcClient) or client.settings is not settings:
        client = OidcClient(settings)  # 404 problem when no provider is configured
        request.app.state.oidc = client
    return client


Oidc = Annotated[OidcClient, Depends(oidc_client)]


@router.get(
    LOGIN_PATH,
    status_code=302,
    response_class=RedirectResponse,
    responses=ERRORS,
    summary="Se connecter par le fournisseur d'identité (ProConnect)",
)
async def oidc_login(oidc: Oidc, wired: Wired) -> Response:
    url, flow = await oidc.begin()
    settings = wired.api_settings
    response = RedirectResponse(url, status_code=302)
    response.set_cookie(
        FLOW_COOKIE,
        FlowCookie(settings.signing_key()).dump(flow),
        max_age=FLOW_MAX_AGE,
        path=FLOW_COOKIE_PATH,
        httponly=True,
        # Lax, not Strict: the provider's redirect back is a cross-site top-level GET.
        samesite="lax",
        secure=settings.cookie_secure,
    )
    return response


@router.get(
    CALLBACK_PATH,
    status_code=303,
    response_class=RedirectResponse,
    responses=ERRORS,
    summary="Retour du fournisseur d'identité : ouvre la session",
)
async def oidc_callback(
    request: Request,
    oidc: Oidc,
    wired: Wired,
    code: Annotated[str | None, Query(max_length=4096)] = None,
    state: Annotated[str | None, Query(max_length=4096)] = None,
    error: Annotated[str | None, Query(max_length=256)] = None,
) -> Response:
    try:
        response = await _sign_in(request, oidc, wired, code, state, error)
    except ApiProblem as problem:
        response = response_for(problem, request)
    # One use only, whatever the outcome: a second callback must start again.
    response.delete_cookie(
        FLOW_COOKIE,
        path=FLOW_COOKIE_PATH,
        httponly=True,
        samesite="lax",
        secure=wired.api_settings.cookie_secure,
    )
    return response


async def _sign_in(
    request: Request,
    oidc: OidcClient,
    wired: Wired,
    code: str | None,
    state: str | None,
    error: str | None,
) -> Response:
    settings = wired.api_settings
    flow = FlowCookie(settings.signing_key()).load(request.cookies.get(FLOW_COOKIE))
    # The state proves the provider's answer belongs to the sign-in this browser started;
    # checked before anything else, a provider error included.
    if state is None or not hmac.compare_digest(state, flow.state):
        log.warning("oidc callback with a state that is not this browser's")
        raise ApiProblem(
            400,
            "requete-invalide",
            "La réponse du fournisseur d'identité ne correspond pas à la connexion commencée "
            "dans ce navigateur : recommencez.",
        )
    if error is not None:
        log.info("oidc provider refused the sign-in: %s", error)
        raise ApiProblem(
            401,
            "authentification-requise",
            f"Le fournisseur d'identité n'a pas autorisé la connexion ({error}).",
        )
    if not code:
        raise ApiProblem(
            400, "requete-invalide", "La réponse du fournisseur d'identité est incomplète."
        )
    identity = await oidc.finish(flow, code)
    accounts = wired.accounts
    person_id = await run_in_threadpool(
        accounts.person_for_oidc,
        identity.issuer,
        identity.subject,
        identity.email,
        identity.full_name,
        identity.email_verified,
    )
    token, _csrf = await run_in_threadpool(accounts.open_session, person_id)
    log.info("oidc sign-in: person=%s issuer=%s", person_id, identity.issuer)
    response = RedirectResponse("/", status_code=303)
    # The same cookie as the local login (api/routes/auth.py).
    set_session_cookie(response, wired, token)
    return response
