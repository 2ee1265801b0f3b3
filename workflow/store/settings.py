"""Settings of the engine, read from ``FORMAFLOW_…`` variables and an optional ``.env``."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict


class WorkflowSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="FORMAFLOW_", env_file=".env", extra="ignore")

    database_url: str = "sqlite:///formaflow.db"
    """SQLite in the working directory by default; PostgreSQL with
    ``postgresql+psycopg://user:password@host/dbname`` in production."""

    data_dir: Path = Path("var")
    """Where uploaded documents are stored (outside the database)."""

    academies_dir: Path | None = None
    """Where ``formaflow academie import NAME`` finds a seed file named without a path; the
    packaged ``states/academies`` if unset. An académie's settings live in the database once
    it is created: no file is read at run time."""

    sqlite_busy_timeout_ms: int = 30_000
    """How long a SQLite writer waits for the lock before giving up."""

    pool_size: int = 10


@lru_cache(maxsize=1)
def get_settings() -> WorkflowSettings:
    return WorkflowSettings()
