"""The official papers as HTML pages, from the Jinja2 models of ``templates/documents``.

One template per dispositif (``<dispositif>.html``, extending ``base.html``) lays out the
canonical text of the version (parsed from the stored text, never rebuilt from the data),
then the signatures given, the « Fait à … le … » and the SHA-256 of the text signed.
Autoescaped: names and titles are typed by people.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from api.documents.pdf import FONT_STACK, html_to_pdf
from api.exports.printing import render_bilan, render_fiche
from states.roles import role_label
from workflow.language.french import de, format_date, format_datetime, format_hours
from workflow.payments.baremes import MAX_HSE_PER_FORMATEUR, format_decimal_fr
from workflow.reads.contract import ContractView
from workflow.reads.paperwork import BilanView, Fiche

TEMPLATES = Path(__file__).resolve().parent.parent / "templates" / "documents"

_env = Environment(
    loader=FileSystemLoader(TEMPLATES),
    autoescape=select_autoescape(["html"], default=True),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


def css_string(text: str) -> Markup:
    """``text`` as a CSS string literal for a ``<style>`` block: HTML escaping does not
    apply there (« d&#39;accompagnement » would be printed as such in every page's footer),
    CSS escaping does — every character but letters, digits and spaces as ``\\hex ``."""
    escaped = "".join(c if c.isalnum() or c == " " else f"\\{ord(c):x} " for c in text)
    return Markup(f'"{escaped}"')  # noqa: S704 - every character not alphanumeric is escaped


_env.filters.update(
    css_string=css_string,
    date_fr=format_date,
    datetime_fr=format_datetime,
    hours=format_hours,
    de=de,
    role_label=role_label,
    minutes_as_hours=lambda minutes: format_decimal_fr(
        (Decimal(minutes) / 60).quantize(Decimal("0.01"))
    ),
    hse=lambda hours: f"{format_decimal_fr(min(hours, MAX_HSE_PER_FORMATEUR))} HSE",
)


def render_contract(view: ContractView, now: datetime, *, sealed: bool = False) -> str:
    """The HTML of the dossier's document (contract, convention or lettre de mission)."""
    shown = view.signatures_of(view.number) if view.number is not None else []
    last = max((s.signed_at for s in shown), default=None)
    annex = next(
        (
            i
            for i, b in enumerate(view.blocks)
            if b.kind == "section" and b.lines[0].startswith("Annexe")
        ),
        len(view.blocks),
    )
    return _env.get_template(f"{view.dossier.dispositif}.html").render(
        view=view,
        body=view.blocks[:annex],
        annexes=view.blocks[annex:],
        now=now,
        sealed=sealed,
        font_stack=FONT_STACK,
        last_signed=last.date() if last is not None and view.status.complete else None,
    )


def contract_pdf(view: ContractView, now: datetime) -> bytes:
    return html_to_pdf(render_contract(view, now))


def render_fiche_bilan_ent(
    view: BilanView,
    now: datetime,
    *,
    etablissement: str,
    chefs: str,
    place: str | None,
    entered_by: str | None,
) -> str:
    return _env.get_template("fiche_bilan_ent.html").render(
        view=view,
        now=now,
        font_stack=FONT_STACK,
        etablissement=etablissement,
        chefs=chefs,
        place=place,
        entered_by=entered_by,
    )


def fiche_pdf(fiche: Fiche, now: datetime) -> bytes:
    """The fiche de rémunération's printable page, as a PDF."""
    return html_to_pdf(render_fiche(fiche, now))


def bilan_pdf(view: BilanView, now: datetime) -> bytes:
    """The bilan d'activités' printable page, as a PDF."""
    return html_to_pdf(render_bilan(view, now))
