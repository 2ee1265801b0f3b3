"""Settings of the email side, from ``FORMAFLOW_…`` variables and an optional ``.env``.

With no ``FORMAFLOW_SMTP_HOST``, development runs an embedded SMTP server and shows what it
receives at ``/dev/mailbox``; production sets the académie's relay here.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class MailSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="FORMAFLOW_", env_file=".env", extra="ignore")

    base_url: str = "http://127.0.0.1:8000"
    """Where the links in emails point (the same variable as the web edge's)."""

    mail_from: str = "formaflow@example.org"
    """Envelope and ``From`` address; its domain also names the ``Message-ID``s."""
    mail_from_name: str = "formaflow"
    reply_to: str | None = None
    """Fallback ``Reply-To`` when the académie has none of its own."""

    smtp_host: str | None = None
    smtp_port: int = 25
    smtp_security: Literal["none", "starttls", "tls"] = "none"
    """``starttls`` upgrades a plain connection; ``tls`` is implicit TLS (port 465)."""
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_timeout_seconds: float = 30.0
    smtp_ca_file: Path | None = None
    """CA bundle (PEM) that signs the relay's certificate, for an académie's own CA; the
    system's trust store otherwise. Certificates are always verified."""

    relay_connections: int = 8
    """SMTP connections the relay keeps open and sends over in parallel."""
    relay_batch: int = 200
    """Rows claimed (and then marked) per database round trip."""
    relay_lease_seconds: int = 120
    """A claimed row not marked within this time is taken again (crashed relay)."""
    relay_idle_seconds: float = 1.0
    """Pause when nothing is due, before looking again."""
    relay_max_attempts: int = 8
    relay_backoff_seconds: float = 30.0
    """First retry delay; doubled at each attempt, with jitter, up to the maximum."""
    relay_backoff_max_seconds: float = 6 * 3600.0

    timer_interval_seconds: float = 60.0
    """How often the deadline loop looks for due reminders and automatic transitions."""

    dev_smtp_port: int = 8025
    """Port of the embedded development SMTP server (127.0.0.1 only; 0 for any free port)."""
    dev_mailbox_dir: Path = Path("var/mailbox")

    @property
    def from_domain(self) -> str:
        return self.mail_from.rpartition("@")[2] or "localhost"


@lru_cache(maxsize=1)
def get_mail_settings() -> MailSettings:
    return MailSettings()
