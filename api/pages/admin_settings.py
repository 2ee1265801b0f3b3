"""An académie's rules on the pages: rates and the virtual-class table, deadline delays,
required signatories per dispositif, the effective-participation rule and retention periods.

Each page shows what applies now (the académie's value, or the default it falls back on),
and saves through ``Administration.change_settings``: every value checked at once, nothing
written if one is refused, each change recorded in the history and applied at once.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from fastapi import APIRouter, Request, Response
from starlette.concurrency import run_in_threadpool

from api.deps import Wired
from api.pages import admin_common as common
from api.pages.errors import PageRoute
from api.pages.forms import FormState, typed_values
from api.pages.rendering import render
from api.pages.viewer import Seen, Viewer
from api.wiring import Container
from states import SPECS
from states.dispositifs import DISPOSITIFS
from states.roles import role_label
from workflow.admin import catalog, changes
from workflow.admin.catalog import SettingsRefused
from workflow.language.vocabulary import PARTICIPATION_RULES
from workflow.payments.baremes import format_decimal_fr
from workflow.reads.queries import reading
from workflow.store import academie_settings as keys

router = APIRouter(route_class=PageRoute, include_in_schema=False)

RATE_KEYS = keys.RATE_KEYS
VC = keys.VIRTUAL_CLASSES
VC_FIELD = common.field_id(VC)
VC_COLUMNS = ("formateurs", "stagiaires_min", "stagiaires_max", "vacations_par_heure")
BLANK_ROWS = 2
RULE_KEYS = (keys.PARTICIPATION, keys.STAGIAIRE_RETENTION, keys.ARCHIVE_AFTER)
SIGNATORY_CHOICES = [
    ("", "Ne signe pas"),
    ("chacun", "Chacun signe"),
    ("un", "Une signature suffit"),
]


def _number(value: Any) -> str:
    return "" if value is None else format_decimal_fr(Decimal(str(value)))


def _money(value: Any) -> str:
    """« 45,00 »: an amount is typed and read to the cent."""
    return "" if value is None else format(Decimal(str(value)), "f").replace(".", ",")


@dataclass(frozen=True, slots=True)
class Section:
    path: str
    title: str
    template: str
    keys: Callable[[], list[str]]
    """The catalogue keys the page edits."""
    initial: Callable[[dict[str, Any]], dict[str, str]]
    """Stored values → the form's strings."""
    wanted: Callable[[FormState], dict[str, Any]]
    """The form's strings → key → value for ``change_settings``."""


# Tarifs --------------------------------------------------------------------------------


def _vc_rows(form: FormState) -> int:
    try:
        return max(0, min(int(form.value("vc-lignes", "0")), 200))
    except ValueError:
        return 0


def _rates_initial(current: dict[str, Any]) -> dict[str, str]:
    values = {common.field_id(k): _money(current.get(k)) for k in RATE_KEYS}
    rows = current.get(VC) or []
    for n, row in enumerate(rows):
        for column in VC_COLUMNS:
            value = row.get(column)
            values[f"vc-{n}-{column}"] = (
                _number(value)
                if column == "vacations_par_heure"
                else ("" if value is None else str(value))
            )
    values["vc-lignes"] = str(len(rows) + BLANK_ROWS)
    return values


def _rates_wanted(form: FormState) -> dict[str, Any]:
    wanted: dict[str, Any] = {k: form.value(common.field_id(k)) for k in RATE_KEYS}
    rows = []
    for n in range(_vc_rows(form)):
        cells = {c: form.value(f"vc-{n}-{c}").strip() for c in VC_COLUMNS}
        if form.value(f"vc-{n}-supprimer") or not any(cells.values()):
            continue
        rows.append(cells)
    wanted[VC] = rows
    return wanted


# Échéances -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DeadlineRow:
    key: str
    field: str
    label: str
    default: int
    workflow: str


def deadline_rows() -> list[DeadlineRow]:
    rows = []
    for spec in SPECS.values():
        for deadline in spec.deadlines:
            key = keys.DEADLINE_PREFIX + deadline.id
            rows.append(
                DeadlineRow(
                    key, common.field_id(key), deadline.label, deadline.offset_days, spec.label
                )
            )
    return rows


def _deadline_keys() -> list[str]:
    return [row.key for row in deadline_rows()]


def _deadlines_initial(current: dict[str, Any]) -> dict[str, str]:
    return {common.field_id(k): str(current.get(k, "")) for k in _deadline_keys()}


def _deadlines_wanted(form: FormState) -> dict[str, Any]:
    return {k: form.value(common.field_id(k)) for k in _deadline_keys()}


# Signataires ---------------------------------------------------------------------------


def _signatory_keys() -> list[str]:
    return [keys.SIGNATORIES_PREFIX + d for d in DISPOSITIFS]


