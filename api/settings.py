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
    """Development loads the demo data on first start and shows the dev tools."""

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

    login_max_failures: int = 5
    login_window_minutes: int = 15

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


@lru_cache(maxsize=1)
def get_api_settings() -> ApiSettings:
    return ApiSettings()
