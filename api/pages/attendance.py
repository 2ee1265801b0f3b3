"""« Présences »: per session, each stagiaire présent, absent excusé or absent (all
présent to start with); per asynchronous step, done or not; the émargement sheets printed
or downloaded (CSV) from them; and the formateur's justified correction of a count.

Writes go through ``Registers`` with the person as actor. The page states the académie's
rule for « ayant effectivement participé » next to the counts it produces.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request, Response
from fastapi.responses import RedirectResponse
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from api.deps import RowId, Wired
from api.documents.files import sheet_file
from api.exports.download import attachment
from api.exports.participants import session_sheet, sheet_csv, sheet_html, step_sheet
from api.pages.bilan import CORRECTION_LABELS, page_with_correction
from api.pages.errors import PageRoute
from api.pages.flash import Flash, set_flash
from api.pages.forms import FormState, input_errors, typed_values
from api.pages.rendering import render
from api.pages.viewer import Seen, Viewer
from api.wiring import Container
from workflow.dossiers.team import person_of
from workflow.engine.errors import InvalidInput
from workflow.language.vocabulary import ATTENDANCE_STATUSES
from workflow.participants.access import Part, may, team_reader
from workflow.participants.counts import trainee_counts
from workflow.participants.inputs import ActivityMarks, CorrectionInput, SessionMarks
from workflow.participants.roster import async_steps, marks_of, roster, slot, slots
from workflow.reads.queries import reading

router = APIRouter(route_class=PageRoute, include_in_schema=False)


def _hub(container: Container, viewer: Viewer, dossier_id: int) -> dict[str, Any]:
    with reading(container.engine) as conn:
        dossier, held = team_reader(conn, dossier_id, viewer.person_id, container.service.clock())
        marks = marks_of(conn, dossier_id)
        active = {p.enrolment_id for p in roster(conn, dossier_id, active_only=True)}
        sessions = [
            (
                s,
                sum(
                    1
                    for (sid, e), st in marks.sessions.items()
                    if sid == s.id and st == "present" and e in active
                ),
                any(sid == s.id for sid, _ in marks.sessions),
            )
            for s in slots(conn, dossier_id)
        ]
        steps = [
            (
                step,
                sum(
                    1
                    for (sid, e), done in marks.steps.items()
                    if sid == step.id and done and e in active
                ),
                any(sid == step.id for sid, _ in marks.steps),
            )
            for step in async_steps(conn, dossier_id)
        ]
        counts = trainee_counts(conn, dossier)
        tutors = {
            tutor: (person.full_name if (person := person_of(conn, tutor)) else str(tutor))
            for tutor in counts.followed
        }
        return {
            "dossier": dossier,
            "sessions": sessions,
            "steps": steps,
            "counts": counts,
            "tutors": tutors,
            "active": len(active),
            "editable": may(dossier, held, Part.ATTENDANCE),
        }


@router.get("/dossiers/{dossier_id}/presences")
async def presences_page(
    request: Request, dossier_id: RowId, viewer: Seen, wired: Wired
) -> Response:
    context = await run_in_threadpool(_hub, wired, viewer, dossier_id)
    return render(
        request,
        "pages/presences.html",
        {**context, "page_title": f"Présences — {context['dossier'].reference}"},
    )


# One session -------------------------------------------------------------------------------


def _session(
    container: Container, viewer: Viewer, dossier_id: int, session_id: int
) -> dict[str, Any]:
    with reading(container.engine) as conn:
        dossier, held = team_reader(conn, dossier_id, viewer.person_id, container.service.clock())
        found = slot(conn, dossier_id, session_id)
        if found is None:
            raise StarletteHTTPException(404)
        marks = marks_of(conn, dossier_id).sessions
        people = roster(conn, dossier_id, active_only=True)
        return {
            "dossier": dossier,
            "session": found,
            "people": people,
            "recorded": {p.enrolment_id: marks.get((session_id, p.enrolment_id)) for p in people},
            "statuses": list(ATTENDANCE_STATUSES.items()),
            "editable": may(dossier, held, Part.ATTENDANCE),
        }


@router.get("/dossiers/{dossier_id}/presences/sessions/{session_id}")
async def session_page(
    request: Request, dossier_id: RowId, session_id: RowId, viewer: Seen, wired: Wired
) -> Response:
    context = await run_in_threadpool(_session, wired, viewer, dossier_id, session_id)
    return render(
        request,
        "pages/presence_session.html",
        {
            **context,
            "page_title": f"Présences de la session — {context['dossier'].reference}",
            "error": None,
        },
    )


def _marks(values: dict[str, str], prefix: str) -> dict[int, str]:
    found: dict[int, str] = {}
    for key, value in values.items():
        if key.startswith(prefix) and key[len(prefix) :].isdigit():
            found[int(key[len(prefix) :])] = value
    return found


@router.post("/dossiers/{dossier_id}/presences/sessions/{session_id}")
async def save_session(
    request: Request, dossier_id: RowId, session_id: RowId, viewer: Seen, wired: Wired
) -> Response:
    values = typed_values(await request.form())
    try:
        marks = SessionMarks(marks=_marks(values, "statut-"))
        present = await run_in_threadpool(
            lambda: wired.registers.record_session(
                dossier_id, session_id, marks, actor_id=viewer.person_id
            )
        )
    except (ValidationError, InvalidInput) as error:
        message = error.message if isinstance(error, InvalidInput) else "statut de présence inconnu"
        context = await run_in_threadpool(_session, wired, viewer, dossier_id, session_id)
        return render(
            request,
            "pages/presence_session.html",
            {**context, "page_title": "Présences de la session", "error": message},
            status_code=422,
        )
    response = RedirectResponse(f"/dossiers/{dossier_id}/presences", status_code=303)
    set_flash(
        request,
        response,
        Flash(
            "success", "Présences enregistrées", f"{present} présent{'s' if present > 1 else ''}."
        ),
    )
    return response


# One asynchronous step -----------------------------------------------------------------------


def _step(container: Container, viewer: Viewer, dossier_id: int, step_id: int) -> dict[str, Any]:
    with reading(container.engine) as conn:
        dossier, held = team_reader(conn, dossier_id, viewer.person_id, container.service.clock())
        found = next((s for s in async_steps(conn, dossier_id) if s.id == step_id), None)
        if found is None:
            raise StarletteHTTPException(404)
        marks = marks_of(conn, dossier_id).steps
        people = roster(conn, dossier_id, active_only=True)
        return {
            "dossier": dossier,
            "step": found,
            "people": people,
            "recorded": {p.enrolment_id: marks.get((step_id, p.enrolment_id)) for p in people},
            "editable": may(dossier, held, Part.ATTENDANCE),
        }


@router.get("/dossiers/{dossier_id}/presences/etapes/{step_id}")
async def step_page(
    request: Request, dossier_id: RowId, step_id: RowId, viewer: Seen, wired: Wired
) -> Response:
    context = await run_in_threadpool(_step, wired, viewer, dossier_id, step_id)
    return render(
        request,
        "pages/presence_etape.html",
        {**context, "page_title": f"Travail à distance — {context['dossier'].reference}"},
    )


@router.post("/dossiers/{dossier_id}/presences/etapes/{step_id}")
async def save_step(
    request: Request, dossier_id: RowId, step_id: RowId, viewer: Seen, wired: Wired
) -> Response:
    form = await request.form()
    listed = [int(v) for v in form.getlist("inscrits") if isinstance(v, str) and v.isdigit()]
    done = {e: form.get(f"fait-{e}") == "oui" for e in listed}
    count = await run_in_threadpool(
        lambda: wired.registers.record_step(
            dossier_id, step_id, ActivityMarks(done=done), actor_id=viewer.person_id
        )
    )
    response = RedirectResponse(f"/dossiers/{dossier_id}/presences", status_code=303)
    set_flash(
        request, response, Flash("success", "Travail à distance enregistré", f"Fait : {count}.")
    )
    return response


# Émargement sheets -------------------------------------------------------------------------------


def _sheet(
    container: Container, viewer: Viewer, dossier_id: int, kind: str, item: int, fmt: str
) -> Response:
    now = container.service.clock()
    with reading(container.engine) as conn:
        team_reader(conn, dossier_id, viewer.person_id, now)
        sheet = (
            session_sheet(conn, dossier_id, item)
            if kind == "sessions"
            else step_sheet(conn, dossier_id, item)
        )
    if sheet is None:
        raise StarletteHTTPException(404)
    if fmt == "csv":
        return attachment(sheet_csv(sheet))
    return attachment(sheet_file(sheet, now) if fmt == "pdf" else sheet_html(sheet, now))


@router.get("/dossiers/{dossier_id}/emargement/sessions/{session_id}")
async def session_sheet_page(
    dossier_id: RowId, session_id: RowId, viewer: Seen, wired: Wired
) -> Response:
    return await run_in_threadpool(
        _sheet, wired, viewer, dossier_id, "sessions", session_id, "html"
    )


@router.get("/dossiers/{dossier_id}/emargement/sessions/{session_id}/csv")
async def session_sheet_csv(
    dossier_id: RowId, session_id: RowId, viewer: Seen, wired: Wired
) -> Response:
    return await run_in_threadpool(_sheet, wired, viewer, dossier_id, "sessions", session_id, "csv")


@router.get("/dossiers/{dossier_id}/emargement/sessions/{session_id}/pdf")
async def session_sheet_pdf(
    dossier_id: RowId, session_id: RowId, viewer: Seen, wired: Wired
) -> Response:
    return await run_in_threadpool(_sheet, wired, viewer, dossier_id, "sessions", session_id, "pdf")


@router.get("/dossiers/{dossier_id}/emargement/etapes/{step_id}")
async def step_sheet_page(
    dossier_id: RowId, step_id: RowId, viewer: Seen, wired: Wired
) -> Response:
    return await run_in_threadpool(_sheet, wired, viewer, dossier_id, "etapes", step_id, "html")


@router.get("/dossiers/{dossier_id}/emargement/etapes/{step_id}/csv")
async def step_sheet_csv(dossier_id: RowId, step_id: RowId, viewer: Seen, wired: Wired) -> Response:
    return await run_in_threadpool(_sheet, wired, viewer, dossier_id, "etapes", step_id, "csv")


@router.get("/dossiers/{dossier_id}/emargement/etapes/{step_id}/pdf")
async def step_sheet_pdf(dossier_id: RowId, step_id: RowId, viewer: Seen, wired: Wired) -> Response:
    return await run_in_threadpool(_sheet, wired, viewer, dossier_id, "etapes", step_id, "pdf")


# Correcting a count (from the bilan page) --------------------------------------------------------


@router.post("/dossiers/{dossier_id}/effectifs")
async def correct_count(
    request: Request,
    dossier_id: RowId,
    viewer: Seen,
    wired: Wired,
    figure: Annotated[str, Form(max_length=64)] = "",
    valeur: Annotated[str, Form(max_length=12)] = "",
    justification: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    form = FormState(
        {"figure": figure, "valeur": valeur, "justification": justification},
        labels=CORRECTION_LABELS,
    )
    if not valeur.strip().isdigit():
        form.add("valeur", "nombre entier attendu")
    if not justification.strip():
        form.add("justification", "justification obligatoire : dites pourquoi ce nombre diffère")
    if not form.errors:
        try:
            data = CorrectionInput(figure=figure, value=int(valeur), justification=justification)
            await run_in_threadpool(
                lambda: wired.registers.correct(dossier_id, data, actor_id=viewer.person_id)
            )
        except ValidationError as error:
            for field, message in input_errors(
                error, {"figure": "figure", "value": "valeur", "justification": "justification"}
            ):
                form.add(field, message)
        except InvalidInput as error:
            form.add(
                {"value": "valeur", "figure": "figure"}.get(error.field or "", ""), error.message
            )
    if form.errors:
        return await page_with_correction(request, wired, viewer, dossier_id, form)
    response = RedirectResponse(f"/dossiers/{dossier_id}/bilan", status_code=303)
    set_flash(
        request,
        response,
        Flash(
            "success", "Effectif corrigé", "La correction et sa justification sont enregistrées."
        ),
    )
    return response
