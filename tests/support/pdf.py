"""PDFs read back with Debian's poppler-utils, as a person's reader would show them."""

from __future__ import annotations

import re
import subprocess
import tempfile
from pathlib import Path

ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"


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


def page_image(pdf: bytes, name: str, *, last: bool = False) -> Path:
    """One page (the first, or the last) at 60 dpi into tests/artifacts/<name>.png, by
    ``pdftoppm``: what the closing notes show of each document."""
    ARTIFACTS.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory() as folder:
        source = Path(folder) / "document.pdf"
        source.write_bytes(pdf)
        page = 1
        if last:
            info = subprocess.run(
                ["pdfinfo", str(source)], check=True, capture_output=True, text=True
            ).stdout
            found = re.search(r"^Pages:\s+(\d+)", info, re.MULTILINE)
            assert found is not None
            page = int(found.group(1))
        target = ARTIFACTS / name
        pages = ("-f", str(page), "-l", str(page), "-singlefile")
        subprocess.run(
            ["pdftoppm", "-png", "-r", "60", *pages, str(source), str(target)], check=True
        )
    image = target.with_suffix(".png")
    assert image.stat().st_size > 0
    return image
