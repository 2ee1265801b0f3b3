"""The académie's seal on signed PDFs: a PAdES signature (pyHanko) any PDF reader checks.

Production names the académie's certificate and key (``FORMAFLOW_SEAL_CERTIFICATE_FILE``,
``FORMAFLOW_SEAL_KEY_FILE``, ``FORMAFLOW_SEAL_KEY_PASSWORD``). Without them, a self-signed
certificate is created at first use under the data directory (``<data>/sceau/``, the key
readable by its owner only), never in the repository: enough to prove that a file was not
changed since formaflow sealed it, not who the académie is (a reader then shows the seal as
intact but its signer as unknown).
"""

from __future__ import annotations

import asyncio
import io
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TypeVar

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from pyhanko.keys import load_cert_from_pemder
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import signers
from pyhanko.sign.fields import SigSeedSubFilter
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko_certvalidator import ValidationContext

FIELD = "SceauAcademie"
_LOCK = threading.Lock()


@dataclass(frozen=True, slots=True)
class SealKeys:
    certificate: Path
    key: Path
    password: bytes | None = None
    self_signed: bool = False


def default_keys(data_dir: Path, organisation: str) -> SealKeys:
    """The embedded default: a self-signed certificate made once under ``data_dir``."""
    folder = data_dir / "sceau"
    cert_path, key_path = folder / "certificat.pem", folder / "cle.pem"
    with _LOCK:
        if not (cert_path.exists() and key_path.exists()):
            folder.mkdir(parents=True, exist_ok=True)
            key = ec.generate_private_key(ec.SECP256R1())
            name = x509.Name(
                [
                    x509.NameAttribute(NameOID.COMMON_NAME, f"{organisation} — sceau formaflow"),
                    x509.NameAttribute(NameOID.ORGANIZATION_NAME, organisation),
                    x509.NameAttribute(NameOID.COUNTRY_NAME, "FR"),
                ]
            )
            now = datetime.now(UTC)
            cert = (
                x509.CertificateBuilder()
                .subject_name(name)
                .issuer_name(name)
                .public_key(key.public_key())
                .serial_number(x509.random_serial_number())
                .not_valid_before(now - timedelta(days=1))
                .not_valid_after(now + timedelta(days=3650))
                .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
                .add_extension(
                    x509.KeyUsage(
                        digital_signature=True,
                        content_commitment=True,
                        key_encipherment=False,
                        data_encipherment=False,
                        key_agreement=False,
                        key_cert_sign=True,
                        crl_sign=False,
                        encipher_only=False,
                        decipher_only=False,
                    ),
                    critical=True,
                )
                .sign(key, hashes.SHA256())
            )
            tmp_key = key_path.with_suffix(".tmp")
            tmp_key.touch(mode=0o600)
            tmp_key.write_bytes(
                key.private_bytes(
                    serialization.Encoding.PEM,
                    serialization.PrivateFormat.PKCS8,
                    serialization.NoEncryption(),
                )
            )
            tmp_key.replace(key_path)
            cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return SealKeys(cert_path, key_path, None, self_signed=True)


T = TypeVar("T")


def _outside_any_loop(work: Callable[[], T]) -> T:
    """``work()``, on another thread when this one runs an event loop.

    pyHanko's synchronous calls run their own loop (``asyncio.run``), which Python refuses
    inside a running one: a transition fired from a thread that runs a loop (a browser
    driver's, an async host's) would fail at its last signature. A short-lived thread has
    no loop; the caller waits for it, so the transaction around stays the same."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return work()
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="seal") as pool:
        return pool.submit(work).result()


def seal(pdf: bytes, keys: SealKeys, *, reason: str, location: str | None) -> bytes:
    """``pdf`` with the académie's PAdES signature covering the whole file."""
    # pyHanko leaves its PEM loaders unannotated.
    signer = signers.SimpleSigner.load(  # type: ignore[no-untyped-call]
        str(keys.key), str(keys.certificate), key_passphrase=keys.password
    )
    assert signer is not None, "the seal's key or certificate cannot be read"
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf))
    meta = signers.PdfSignatureMetadata(
        field_name=FIELD,
        subfilter=SigSeedSubFilter.PADES,
        reason=reason,
        location=location,
    )
    out = _outside_any_loop(lambda: signers.PdfSigner(meta, signer=signer).sign_pdf(writer))
    assert isinstance(out, io.BytesIO)
    return out.getvalue()


@dataclass(frozen=True, slots=True)
class SealCheck:
    intact: bool
    """The bytes signed are the bytes present (nothing changed)."""
    valid: bool
    """The signature is cryptographically valid."""
    trusted: bool
    """Its certificate chains to the given trust root."""
    covers_whole_file: bool


def check(pdf: bytes, trust_root: Path) -> SealCheck:
    """pyHanko's own validation of the first signature of ``pdf`` against ``trust_root``."""
    root = load_cert_from_pemder(str(trust_root))  # type: ignore[no-untyped-call]
    context = ValidationContext(trust_roots=[root])
    reader = PdfFileReader(io.BytesIO(pdf))
    status = _outside_any_loop(
        lambda: validate_pdf_signature(reader.embedded_signatures[0], context)
    )
    return SealCheck(
        intact=bool(status.intact),
        valid=bool(status.valid),
        trusted=bool(status.trusted),
        covers_whole_file=status.coverage is not None and status.coverage.name == "ENTIRE_FILE",
    )
