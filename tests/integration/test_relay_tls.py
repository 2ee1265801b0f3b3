"""The relay against a real SMTP server that requires TLS and authentication.

aiosmtpd serves STARTTLS (and, on another port, implicit TLS) with a certificate made for
the test by its own CA, and accepts only one login and password, only over TLS. The relay
must verify the certificate against the CA it is given, authenticate, deliver; a wrong
password or an untrusted certificate must leave the messages waiting (retried), with the
reason kept, rather than sent in clear or dead.
"""

from __future__ import annotations

import ssl
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from ipaddress import IPv4Address
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from sqlalchemy import Engine, select

from notifications.relay import Relay, SmtpTarget
from tests.support.mail import drain, enqueue, mail_settings
from tests.support.smtp import free_port
from workflow.store.tables import outbox_table as O

LOGIN, PASSWORD = "formaflow", "secret-du-relais"


@dataclass(frozen=True)
class Certificates:
    ca: Path
    cert: Path
    key: Path


def _name(common: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common)])


@pytest.fixture(scope="module")
def certificates(tmp_path_factory: pytest.TempPathFactory) -> Certificates:
    """A CA of the test's own and a server certificate for 127.0.0.1 signed by it."""
    folder = tmp_path_factory.mktemp("tls")
    now = datetime.now(UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = (
        x509.CertificateBuilder()
        .subject_name(_name("CA des tests formaflow"))
        .issuer_name(_name("CA des tests formaflow"))
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True, content_commitment=False, key_encipherment=False,
                data_encipherment=False, key_agreement=False, key_cert_sign=True,
                crl_sign=True, encipher_only=False, decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(
            x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )  # fmt: skip
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name("127.0.0.1"))
        .issuer_name(ca.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.IPAddress(IPv4Address("127.0.0.1")), x509.DNSName("localhost")]
            ),
            critical=False,
        )
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )
    paths = Certificates(folder / "ca.pem", folder / "cert.pem", folder / "key.pem")
    paths.ca.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    paths.cert.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    paths.key.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return paths


@dataclass
class Seen:
    """What the server saw of each delivered message: over TLS? as whom?"""

    lock: threading.Lock = field(default_factory=threading.Lock)
    deliveries: list[tuple[bool, str | None, list[str]]] = field(default_factory=list)


class _Handler:
    def __init__(self, seen: Seen) -> None:
        self.seen = seen

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        login = session.auth_data
        who = login.decode() if isinstance(login, bytes) else None
        with self.seen.lock:
            self.seen.deliveries.append((_over_tls(server), who, list(envelope.rcpt_tos)))
        return "250 OK"


def _over_tls(server: SMTP) -> bool:
    """Whether this SMTP session's transport is TLS (after STARTTLS, or from the start)."""
    transport = server.transport
    return transport is not None and transport.get_extra_info("ssl_object") is not None


def _authenticate(
    server: SMTP, session: Session, envelope: Envelope, mechanism: str, data: Any
) -> AuthResult:
    ok = (
        isinstance(data, LoginPassword)
        and data.login == LOGIN.encode()
        and data.password == PASSWORD.encode()
    )
    return AuthResult(success=ok, auth_data=data.login if ok else None, handled=False)


def _server_context(certificates: Certificates) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(certificates.cert, certificates.key)
    return context


def _serving(certificates: Certificates, **tls: Any) -> Iterator[tuple[int, Seen]]:
    """aiosmtpd demanding a login, with the TLS options given; yields its port and what it saw."""
    seen, port = Seen(), free_port()
    context = _server_context(certificates)
    options: dict[str, Any] = {"tls_context" if tls.pop("starttls") else "ssl_context": context}
    controller = Controller(
        _Handler(seen),
        hostname="127.0.0.1",
        port=port,
        auth_required=True,
        authenticator=_authenticate,
        **options,
        **tls,
    )
    controller.start()
    try:
        yield port, seen
    finally:
        controller.stop()


