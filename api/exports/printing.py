"""Printable HTML views (fiche de rémunération, bilan d'activités), rendered by Jinja2.

Autoescape is on for every template: titles, comments and bilan texts are typed by people
and must never become markup in a page someone else opens. The pages carry their own print
stylesheet (A4, no navigation), so « Imprimer → PDF » in a browser gives the paper form;
no PDF library is needed on the server.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from workflow.language.french import de, format_date, format_datetime, format_hours
from workflow.participants.counts import TraineeCounts
from workflow.participants.questionnaire import Aggregate
from workflow.payments.baremes import format_decimal_fr, format_euros, format_units
from workflow.reads.paperwork import BilanView, Fiche

TEMPLATES = Path(__file__).resolve().parent.parent / "templates" / "print"

_env = Environment(
    loader=FileSystemLoader(TEMPLATES),
    autoescape=select_autoescape(["html"], default=True),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
_env.filters.update(
    euros=format_euros,
    units=format_units,
    minutes_as_hours=lambda minutes: format_decimal_fr(
        (Decimal(minutes) / 60).quantize(Decimal("0.01"))
    ),
    date_fr=format_date,
    datetime_fr=format_datetime,
    hours=format_hours,
    de=de,
)


def render_fiche(fiche: Fiche, now: datetime) -> str:
    return _env.get_template("fiche_remuneration.html").render(fiche=fiche, now=now)


def render_bilan(
    view: BilanView,
    now: datetime,
    counts: TraineeCounts | None = None,
    answers: Aggregate | None = None,
) -> str:
    """The bilan; with attendance recorded, its counts are the participants' (the académie's
    rule, corrections included); the questionnaire's aggregate shows from 3 answers."""
    return _env.get_template("bilan.html").render(
        view=view, now=now, counts=counts, answers=answers
    )
