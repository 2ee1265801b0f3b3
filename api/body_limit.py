"""A size limit on every request body but uploads: refused on its declared length, and
never read past the limit when it declares none (or lies).

JSON bodies and page forms are small (a whole scenario is a few dozen kilobytes); without
a limit, one request could make the server parse 50 MiB of JSON, or make the CSRF check of
a page form spool any amount to disk. Uploads have their own, larger limit, applied by the
reader that streams them (``api.uploads.read_upload_form``).
"""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.problems import problem
from api.uploads import UPLOAD_PATH


def _size_fr(size: int) -> str:
    if size >= 1024 * 1024 and size % (1024 * 1024) == 0:
        return f"{size // (1024 * 1024)} Mio"
    if size >= 1024:
        return f"{size // 1024} Kio"
    return f"{size} octets"


def too_large_detail(limit: int) -> str:
    return f"Le corps de la requête dépasse la taille maximale autorisée ({_size_fr(limit)})."


class BodyLimitMiddleware:
    """Pure ASGI: checks ``Content-Length`` before the app runs, and counts what the app
    pulls from ``receive``, raising 413 at the first byte past the limit (FastAPI passes an
    ``HTTPException`` raised while it reads a body through to the problem handlers)."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or UPLOAD_PATH.match(str(scope.get("path", ""))):
            await self.app(scope, receive, send)
            return
        for name, value in scope.get("headers", ()):
            if name == b"content-length":
                declared = value.decode("latin-1").strip()
                if (
                    declared.isascii()
                    and declared.isdigit()
                    and (len(declared) > 18 or int(declared) > self.limit)
                ):
                    await self._refuse(scope, receive, send)
                    return
        received = 0

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.limit:
                    raise HTTPException(413, too_large_detail(self.limit))
            return message

        await self.app(scope, counted, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = problem(413, "corps-trop-volumineux", too_large_detail(self.limit))
        response.headers["Connection"] = "close"
        await response(scope, receive, send)
