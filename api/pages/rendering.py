"""Jinja2 for the web pages: one environment, French filters, and the page response.

Autoescape is on for every template and undefined names fail loudly (``StrictUndefined``):
a typo in a template is a test failure, not a blank where a person expected a value.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from babel.numbers import format_currency
from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from api.pages.flash import pop_flash
from api.pages.tables import label_cells
from states.dispositifs import DISPOSITIFS
from states.roles import role_label
from workflow.language.french import PARIS, de, format_date, format_datetime, format_hours
from workflow.language.labels import state_label, trigger_label
from workflow.payments.baremes import format_units

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"

_BADGES = {
    "brouillon": "new",
    "mis_en_paiement": "success",
    "paiement_accorde": "success",
    "bilan_valide": "success",
    "scenario_valide": "success",
    "contrat_signe": "success",
    "acceptee": "success",
    "ouverte": "success",
    "annule": "error",
    "paiement_refuse": "error",
    "refusee": "error",
    "scenario_a_reviser": "warning",
    "bilan_a_completer": "warning",
    "a_completer": "warning",
}


def state_badge(state: str) -> str:
    """The DSFR badge variant of a state: done, refused, back to someone, or in progress."""
    return _BADGES.get(state, "info")


def due_date(value: datetime | None) -> str:
    """A due date is a day in Paris, whatever the UTC hour it is stored at."""
    if value is None:
        return "sans échéance"
    return format_date(value.astimezone(PARIS).date())


def dispositif_label(dispositif: str | None) -> str:
    found = DISPOSITIFS.get(dispositif or "")
    return found.label if found is not None else "(non choisi)"


def french_number(value: Decimal | int | None) -> str:
    if value is None:
        return "(non renseigné)"
    return str(value).replace(".", ",")


def euros(value: Decimal | None) -> str:
    if value is None:
        return "(taux non configuré)"
    return format_currency(value, "EUR", locale="fr_FR")


def _date(value: date | datetime | None) -> str:
    if isinstance(value, datetime):
        return format_date(value.astimezone(PARIS).date())
    return format_date(value)


environment = Environment(
    loader=FileSystemLoader(TEMPLATES),
    autoescape=select_autoescape(default=True, default_for_string=True),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
environment.filters.update(
    {
        "datetime_fr": format_datetime,
        "date_fr": _date,
        "due_fr": due_date,
        "hours_fr": format_hours,
        "units": format_units,
        "number_fr": french_number,
        "euros": euros,
        "badge": state_badge,
        "role_label": role_label,
        "dispositif_label": dispositif_label,
        "label_cells": label_cells,
        "de": de,
    }
)
environment.globals["state_label"] = state_label
environment.globals["trigger_label"] = trigger_label


def render(
    request: Request,
    template: str,
    context: Mapping[str, Any] | None = None,
    *,
    status_code: int = 200,
) -> HTMLResponse:
    """The page, with the viewer (if signed in) and a pending flash message; the flash
    cookie is cleared by the response that shows it."""
    viewer = getattr(request.state, "viewer", None)
    shown = (context or {}).get("institution")
    if viewer is not None and shown:
        # A page of one académie (its administration) names that académie's institution in
        # the header, not the viewer's first one.
        viewer = replace(viewer, institution=shown)
    flash, had_flash = pop_flash(request)
    body = environment.get_template(template).render(
        {
            "viewer": viewer,
            "flash": flash,
            "path": request.url.path,
            "page_title": "",
            **(context or {}),
        }
    )
    response = HTMLResponse(body, status_code=status_code)
    response.headers["Cache-Control"] = "no-store"
    if had_flash:
        response.delete_cookie("formaflow_flash", path="/")
    return response
