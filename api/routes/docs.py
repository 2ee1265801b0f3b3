"""``/api/docs``: FastAPI's interactive documentation, under a policy of its own.

Swagger UI comes from its CDN and starts with one inline script, which the product's
default Content-Security-Policy forbids. Rather than loosen the policy of every page, this
page alone allows the CDN and *that* script, by its SHA-256: any other inline script on
it would still be refused.
"""

from __future__ import annotations

import base64
import hashlib
import re

from fastapi import APIRouter
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse

DOCS_PATH = "/api/docs"
OPENAPI_PATH = "/api/openapi.json"
CDN = "https://cdn.jsdelivr.net"

_INLINE_SCRIPT = re.compile(r"<script>(.*?)</script>", re.DOTALL)


def _docs_page() -> HTMLResponse:
    page = get_swagger_ui_html(openapi_url=OPENAPI_PATH, title="formaflow - API")
    body = bytes(page.body).decode()
    hashes = " ".join(
        "'sha256-" + base64.b64encode(hashlib.sha256(script.encode()).digest()).decode() + "'"
        for script in _INLINE_SCRIPT.findall(body)
    )
    policy = "; ".join(
        (
            "default-src 'self'",
            f"script-src 'self' {CDN} {hashes}",
            f"style-src 'self' {CDN}",
            f"img-src 'self' data: {CDN} https://fastapi.tiangolo.com",
            "connect-src 'self'",
            "object-src 'none'",
            "base-uri 'self'",
            "frame-ancestors 'none'",
        )
    )
    return HTMLResponse(body, headers={"Content-Security-Policy": policy})


router = APIRouter(include_in_schema=False)


@router.get(DOCS_PATH)
def docs() -> HTMLResponse:
    return _docs_page()
