"""Addresses whose text no database can store are refused before any route reads them.

PostgreSQL refuses a NUL character in text (``A string literal cannot contain NUL``): a
filter such as ``/tableau-de-bord?q=%00`` would reach a query and answer 500. Bodies are
checked field by field (``workflow.dossiers.inputs``, ``api.schemas``); the path and the query
string are checked here, once for every route, as a global dependency so that the refusal
goes through the same handlers as every other error (a French page for people, RFC 9457
problem+json for the API).
"""

from __future__ import annotations

from urllib.parse import unquote_to_bytes

from fastapi import Request

from api.problems import ApiProblem

NUL_IN_ADDRESS = (
    "L'adresse demandée contient un caractère nul (%00), qu'aucun texte ne peut contenir : "
    "corrigez le lien ou les filtres saisis."
)


def refuse_nul(request: Request) -> None:
    """Raise a French 400 when the path or the query string holds a NUL, however encoded."""
    query = request.scope.get("query_string", b"")
    if b"\x00" in unquote_to_bytes(query.replace(b"+", b" ")) or "\x00" in request.url.path:
        raise ApiProblem(400, "caractere-nul", NUL_IN_ADDRESS)