@pytest.fixture
def starttls_server(certificates: Certificates) -> Iterator[tuple[int, Seen]]:
    yield from _serving(certificates, starttls=True, require_starttls=True, auth_require_tls=True)


@pytest.fixture
def implicit_tls_server(certificates: Certificates) -> Iterator[tuple[int, Seen]]:
    # aiosmtpd counts only STARTTLS as TLS for AUTH; this whole connection is TLS.
    yield from _serving(certificates, starttls=False, auth_require_tls=False)


def _relay(engine: Engine, target: SmtpTarget) -> Relay:
    # A refusal's retry is a minute away: one pass shows what the first attempt did.
    settings = mail_settings(relay_backoff_seconds=60, relay_backoff_max_seconds=120)
    return Relay(engine, settings, target)


def _rows(engine: Engine) -> list[tuple[str, str | None]]:
    with engine.connect() as conn:
        return [(r.status, r.last_error) for r in conn.execute(select(O.c.status, O.c.last_error))]


def test_starttls_with_authentication_delivers_over_tls(
    fresh_engine: Engine, starttls_server: tuple[int, Seen], certificates: Certificates
) -> None:
    port, seen = starttls_server
    enqueue(fresh_engine, 5)
    target = SmtpTarget(
        "127.0.0.1", port, "starttls", LOGIN, PASSWORD, timeout=5, ca_file=str(certificates.ca)
    )
    assert drain(_relay(fresh_engine, target)) == 5
    assert [status for status, _ in _rows(fresh_engine)] == ["sent"] * 5
    assert len(seen.deliveries) == 5
    assert all(tls and who == LOGIN for tls, who, _ in seen.deliveries), seen.deliveries


# aiosmtpd warns about AUTH without *STARTTLS*; here the whole connection is TLS.
@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
def test_implicit_tls_with_authentication_delivers(
    fresh_engine: Engine, implicit_tls_server: tuple[int, Seen], certificates: Certificates
) -> None:
    port, seen = implicit_tls_server
    enqueue(fresh_engine, 3)
    target = SmtpTarget(
        "127.0.0.1", port, "tls", LOGIN, PASSWORD, timeout=5, ca_file=str(certificates.ca)
    )
    assert drain(_relay(fresh_engine, target)) == 3
    assert [status for status, _ in _rows(fresh_engine)] == ["sent"] * 3, _rows(fresh_engine)
    assert all(tls and who == LOGIN for tls, who, _ in seen.deliveries), seen.deliveries


def test_a_wrong_password_keeps_the_messages_waiting_with_the_reason(
    fresh_engine: Engine, starttls_server: tuple[int, Seen], certificates: Certificates
) -> None:
    port, seen = starttls_server
    enqueue(fresh_engine, 2)
    target = SmtpTarget(
        "127.0.0.1", port, "starttls", LOGIN, "pas le bon", timeout=5,
        ca_file=str(certificates.ca),
    )  # fmt: skip
    drain(_relay(fresh_engine, target))
    rows = _rows(fresh_engine)
    assert [status for status, _ in rows] == ["pending", "pending"]
    assert all(error and error.startswith("authentification refusée : 535") for _, error in rows)
    assert seen.deliveries == []


def test_an_untrusted_certificate_sends_nothing(
    fresh_engine: Engine, starttls_server: tuple[int, Seen]
) -> None:
    port, seen = starttls_server
    enqueue(fresh_engine, 2)
    # No CA given: the test's CA is not in the system's store, so the handshake must fail.
    target = SmtpTarget("127.0.0.1", port, "starttls", LOGIN, PASSWORD, timeout=5)
    drain(_relay(fresh_engine, target))
    rows = _rows(fresh_engine)
    assert [status for status, _ in rows] == ["pending", "pending"]
    assert all(error and "CERTIFICATE_VERIFY_FAILED" in error for _, error in rows), rows
    assert seen.deliveries == []
