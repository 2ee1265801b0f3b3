"""Sealing works from a thread that runs an event loop (a browser driver's, an async host's):
pyHanko's synchronous signer runs its own loop, which Python refuses inside a running one."""

from __future__ import annotations

import asyncio
from pathlib import Path

from api.documents.pdf import html_to_pdf
from api.documents.sealing import SealCheck, check, default_keys, seal


def test_a_pdf_is_sealed_and_checked_from_inside_a_running_loop(tmp_path: Path) -> None:
    keys = default_keys(tmp_path, "Académie de test")
    pdf = html_to_pdf("<html><body><p>Contrat de test</p></body></html>")

    async def inside_a_loop() -> bytes:
        return seal(pdf, keys, reason="Test", location="Démoville")

    sealed = asyncio.run(inside_a_loop())
    verdict = asyncio.run(_check_in_loop(sealed, keys.certificate))
    assert verdict.intact and verdict.valid and verdict.trusted


async def _check_in_loop(pdf: bytes, root: Path) -> SealCheck:
    return check(pdf, root)
