"""« Sessions »: a dossier's sessions, planned then held, and the headcount of each.

People type a date and a time in Paris (« 12/03/2026 », « 14:00 ») and read them back in
Paris; the database holds UTC. Adding and editing go through ``DossierEditor.add_session``
and ``update_session`` with the person as actor, the same rules as the API's sessions
routes (formateur, pilote or gestionnaire, while the dossier is not past its bilan). The
dossier's totals (inscrits, effectivement présents) belong to the bilan d'activités: this
page shows them and links there rather than keeping a second form for them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import RedirectResponse
from pydantic import ValidationError
from sqlalchemy import Connection
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from api.deps import RowId, Wired
from api.pages.errors import PageRoute
from api.pages.flash import Flash, set_flash
from api.pages.forms import FormState, typed_values, validation_errors
from api.pages.rendering import render
from api.pages.viewer import Seen, Viewer
from api.pages.work import Link, work_for
from api.wiring import Container
from states.roles import ROLES
from workflow.dossiers.access import Edit, may_edit, readable
from workflow.dossiers.inputs import SessionInput, is_safe_link
from workflow.engine.errors import InvalidInput, NotPermitted
from workflow.engine.roles import members
from workflow.engine.rows import DossierRow
from workflow.language.french import PARIS, format_date
from workflow.language.vocabulary import MODALITIES
from workflow.reads.queries import reading
from workflow.reads.records import SessionRecord, bilan_of, session_of, sessions_of

router = APIRouter(route_class=PageRoute, include_in_schema=False)

DELIVERY = ("demarrer", "terminer")

LABELS = {
    "date": "Date",
    "heure": "Heure de début",
    "duree": "Durée en minutes",
    "modalite": "Modalité",
    "formateur": "Formateur",
    "animateurs": "Nombre de formateurs qui animent",
    "prevus": "Participants prévus",
    "public": "Type du public concerné",
    "lien": "Lien de connexion",
    "lieu": "Lieu",
    "tenue": "Session tenue",
    "presents": "Participants présents",
}
_FIELD_OF_LOC = {
    "starts_at": "date",
    "duration_minutes": "duree",
    "modality": "modalite",
    "formateur_id": "formateur",
    "trainer_count": "animateurs",
    "planned_headcount": "prevus",
    "public_type": "public",
    "connection_link": "lien",
    "place": "lieu",
    "held": "tenue",
    "actual_headcount": "presents",
}
COUNTS = {"duree": "duration_minutes", "animateurs": "trainer_count"}
OPTIONAL_COUNTS = {"prevus": "planned_headcount", "presents": "actual_headcount"}
MAX_COUNT_LENGTH = 9
"""Digits a count may have; a longer one is refused before any conversion."""
YEARS = (2000, 2100)

_DATE_FR = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$")
_DATE_ISO = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")
_TIME = re.compile(r"^(\d{1,2})\s*(?:[:h]\s*(\d{2})?)?$", re.IGNORECASE)
_PLACEHOLDER = datetime(2000, 1, 1, tzinfo=PARIS)


@dataclass(frozen=True, slots=True)
class SessionRow:
    """One session as the page shows it, every time already in Paris and in French."""

    id: int
    day: str
    hours: str
    duration: str
    modality: str
    formateur: str
    trainer_count: int
    planned: str
    held: bool
    actual: str
    link: str | None
    place: str | None = None


def _duration(minutes: int) -> str:
    hours, rest = divmod(minutes, 60)
    if not hours:
        return f"{rest} min"
    return f"{hours} h {rest:02d}" if rest else f"{hours} h"


def _row(record: SessionRecord, names: dict[int, str]) -> SessionRow:
    start = record.starts_at.astimezone(PARIS)
    end = (record.starts_at + timedelta(minutes=record.duration_minutes)).astimezone(PARIS)
    link = record.connection_link
    return SessionRow(
        id=record.id,
        day=format_date(start.date(), weekday=True),
        hours=f"{start:%H:%M} – {end:%H:%M}",
        duration=_duration(record.duration_minutes),
        modality=MODALITIES.get(record.modality, record.modality),
        formateur=(
            "(non précisé)"
            if record.formateur_id is None
            else names.get(record.formateur_id, f"personne n° {record.formateur_id}")
        ),
        trainer_count=record.trainer_count,
        planned="" if record.planned_headcount is None else str(record.planned_headcount),
        held=record.held,
        actual="" if record.actual_headcount is None else str(record.actual_headcount),
        # Only a valid https address becomes a link (the one check of the inputs): a stored
        # « javascript: » must never be clickable.
        link=link if is_safe_link(link) else None,
        place=record.place,
    )


def session_rows(conn: Connection, dossier: DossierRow) -> list[SessionRow]:
    """The dossier's sessions as shown on this page and summarised on the dossier page."""
    names = {m.person_id: m.full_name for m in members(conn, dossier.ref, list(ROLES))}
    return [_row(r, names) for r in sessions_of(conn, dossier.id)]


