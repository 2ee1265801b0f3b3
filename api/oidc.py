"""OpenID Connect sign-in for state agents (ProConnect-style), as a relying party.

Why it is built this way:

- The API is stateless (several processes behind a load balancer), so the secrets of one
  sign-in (``state``, ``nonce``, PKCE ``code_verifier``) travel in a short-lived cookie signed
  with the product's key, never in process memory: the callback may reach another process.
- Authlib does the OAuth 2.0 protocol (authorization URL with PKCE S256, token request with
  the client's authentication, token error responses); joserfc, which authlib 1.9 itself uses
  (``authlib.jose`` is deprecated), verifies signatures; authlib's ``CodeIDToken`` checks the
  claims (``iss``, ``aud``, ``exp``, ``iat``, ``nonce``, ``azp``, ``at_hash``).
- The discovery document and the provider's keys are cached for an hour; the keys are fetched
  again at once when a token names a key we do not know (the provider rotated its keys).
- Every way it can go wrong is an :class:`ApiProblem` with a French message: a person who
  clicked « Se connecter » must never see a stack trace or a bare 500.
"""

from __future__ import annotations

import logging
import secrets
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from authlib.common.security import generate_token
from authlib.integrations.httpx_client import AsyncOAuth2Client, OAuthError
from authlib.oidc.core import CodeIDToken
from itsdangerous import BadSignature, URLSafeTimedSerializer
from joserfc import jwt
from joserfc.errors import InvalidKeyIdError, JoseError
from joserfc.jwk import KeySet

from api.problems import ApiProblem
from api.settings import ApiSettings

try:  # authlib's HTTP client is built on httpx2 when installed, else on httpx.
    from httpx2 import HTTPError
except ImportError:  # pragma: no cover - only without the test extras
    from httpx import HTTPError  # type: ignore[assignment]

log = logging.getLogger("formaflow.oidc")

LOGIN_PATH = "/auth/oidc/login"
CALLBACK_PATH = "/auth/oidc/callback"
FLOW_COOKIE = "formaflow_oidc"
FLOW_COOKIE_PATH = "/auth/oidc"
FLOW_MAX_AGE = 600
"""Seconds a person has between « Se connecter » and coming back from the provider."""
FLOW_SALT = "formaflow.oidc.flow"

CACHE_SECONDS = 3600.0
HTTP_TIMEOUT = 10.0
CLOCK_SKEW = 60
"""Seconds of tolerance on ``exp``/``iat`` between the provider's clock and ours."""
MAX_NAME_LENGTH = 200
MAX_EMAIL_LENGTH = 320

# Only public-key signatures: a symmetric one would let whoever knows the client secret
# forge tokens, and "none" would let anyone.
SIGNATURE_ALGORITHMS = frozenset(
    {"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"}
)


def _not_enabled() -> ApiProblem:
    return ApiProblem(
        404, "introuvable", "La connexion par le fournisseur d'identité n'est pas activée ici."
    )


def _bad_flow() -> ApiProblem:
    return ApiProblem(
        400,
        "requete-invalide",
        "Cette connexion a expiré ou n'a pas été commencée dans ce navigateur : "
        "recommencez depuis la page de connexion.",
    )


def _refused(reason: str) -> ApiProblem:
    return ApiProblem(
        401,
        "authentification-requise",
        f"Le fournisseur d'identité a refusé la connexion ({reason}) : recommencez.",
    )


def _unverified() -> ApiProblem:
    return ApiProblem(
        401,
        "identifiants-invalides",
        "La réponse du fournisseur d'identité n'a pas pu être vérifiée : connexion refusée.",
    )


def _unavailable() -> ApiProblem:
    return ApiProblem(
        502,
        "fournisseur-indisponible",
        "Le fournisseur d'identité ne répond pas correctement pour le moment : "
        "réessayez dans quelques minutes.",
    )


@dataclass(frozen=True, slots=True)
class Flow:
    """What the callback must find again: the three one-time secrets of one sign-in."""

    state: str
    nonce: str
    code_verifier: str


