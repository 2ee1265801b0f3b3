"""Settings of the web edge, from ``FORMAFLOW_…`` variables and an optional ``.env``."""

from __future__ import annotations

import secrets
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class ApiSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="FORMAFLOW_", env_file=".env", extra="ignore")

    env: Literal["development", "production"] = "development"
    """Development loads the demo data on first start and shows the dev tools. Unset with a
    PostgreSQL database: production (see ``production_by_default``)."""

    base_url: str = "http://127.0.0.1:8000"
    """The address people reach the product at (links in emails, cookie security)."""

    secret_key: SecretStr | None = None
    """Signs short-lived cookies (OIDC state). Unset: generated once into the data dir."""

    data_dir: Path = Path("var")

    session_idle_minutes: int = 30
    session_absolute_hours: int = 12
    token_days: int = 90
    token_cache_seconds: float = 0.0
    """Trust a checked bearer token this long per process (0: ask the database each time,
    so a revocation bites at once everywhere)."""
    max_upload_bytes: int = 10 * 1024 * 1024
    max_body_bytes: int = 2 * 1024 * 1024
    """Any other request body (JSON, page forms): refused beyond this (413)."""

    login_max_failures: int = 5
    login_window_minutes: int = 15

    trusted_proxies: str = ""
    """Addresses (IPs or networks, comma-separated) of the reverse proxies whose
    ``X-Forwarded-For``/``-Proto`` are believed. Empty: none, the TCP peer is the client
    (a forwarded header from anyone else would let them pick the address that the sign-in
    limit counts)."""

    idempotency_lease_seconds: int = 60
    """After this long an unfinished Idempotency-Key may be taken again (crashed worker)."""

    oidc_issuer: str | None = None
    oidc_client_id: str | None = None
    oidc_client_secret: SecretStr | None = None
    oidc_scopes: str = "openid email given_name usual_name"
    oidc_label: str = "Se connecter avec ProConnect"

    seal_certificate_file: Path | None = None
    """PEM certificate (chain) of the académie that seals signed PDFs. Unset: a self-signed
    one is created at first use under the data directory (development only)."""
    seal_key_file: Path | None = None
    seal_key_password: SecretStr | None = None

    @property
    def cookie_secure(self) -> bool:
        return self.base_url.startswith("https://")

    def uvicorn_proxy_options(self) -> dict[str, object]:
        """uvicorn's options for forwarded headers: believed only from ``trusted_proxies``
        (uvicorn's own default believes any local peer)."""
        proxies = ",".join(p.strip() for p in self.trusted_proxies.split(",") if p.strip())
        if not proxies:
            return {"proxy_headers": False}
        return {"proxy_headers": True, "forwarded_allow_ips": proxies}

    @property
    def oidc_enabled(self) -> bool:
        return bool(self.oidc_issuer and self.oidc_client_id)

    def signing_key(self) -> str:
        if self.secret_key is not None:
            return self.secret_key.get_secret_value()
        path = self.data_dir / "secret_key"
        if not path.exists():
            self.data_dir.mkdir(parents=True, exist_ok=True)
            path.write_text(secrets.token_urlsafe(48))
            path.chmod(0o600)
        return path.read_text().strip()


def production_by_default(settings: ApiSettings, database_url: str) -> bool:
    """Whether ``FORMAFLOW_ENV`` was left unset on a PostgreSQL database.

    Development mode loads 20 demo accounts sharing one printed password and opens the
    development mailbox: right for ``make run`` on its SQLite file, never for a server
    someone pointed at a real database and forgot to configure. So a PostgreSQL URL without
    an explicit ``FORMAFLOW_ENV`` starts in production; ``FORMAFLOW_ENV=development`` still
    gives a development server on PostgreSQL to whoever asks for one.
    """
    return "env" not in settings.model_fields_set and database_url.startswith("postgresql")


def for_database(settings: ApiSettings, database_url: str) -> ApiSettings:
    """``settings`` with the mode ``production_by_default`` gives this database."""
    if production_by_default(settings, database_url):
        return settings.model_copy(update={"env": "production"})
    return settings


@lru_cache(maxsize=1)
def get_api_settings() -> ApiSettings:
    return ApiSettings()