def _typed(record: SessionRecord) -> dict[str, str]:
    start = record.starts_at.astimezone(PARIS)
    values = {
        "date": f"{start:%d/%m/%Y}",
        "heure": f"{start:%H:%M}",
        "duree": str(record.duration_minutes),
        "modalite": record.modality,
        "formateur": "" if record.formateur_id is None else str(record.formateur_id),
        "animateurs": str(record.trainer_count),
        "prevus": "" if record.planned_headcount is None else str(record.planned_headcount),
        "lien": record.connection_link or "",
        "public": record.public_type,
        "lieu": record.place or "",
        "presents": "" if record.actual_headcount is None else str(record.actual_headcount),
    }
    if record.held:
        values["tenue"] = "oui"
    return values


def _context(
    container: Container,
    viewer: Viewer,
    dossier_id: int,
    session_id: int | None = None,
    token: str | None = None,
) -> dict[str, Any]:
    now = container.service.clock()
    with reading(container.engine) as conn:
        dossier, held = readable(conn, dossier_id, viewer.person_id, now)
        if dossier.workflow_name != "dossier_formation":
            raise InvalidInput("Ce dossier n'a pas de sessions de formation.")
        formateurs = members(conn, dossier.ref, ["formateur"])
        current = None
        if session_id is not None:
            current = session_of(conn, dossier_id, session_id)
            if current is None:
                # Another dossier's session, or none at all: the same « page introuvable ».
                raise StarletteHTTPException(404)
        context = {
            "dossier": dossier,
            "sessions": session_rows(conn, dossier),
            "current": current,
            "bilan": bilan_of(conn, dossier_id),
            "formateurs": sorted(
                {(str(m.person_id), m.full_name) for m in formateurs},
                key=lambda option: option[1],
            ),
            "editable": may_edit(dossier, held, Edit.SESSIONS),
            "bilan_editable": may_edit(dossier, held, Edit.BILAN),
        }
    # Starting and ending the training are done here, next to the sessions' dates.
    work = work_for(container, viewer, dossier, DELIVERY, token) if session_id is None else None
    return {**context, "work": work}


def _page(
    request: Request,
    container: Container,
    viewer: Viewer,
    dossier_id: int,
    session_id: int | None,
    form: FormState | None,
    status_code: int = 200,
    token: str | None = None,
) -> Response:
    context = _context(container, viewer, dossier_id, session_id, token)
    current: SessionRecord | None = context["current"]
    if form is None:
        values = _typed(current) if current is not None else {"animateurs": "1"}
        form = FormState(values, labels=LABELS)
    reference = context["dossier"].reference
    title = "Modifier une session" if current is not None else "Sessions"
    return render(
        request,
        "pages/sessions.html",
        {
            **context,
            "page_title": f"{title} — {reference}",
            "form": form,
            "modalities": list(MODALITIES.items()),
        },
        status_code=status_code,
    )


@router.get("/dossiers/{dossier_id}/sessions")
async def sessions_page(
    request: Request, dossier_id: RowId, viewer: Seen, wired: Wired, lien: Link = None
) -> Response:
    return await run_in_threadpool(_page, request, wired, viewer, dossier_id, None, None, 200, lien)


@router.get("/dossiers/{dossier_id}/sessions/{session_id}")
async def session_page(
    request: Request, dossier_id: RowId, session_id: RowId, viewer: Seen, wired: Wired
) -> Response:
    return await run_in_threadpool(_page, request, wired, viewer, dossier_id, session_id, None)


def _day(typed: str) -> date | str:
    """The date typed (« 12/03/2026 » or « 2026-03-12 »), or the French reason it is not."""
    text = typed.strip()
    if (m := _DATE_FR.match(text)) is not None:
        day, month, year = (int(g) for g in m.groups())
    elif (m := _DATE_ISO.match(text)) is not None:
        year, month, day = (int(g) for g in m.groups())
    elif not text:
        return "champ obligatoire"
    else:
        return "date attendue au format JJ/MM/AAAA, par exemple 12/03/2026"
    if not YEARS[0] <= year <= YEARS[1]:
        return f"l'année doit être comprise entre {YEARS[0]} et {YEARS[1]}"
    try:
        return date(year, month, day)
    except ValueError:
        return "cette date n'existe pas"


