"""The actions a work page carries with it: the editor submits, the reviewer decides.

Each work page (scenario, bilan, sessions, demande) asks the service what this person may
do now on the dossier (``WorkflowService.available``, as everywhere) and offers those of
its own triggers next to the work, so nobody goes back to the dossier page to press the
button. A button posts to the dossier's action route (``retour`` brings the person home to
« À traiter »); when the page was opened from an email's link for that very action, it
posts to the link instead, so the link's single use is recorded with the transition.

Starting or ending a training before the sessions' dates shows the checkbox that confirms
it (``workflow.dossiers.dates``) instead of a blocked action.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Annotated, Any

from fastapi import Query

from api.pages.claims import record_use, usable
from api.pages.viewer import Viewer
from api.wiring import Container
from workflow.dossiers.dates import Early, early
from workflow.engine.errors import (
    GuardFailed,
    NotPermitted,
    StaleVersion,
    TriggerNotAvailable,
    WorkflowError,
)
from workflow.engine.rows import DossierRow
from workflow.engine.service import Availability, FireCommand, FireResult
from workflow.reads.queries import reading

HOME = "/a-traiter"
EARLY_FIELD = "avant_date"
"""The checkbox that confirms starting or ending before the sessions' dates."""


@dataclass(frozen=True, slots=True)
class WorkAction:
    action: Availability
    post_to: str
    early: Early | None = None
    by_link: bool = False

    @property
    def trigger(self) -> str:
        return self.action.trigger

    @property
    def missing(self) -> tuple[str, ...]:
        """What stands in the way, the date confirmation aside (the form asks for it)."""
        if self.early is None:
            return self.action.missing
        return tuple(m for m in self.action.missing if m != self.early.missing)

    @property
    def ready(self) -> bool:
        return not self.missing


@dataclass(frozen=True, slots=True)
class Work:
    dossier_id: int
    version: int
    actions: tuple[WorkAction, ...]
    back: str = HOME
    link: str | None = None
    """The email link's token this page was opened with, while it may still serve."""

    def get(self, trigger: str) -> WorkAction | None:
        return next((w for w in self.actions if w.trigger == trigger), None)

    def only(self, *triggers: str) -> Work:
        """The same page's actions, narrowed to ``triggers`` (for one of its sections)."""
        return replace(self, actions=tuple(w for w in self.actions if w.trigger in triggers))

    def __bool__(self) -> bool:
        return bool(self.actions)


def work_for(
    container: Container,
    viewer: Viewer,
    dossier: DossierRow,
    triggers: Sequence[str],
    token: str | None = None,
    back: str = HOME,
) -> Work:
    """The actions among ``triggers`` this person may take now, in ``triggers``' order."""
    available = {
        a.trigger: a
        for a in container.service.available(dossier.id, viewer.person_id)
        if a.trigger in triggers
    }
    claim = usable(container, viewer, token, dossier.id)
    now = container.service.clock()
    actions = []
    with reading(container.engine) as conn:
        for trigger in triggers:
            action = available.get(trigger)
            if action is None:
                continue
            by_link = claim is not None and claim.trigger == trigger
            post_to = f"/liens/{token}" if by_link else f"/dossiers/{dossier.id}/actions/{trigger}"
            actions.append(
                WorkAction(action, post_to, early(conn, dossier.id, trigger, now), by_link)
            )
    return Work(
        dossier.id, dossier.version, tuple(actions), back, token if claim is not None else None
    )


def fire_from_page(
    container: Container,
    viewer: Viewer,
    dossier_id: int,
    trigger: str,
    version: int,
    token: str | None,
    *,
    comment: str | None = None,
    payload: dict[str, Any] | None = None,
) -> FireResult:
    """Fire ``trigger`` as the page's own button does: through the email's link when the
    page was opened from one for this action (its use recorded with the transition), else
    on the version the page showed."""
    claim = usable(container, viewer, token, dossier_id)
    by_link = token is not None and claim is not None and claim.trigger == trigger
    command = FireCommand(
        dossier_id,
        trigger,
        viewer.person_id,
        expected_version=claim.version if by_link and claim is not None else version,
        comment=comment,
        payload=payload or {},
    )
    if by_link and token is not None:
        return container.service.fire(command, also=record_use(token, viewer.person_id, dossier_id))
    return container.service.fire(command)


WORK_REFUSALS = (GuardFailed, StaleVersion, NotPermitted, TriggerNotAvailable)


def refusal_errors(error: Exception) -> list[tuple[str, str]]:
    """A refused transition as a form's error summary: each missing item once."""
    if isinstance(error, GuardFailed):
        return [("", f"Il manque : {reason}") for reason in error.reasons]
    assert isinstance(error, WorkflowError)
    return [("", error.message)]


def refusal_status(error: Exception) -> int:
    if isinstance(error, GuardFailed):
        return 422
    if isinstance(error, NotPermitted):
        return 403
    return 409


Link = Annotated[str | None, Query(min_length=10, max_length=500, pattern=r"^[A-Za-z0-9_.\-]+$")]
"""``?lien=<jeton>``: the email link a work page was opened from (``/liens`` sends here)."""
