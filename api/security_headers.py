"""Security headers on every response: what the browser may load, frame and send on.

The pages load only their own files (the DSFR is served from ``/static/dsfr``, never a
CDN) and carry no inline script, so the Content-Security-Policy can forbid everything
else: an injected ``<script>`` or ``onclick`` would not run even if escaping failed
somewhere. No page may be framed (clickjacking of a « Valider » button). A response that
needs another policy (a printable page with its own stylesheet, the API documentation)
sets its own ``Content-Security-Policy`` and this middleware leaves it alone.

Authenticated API answers are personal data: ``Cache-Control: no-store`` keeps them out of
shared and browser caches unless the route chose its own caching. HSTS is sent only when
the product is reached over https (``FORMAFLOW_BASE_URL``): over plain http it would be
ignored at best, and locking a development host to https at worst.
"""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        # The DSFR's stylesheets draw some icons and pictograms from data: URIs.
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)
INLINE_STYLES_POLICY = "; ".join(
    (
        "default-src 'none'",
        "style-src 'unsafe-inline'",
        "img-src 'self' data:",
        "font-src 'self'",
        "base-uri 'none'",
        "form-action 'none'",
        "frame-ancestors 'none'",
    )
)
"""For pages that carry their own ``<style>`` and run no script at all (printable forms,
an email shown in the development mailbox)."""

API_PREFIX = "/api/v1/"


def security_headers(https: bool) -> list[tuple[bytes, bytes]]:
    headers = [
        (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
        (b"x-frame-options", b"DENY"),
        (b"x-content-type-options", b"nosniff"),
        (b"referrer-policy", b"same-origin"),
        (b"cross-origin-opener-policy", b"same-origin"),
        (b"permissions-policy", b"camera=(), microphone=(), geolocation=(), payment=()"),
    ]
    if https:
        headers.append((b"strict-transport-security", b"max-age=63072000; includeSubDomains"))
    return headers


class SecurityHeadersMiddleware:
    """Pure ASGI, like ``MetricsMiddleware``: it only adds headers to the response start."""

    def __init__(self, app: ASGIApp, https: bool) -> None:
        self.app = app
        self.headers = security_headers(https)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        api = str(scope.get("path", "")).startswith(API_PREFIX)

        async def add_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in self.headers:
                    key = name.decode()
                    if key not in headers:
                        headers.append(key, value.decode())
                if api and "cache-control" not in headers:
                    headers.append("Cache-Control", "no-store")
            await send(message)

        await self.app(scope, receive, add_headers)
