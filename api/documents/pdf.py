"""HTML → PDF, on the server (WeasyPrint), for every paper formaflow hands out.

One small function so that any printable page (contract, fiche de rémunération, bilan,
émargement sheets, attestations) becomes a PDF the same way. Fonts are embedded (subsets)
by WeasyPrint. The typeface is Liberation Sans (Debian ``fonts-liberation``, SIL Open Font
Licence), metric-compatible with Arial, with DejaVu Sans as fallback: the DSFR's Marianne is
not used in PDFs because its terms of use (DSFR CGU art. 20, « modalités d'utilisation
spécifiques » of the Marque de l'État) reserve it to State services under conditions a
deployment must accept itself, whereas a PDF leaves formaflow and is redistributed.

Nothing is fetched over the network while rendering: a document refers to no external
resource, and any URL it might contain is refused rather than downloaded.
"""

from __future__ import annotations

from weasyprint import HTML
from weasyprint.urls import URLFetcher

FONT_STACK = '"Liberation Sans", "DejaVu Sans", sans-serif'


def html_to_pdf(html: str) -> bytes:
    """The PDF of a complete HTML page (its own ``<style>`` and ``@page`` rules).

    Only inline ``data:`` resources are read: nothing is downloaded while rendering.
    """
    fetcher = URLFetcher(allowed_protocols=("data",))
    pdf = HTML(string=html, url_fetcher=fetcher).write_pdf()
    assert pdf is not None
    return bytes(pdf)
