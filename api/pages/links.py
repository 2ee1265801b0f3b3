"""``/liens/<jeton>``: the action link of an email, confirmed then performed by its recipient.

A GET never acts (mail scanners open links): it checks the link and shows the same
confirmation page as the dossier's own actions. Only the confirmation, a POST with the
session's CSRF token, fires the transition — as the signed-in person, who must be the
recipient the link was written for, on the dossier version it was written for; the link's
use is recorded in the transition's own transaction, so it serves once. Every refusal is a
French explanation with a way to the dossier.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Path, Request, Response
from sqlalchemy import Connection, insert, select
from starlette.concurrency import run_in_threadpool

from api.deps import Wired
from api.pages.dossier import ActionForm, _action_page, _refusal, done
from api.pages.errors import PageRoute
from api.pages.rendering import render
from api.pages.viewer import Seen, Viewer
from api.wiring import Container
from notifications.links import LinkClaim, LinkError, token_hash
from states import get_spec
from workflow.dossiers.access import readable
from workflow.engine.errors import (
    DossierNotFound,
    GuardFailed,
    NotPermitted,
    StaleVersion,
    TriggerNotAvailable,
)
from workflow.engine.service import FireCommand, FireResult
from workflow.reads.queries import reading
from workflow.store.tables import action_link_use_table as U
from workflow.store.tables import person_table

router = APIRouter(route_class=PageRoute, include_in_schema=False)

Token = Annotated[str, Path(min_length=10, max_length=500, pattern=r"^[A-Za-z0-9_.\-]+$")]


def _check(container: Container, viewer: Viewer, token: str) -> LinkClaim:
    """The link's claim if this person may act on it now; else a French ``LinkError``."""
    claim = container.links.read(token)
    with reading(container.engine) as conn:
        if claim.person_id != viewer.person_id:
            name = conn.execute(
                select(person_table.c.full_name).where(person_table.c.id == claim.person_id)
            ).scalar()
            raise LinkError(
                "lien-autre-destinataire",
                f"Ce lien a été envoyé à {name or 'une autre personne'} : il ne peut servir "
                "qu'à son destinataire. Connectez-vous avec votre propre compte et ouvrez le "
                "dossier pour voir ce que vous pouvez y faire.",
            )
        used = conn.execute(select(U.c.used_at).where(U.c.token_hash == token_hash(token)))
        if used.first() is not None:
            raise LinkError(
                "lien-utilise",
                "Ce lien a déjà servi : l'action a été effectuée. Ouvrez le dossier pour voir "
                "où il en est.",
            )
        try:
            dossier, _ = readable(
                conn, claim.dossier_id, viewer.person_id, container.service.clock()
            )
        except DossierNotFound as exc:
            raise LinkError(
                "lien-invalide", "Ce dossier n'existe pas ou ne vous est plus accessible."
            ) from exc
        if dossier.version != claim.version:
            spec = get_spec(dossier.workflow_name, dossier.workflow_version)
            raise LinkError(
                "lien-perime",
                f"Le dossier {dossier.reference} a changé depuis l'envoi de ce courriel : il est "
                f"maintenant « {spec.state(dossier.state).label} ». Ouvrez-le pour voir ce qui "
                "reste à faire.",
            )
    return claim


def _refused(request: Request, error: LinkError, dossier_id: int | None) -> Response:
    status = {"lien-autre-destinataire": 403, "lien-utilise": 410, "lien-perime": 409}
    return render(
        request,
        "pages/lien.html",
        {"page_title": "Lien d'action", "error": error, "dossier_id": dossier_id},
        status_code=status.get(error.code, 400),
    )


def _dossier_of(container: Container, token: str) -> int | None:
    try:
        return container.links.read(token).dossier_id
    except LinkError:
        return None


@router.get("/liens/{token}")
async def confirm_link(request: Request, token: Token, viewer: Seen, wired: Wired) -> Response:
    try:
        claim = await run_in_threadpool(_check, wired, viewer, token)
    except LinkError as error:
        return _refused(request, error, _dossier_of(wired, token))
    return await run_in_threadpool(
        _action_page,
        request,
        wired,
        viewer,
        claim.dossier_id,
        claim.trigger,
        ActionForm(),
        200,
        f"/liens/{token}",
    )


@router.post("/liens/{token}")
async def perform_link(
    request: Request,
    token: Token,
    viewer: Seen,
    wired: Wired,
    commentaire: Annotated[str, Form(max_length=5000)] = "",
) -> Response:
    try:
        claim = await run_in_threadpool(_check, wired, viewer, token)
    except LinkError as error:
        return _refused(request, error, _dossier_of(wired, token))
    command = FireCommand(
        claim.dossier_id,
        claim.trigger,
        viewer.person_id,
        expected_version=claim.version,
        comment=commentaire or None,
    )

    def record(conn: Connection, result: FireResult) -> None:
        # In the transition's transaction: a second use (even a concurrent one) fails here.
        conn.execute(
            insert(U).values(
                token_hash=token_hash(token),
                person_id=viewer.person_id,
                dossier_id=claim.dossier_id,
                used_at=result.at,
            )
        )

    try:
        result = await run_in_threadpool(wired.service.fire, command, also=record)
    except (GuardFailed, StaleVersion, NotPermitted, TriggerNotAvailable) as error:
        form, status = _refusal(error, commentaire)
        return await run_in_threadpool(
            _action_page,
            request,
            wired,
            viewer,
            claim.dossier_id,
            claim.trigger,
            form,
            status,
            f"/liens/{token}",
        )
    return done(request, result, f"/dossiers/{claim.dossier_id}")
