"""The legal pages every State site links from its footer (DSFR): « Mentions légales » and
« Gestion des cookies ». Anyone may read them, signed in or not.

The cookie page lists the cookies formaflow actually sets, by the names the code uses, so
that it cannot drift from them unnoticed (a test compares it with the ``Set-Cookie``
headers of a real sign-in and action).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Request, Response
from starlette.concurrency import run_in_threadpool

from api.deps import SESSION_COOKIE, Wired
from api.oidc import FLOW_COOKIE, FLOW_MAX_AGE
from api.pages.errors import PageRoute
from api.pages.flash import FLASH_COOKIE, FLASH_SECONDS
from api.pages.rendering import render
from api.pages.signin import LOGIN_CSRF_COOKIE, LOGIN_CSRF_SECONDS
from api.pages.viewer import MaybeSeen
from api.wiring import Container
from workflow.reads.institutions import every_academie
from workflow.reads.queries import reading
from workflow.store.academie_settings import AcademieSettings, academie_settings

router = APIRouter(route_class=PageRoute, include_in_schema=False)


@dataclass(frozen=True, slots=True)
class Cookie:
    name: str
    purpose: str
    lifetime: str
    when: str


def _minutes(seconds: int) -> str:
    minutes = seconds // 60
    return f"{minutes} minute{'s' if minutes > 1 else ''}"


def cookies(container: Container) -> list[Cookie]:
    """Every cookie formaflow may set, the ProConnect one only where ProConnect is on."""
    settings = container.api_settings
    found = [
        Cookie(
            SESSION_COOKIE,
            "Garde votre connexion ouverte d'une page à l'autre (jeton de session, protégé "
            "contre la lecture par un script).",
            f"Jusqu'à la déconnexion, au plus {settings.session_absolute_hours} heures ; la "
            f"session se ferme après {settings.session_idle_minutes} minutes sans activité.",
            "À la connexion.",
        ),
        Cookie(
            LOGIN_CSRF_COOKIE,
            "Protège le formulaire de connexion contre la falsification de requête "
            "intersites (jeton anti-CSRF, envoyé à la page de connexion seulement).",
            _minutes(LOGIN_CSRF_SECONDS),
            "À l'affichage de la page de connexion ; effacé à la connexion.",
        ),
        Cookie(
            FLASH_COOKIE,
            "Garde le message qui confirme une action (« Action effectuée… ») pendant la "
            "redirection vers la page qui l'affiche.",
            f"{_minutes(FLASH_SECONDS)} au plus ; effacé dès que le message est affiché.",
            "Après une action faite depuis une page.",
        ),
    ]
    if settings.oidc_enabled:
        found.append(
            Cookie(
                FLOW_COOKIE,
                "Retient l'état de la connexion par ProConnect pendant l'aller-retour avec "
                "le fournisseur d'identité (protection contre le rejeu).",
                _minutes(FLOW_MAX_AGE),
                f"Au clic sur « {settings.oidc_label} ».",
            )
        )
    return found


def _publishers(container: Container) -> list[AcademieSettings]:
    with reading(container.engine) as conn:
        return [academie_settings(conn, i) for i in every_academie(conn)]


@router.get("/mentions-legales")
async def legal_notice(request: Request, viewer: MaybeSeen, wired: Wired) -> Response:
    context: dict[str, Any] = {
        "page_title": "Mentions légales",
        "publishers": await run_in_threadpool(_publishers, wired),
    }
    return render(request, "pages/mentions_legales.html", context)


@router.get("/gestion-des-cookies")
async def cookie_policy(request: Request, viewer: MaybeSeen, wired: Wired) -> Response:
    context = {"page_title": "Gestion des cookies", "cookies": cookies(wired)}
    return render(request, "pages/gestion_des_cookies.html", context)