class FlowCookie:
    """Signs a :class:`Flow` into a cookie value and reads it back, refusing anything forged,
    altered or older than :data:`FLOW_MAX_AGE`."""

    def __init__(self, secret: str) -> None:
        self.serializer = URLSafeTimedSerializer(secret, salt=FLOW_SALT)

    def dump(self, flow: Flow) -> str:
        return self.serializer.dumps([flow.state, flow.nonce, flow.code_verifier])

    def load(self, value: str | None) -> Flow:
        if not value:
            raise _bad_flow()
        try:
            data = self.serializer.loads(value, max_age=FLOW_MAX_AGE)
        except BadSignature as error:  # also SignatureExpired
            log.warning("oidc flow cookie refused: %s", error)
            raise _bad_flow() from error
        if not (
            isinstance(data, list) and len(data) == 3 and all(isinstance(v, str) for v in data)
        ):
            raise _bad_flow()
        return Flow(*data)


@dataclass(frozen=True, slots=True)
class ProviderMetadata:
    """The part of the discovery document we rely on, checked once when fetched."""

    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str
    userinfo_endpoint: str | None
    token_endpoint_auth_method: str
    algorithms: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Identity:
    """Who the provider vouches for: the stable key (issuer, subject) and contact details."""

    issuer: str
    subject: str
    email: str
    full_name: str
    email_verified: bool = False
    """True only when the provider said so (``email_verified: true``): the one case in which
    the email may link this identity to an existing account."""


