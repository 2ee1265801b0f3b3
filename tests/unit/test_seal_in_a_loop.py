"""Sealing works from a thread that runs an event loop (a browser driver's, an async host's):
pyHanko's synchronous signer runs its own loop, which Python refuses inside a running one.

The loop is started in a thread of its own: in the SQLite pass the browser tests' driver
(Playwright's synchronous API) keeps a loop running in the main thread until the session
ends, and ``asyncio.run`` may not be called there."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

from api.documents.pdf import html_to_pdf
from api.documents.sealing import SealCheck, check, default_keys, seal

T = TypeVar("T")


def _in_a_loop(make: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """``make()`` awaited by a loop running in a fresh thread, as an async host would."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(lambda: asyncio.run(make())).result()


def test_a_pdf_is_sealed_and_checked_from_inside_a_running_loop(tmp_path: Path) -> None:
    keys = default_keys(tmp_path, "Académie de test")
    pdf = html_to_pdf("<html><body><p>Contrat de test</p></body></html>")

    async def seal_in_loop() -> bytes:
        asyncio.get_running_loop()  # raises unless a loop runs here
        return seal(pdf, keys, reason="Test", location="Démoville")

    async def check_in_loop(sealed: bytes) -> SealCheck:
        return check(sealed, keys.certificate)

    sealed = _in_a_loop(seal_in_loop)
    verdict = _in_a_loop(lambda: check_in_loop(sealed))
    assert verdict.intact and verdict.valid and verdict.trusted
