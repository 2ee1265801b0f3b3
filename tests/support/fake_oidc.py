"""A local OpenID provider shaped like ProConnect, served over real TCP for the tests.

It checks what a real provider checks (client, redirect URI, PKCE S256, single-use codes,
client secret sent as ``client_secret_post``) and can be told to misbehave the ways an
attacker or a broken provider would: wrong nonce, foreign signing key, altered claims, denial.
Requests from the app under test and changes to :attr:`FakeProvider.behaviour` from the test
never overlap (the test waits for each answer), so no lock is needed.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import socket
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import uvicorn
from joserfc import jwt
from joserfc.jwk import KeySet, RSAKey
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import Route

STARTUP_SECONDS = 10.0


@dataclass
class Agent:
    """The person who « signs in » at the provider on the next authorization."""

    subject: str
    email: str
    given_name: str = "Agnès"
    usual_name: str = "Durand"


@dataclass
class Behaviour:
    """How the provider answers; each test starts from the honest default (:meth:`reset`)."""

    agent: Agent | None = None
    deny: bool = False
    wrong_nonce: bool = False
    foreign_key: bool = False
    claims_in_userinfo: bool = False
    """ProConnect-style: the ID token names only ``sub``; email and names come from userinfo."""
    email_verified: bool | None = None
    id_token_overrides: dict[str, Any] = field(default_factory=dict)
    """Claims to replace in the ID token; ``None`` removes the claim."""


@dataclass(frozen=True)
class Grant:
    """One authorization as the provider recorded it."""

    client_id: str
    redirect_uri: str
    state: str
    nonce: str
    code_challenge: str
    code_challenge_method: str
    scope: str
    agent: Agent


def s256(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


class FakeProvider:
    def __init__(self, client_id: str, client_secret: str) -> None:
        self.client_id = client_id
        self.client_secret = client_secret
        self.rotate_keys()
        self.issuer = ""
        self.behaviour = Behaviour()
        self.grants: dict[str, Grant] = {}
        self.authorizations: list[Grant] = []
        self.refusals: list[str] = []
        self.hits: Counter[str] = Counter()
        self._access: dict[str, Grant] = {}
        self.app = Starlette(
            routes=[
                Route("/.well-known/openid-configuration", self.discovery),
                Route("/authorize", self.authorize),
                Route("/token", self.token, methods=["POST"]),
                Route("/userinfo", self.userinfo),
                Route("/jwks", self.jwks),
            ]
        )

    def rotate_keys(self) -> None:
        """A new signing key under a new kid, as a provider does from time to time."""
        self.key = RSAKey.generate_key(2048, auto_kid=True)
        kid = self.key.kid
        assert kid is not None
        self.kid = kid
        # Same kid, other key: only the signature check can tell a forgery.
        self.foreign_key = RSAKey.generate_key(2048, parameters={"kid": kid})

    def reset(self) -> None:
        self.behaviour = Behaviour()
        self.refusals.clear()

    # Endpoints ------------------------------------------------------------------------

    async def discovery(self, request: Request) -> Response:
        self.hits["discovery"] += 1
        return JSONResponse(
            {
                "issuer": self.issuer,
                "authorization_endpoint": f"{self.issuer}/authorize",
                "token_endpoint": f"{self.issuer}/token",
                "userinfo_endpoint": f"{self.issuer}/userinfo",
                "jwks_uri": f"{self.issuer}/jwks",
                "response_types_supported": ["code"],
                "subject_types_supported": ["public"],
                "id_token_signing_alg_values_supported": ["RS256"],
                "token_endpoint_auth_methods_supported": ["client_secret_post"],
                "code_challenge_methods_supported": ["S256"],
                "scopes_supported": ["openid", "email", "given_name", "usual_name"],
            }
        )

    async def jwks(self, request: Request) -> Response:
        self.hits["jwks"] += 1
        return JSONResponse(KeySet([self.key]).as_dict(private=False))

    async def authorize(self, request: Request) -> Response:
        q = request.query_params
        redirect_uri = q.get("redirect_uri", "")
        if q.get("client_id") != self.client_id or not redirect_uri:
            # RFC 6749 §4.1.2.1: never redirect to an unverified address.
            return PlainTextResponse("unknown client or redirect_uri", status_code=400)
        state = q.get("state", "")
        if self.behaviour.deny:
            return self._back(redirect_uri, error="access_denied", state=state)
        if (
            q.get("response_type") != "code"
            or "openid" not in q.get("scope", "").split()
            or q.get("code_challenge_method") != "S256"
            or not q.get("code_challenge")
            or not q.get("nonce")
        ):
            return self._back(redirect_uri, error="invalid_request", state=state)
        agent = self.behaviour.agent
        assert agent is not None, "set provider.behaviour.agent before signing in"
        grant = Grant(
            client_id=self.client_id,
            redirect_uri=redirect_uri,
            state=state,
            nonce=q["nonce"],
            code_challenge=q["code_challenge"],
            code_challenge_method=q["code_challenge_method"],
            scope=q["scope"],
            agent=agent,
        )
        code = secrets.token_urlsafe(24)
        self.grants[code] = grant
        self.authorizations.append(grant)
        return self._back(redirect_uri, code=code, state=state)

    async def token(self, request: Request) -> Response:
        form = await request.form()
        values = {k: v for k, v in form.items() if isinstance(v, str)}
        if values.get("client_id") != self.client_id or not hmac.compare_digest(
            values.get("client_secret", ""), self.client_secret
        ):
            return self._refuse("client", "invalid_client", status=401)
        if values.get("grant_type") != "authorization_code":
            return self._refuse("grant_type", "unsupported_grant_type")
        grant = self.grants.pop(values.get("code", ""), None)  # single use
        if grant is None:
            return self._refuse("code", "invalid_grant")
        if values.get("redirect_uri") != grant.redirect_uri:
            return self._refuse("redirect_uri", "invalid_grant")
        verifier = values.get("code_verifier", "")
        if not verifier or not hmac.compare_digest(s256(verifier), grant.code_challenge):
            return self._refuse("code_verifier", "invalid_grant")
        access_token = secrets.token_urlsafe(24)
        self._access[access_token] = grant
        return JSONResponse(
            {
                "access_token": access_token,
                "token_type": "Bearer",
                "expires_in": 60,
                "id_token": self._id_token(grant),
            },
            headers={"Cache-Control": "no-store"},
        )

    async def userinfo(self, request: Request) -> Response:
        authorization = request.headers.get("authorization", "")
        grant = self._access.get(authorization.removeprefix("Bearer "))
        if grant is None:
            return JSONResponse({"error": "invalid_token"}, status_code=401)
        claims = {
            "sub": grant.agent.subject,
            "iss": self.issuer,
            "aud": self.client_id,
            **self._person(grant.agent),
        }
        signed = jwt.encode({"alg": "RS256", "kid": self.kid}, claims, self.key)
        return Response(signed, media_type="application/jwt")

    # Helpers --------------------------------------------------------------------------

    def _id_token(self, grant: Grant) -> str:
        now = int(time.time())
        b = self.behaviour
        claims: dict[str, Any] = {
            "iss": self.issuer,
            "sub": grant.agent.subject,
            "aud": self.client_id,
            "iat": now,
            "exp": now + 300,
            "auth_time": now,
            "nonce": "une-autre-connexion" if b.wrong_nonce else grant.nonce,
            "acr": "eidas1",
        }
        if not b.claims_in_userinfo:
            claims |= self._person(grant.agent)
        for name, value in b.id_token_overrides.items():
            if value is None:
                claims.pop(name, None)
            else:
                claims[name] = value
        key = self.foreign_key if b.foreign_key else self.key
        return jwt.encode({"alg": "RS256", "kid": self.kid}, claims, key)

    def _person(self, agent: Agent) -> dict[str, Any]:
        person: dict[str, Any] = {
            "email": agent.email,
            "given_name": agent.given_name,
            "usual_name": agent.usual_name,
        }
        if self.behaviour.email_verified is not None:
            person["email_verified"] = self.behaviour.email_verified
        return person

    def _refuse(self, what: str, error: str, status: int = 400) -> Response:
        self.refusals.append(what)
        return JSONResponse(
            {"error": error, "error_description": f"refused: {what}"}, status_code=status
        )

    @staticmethod
    def _back(redirect_uri: str, **params: str) -> Response:
        separator = "&" if "?" in redirect_uri else "?"
        return RedirectResponse(f"{redirect_uri}{separator}{urlencode(params)}", status_code=302)

    # Serving --------------------------------------------------------------------------

    @contextmanager
    def serving(self) -> Iterator[FakeProvider]:
        """Serve on 127.0.0.1 in a background thread until the block ends.

        The socket is bound here, on a port the kernel picks, so there is no window in which
        another process could take a port we found free; readiness is polled, not slept on.
        """
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind(("127.0.0.1", 0))
        sock.listen(64)
        port = sock.getsockname()[1]
        self.issuer = f"http://127.0.0.1:{port}"
        config = uvicorn.Config(
            self.app,
            log_config=None,
            log_level="warning",
            access_log=False,
            lifespan="off",
            ws="none",
            loop="asyncio",
        )
        server = uvicorn.Server(config)
        thread = threading.Thread(
            target=server.run, kwargs={"sockets": [sock]}, name="fake-oidc", daemon=True
        )
        thread.start()
        try:
            _wait_until_serving(server, thread, port)
            yield self
        finally:
            server.should_exit = True
            thread.join(timeout=STARTUP_SECONDS)
            sock.close()
            assert not thread.is_alive(), "the fake OpenID provider did not stop"


def _wait_until_serving(server: uvicorn.Server, thread: threading.Thread, port: int) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while True:
        if server.started:
            with socket.create_connection(("127.0.0.1", port), timeout=1.0):
                return
        if not thread.is_alive():
            raise RuntimeError("the fake OpenID provider stopped while starting")
        if time.monotonic() > deadline:
            raise RuntimeError("the fake OpenID provider did not start in time")
        thread.join(timeout=0.01)  # wakes early if the server thread dies