def _signatories_initial(current: dict[str, Any]) -> dict[str, str]:
    values = {}
    for dispositif in DISPOSITIFS:
        key = keys.SIGNATORIES_PREFIX + dispositif
        rules = current.get(key) or catalog.spec_of(key).default
        modes = {r["role"]: r["mode"] for r in rules}
        for role in catalog.SIGNATORY_ROLES:
            values[f"sig-{dispositif}-{role}"] = modes.get(role, "")
    return values


def _signatories_wanted(form: FormState) -> dict[str, Any]:
    wanted = {}
    for dispositif in DISPOSITIFS:
        wanted[keys.SIGNATORIES_PREFIX + dispositif] = [
            {"role": role, "mode": mode}
            for role in catalog.SIGNATORY_ROLES
            if (mode := form.value(f"sig-{dispositif}-{role}"))
        ]
    return wanted


# Participation et conservation ---------------------------------------------------------


def _rules_initial(current: dict[str, Any]) -> dict[str, str]:
    return {
        common.field_id(k): str(
            current.get(k) if current.get(k) is not None else catalog.spec_of(k).default
        )
        for k in RULE_KEYS
    }


def _rules_wanted(form: FormState) -> dict[str, Any]:
    return {k: form.value(common.field_id(k)) for k in RULE_KEYS}


SECTIONS = {
    "tarifs": Section(
        "/tarifs",
        "Tarifs",
        "pages/admin/tarifs.html",
        lambda: [*RATE_KEYS, VC],
        _rates_initial,
        _rates_wanted,
    ),
    "echeances": Section(
        "/echeances",
        "Échéances et relances",
        "pages/admin/echeances.html",
        _deadline_keys,
        _deadlines_initial,
        _deadlines_wanted,
    ),
    "signataires": Section(
        "/signataires",
        "Signataires par dispositif",
        "pages/admin/signataires.html",
        _signatory_keys,
        _signatories_initial,
        _signatories_wanted,
    ),
    "regles": Section(
        "/regles",
        "Participation et conservation",
        "pages/admin/regles.html",
        lambda: list(RULE_KEYS),
        _rules_initial,
        _rules_wanted,
    ),
}


def _page(
    request: Request,
    container: Container,
    viewer: Viewer,
    slug: str,
    section: Section,
    form: FormState | None = None,
    status: int = 200,
) -> Response:
    academie = common.administered(container, viewer, slug)
    if form is None:
        with reading(container.engine) as conn:
            current = changes.current_values(conn, academie.id)
        form = FormState(section.initial(current), labels=common.labels(section.keys()))
    return render(
        request,
        section.template,
        {
            **common.context(academie, section.path, section.title),
            "form": form,
            "rates": [(common.field_id(k), catalog.label_of(k)) for k in RATE_KEYS],
            "vc_field": VC_FIELD,
            "vc_rows": _vc_rows(form),
            "deadlines": deadline_rows(),
            "dispositifs": list(DISPOSITIFS.values()),
            "signatory_roles": [(r, role_label(r)) for r in catalog.SIGNATORY_ROLES],
            "signatory_choices": SIGNATORY_CHOICES,
            "rules": list(PARTICIPATION_RULES.items()),
            "defaults": {
                common.field_id(k): catalog.shown(k, catalog.spec_of(k).default)
                for k in RULE_KEYS[1:]
            },
        },
        status_code=status,
    )


def _save(
    container: Container, viewer: Viewer, slug: str, section: Section, form: FormState
) -> list[changes.Change] | None:
    try:
        return container.admin.change_settings(
            slug, section.wanted(form), actor_id=viewer.person_id
        )
    except SettingsRefused as refused:
        common.refusals(form, refused, {VC: VC_FIELD})
        return None


def _routes(name: str, section: Section) -> None:
    async def show(request: Request, slug: str, viewer: Seen, wired: Wired) -> Response:
        return await run_in_threadpool(_page, request, wired, viewer, slug, section)

    async def save(request: Request, slug: str, viewer: Seen, wired: Wired) -> Response:
        form = FormState(typed_values(await request.form()), labels=common.labels(section.keys()))
        made = await run_in_threadpool(_save, wired, viewer, slug, section, form)
        if made is None:
            return await run_in_threadpool(_page, request, wired, viewer, slug, section, form, 422)
        return common.saved(request, f"{common.ROOT}/academies/{slug}{section.path}", made)

    path = f"{common.ROOT}/academies/{{slug}}{section.path}"
    router.add_api_route(path, show, methods=["GET"], name=f"admin_{name}")
    router.add_api_route(path, save, methods=["POST"], name=f"admin_{name}_save")


for _name, _section in SECTIONS.items():
    _routes(_name, _section)
