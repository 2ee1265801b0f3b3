"""Signing in with a link received by email, so that no password has to be handed out to
stagiaires in the embedded default (with OIDC configured, agents use their own account).

``/connexion/lien`` asks for an address and always answers the same thing, whether an
account exists or not (no way to test addresses), within a limit of requests per address
and per client. The link is signed, expires after 30 minutes and serves once: its hash is
recorded in the transaction that opens the session. Opening it only shows a button (mail
scanners open links); the button, a POST protected like the sign-in form, signs in.
"""

from __future__ import annotations

import hmac
import secrets
from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Form, Path, Request, Response
from fastapi.responses import RedirectResponse
from sqlalchemy import func, insert, select
from sqlalchemy.exc import IntegrityError
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from api.deps import Wired, set_session_cookie
from api.pages.errors import PageRoute
from api.pages.rendering import render
from api.pages.signin import LOGIN_CSRF_COOKIE
from api.wiring import Container
from notifications.links import LinkError, token_hash
from notifications.signin import signin_letter
from workflow.participants.inputs import normalise_email
from workflow.store.tables import login_attempt_table as LA
from workflow.store.tables import person_table as P
from workflow.store.tables import signin_link_use_table as U

router = APIRouter(route_class=PageRoute, include_in_schema=False)

Token = Annotated[str, Path(min_length=10, max_length=500, pattern=r"^[A-Za-z0-9_.\-]+$")]
SENT = (
    "Si un compte formaflow existe pour cette adresse, un lien de connexion vient d'y être "
    "envoyé. Il est valable 30 minutes et une seule fois. Pensez à regarder dans les "
    "courriels indésirables."
)


def _page(
    request: Request,
    wired: Container,
    template: str,
    context: dict[str, object],
    status_code: int = 200,
) -> Response:
    token = secrets.token_urlsafe(24)
    response = render(
        request,
        template,
        {"page_title": "Connexion par lien", "login_csrf": token, **context},
        status_code=status_code,
    )
    response.set_cookie(
        LOGIN_CSRF_COOKIE,
        token,
        max_age=3600,
        path="/connexion",
        httponly=True,
        samesite="strict",
        secure=wired.api_settings.cookie_secure,
    )
    return response


def _embedded_only(wired: Container) -> None:
    """With OIDC configured, agents sign in through their identity provider (its own
    checks, its own multi-factor): no way around it by email."""
    if wired.api_settings.oidc_enabled:
        raise StarletteHTTPException(404)


def _csrf_ok(request: Request, sent: str) -> bool:
    expected = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    return bool(expected) and hmac.compare_digest(sent.encode(), expected.encode())


@router.get("/connexion/lien")
def ask_page(request: Request, wired: Wired) -> Response:
    _embedded_only(wired)
    return _page(
        request, wired, "pages/connexion_lien.html", {"email": "", "errors": [], "sent": None}
    )


def _send(container: Container, email: str, client: str) -> bool:
    """Record the request, and write the email if the account exists; False when the limit
    of requests is reached (the page then says to wait)."""
    now = container.service.clock()
    settings = container.api_settings
    window = now - timedelta(minutes=settings.login_window_minutes)
    keys = [f"lien:{email}", f"lien-client:{client}"]
    with container.engine.begin() as conn:
        counts = conn.execute(
            select(LA.c.key, func.count())
            .where(LA.c.key.in_(keys), LA.c.at > window)
            .group_by(LA.c.key)
        ).all()
        if any(n >= settings.login_max_failures for _, n in counts):
            return False
        conn.execute(insert(LA), [{"key": key, "at": now} for key in keys])
        person = conn.execute(
            select(P.c.id, P.c.full_name).where(P.c.email == email, P.c.active.is_(True))
        ).first()
        if person is not None:
            url = container.signin_links.url(int(person.id))
            signin_letter(
                conn,
                container.mail_settings,
                int(person.id),
                str(person.full_name),
                email,
                url,
                container.signin_links.max_age_minutes,
                now,
            )
    return True


@router.post("/connexion/lien")
async def ask(
    request: Request,
    wired: Wired,
    email: Annotated[str, Form(max_length=320)] = "",
    login_csrf: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    _embedded_only(wired)
    template = "pages/connexion_lien.html"
    if not _csrf_ok(request, login_csrf):
        message = "Le formulaire a expiré : saisissez de nouveau votre adresse."
        return _page(
            request, wired, template, {"email": email, "errors": [("", message)], "sent": None}, 403
        )
    try:
        address = normalise_email(email)
    except ValueError as error:
        errors = [("email", str(error).capitalize())]
        return _page(
            request, wired, template, {"email": email, "errors": errors, "sent": None}, 422
        )
    client = request.client.host if request.client else "inconnu"
    if not await run_in_threadpool(_send, wired, address, client):
        message = (
            "Trop de demandes de lien : réessayez dans "
            f"{wired.api_settings.login_window_minutes} minutes."
        )
        return _page(
            request, wired, template, {"email": email, "errors": [("", message)], "sent": None}, 429
        )
    return _page(request, wired, template, {"email": "", "errors": [], "sent": SENT})


@router.get("/connexion/lien/{token}")
def confirm_page(request: Request, token: Token, wired: Wired) -> Response:
    _embedded_only(wired)
    try:
        wired.signin_links.read(token)
    except LinkError as error:
        return _page(
            request,
            wired,
            "pages/connexion_lien_ouvrir.html",
            {"token": None, "error": error.message},
            400,
        )
    return _page(
        request, wired, "pages/connexion_lien_ouvrir.html", {"token": token, "error": None}
    )


def _use(container: Container, token: str) -> int:
    claim = container.signin_links.read(token)
    now = container.service.clock()
    try:
        with container.engine.begin() as conn:
            active = conn.execute(
                select(P.c.id).where(P.c.id == claim.person_id, P.c.active.is_(True))
            ).first()
            if active is None:
                raise LinkError("lien-invalide", "Ce compte n'est plus actif.")
            conn.execute(
                insert(U).values(
                    token_hash=token_hash(token), person_id=claim.person_id, used_at=now
                )
            )
    except IntegrityError as exc:
        raise LinkError(
            "lien-utilise", "Ce lien de connexion a déjà servi : demandez-en un nouveau."
        ) from exc
    return claim.person_id


@router.post("/connexion/lien/{token}")
async def use_link(
    request: Request,
    token: Token,
    wired: Wired,
    login_csrf: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    _embedded_only(wired)
    template = "pages/connexion_lien_ouvrir.html"
    if not _csrf_ok(request, login_csrf):
        return _page(
            request,
            wired,
            template,
            {
                "token": token,
                "error": "Le formulaire a expiré : cliquez de nouveau sur « Se connecter ».",
            },
            403,
        )
    try:
        person_id = await run_in_threadpool(_use, wired, token)
    except LinkError as error:
        return _page(
            request,
            wired,
            template,
            {"token": None, "error": error.message},
            410 if error.code == "lien-utilise" else 400,
        )
    session, _ = await run_in_threadpool(wired.accounts.open_session, person_id)
    response = RedirectResponse("/", status_code=303)
    set_session_cookie(response, wired, session)
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/connexion")
    return response
