"""The one-time message shown after a form post (post/redirect/get).

Kept in a signed cookie rather than in the redirect URL: an address someone sends a
colleague must not be able to show them « Paiement accordé » when nothing happened.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from fastapi import Request, Response
from itsdangerous import BadSignature, URLSafeTimedSerializer

from api.deps import get_container_of

FLASH_COOKIE = "formaflow_flash"
FLASH_SECONDS = 120

Kind = Literal["success", "info", "warning", "error"]


@dataclass(frozen=True, slots=True)
class Flash:
    kind: Kind
    title: str
    text: str = ""


def _serializer(request: Request) -> URLSafeTimedSerializer:
    key = get_container_of(request).api_settings.signing_key()
    return URLSafeTimedSerializer(key, salt="formaflow-flash")


def set_flash(request: Request, response: Response, flash: Flash) -> None:
    value = _serializer(request).dumps([flash.kind, flash.title, flash.text])
    response.set_cookie(
        FLASH_COOKIE,
        value,
        max_age=FLASH_SECONDS,
        path="/",
        httponly=True,
        samesite="lax",
        secure=get_container_of(request).api_settings.cookie_secure,
    )


def pop_flash(request: Request) -> tuple[Flash | None, bool]:
    """The pending message (None if absent, forged or expired), and whether a cookie was
    sent at all (so that the response clears it)."""
    raw = request.cookies.get(FLASH_COOKIE)
    if not raw:
        return None, False
    try:
        kind, title, text = _serializer(request).loads(raw, max_age=FLASH_SECONDS)
    except (BadSignature, ValueError, TypeError):
        return None, True
    if kind not in ("success", "info", "warning", "error"):
        return None, True
    return Flash(kind, str(title), str(text)), True
