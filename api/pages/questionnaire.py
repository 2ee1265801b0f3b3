"""``/questionnaire/<jeton>``: the evaluation questionnaire, answered without an account.

The link is the stagiaire's own (signed for their enrolment, received by email or shown on
« Mes formations ») and serves once: the answer and the enrolment's « has answered » are
written in one transaction, the answer carrying no trace of who gave it. A second use, a
tampered or expired link, a closed questionnaire: each is a French explanation, never a
form that would accept a second answer.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request, Response
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool

from api.deps import Wired
from api.pages.errors import PageRoute
from api.pages.forms import FormState, typed_values
from api.pages.rendering import render
from api.wiring import Container
from notifications.links import LinkError
from workflow.engine.errors import WorkflowError
from workflow.language.vocabulary import QUESTIONNAIRE_CRITERIA, QUESTIONNAIRE_LEVELS
from workflow.participants.inputs import AnswerInput
from workflow.participants.questionnaire import AlreadyAnswered, Invitation, invitation
from workflow.reads.queries import reading

router = APIRouter(route_class=PageRoute, include_in_schema=False)

Token = Annotated[str, Path(min_length=10, max_length=500, pattern=r"^[A-Za-z0-9_.\-]+$")]
LABELS = {name: label for name, (label, _) in QUESTIONNAIRE_CRITERIA.items()} | {
    "commentaire": "Commentaire libre"
}


def _invitation(container: Container, token: str) -> Invitation:
    claim = container.questionnaire_links.read(token)
    with reading(container.engine) as conn:
        return invitation(conn, claim.dossier_id, claim.enrolment_id)


def _closed(request: Request, message: str, status_code: int, answered: bool = False) -> Response:
    return render(
        request,
        "pages/questionnaire_fin.html",
        {
            "page_title": "Questionnaire d'évaluation",
            "message": message,
            "answered": answered,
        },
        status_code=status_code,
    )


def _form(
    request: Request, invited: Invitation, token: str, form: FormState, status: int
) -> Response:
    return render(
        request,
        "pages/questionnaire.html",
        {
            "page_title": "Questionnaire d'évaluation",
            "invitation": invited,
            "token": token,
            "form": form,
            "criteria": QUESTIONNAIRE_CRITERIA,
            "levels": QUESTIONNAIRE_LEVELS,
        },
        status_code=status,
    )


@router.get("/questionnaire/{token}")
async def questionnaire(request: Request, token: Token, wired: Wired) -> Response:
    try:
        invited = await run_in_threadpool(_invitation, wired, token)
    except LinkError as error:
        return _closed(request, error.message, 400 if error.code == "lien-invalide" else 410)
    except AlreadyAnswered as error:
        return _closed(request, error.message, 410, answered=True)
    except WorkflowError as error:
        return _closed(request, error.message, 409)
    return _form(request, invited, token, FormState(labels=LABELS), 200)


@router.post("/questionnaire/{token}")
async def answer(request: Request, token: Token, wired: Wired) -> Response:
    try:
        invited = await run_in_threadpool(_invitation, wired, token)
    except LinkError as error:
        return _closed(request, error.message, 400 if error.code == "lien-invalide" else 410)
    except AlreadyAnswered as error:
        return _closed(request, error.message, 410, answered=True)
    except WorkflowError as error:
        return _closed(request, error.message, 409)
    form = FormState(typed_values(await request.form()), labels=LABELS)
    for name in QUESTIONNAIRE_CRITERIA:
        if form.value(name) not in {str(level) for level in QUESTIONNAIRE_LEVELS}:
            form.add(name, "choisissez une réponse")
    if len(form.value("commentaire")) > 5000:
        form.add("commentaire", "5 000 caractères au plus")
    if form.errors:
        return _form(request, invited, token, form, 422)
    try:
        data = AnswerInput.model_validate(
            {
                **{name: int(form.value(name)) for name in QUESTIONNAIRE_CRITERIA},
                "comment": form.value("commentaire").strip(),
            }
        )
    except ValidationError:
        form.add("commentaire", "texte invalide")
        return _form(request, invited, token, form, 422)
    try:
        await run_in_threadpool(
            wired.questionnaires.answer, invited.dossier_id, invited.enrolment_id, data
        )
    except AlreadyAnswered as error:
        return _closed(request, error.message, 410, answered=True)
    except WorkflowError as error:
        return _closed(request, error.message, 409)
    return _closed(
        request,
        "Merci : votre réponse est enregistrée, sans lien avec votre nom. Le pilote de la "
        "formation n'en voit que la synthèse, à partir de trois réponses.",
        200,
        answered=True,
    )
