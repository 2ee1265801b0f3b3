"""The address people reach ``formaflow serve`` at, when nobody configured one.

Links in emails and the secure-cookie decision both read ``FORMAFLOW_BASE_URL``. Left
unset, it used to be ``http://127.0.0.1:8000`` whatever port the server listened on, so
``make run PORT=8101`` mailed links to a port nobody served. Now an unset base URL follows
the ``--host``/``--port`` the server was started with; a configured one is never touched
(behind a proxy, the public address is not the listening one).
"""

from __future__ import annotations

import os

from api.settings import ApiSettings
from notifications.settings import MailSettings

VARIABLE = "FORMAFLOW_BASE_URL"
_WILDCARDS = {"", "0.0.0.0", "::", "[::]"}  # noqa: S104 - names of the wildcard, not a bind


def listening_url(host: str, port: int) -> str:
    """``http://host:port``, with a wildcard address read as this machine (a link to
    ``0.0.0.0`` is no address at all) and an IPv6 literal in brackets."""
    if host in _WILDCARDS:
        host = "localhost"
    elif ":" in host and not host.startswith("["):
        host = f"[{host}]"
    return f"http://{host}:{port}"


def follow_listening_address(
    api_settings: ApiSettings, mail_settings: MailSettings, host: str, port: int
) -> str:
    """Set both settings' base URL to the listening address unless one was configured
    (environment or ``.env``); return the base URL in force. The environment variable is
    set too, so that worker processes started afterwards (``--workers``) agree."""
    configured = ("base_url" in api_settings.model_fields_set) or (
        "base_url" in mail_settings.model_fields_set
    )
    if configured:
        return api_settings.base_url
    url = listening_url(host, port)
    api_settings.base_url = url
    mail_settings.base_url = url
    os.environ[VARIABLE] = url
    return url