class OidcClient:
    """The relying party for the configured provider; one per app, caches shared by requests."""

    def __init__(
        self, settings: ApiSettings, monotonic: Callable[[], float] = time.monotonic
    ) -> None:
        if not settings.oidc_enabled:
            raise _not_enabled()
        assert settings.oidc_issuer is not None and settings.oidc_client_id is not None
        self.settings = settings
        self.issuer = settings.oidc_issuer
        self.client_id = settings.oidc_client_id
        secret = settings.oidc_client_secret
        self.client_secret = secret.get_secret_value() if secret is not None else None
        self.redirect_uri = settings.base_url.rstrip("/") + CALLBACK_PATH
        scopes = settings.oidc_scopes.split()
        self.scope = " ".join(scopes if "openid" in scopes else ["openid", *scopes])
        self.monotonic = monotonic
        self._metadata: tuple[float, ProviderMetadata] | None = None
        self._keys: tuple[float, KeySet] | None = None

    # The two steps ----------------------------------------------------------------

    async def begin(self) -> tuple[str, Flow]:
        """The provider's authorization URL for a new sign-in, and the flow to remember."""
        flow = Flow(
            state=secrets.token_urlsafe(32),
            nonce=secrets.token_urlsafe(32),
            code_verifier=generate_token(64),
        )
        async with self._http() as oauth:
            metadata = await self.metadata(oauth)
            url, _ = oauth.create_authorization_url(
                metadata.authorization_endpoint,
                state=flow.state,
                code_verifier=flow.code_verifier,
                nonce=flow.nonce,
            )
        return str(url), flow

    async def finish(self, flow: Flow, code: str) -> Identity:
        """Exchange the code (with the PKCE verifier), verify the ID token, and say who it is."""
        async with self._http() as oauth:
            metadata = await self.metadata(oauth)
            # Known only from the discovery document: how the provider wants us to prove
            # we are this client (ProConnect: client_secret_post).
            oauth.token_endpoint_auth_method = metadata.token_endpoint_auth_method
            try:
                token = await oauth.fetch_token(
                    metadata.token_endpoint,
                    grant_type="authorization_code",
                    code=code,
                    code_verifier=flow.code_verifier,
                )
            except OAuthError as error:
                log.warning("oidc token request refused: %s", error)
                raise _refused(str(error.error)) from error
            except (HTTPError, ValueError) as error:
                log.warning("oidc token endpoint failed: %r", error)
                raise _unavailable() from error
            id_token = token.get("id_token")
            access_token = token.get("access_token")
            if not isinstance(id_token, str):
                log.warning("oidc token response without id_token")
                raise _unverified()
            claims = await self._verified_claims(oauth, metadata, id_token, flow, access_token)
            subject = str(claims["sub"])
            if not claims.get("email") and metadata.userinfo_endpoint and access_token:
                claims = {**claims, **await self._userinfo(oauth, metadata, access_token, subject)}
        return self._identity(metadata.issuer, subject, claims)

    # Provider metadata and keys -----------------------------------------------------

    async def metadata(self, oauth: Any) -> ProviderMetadata:
        cached = self._metadata
        if cached is not None and self.monotonic() - cached[0] < CACHE_SECONDS:
            return cached[1]
        url = self.issuer.rstrip("/") + "/.well-known/openid-configuration"
        metadata = self._read_metadata(await self._get_json(oauth, url))
        self._metadata = (self.monotonic(), metadata)
        return metadata

    def _read_metadata(self, doc: dict[str, Any]) -> ProviderMetadata:
        issuer = doc.get("issuer")
        if not isinstance(issuer, str) or issuer.rstrip("/") != self.issuer.rstrip("/"):
            # OpenID Connect Discovery §4.3: a document for another issuer is an impostor.
            log.error("oidc discovery issuer %r is not the configured %r", issuer, self.issuer)
            raise _unavailable()
        endpoints: dict[str, str] = {}
        for name in ("authorization_endpoint", "token_endpoint", "jwks_uri"):
            value = doc.get(name)
            if not isinstance(value, str) or not self._same_security(issuer, value):
                log.error("oidc discovery: missing or insecure %s: %r", name, value)
                raise _unavailable()
            endpoints[name] = value
        userinfo = doc.get("userinfo_endpoint")
        if not isinstance(userinfo, str) or not self._same_security(issuer, userinfo):
            userinfo = None
        offered = doc.get("id_token_signing_alg_values_supported") or ["RS256"]
        if not isinstance(offered, list):
            offered = []
        algorithms = tuple(a for a in offered if isinstance(a, str) and a in SIGNATURE_ALGORITHMS)
        if not algorithms:
            log.error("oidc provider signs ID tokens only with %r", offered)
            raise _unavailable()
        return ProviderMetadata(
            issuer=issuer,
            userinfo_endpoint=userinfo,
            token_endpoint_auth_method=self._auth_method(doc),
            algorithms=algorithms,
            **endpoints,
        )

    @staticmethod
    def _same_security(issuer: str, url: str) -> bool:
        """An https issuer must not send us, or our secrets, to a plain-http endpoint."""
        return url.startswith("https://") or not issuer.startswith("https://")

    def _auth_method(self, doc: dict[str, Any]) -> str:
        if not self.client_secret:
            return "none"
        # RFC 8414: absent means client_secret_basic.
        supported = doc.get("token_endpoint_auth_methods_supported") or ["client_secret_basic"]
        if "client_secret_basic" in supported:
            return "client_secret_basic"
        return "client_secret_post"

    async def keys(self, oauth: Any, metadata: ProviderMetadata, refresh: bool = False) -> KeySet:
        cached = self._keys
        if not refresh and cached is not None and self.monotonic() - cached[0] < CACHE_SECONDS:
            return cached[1]
        doc = await self._get_json(oauth, metadata.jwks_uri)
        try:
            keys = KeySet.import_key_set(doc)  # type: ignore[arg-type]
        except (JoseError, ValueError, KeyError, TypeError) as error:
            log.error("oidc jwks unreadable: %r", error)
            raise _unavailable() from error
        self._keys = (self.monotonic(), keys)
        return keys

    async def _get_json(self, oauth: Any, url: str) -> dict[str, Any]:
        try:
            response = await oauth.request("GET", url, withhold_token=True)
            response.raise_for_status()
            doc = response.json()
        except (HTTPError, ValueError) as error:
            log.error("oidc provider request %s failed: %r", url, error)
            raise _unavailable() from error
        if not isinstance(doc, dict):
            log.error("oidc provider answered %s with a non-object", url)
            raise _unavailable()
        return doc

    # Verification -------------------------------------------------------------------

    async def _decode(self, oauth: Any, metadata: ProviderMetadata, value: str) -> jwt.Token:
        """The signed token, its signature checked against the provider's published keys."""
        keys = await self.keys(oauth, metadata)
        try:
            try:
                return jwt.decode(value, keys, algorithms=metadata.algorithms)
            except InvalidKeyIdError:
                keys = await self.keys(oauth, metadata, refresh=True)
                return jwt.decode(value, keys, algorithms=metadata.algorithms)
        except (JoseError, ValueError) as error:
            log.warning("oidc token signature refused: %r", error)
            raise _unverified() from error

    async def _verified_claims(
        self,
        oauth: Any,
        metadata: ProviderMetadata,
        id_token: str,
        flow: Flow,
        access_token: Any,
    ) -> dict[str, Any]:
        token = await self._decode(oauth, metadata, id_token)
        claims = CodeIDToken(
            token.claims,
            token.header,
            options={
                "iss": {"essential": True, "value": metadata.issuer},
                "aud": {"essential": True, "value": self.client_id},
                "sub": {"essential": True},
                "exp": {"essential": True},
            },
            params={
                # Ties the token to this browser's sign-in: a token obtained elsewhere, or
                # without a nonce, is refused (MissingClaimError / InvalidClaimError).
                "nonce": flow.nonce,
                "client_id": self.client_id,
                "access_token": access_token if isinstance(access_token, str) else None,
            },
        )
        try:
            claims.validate(leeway=CLOCK_SKEW)
        except (JoseError, TypeError, ValueError) as error:  # a malformed claim included
            log.warning("oidc id token claims refused: %r", error)
            raise _unverified() from error
        return dict(token.claims)

    async def _userinfo(
        self, oauth: Any, metadata: ProviderMetadata, access_token: str, subject: str
    ) -> dict[str, Any]:
        """ProConnect gives the agent's email and names only at the userinfo endpoint, as a
        JWT signed like the ID token; other providers answer plain JSON."""
        assert metadata.userinfo_endpoint is not None
        try:
            response = await oauth.request(
                "GET",
                metadata.userinfo_endpoint,
                headers={"Authorization": f"Bearer {access_token}"},
                withhold_token=True,
            )
        except HTTPError as error:
            log.error("oidc userinfo request failed: %r", error)
            raise _unavailable() from error
        if response.status_code != 200:
            log.warning("oidc userinfo answered %s", response.status_code)
            raise _unverified()
        if response.headers.get("content-type", "").startswith("application/jwt"):
            claims = dict((await self._decode(oauth, metadata, response.text.strip())).claims)
        else:
            try:
                claims = response.json()
            except ValueError as error:
                raise _unverified() from error
        # OpenID Connect Core §5.3.2: userinfo about someone else must not be used.
        if not isinstance(claims, dict) or claims.get("sub") != subject:
            log.warning("oidc userinfo subject differs from the id token's")
            raise _unverified()
        return claims

    @staticmethod
    def _identity(issuer: str, subject: str, claims: dict[str, Any]) -> Identity:
        email = claims.get("email")
        if not isinstance(email, str) or "@" not in email or len(email) > MAX_EMAIL_LENGTH:
            raise ApiProblem(
                401,
                "identifiants-invalides",
                "Le fournisseur d'identité n'a pas transmis d'adresse électronique valide.",
            )
        if claims.get("email_verified") is False:
            # The email links the agent to an existing local account: an unverified one
            # would hand that account to whoever typed the address.
            raise ApiProblem(
                403,
                "acces-refuse",
                "Le fournisseur d'identité n'a pas vérifié votre adresse électronique.",
            )
        return Identity(
            issuer,
            subject,
            email,
            _full_name(claims)[:MAX_NAME_LENGTH],
            email_verified=claims.get("email_verified") is True,
        )

    # HTTP ---------------------------------------------------------------------------

    @asynccontextmanager
    async def _http(self) -> AsyncIterator[Any]:
        """A client for one request: an async client is tied to the event loop that made it."""
        async with AsyncOAuth2Client(
            client_id=self.client_id,
            client_secret=self.client_secret,
            scope=self.scope,
            redirect_uri=self.redirect_uri,
            code_challenge_method="S256",
            timeout=HTTP_TIMEOUT,
        ) as oauth:
            yield oauth


def _full_name(claims: dict[str, Any]) -> str:
    """``name`` when given, else given name and usual (ProConnect) or family name."""
    name = claims.get("name")
    if isinstance(name, str) and name.strip():
        return name.strip()
    parts = [claims.get("given_name"), claims.get("usual_name") or claims.get("family_name")]
    return " ".join(p.strip() for p in parts if isinstance(p, str) and p.strip())
