"""Accounts, sign-in, browser sessions and API tokens.

Secrets never rest in the database: passwords are argon2 hashes (pwdlib); session cookies
and bearer tokens are random strings of which only a SHA-256 is stored, so a copy of the
database gives no way in. Failed sign-ins are counted in the database, so the limit holds
across several API processes; see ``Accounts.authenticate`` for why a failing stranger
cannot lock an account. The client is the TCP peer, or the address a configured proxy
(``FORMAFLOW_TRUSTED_PROXIES``) forwarded, never a header anyone could send.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from pwdlib import PasswordHash
from sqlalchemy import Engine, Select, bindparam, delete, func, insert, or_, select, update
from sqlalchemy.exc import DBAPIError, IntegrityError

from api.problems import ApiProblem
from api.settings import ApiSettings
from workflow.engine.errors import InvalidInput, PersonNotFound
from workflow.store.tables import (
    api_token_table,
    login_attempt_table,
    person_table,
    web_session_table,
)
from workflow.store.types import utcnow

log = logging.getLogger("formaflow.auth")

TOKEN_PREFIX = "ffk_"  # noqa: S105 -- a public marker, not a secret
MIN_PASSWORD_LENGTH = 12


# Built once: every request runs one of these, and building a statement costs more than
# the database answering it.
_SESSION = (
    select(
        web_session_table.c.id,
        web_session_table.c.person_id,
        web_session_table.c.csrf_token,
        web_session_table.c.last_seen_at,
        web_session_table.c.expires_at,
        person_table.c.email,
        person_table.c.full_name,
    )
    .join(person_table, person_table.c.id == web_session_table.c.person_id)
    .where(
        web_session_table.c.token_hash == bindparam("token_hash"),
        web_session_table.c.revoked_at.is_(None),
        person_table.c.active.is_(True),
    )
)
_BEARER = (
    select(
        api_token_table.c.id,
        api_token_table.c.person_id,
        api_token_table.c.expires_at,
        api_token_table.c.last_used_at,
        person_table.c.email,
        person_table.c.full_name,
    )
    .join(person_table, person_table.c.id == api_token_table.c.person_id)
    .where(
        api_token_table.c.token_hash == bindparam("token_hash"),
        api_token_table.c.revoked_at.is_(None),
        person_table.c.active.is_(True),
    )
)


class PreparedLookup:
    """One read-only ``SELECT`` of a single row, compiled once into the driver's own SQL and
    run on a pooled DBAPI connection, its columns converted by their SQLAlchemy types.

    Why below Core: the bearer lookup runs before every API call, and a Core ``execute`` on
    a ``Connection`` cost about 0.35 ms of CPU on SQLite here (the ``Connection``, its
    ``BEGIN`` and ``ROLLBACK``, the execution context), six times the driver's ~0.06 ms for
    the same statement. The SQL still comes from the Core statement (no hand-written copy to
    drift from the tables); the same text each time lets SQLite reuse its prepared statement
    and psycopg prepare it on the server. A single statement needs no explicit transaction:
    SQLite (the driver's autocommit mode, see ``workflow.store.database``) reads it in one
    snapshot; on PostgreSQL the pool's reset-on-return rolls the read back. Driver errors
    are raised as SQLAlchemy's ``DBAPIError``, as Core would.
    """

    def __init__(self, engine: Engine, statement: Select[Any]) -> None:
        self.engine = engine
        dialect = engine.dialect
        compiled = statement.compile(dialect=dialect)
        self.sql = str(compiled)
        self.names = list(compiled.positiontup or ()) if compiled.positional else None
        self.processors = [
            column.type.dialect_impl(dialect).result_processor(dialect, None)
            for column in statement.selected_columns
        ]
        self.fields = [column.name for column in statement.selected_columns]
        self.dbapi_error: type[Exception] = dialect.loaded_dbapi.Error

    def one_or_none(self, **values: Any) -> dict[str, Any] | None:
        parameters: Any = (
            values if self.names is None else tuple(values[name] for name in self.names)
        )
        connection = self.engine.raw_connection()
        try:
            cursor = connection.cursor()
            try:
                cursor.execute(self.sql, parameters)
                row = cursor.fetchone()
            finally:
                cursor.close()
        except self.dbapi_error as error:
            # A dead connection fails its reset on return and the pool discards it.
            raise DBAPIError.instance(self.sql, parameters, error, self.dbapi_error) from error
        finally:
            connection.close()
        if row is None:
            return None
        return {
            name: value if process is None else process(value)
            for name, process, value in zip(self.fields, self.processors, row, strict=True)
        }


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling, and how they proved it."""

    person_id: int
    email: str
    full_name: str
    via: str
    """``session`` (cookie: CSRF applies) or ``token`` (bearer)."""
    csrf_token: str | None = None
    session_id: int | None = None


class Accounts:
    def __init__(
        self, engine: Engine, settings: ApiSettings, clock: Callable[[], datetime] = utcnow
    ) -> None:
        self.engine = engine
        self.settings = settings
        self.clock = clock
        self.hasher = PasswordHash.recommended()
        self._bearers: dict[str, tuple[float, datetime, Principal]] = {}
        self._bearer_lookup = PreparedLookup(engine, _BEARER)

    # Local accounts ------------------------------------------------------------------

    def set_password(self, person_id: int, password: str) -> None:
        if len(password) < MIN_PASSWORD_LENGTH:
            raise InvalidInput(
                f"Le mot de passe doit compter au moins {MIN_PASSWORD_LENGTH} caractères.",
                "password",
            )
        with self.engine.begin() as conn:
            changed = conn.execute(
                update(person_table)
                .where(person_table.c.id == person_id)
                .values(password_hash=self.hasher.hash(password))
            ).rowcount
            if not changed:
                raise PersonNotFound(person_id)

    def authenticate(self, email: str, password: str, client: str) -> int:
        """The person id for a right email and password; counts and limits failures."""
        email = email.strip().lower()
        keys = [f"email:{email}", f"client:{client}"]
        now = self.clock()
        window = now - timedelta(minutes=self.settings.login_window_minutes)
        with self.engine.begin() as conn:
            failures = conn.execute(
                select(login_attempt_table.c.key, func.count())
                .where(login_attempt_table.c.key.in_(keys), login_attempt_table.c.at > window)
                .group_by(login_attempt_table.c.key)
            ).all()
            counts: dict[str, int] = {str(key): int(n) for key, n in failures}
            by_email, by_client = counts.get(keys[0], 0), counts.get(keys[1], 0)
            limit = self.settings.login_max_failures
            # A client that failed too often is stopped, whatever the address it tries; an
            # address that failed too often is closed only to clients that failed too (at it
            # or elsewhere). Whoever guesses at someone's address cannot lock them out: their
            # right password from a client that has not failed still opens the session.
            if by_client >= limit or (by_email >= limit and by_client > 0):
                log.warning("login rate-limited: email=%s client=%s at=%s", email, client, now)
                raise ApiProblem(
                    429,
                    "trop-de-tentatives",
                    "Trop de tentatives de connexion : réessayez dans "
                    f"{self.settings.login_window_minutes} minutes.",
                    headers={"Retry-After": str(self.settings.login_window_minutes * 60)},
                )
            row = conn.execute(
                select(person_table.c.id, person_table.c.password_hash).where(
                    person_table.c.email == email, person_table.c.active.is_(True)
                )
            ).first()
            valid = False
            if row is not None and row.password_hash:
                valid = self.hasher.verify(password, row.password_hash)
            else:
                # Spend the same time as a real check, so timing reveals no account.
                self.hasher.hash(password)
            if not valid:
                conn.execute(insert(login_attempt_table), [{"key": key, "at": now} for key in keys])
        if not valid or row is None:
            log.warning("login failed: email=%s client=%s at=%s", email, client, now)
            raise ApiProblem(
                401, "identifiants-invalides", "Adresse électronique ou mot de passe incorrect."
            )
        with self.engine.begin() as conn:
            conn.execute(
                delete(login_attempt_table).where(login_attempt_table.c.key == f"email:{email}")
            )
        return int(row.id)

    # Browser sessions ----------------------------------------------------------------

    def open_session(self, person_id: int) -> tuple[str, str]:
        """A new session (new id at every sign-in); returns the cookie value and CSRF token."""
        token = secrets.token_urlsafe(32)
        csrf = secrets.token_urlsafe(24)
        now = self.clock()
        with self.engine.begin() as conn:
            conn.execute(
                insert(web_session_table).values(
                    token_hash=digest(token),
                    person_id=person_id,
                    csrf_token=csrf,
                    created_at=now,
                    last_seen_at=now,
                    expires_at=now + timedelta(hours=self.settings.session_absolute_hours),
                )
            )
        return token, csrf

    def session(self, token: str) -> Principal | None:
        now = self.clock()
        idle = timedelta(minutes=self.settings.session_idle_minutes)
        with self.engine.connect().execution_options(sqlite_begin="DEFERRED") as conn:
            row = conn.execute(_SESSION, {"token_hash": digest(token)}).first()
            conn.rollback()
        if row is None or row.expires_at <= now or row.last_seen_at + idle <= now:
            return None
        if now - row.last_seen_at > timedelta(seconds=30):
            # Written at most every 30 s, in a write of its own: reads take no write lock.
            with self.engine.begin() as conn:
                conn.execute(
                    update(web_session_table)
                    .where(web_session_table.c.id == row.id)
                    .values(last_seen_at=now)
                )
        return Principal(row.person_id, row.email, row.full_name, "session", row.csrf_token, row.id)

    def close_session(self, session_id: int) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                update(web_session_table)
                .where(web_session_table.c.id == session_id)
                .values(revoked_at=self.clock())
            )

    # API tokens ----------------------------------------------------------------------

    def create_token(self, person_id: int, name: str = "", days: int | None = None) -> str:
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        now = self.clock()
        with self.engine.begin() as conn:
            conn.execute(
                insert(api_token_table).values(
                    token_hash=digest(token),
                    prefix=token[: len(TOKEN_PREFIX) + 6],
                    person_id=person_id,
                    name=name,
                    created_at=now,
                    expires_at=now + timedelta(days=days or self.settings.token_days),
                )
            )
        return token

    def revoke_token(self, token_or_prefix: str) -> int:
        """Revoke by the full token or by its displayed prefix; the number revoked."""
        self._bearers.clear()
        T = api_token_table
        with self.engine.begin() as conn:
            return int(
                conn.execute(
                    update(T)
                    .where(
                        or_(
                            T.c.token_hash == digest(token_or_prefix), T.c.prefix == token_or_prefix
                        ),
                        T.c.revoked_at.is_(None),
                    )
                    .values(revoked_at=self.clock())
                ).rowcount
            )

    def bearer(self, token: str) -> Principal | None:
        """The token's holder. Every API call asks this; with ``token_cache_seconds`` set, a
        valid answer is kept that long in this process (the database round trip is the
        largest cost of a small request), at the price of a revocation made elsewhere
        taking up to that long to bite. Off by default: revocation is immediate."""
        key = digest(token)
        ttl = self.settings.token_cache_seconds
        cached = self._bearers.get(key)
        if ttl and cached is not None and cached[0] > time.monotonic() and self.clock() < cached[1]:
            return cached[2]
        found = self._bearer_from_database(key)
        if found is None:
            return None
        principal, expires_at = found
        if ttl:
            if len(self._bearers) > 10_000:
                self._bearers.clear()
            self._bearers[key] = (time.monotonic() + ttl, expires_at, principal)
        return principal

    def _bearer_from_database(self, token_hash: str) -> tuple[Principal, datetime] | None:
        now = self.clock()
        row = self._bearer_lookup.one_or_none(token_hash=token_hash)
        if row is None or row["expires_at"] <= now:
            return None
        last_used_at = row["last_used_at"]
        if last_used_at is None or now - last_used_at > timedelta(minutes=5):
            with self.engine.begin() as conn:
                conn.execute(
                    update(api_token_table)
                    .where(api_token_table.c.id == row["id"])
                    .values(last_used_at=now)
                )
        principal = Principal(row["person_id"], row["email"], row["full_name"], "token")
        return principal, row["expires_at"]

    # OpenID Connect --------------------------------------------------------------------

    def person_for_oidc(
        self, issuer: str, subject: str, email: str, full_name: str, email_verified: bool = False
    ) -> int:
        """The account keyed on (issuer, subject); on first sign-in, an existing account with
        the same email is linked only if the provider verified that email (else whoever set
        that address at a lax provider would take the account), and a new one is created
        when no account has the email."""
        P = person_table
        email = email.strip().lower()
        with self.engine.begin() as conn:
            found = conn.execute(
                select(P.c.id).where(P.c.oidc_issuer == issuer, P.c.oidc_subject == subject)
            ).scalar()
            if found is not None:
                return int(found)
            same_email = conn.execute(
                select(P.c.id, P.c.oidc_subject).where(P.c.email == email)
            ).first()
            if same_email is not None:
                if not email_verified:
                    log.warning("oidc link refused, email not verified: issuer=%s", issuer)
                    raise ApiProblem(
                        403,
                        "acces-refuse",
                        "Un compte existe déjà avec cette adresse, et le fournisseur d'identité "
                        "n'a pas confirmé qu'elle est vérifiée : le compte n'a pas été relié. "
                        "Adressez-vous au gestionnaire de votre académie.",
                    )
                if same_email.oidc_subject is not None:
                    raise ApiProblem(
                        403,
                        "acces-refuse",
                        "Cette adresse est déjà liée à un autre compte d'agent.",
                    )
                conn.execute(
                    update(P)
                    .where(P.c.id == same_email.id)
                    .values(oidc_issuer=issuer, oidc_subject=subject)
                )
                return int(same_email.id)
        try:
            with self.engine.begin() as conn:
                created = conn.execute(
                    insert(P).values(
                        email=email,
                        full_name=(full_name or email)[:200],
                        oidc_issuer=issuer,
                        oidc_subject=subject,
                        active=True,
                        created_at=self.clock(),
                    )
                ).inserted_primary_key
                assert created is not None
                return int(created[0])
        except IntegrityError:
            # Two first sign-ins at once: the other one created the account; use it.
            with self.engine.connect() as conn:
                again = conn.execute(
                    select(P.c.id).where(P.c.oidc_issuer == issuer, P.c.oidc_subject == subject)
                ).scalar()
            if again is None:
                raise ApiProblem(
                    409, "conflit", "Ce compte vient d'être modifié : recommencez la connexion."
                ) from None
            return int(again)
