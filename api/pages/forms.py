"""What every page form does with what a person typed: keep it, check it, say what is wrong.

A refused form is shown again with the values as typed (strings, never re-formatted), each
French message next to its field and all of them in the summary at the top, each naming
its field by the label the form shows. The rules themselves are the domain's pydantic
inputs (``workflow.dossiers.inputs``); this module only carries strings to them and their messages
back to the fields.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation

from babel.numbers import format_decimal
from pydantic import ValidationError
from starlette.datastructures import FormData

from api.problems import french_errors

DATE_HINT = "Format attendu : JJ/MM/AAAA"
DATE_INVALID = "date invalide : saisissez-la au format JJ/MM/AAAA, par exemple 14/09/2026"
_FRENCH_DATE = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$")
_ISO_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")


@dataclass
class FormState:
    """The values as typed, the errors by field id ("" for the form as a whole), and the
    labels that name the fields in the summary."""

    values: dict[str, str] = field(default_factory=dict)
    errors: list[tuple[str, str]] = field(default_factory=list)
    labels: Mapping[str, str] = field(default_factory=dict)

    def value(self, field_id: str, default: str = "") -> str:
        return self.values.get(field_id, default)

    def error(self, field_id: str) -> str | None:
        return next((m for f, m in self.errors if f == field_id), None)

    def add(self, field_id: str, message: str) -> None:
        self.errors.append((field_id, message))

    @property
    def summary(self) -> list[tuple[str, str]]:
        """The errors for the summary at the top, each naming the field it is about: those
        about the whole form first, then in the order of the form (the order of ``labels``),
        whatever order the checks found them in."""
        order = {f: n for n, f in enumerate(self.labels)}
        ordered = sorted(self.errors, key=lambda e: -1 if not e[0] else order.get(e[0], len(order)))
        return [(f, f"{self.labels[f]} : {m}" if f in self.labels else m) for f, m in ordered]


def typed_values(submitted: FormData) -> dict[str, str]:
    """The text fields of a posted form, without the CSRF token (never shown back)."""
    return {k: v for k, v in submitted.items() if isinstance(v, str) and k != "csrf_token"}


def validation_errors(
    error: ValidationError, field_of: Callable[[str], str]
) -> list[tuple[str, str]]:
    """Pydantic's errors in French, each placed on the form field its location maps to
    (``field_of("duration_minutes") == "duree"``; ``""`` when no field matches)."""
    return [(field_of(e.field), e.message) for e in french_errors(error.errors())]


def input_errors(error: ValidationError, fields: Mapping[str, str]) -> list[tuple[str, str]]:
    """The French messages of a refused domain input, on the form field each is about.

    ``fields`` maps an input's field name to the form's field id; a message about anything
    else (a rule across fields, such as dates out of order) goes to the form as a whole.
    """
    return validation_errors(error, lambda location: fields.get(location.split(".")[0], ""))


def typed_date(typed: str) -> str | None:
    """A date as a person types it (JJ/MM/AAAA; AAAA-MM-JJ is taken too), in the ISO form
    the domain inputs read; None when blank. The fields are text, not date pickers: a
    browser set to another language would show a picker as mm/dd/yyyy, and would send an
    unfinished date as nothing at all instead of what was typed.

    Raises ``ValueError`` with the French message when it is no date at all, so that
    « 31/02/2026 » is refused with a hint rather than as an obscure parsing error."""
    text = typed.strip()
    if not text:
        return None
    if (m := _FRENCH_DATE.match(text)) is not None:
        day, month, year = (int(g) for g in m.groups())
    elif (m := _ISO_DATE.match(text)) is not None:
        year, month, day = (int(g) for g in m.groups())
    else:
        raise ValueError(DATE_INVALID)
    try:
        return date(year, month, day).isoformat()
    except ValueError:
        raise ValueError(DATE_INVALID) from None


def typed_number(typed: str) -> str | None:
    """A number as typed in French (« 4,5 »), in the form the domain inputs read."""
    text = typed.strip().replace(",", ".")
    return text.replace("\u202f", "").replace("\xa0", "").replace(" ", "") or None


def shown_number(value: Decimal | int | None) -> str:
    """A stored number as the form shows it again (« 4,5 », « 13 »)."""
    return "" if value is None else format_decimal(value, "0.##", locale="fr_FR")


def shown_date(value: date | None) -> str:
    """A stored date as the form shows it again (« 14/09/2026 »)."""
    return "" if value is None else value.strftime("%d/%m/%Y")


MAX_DIGITS = 12
"""More digits than any count or quantity of a dossier: refused before any arithmetic."""


def french_decimal(typed: str) -> Decimal | None:
    """A number as a person types it in French (« 12,5 », « 1 000 »), or None if it is not
    one. Infinities, NaN and absurdly long inputs are not numbers here."""
    text = typed_number(typed)
    if text is None or len(text) > MAX_DIGITS + 2:
        return None
    try:
        value = Decimal(text)
    except InvalidOperation:
        return None
    return value if value.is_finite() else None
