"""« Stagiaires »: a dossier's stagiaires for its team — enrol one, import a list (dry run
first, then all or nothing), withdraw, send and print the attestations, purge the data of
a closed dossier.

Every write goes through the participants' use cases with the person as actor (roles and
the dossier's state are checked there, in the write's transaction). The import's dry run
shows each line's fate in French; its « Importer » form carries the lines it judged,
signed, so that what is imported is exactly what was shown (and judged again).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request, Response
from fastapi.responses import RedirectResponse
from itsdangerous import BadSignature, URLSafeSerializer
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool

from api.deps import RowId, Wired
from api.documents.files import attestation_file, attestations_file
from api.exports.download import attachment
from api.imports.lists import ImportFileError, read_list
from api.pages.errors import PageRoute
from api.pages.flash import Flash, set_flash
from api.pages.forms import FormState, input_errors, typed_values
from api.pages.rendering import render
from api.pages.viewer import Seen, Viewer
from api.problems import ApiProblem
from api.uploads import read_upload_form
from api.wiring import Container
from workflow.engine.errors import DossierNotFound, InvalidInput, NotPermitted
from workflow.language.vocabulary import PARTICIPATION_RULES
from workflow.participants.access import Part, may, team_reader
from workflow.participants.attestations import attestations, issued
from workflow.participants.convocations import sent
from workflow.participants.counts import trainee_counts
from workflow.participants.etablissements import etablissements_of
from workflow.participants.importing import HEADERS, LABELS, ImportRefused, ImportReport
from workflow.participants.inputs import StagiaireInput
from workflow.participants.purge import status as purge_status
from workflow.participants.questionnaire import aggregate
from workflow.participants.roster import participant, roster
from workflow.reads.queries import reading

router = APIRouter(route_class=PageRoute, include_in_schema=False)

ADD_LABELS = {
    "nom": "Nom",
    "prenom": "Prénom",
    "courriel": "Adresse électronique",
    "etablissement": "Établissement ou école",
    "discipline": "Discipline ou public",
}
_ADD_FIELDS = {
    "last_name": "nom",
    "first_name": "prenom",
    "email": "courriel",
    "etablissement_id": "etablissement",
    "discipline": "discipline",
}
IMPORT_SALT = "formaflow.stagiaires-import.v1"


def _context(container: Container, viewer: Viewer, dossier_id: int) -> dict[str, Any]:
    now = container.service.clock()
    with reading(container.engine) as conn:
        dossier, held = team_reader(conn, dossier_id, viewer.person_id, now)
        if dossier.workflow_name != "dossier_formation":
            raise InvalidInput(
                "Ce dossier n'est pas un dossier de formation : il n'a pas de stagiaires."
            )
        people = roster(conn, dossier_id)
        counts = trainee_counts(conn, dossier)
        return {
            "dossier": dossier,
            "people": people,
            "active": sum(1 for p in people if p.active),
            "counts": counts,
            "rules": PARTICIPATION_RULES,
            "schools": [(str(e.id), e.label) for e in etablissements_of(conn, dossier.academie_id)],
            "editable": may(dossier, held, Part.ROSTER),
            "convoked": sent(conn, dossier_id),
            "issued": issued(dossier),
            "attestations": len(attestations(conn, dossier_id, now)) if issued(dossier) else 0,
            "pending": sum(1 for p in people if p.active and p.attestation_sent_at is None),
            "may_send": may(dossier, held, Part.ATTESTATIONS),
            "answers": aggregate(conn, dossier_id),
            "purge": purge_status(conn, dossier),
            "may_purge": may(dossier, held, Part.PURGE),
            "now": now,
            "headers": [LABELS[name] for name in HEADERS],
        }


def _page(
    request: Request,
    container: Container,
    viewer: Viewer,
    dossier_id: int,
    form: FormState | None = None,
    upload_error: str | None = None,
    status_code: int = 200,
) -> Response:
    context = _context(container, viewer, dossier_id)
    form = form or FormState(labels=ADD_LABELS)
    return render(
        request,
        "pages/stagiaires.html",
        {
            **context,
            "page_title": f"Stagiaires — {context['dossier'].reference}",
            "form": form,
            "upload_error": upload_error,
        },
        status_code=status_code,
    )


@router.get("/dossiers/{dossier_id}/stagiaires")
async def stagiaires_page(
    request: Request, dossier_id: RowId, viewer: Seen, wired: Wired
) -> Response:
    return await run_in_threadpool(_page, request, wired, viewer, dossier_id)


# Enrolling one ---------------------------------------------------------------------------


def _add(container: Container, viewer: Viewer, dossier_id: int, form: FormState) -> str | None:
    """Enrol the person typed; the flash text, or None with every error on the form."""
    values = form.values
    for field in ("nom", "prenom", "courriel"):
        if not values.get(field, "").strip():
            form.add(field, "champ obligatoire")
    if not values.get("etablissement"):
        form.add("etablissement", "choisissez l'établissement ou l'école de la personne")
    data = {
        "last_name": values.get("nom", "") or "-",
        "first_name": values.get("prenom", "") or "-",
        "email": values.get("courriel", "") or "x@x.invalid",
        "etablissement_id": values.get("etablissement") or None,
        "discipline": values.get("discipline", ""),
    }
    try:
        item = StagiaireInput.model_validate(data)
    except ValidationError as error:
        for field, message in input_errors(error, _ADD_FIELDS):
            if not form.error(field):
                form.add(field, message)
        return None
    if form.errors:
        return None
    try:
        container.enrolments.enrol(dossier_id, item, actor_id=viewer.person_id)
    except InvalidInput as error:
        form.add(_ADD_FIELDS.get(error.field or "", ""), error.message)
        return None
    return f"{item.full_name} est inscrit·e."


@router.post("/dossiers/{dossier_id}/stagiaires")
async def add_stagiaire(
    request: Request, dossier_id: RowId, viewer: Seen, wired: Wired
) -> Response:
    form = FormState(typed_values(await request.form()), labels=ADD_LABELS)
    try:
        done = await run_in_threadpool(_add, wired, viewer, dossier_id, form)
    except NotPermitted as error:
        form.add("", error.message)
        done = None
    if done is None:
        return await run_in_threadpool(_page, request, wired, viewer, dossier_id, form, None, 422)
    response = RedirectResponse(f"/dossiers/{dossier_id}/stagiaires", status_code=303)
    set_flash(request, response, Flash("success", "Stagiaire inscrit", done))
    return response


# Importing a list ----------------------------------------------------------------------------


def _serializer(container: Container) -> URLSafeSerializer:
    return URLSafeSerializer(container.api_settings.signing_key(), salt=IMPORT_SALT)


def _report_page(
    request: Request,
    container: Container,
    viewer: Viewer,
    dossier_id: int,
    report: ImportReport,
    encoding: str,
    signed: str | None,
    status_code: int,
) -> Response:
    context = _context(container, viewer, dossier_id)
    return render(
        request,
        "pages/stagiaires_import.html",
        {
            **context,
            "page_title": f"Import de stagiaires — {context['dossier'].reference}",
            "report": report,
            "encoding": encoding,
            "signed": signed if report.ok else None,
        },
        status_code=status_code,
    )


@router.post("/dossiers/{dossier_id}/stagiaires/import")
async def preview_import(
    request: Request, dossier_id: RowId, viewer: Seen, wired: Wired
) -> Response:
    try:
        upload = await read_upload_form(
            request,
            wired.api_settings.max_upload_bytes,
            wired.settings.data_dir,
            fields=frozenset({"file"}),
        )
        content = upload.take_bytes()
        if not upload.has_file or not content:
            raise ImportFileError("Choisissez le fichier de la liste (CSV ou XLSX).")
        read = read_list(upload.filename or "", content)
    except (ApiProblem, ImportFileError) as error:
        message = error.detail if isinstance(error, ApiProblem) else str(error)
        return await run_in_threadpool(
            _page, request, wired, viewer, dossier_id, None, message, 422
        )
    report = await run_in_threadpool(
        lambda: wired.enrolments.preview(
            dossier_id, read.header, read.rows, actor_id=viewer.person_id
        )
    )
    signed = _serializer(wired).dumps([dossier_id, read.header, read.rows, read.encoding])
    return await run_in_threadpool(
        _report_page,
        request,
        wired,
        viewer,
        dossier_id,
        report,
        read.encoding,
        signed,
        200 if report.ok else 422,
    )


@router.post("/dossiers/{dossier_id}/stagiaires/import/confirmer")
async def confirm_import(
    request: Request,
    dossier_id: RowId,
    viewer: Seen,
    wired: Wired,
    donnees: Annotated[str, Form(max_length=4_000_000)] = "",
) -> Response:
    try:
        found, header, rows, encoding = _serializer(wired).loads(donnees)
    except (BadSignature, ValueError, TypeError):
        found = None
    if found != dossier_id:
        return await run_in_threadpool(
            _page,
            request,
            wired,
            viewer,
            dossier_id,
            None,
            "Ce formulaire d'import n'est plus valable : déposez de nouveau le fichier.",
            422,
        )
    try:
        report = await run_in_threadpool(
            lambda: wired.enrolments.import_file(
                dossier_id, header, rows, actor_id=viewer.person_id
            )
        )
    except ImportRefused as refused:
        return await run_in_threadpool(
            _report_page, request, wired, viewer, dossier_id, refused.report, encoding, None, 409
        )
    response = RedirectResponse(f"/dossiers/{dossier_id}/stagiaires", status_code=303)
    detail = f"{report.to_enrol} inscrit{'s' if report.to_enrol > 1 else ''}"
    if report.already:
        detail += f", {report.already} déjà inscrit{'s' if report.already > 1 else ''}"
    set_flash(request, response, Flash("success", "Liste importée", detail + "."))
    return response


# Withdrawing ---------------------------------------------------------------------------------


def _withdrawal(container: Container, viewer: Viewer, dossier_id: int, enrolment_id: int) -> Any:
    with reading(container.engine) as conn:
        dossier, _ = team_reader(conn, dossier_id, viewer.person_id, container.service.clock())
        person = participant(conn, dossier_id, enrolment_id)
    if person is None or not person.active:
        raise DossierNotFound(dossier_id)
    return dossier, person


@router.get("/dossiers/{dossier_id}/stagiaires/{enrolment_id}/desinscrire")
async def confirm_withdrawal(
    request: Request, dossier_id: RowId, enrolment_id: RowId, viewer: Seen, wired: Wired
) -> Response:
    dossier, person = await run_in_threadpool(_withdrawal, wired, viewer, dossier_id, enrolment_id)
    return render(
        request,
        "pages/desinscrire.html",
        {"page_title": "Désinscrire un stagiaire", "dossier": dossier, "person": person},
    )


@router.post("/dossiers/{dossier_id}/stagiaires/{enrolment_id}/desinscrire")
async def withdraw(
    request: Request,
    dossier_id: RowId,
    enrolment_id: RowId,
    viewer: Seen,
    wired: Wired,
    motif: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    _, person = await run_in_threadpool(_withdrawal, wired, viewer, dossier_id, enrolment_id)
    await run_in_threadpool(
        lambda: wired.enrolments.withdraw(
            dossier_id, enrolment_id, motif.strip(), actor_id=viewer.person_id
        )
    )
    response = RedirectResponse(f"/dossiers/{dossier_id}/stagiaires", status_code=303)
    set_flash(
        request,
        response,
        Flash(
            "success", "Stagiaire désinscrit", f"{person.full_name} : l'historique est conservé."
        ),
    )
    return response


# Attestations --------------------------------------------------------------------------------


def _attestations(
    container: Container, viewer: Viewer, dossier_id: int, enrolment_id: int | None
) -> Response:
    now = container.service.clock()
    with reading(container.engine) as conn:
        dossier, _ = team_reader(conn, dossier_id, viewer.person_id, now)
        items = attestations(conn, dossier_id, now, enrolment_id=enrolment_id)
    if enrolment_id is not None:
        if not items:
            raise DossierNotFound(dossier_id)
        return attachment(attestation_file(items[0]))
    return attachment(attestations_file(dossier.reference, items))


@router.get("/dossiers/{dossier_id}/stagiaires/attestations")
async def all_attestations(dossier_id: RowId, viewer: Seen, wired: Wired) -> Response:
    """Every attestation of the dossier in one printable document (pilote, EAFC, team)."""
    return await run_in_threadpool(_attestations, wired, viewer, dossier_id, None)


@router.get("/dossiers/{dossier_id}/stagiaires/{enrolment_id}/attestation")
async def one_attestation(
    dossier_id: RowId, enrolment_id: RowId, viewer: Seen, wired: Wired
) -> Response:
    return await run_in_threadpool(_attestations, wired, viewer, dossier_id, enrolment_id)


@router.post("/dossiers/{dossier_id}/stagiaires/attestations/envoyer")
async def send_attestations(
    request: Request, dossier_id: RowId, viewer: Seen, wired: Wired
) -> Response:
    count = await run_in_threadpool(
        lambda: wired.attestation_mailing.send_pending(dossier_id, actor_id=viewer.person_id)
    )
    response = RedirectResponse(f"/dossiers/{dossier_id}/stagiaires", status_code=303)
    if count:
        plural = "s" if count > 1 else ""
        text = f"{count} attestation{plural} envoyée{plural} par courriel."
        set_flash(request, response, Flash("success", "Attestations envoyées", text))
    else:
        set_flash(
            request,
            response,
            Flash(
                "info", "Aucune attestation à envoyer", "Chaque participant a déjà reçu la sienne."
            ),
        )
    return response


# Purge -----------------------------------------------------------------------------------------


@router.post("/dossiers/{dossier_id}/stagiaires/purger")
async def purge(
    request: Request,
    dossier_id: RowId,
    viewer: Seen,
    wired: Wired,
    confirme: Annotated[str, Form(max_length=10)] = "",
) -> Response:
    if confirme != "oui":
        form = FormState(labels={"purge-confirme": "Suppression des données"})
        form.add("purge-confirme", "cochez la case pour confirmer la suppression")
        return await run_in_threadpool(_page, request, wired, viewer, dossier_id, form, None, 422)
    result = await run_in_threadpool(
        lambda: wired.purges.purge(dossier_id, actor_id=viewer.person_id)
    )
    response = RedirectResponse(f"/dossiers/{dossier_id}/stagiaires", status_code=303)
    set_flash(
        request,
        response,
        Flash(
            "success",
            "Données des stagiaires supprimées",
            f"{result.enrolments} inscription(s) supprimée(s), {result.anonymised} compte(s) "
            "anonymisé(s) ; les effectifs et les réponses anonymes sont conservés.",
        ),
    )
    return response
