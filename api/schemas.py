"""Response (and a few request) shapes of the REST API, one family per resource.

Inputs that the domain validates (scenario, bilan, sessions, demande) reuse
``workflow.dossiers.inputs`` so that the rules live in one place.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from states.roles import DOSSIER_ROLES
from workflow.dossiers.inputs import DossierInput, Moment, one_of, unstorable


class In(BaseModel):
    """A request body of the API's own (the domain's inputs check themselves): unknown
    fields refused, and no text the database could not store (NUL, lone surrogates), in
    the comment as in the free-form payload."""

    model_config = ConfigDict(extra="forbid")

    @model_validator(mode="after")
    def _storable(self) -> Self:
        problems = [
            p
            for name in type(self).model_fields
            if (p := unstorable(name, getattr(self, name))) is not None
        ]
        if problems:
            raise ValueError(" ; ".join(problems))
        return self


class Out(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class ActionOut(Out):
    trigger: str
    label: str
    ready: bool
    missing: list[str]
    comment_required: bool
    irreversible: bool
    on_behalf_of_id: int | None = None


class MemberOut(Out):
    person_id: int
    role: str
    role_label: str
    full_name: str
    email: str


class DossierSummary(Out):
    id: int
    reference: str
    title: str
    workflow: str
    workflow_version: int
    academie: str
    dispositif: str | None
    state: str
    state_label: str
    phase: str
    phase_label: str
    version: int
    updated_at: datetime
    paf_id: str | None = None
    """Identifiant PAF, when the dossier comes from the plan académique de formation."""


class DossierOut(DossierSummary):
    planned_hours_presentiel: Decimal | None
    planned_hours_distance: Decimal | None
    planned_participants: int | None
    planned_start: date | None
    planned_end: date | None
    state_entered_at: datetime
    created_at: datetime
    team: list[MemberOut]
    my_roles: list[str]
    actions: list[ActionOut] = Field(
        description="Les actions que je peux faire maintenant, et ce qui manque à chacune."
    )


class DossierPage(Out):
    items: list[DossierSummary]
    limit: int
    offset: int
    has_more: bool


class DossierCreate(DossierInput):
    """Like ``DossierInput``, with the académie named by its slug."""

    academie_id: int = 0
    academie: str = Field(min_length=1, max_length=64)


class TransitionBody(In):
    comment: str | None = Field(default=None, max_length=10_000)
    payload: dict[str, Any] = Field(default_factory=dict)


class TransitionOut(Out):
    dossier_id: int
    reference: str
    workflow: str
    trigger: str
    from_state: str
    to_state: str
    version: int
    history_id: int
    role: str
    on_behalf_of_id: int | None
    tasks_created: int


class HistoryOut(Out):
    version: int
    at: datetime
    trigger: str
    from_state: str
    to_state: str
    actor: str
    on_behalf_of: str | None
    who: str
    role: str
    comment: str | None
    payload: dict[str, Any]


class AssignmentIn(In):
    person_email: str = Field(min_length=3, max_length=320)
    role: Annotated[str, Field(min_length=1, max_length=64, **one_of(DOSSIER_ROLES))]


class DelegationIn(In):
    delegator_email: str = Field(min_length=3, max_length=320)
    substitute_email: str = Field(min_length=3, max_length=320)
    starts_at: Moment
    ends_at: Moment


class LoginIn(In):
    email: str = Field(min_length=3, max_length=320)
    password: str = Field(min_length=1, max_length=1024)


class MeOut(Out):
    person_id: int
    email: str
    full_name: str
    via: str
    csrf_token: str | None
    academie_roles: list[dict[str, str]]
