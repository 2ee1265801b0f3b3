"""PDFs read back with Debian's poppler-utils, as a person's reader would show them."""

from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path


def pdf_text(pdf: bytes) -> str:
    """The text of ``pdf`` by ``pdftotext -layout``; pages end with a form feed (``\\f``)."""
    assert pdf.startswith(b"%PDF-"), pdf[:40]
    with tempfile.TemporaryDirectory() as folder:
        source = Path(folder) / "document.pdf"
        source.write_bytes(pdf)
        done = subprocess.run(
            ["pdftotext", "-layout", str(source), "-"], check=True, capture_output=True, text=True
        )
    return done.stdout


def pdf_pages(pdf: bytes) -> int:
    return pdf_text(pdf).count("\f")
