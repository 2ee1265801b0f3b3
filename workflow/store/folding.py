"""Text folded for search: lower case, without accents, the same in Python, SQLite and
PostgreSQL, so that « Évaluer », « éval » and « EVAL » all find « Évaluer… ».

SQLite's ``lower`` and ``LIKE`` fold ASCII letters only, and PostgreSQL's ``unaccent`` is an
extension that a managed database may not offer. So the folding is spelled out: one table
of accented Latin letters, applied by ``str.translate`` in Python (registered as the SQLite
function ``formaflow_fold``) and by ``translate`` in PostgreSQL, then ``lower``.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement
from sqlalchemy.types import String

_ACCENTED = "àáâãäåçèéêëìíîïñòóôõöøùúûüýÿ"
_PLAIN = "aaaaaaceeeeiiiinoooooouuuuyy"
ACCENTED = _ACCENTED + _ACCENTED.upper().replace("Ÿ", "") + "Ÿ"
PLAIN = _PLAIN + _PLAIN[:-1] + "y"
LIGATURES = (("œ", "oe"), ("Œ", "oe"), ("æ", "ae"), ("Æ", "ae"))
assert len(ACCENTED) == len(PLAIN)
assert "'" not in ACCENTED + PLAIN  # spelled into SQL below

_TABLE = str.maketrans(ACCENTED, PLAIN)
SQLITE_FUNCTION = "formaflow_fold"


def fold(text: str | None) -> str | None:
    """``text`` in lower case without accents (None stays None, as in SQL)."""
    if text is None:
        return None
    folded = text.translate(_TABLE)
    for ligature, plain in LIGATURES:
        folded = folded.replace(ligature, plain)
    return folded.lower()


class folded(FunctionElement[str]):  # noqa: N801 - an SQL function, named like one
    """``fold`` of a column, in SQL."""

    type = String()
    name = SQLITE_FUNCTION
    inherit_cache = True


@compiles(folded, "postgresql")
def _postgresql(element: folded, compiler: SQLCompiler, **kw: Any) -> str:
    sql = f"translate({compiler.process(element.clauses, **kw)}, '{ACCENTED}', '{PLAIN}')"
    for ligature, plain in LIGATURES:
        sql = f"replace({sql}, '{ligature}', '{plain}')"
    return f"lower({sql})"


@compiles(folded)
def _sqlite(element: folded, compiler: SQLCompiler, **kw: Any) -> str:
    """The function ``workflow.store.database`` registers on every SQLite connection."""
    return f"{SQLITE_FUNCTION}({compiler.process(element.clauses, **kw)})"