def _time(typed: str) -> time | str:
    """The time typed (« 14:00 », « 14h30 », « 9h »), or the French reason it is not."""
    text = typed.strip()
    if not text:
        return "champ obligatoire"
    m = _TIME.match(text)
    if m is None:
        return "heure attendue au format HH:MM, par exemple 14:00"
    hour, minute = int(m.group(1)), int(m.group(2) or 0)
    if hour > 23 or minute > 59:
        return "cette heure n'existe pas"
    return time(hour, minute)


def _parse(form: FormState, formateurs: set[str]) -> SessionInput | None:
    """The typed form as a ``SessionInput``, or None with every error put on ``form``.

    Date and time are read here (French formats, Paris time); the rest is left to
    ``SessionInput`` so that the page and the API apply the same rules.
    """
    values = form.values
    day, hour = _day(values.get("date", "")), _time(values.get("heure", ""))
    if isinstance(day, str):
        form.add("date", day)
    if isinstance(hour, str):
        form.add("heure", hour)
    data: dict[str, Any] = {
        "starts_at": (
            datetime.combine(day, hour, tzinfo=PARIS)
            if isinstance(day, date) and isinstance(hour, time)
            else _PLACEHOLDER
        ),
        "modality": values.get("modalite", ""),
        "held": values.get("tenue") == "oui",
        "connection_link": values.get("lien", "").strip() or None,
        "public_type": values.get("public", "").strip(),
        "place": values.get("lieu", "").strip() or None,
        "formateur_id": None,
    }
    for field_id, name in {**COUNTS, **OPTIONAL_COUNTS}.items():
        typed = values.get(field_id, "").strip()
        if len(typed) > MAX_COUNT_LENGTH:
            form.add(field_id, "nombre trop grand")
        elif typed or field_id in COUNTS:
            data[name] = typed
    chosen = values.get("formateur", "")
    if chosen:
        if chosen in formateurs:
            data["formateur_id"] = int(chosen)
        else:
            form.add("formateur", "choisissez un formateur de l'équipe du dossier")
    if not values.get("modalite"):
        form.add("modalite", "choisissez une modalité")
        data["modality"] = next(iter(MODALITIES))
    try:
        session = SessionInput.model_validate(data)
    except ValidationError as error:
        taken = {f for f, _ in form.errors}
        for field_id, message in validation_errors(error, _field_of):
            if field_id not in taken:
                form.add(field_id, message)
        return None
    return None if form.errors else session


def _field_of(loc: str) -> str:
    return _FIELD_OF_LOC.get(loc.split(".", maxsplit=1)[0], "")


async def _save(
    request: Request, wired: Wired, viewer: Viewer, dossier_id: int, session_id: int | None
) -> Response:
    context = await run_in_threadpool(_context, wired, viewer, dossier_id, session_id)
    form = FormState(typed_values(await request.form()), labels=LABELS)
    session = _parse(form, {value for value, _ in context["formateurs"]})
    if session is None:
        return await run_in_threadpool(
            _page, request, wired, viewer, dossier_id, session_id, form, 422
        )
    try:
        if session_id is None:
            await run_in_threadpool(
                wired.editor.add_session, dossier_id, session, actor_id=viewer.person_id
            )
        elif not await run_in_threadpool(
            wired.editor.update_session,
            dossier_id,
            session_id,
            session,
            actor_id=viewer.person_id,
        ):
            raise StarletteHTTPException(404)
    except (InvalidInput, NotPermitted) as error:
        field_id = "tenue" if getattr(error, "field", None) == "held" else ""
        form.add(field_id, error.message)
        return await run_in_threadpool(
            _page, request, wired, viewer, dossier_id, session_id, form, 409
        )
    response = RedirectResponse(f"/dossiers/{dossier_id}/sessions", status_code=303)
    done = "Session enregistrée" if session_id is not None else "Session ajoutée"
    set_flash(request, response, Flash("success", done))
    return response


@router.post("/dossiers/{dossier_id}/sessions")
async def add_session(request: Request, dossier_id: RowId, viewer: Seen, wired: Wired) -> Response:
    return await _save(request, wired, viewer, dossier_id, None)


@router.post("/dossiers/{dossier_id}/sessions/{session_id}")
async def update_session(
    request: Request, dossier_id: RowId, session_id: RowId, viewer: Seen, wired: Wired
) -> Response:
    return await _save(request, wired, viewer, dossier_id, session_id)
