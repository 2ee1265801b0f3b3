"""What the page forms share: the values as typed, the errors by field, the summary.

A refused form is shown again with exactly what was typed (strings, never re-formatted),
each French message next to its field and, in the summary at the top, prefixed with the
field's label and linking to it. The pages' own form classes (bilan, scénario, demande)
follow the same shape; new pages use this one rather than a fourth copy.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from fastapi import Request
from pydantic import ValidationError

from api.problems import french_errors


@dataclass
class PageForm:
    """The values as typed (by field id), the errors (field id, message) and the labels the
    summary names fields with. A field id of ``""`` is an error about the whole form."""

    values: dict[str, str] = field(default_factory=dict)
    errors: list[tuple[str, str]] = field(default_factory=list)
    labels: dict[str, str] = field(default_factory=dict)

    def value(self, field_id: str, default: str = "") -> str:
        return self.values.get(field_id, default)

    def error(self, field_id: str) -> str | None:
        return next((m for f, m in self.errors if f == field_id), None)

    def add(self, field_id: str, message: str) -> None:
        self.errors.append((field_id, message))

    @property
    def summary(self) -> list[tuple[str, str]]:
        """The errors for the summary at the top: each names the field it is about."""
        return [(f, f"{self.labels[f]} : {m}" if f in self.labels else m) for f, m in self.errors]


async def typed_values(request: Request) -> dict[str, str]:
    """The text fields of a posted form, without its CSRF token (never shown back)."""
    submitted = await request.form()
    return {k: v for k, v in submitted.items() if isinstance(v, str) and k != "csrf_token"}


def validation_errors(
    error: ValidationError, field_of: Callable[[str], str]
) -> list[tuple[str, str]]:
    """Pydantic's errors in French, each placed on the form field its location maps to
    (``field_of("duration_minutes") == "duree"``; ``""`` when no field matches)."""
    return [(field_of(e.field), e.message) for e in french_errors(error.errors())]


MAX_DIGITS = 12
"""More digits than any count or quantity of a dossier: refused before any arithmetic."""


def french_decimal(typed: str) -> Decimal | None:
    """A number as a person types it in French (« 12,5 », « 1 000 »), or None if it is not
    one. Infinities, NaN and absurdly long inputs are not numbers here."""
    text = typed.strip().replace("\u202f", "").replace("\xa0", "").replace(" ", "")
    text = text.replace(",", ".")
    if not text or len(text) > MAX_DIGITS + 2:
        return None
    try:
        value = Decimal(text)
    except InvalidOperation:
        return None
    return value if value.is_finite() else None
