"""Validated inputs of the editing use cases, with French messages for what is wrong.

These are the shapes the API and the pages will accept as well; keeping them here means
the rules live with the domain, not in a route.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Annotated, Any, Self
from urllib.parse import urlsplit

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)
from pydantic.fields import FieldInfo

from states import LATEST
from states.dispositifs import DISPOSITIFS
from workflow.language.vocabulary import DOCUMENT_KINDS, MODALITIES, PUBLICS


def one_of(values: object) -> dict[str, Any]:
    """``Field`` arguments that publish a closed list as an enum in the OpenAPI document;
    the field's validator still refuses anything else with a French message."""
    return {"json_schema_extra": {"enum": list(values)}}  # type: ignore[call-overload]


def _not_a_number(value: object) -> object:
    """A date is written as text: pydantic would read ``0`` as 1970-01-01 (Unix time)."""
    if isinstance(value, int | float | Decimal) and not isinstance(value, bool):
        raise ValueError("date attendue au format AAAA-MM-JJ, pas un nombre")
    return value


Day = Annotated[date, BeforeValidator(_not_a_number)]
Moment = Annotated[datetime, BeforeValidator(_not_a_number)]
Modality = Annotated[str, Field(**one_of(MODALITIES))]

Hours = Annotated[Decimal, Field(ge=0, le=10_000, max_digits=7, decimal_places=2)]
Text = Annotated[str, Field(max_length=20_000)]


MAX_LINK = 2000


def link_problem(value: str) -> str | None:
    """Why ``value`` is not a connection link people may be sent to, in French; None when
    it is one: an https address with a host, no spaces nor control characters (a CR/LF
    would break the iCalendar export and any header it reached; ``javascript:`` and the
    like never become a link)."""
    if len(value) > MAX_LINK:
        return "adresse trop longue"
    if any(ch.isspace() or ord(ch) < 32 or ord(ch) == 127 for ch in value):
        return "adresse web attendue, sans espace ni retour à la ligne"
    try:
        parts = urlsplit(value)
    except ValueError:
        return "adresse web attendue, commençant par https://"
    if parts.scheme.lower() != "https" or not parts.hostname:
        return "adresse web attendue, commençant par https://"
    return None


def is_safe_link(value: str | None) -> bool:
    """Whether a stored link may be offered as a link (data stored before this check may
    not pass it: it is then shown as text, never followed)."""
    return bool(value) and link_problem(value or "") is None


def _checked_link(value: str | None) -> str | None:
    if value is None:
        return None
    problem = link_problem(value)
    if problem is not None:
        raise ValueError(problem)
    return value


ConnectionLink = Annotated[str, Field(max_length=MAX_LINK), AfterValidator(_checked_link)]
"""A visio link of a session or a scenario step, checked the same for the API and pages."""


MAX_ROW_ID = 2**31 - 1
"""The largest identifier an integer column holds on every supported database."""


def unstorable(name: str, value: object) -> str | None:
    """Why the database could not store ``value`` (a field's own value), in French.

    Without these checks a client's odd JSON would surface as a database error (an HTTP
    500) instead of a French message: NUL characters (refused by PostgreSQL, silently kept
    by SQLite), lone surrogates (refused by both when encoded), naive or
    out-of-range times (refused by the UTC column type), integers too large for a column.
    """
    if isinstance(value, list | tuple):
        return next((p for item in value if (p := unstorable(name, item))), None)
    if isinstance(value, dict):
        return next(
            (
                p
                for key, item in value.items()
                if (p := unstorable(name, key) or unstorable(name, item))
            ),
            None,
        )
    if isinstance(value, str):
        if "\x00" in value:
            return f"{name} : caractère nul interdit"
        if any("\ud800" <= ch <= "\udfff" for ch in value):
            # A lone UTF-16 surrogate (JSON « \ud800 »): no database can store it as text.
            return f"{name} : caractère Unicode invalide"
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) > MAX_ROW_ID:
        return f"{name} : nombre trop grand"
    if isinstance(value, datetime):
        if value.tzinfo is None:
            return f"{name} : l'heure doit préciser son fuseau horaire"
        try:
            value.astimezone(UTC)
        except OverflowError:
            return f"{name} : date hors limites"
    return None


def _max_length(info: FieldInfo) -> int | None:
    for item in info.metadata:
        limit = getattr(item, "max_length", None)
        if isinstance(limit, int):
            return limit
    return None


class _Input(BaseModel):
    """Every input refuses unknown fields and anything the database could not store;
    nested inputs check their own fields when they are built."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    @model_validator(mode="before")
    @classmethod
    def _not_too_long(cls, data: Any) -> Any:
        """``maxLength`` as published: counted before surrounding spaces are stripped
        (stripping first let a client's 301-character title through a limit of 300)."""
        if isinstance(data, dict):
            for name, info in cls.model_fields.items():
                value = data.get(name)
                limit = _max_length(info)
                if isinstance(value, str) and limit is not None and len(value) > limit:
                    raise ValueError(f"{name} : texte trop long ({limit} caractères au plus)")
        return data

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


class _Planning(_Input):
    """The planning fields, shared by creation and by later edits, with their checks."""

    dispositif: Annotated[str, Field(**one_of(DISPOSITIFS))] | None = None
    planned_hours_presentiel: Hours | None = None
    planned_hours_distance: Hours | None = None
    planned_participants: Annotated[int, Field(ge=0, le=100_000)] | None = None
    planned_start: Day | None = None
    planned_end: Day | None = None
    etablissement: Annotated[str, Field(max_length=300)] = ""
    """The établissement of an ENT convention (seed 001: « Nom de l'établissement »)."""

    @field_validator("dispositif")
    @classmethod
    def _known_dispositif(cls, value: str | None) -> str | None:
        if value is not None and value not in DISPOSITIFS:
            raise ValueError(f"dispositif inconnu : {value}")
        return value

    @model_validator(mode="after")
    def _dates_in_order(self) -> Self:
        if self.planned_start and self.planned_end and self.planned_end < self.planned_start:
            raise ValueError("la date de fin précède la date de début")
        return self


class DossierInput(_Planning):
    title: Annotated[str, Field(min_length=3, max_length=300)]
    academie_id: int
    workflow: Annotated[str, Field(**one_of(LATEST))] = "dossier_formation"

    @field_validator("workflow")
    @classmethod
    def _known_workflow(cls, value: str) -> str:
        if value not in LATEST:
            raise ValueError(f"workflow inconnu : {value}")
        return value


class PlanningInput(_Planning):
    """The planning fields of a draft dossier; omitted fields are left as they are."""

    title: Annotated[str, Field(min_length=3, max_length=300)] | None = None

    @model_validator(mode="after")
    def _title_not_erased(self) -> PlanningInput:
        if "title" in self.model_fields_set and self.title is None:
            raise ValueError("le titre ne peut pas être effacé")
        return self


class StepInput(_Input):
    period: Annotated[str, Field(max_length=200)] = ""
    scheduled_at: Moment | None = None
    duration_minutes: Annotated[int, Field(gt=0, le=100_000)] | None = None
    content: Text = ""
    modality: Modality | None = None
    led_by: Annotated[str, Field(pattern="^(formateur|tuteur)$")] = "formateur"
    tutor_id: int | None = None
    material: Text = ""
    connection_link: ConnectionLink | None = None
    co_animation: bool = False

    @field_validator("modality")
    @classmethod
    def _known_modality(cls, value: str | None) -> str | None:
        if value is not None and value not in MODALITIES:
            raise ValueError(f"modalité inconnue : {value}")
        return value


class SequenceInput(_Input):
    title: Annotated[str, Field(min_length=1, max_length=300)]
    a_faire_en_amont: Text = ""
    steps: list[StepInput] = Field(default_factory=list, max_length=200)


class ScenarioInput(_Input):
    objectives: Text = ""
    competences: Text = ""
    prerequisites: Text = ""
    public: Text = ""
    hours_presentiel: Hours | None = None
    hours_distance: Hours | None = None
    accompaniment_plan: Text = ""
    validation_criteria: Text = ""
    penser_a: Text = ""
    sequences: list[SequenceInput] = Field(default_factory=list, max_length=100)


class HoursInput(_Input):
    person_id: int
    hours: Hours
    trainees_followed: Annotated[int, Field(ge=0, le=100_000)] | None = None


class BilanInput(_Input):
    participants_enrolled: Annotated[int, Field(ge=0, le=100_000)] | None = None
    participants_effective: Annotated[int, Field(ge=0, le=100_000)] | None = None
    view_chef_etablissement: Text = ""
    view_formateurs: Text = ""
    eval_fiabilite: Text = ""
    eval_faisabilite: Text = ""
    eval_accompagnement: Text = ""
    eval_effets: Text = ""
    hours: list[HoursInput] = Field(default_factory=list, max_length=200)

    @model_validator(mode="after")
    def _one_line_per_person(self) -> BilanInput:
        people = [line.person_id for line in self.hours]
        if len(people) != len(set(people)):
            raise ValueError("une seule ligne d'heures par personne")
        return self

    @model_validator(mode="after")
    def _effective_within_enrolled(self) -> BilanInput:
        enrolled, effective = self.participants_enrolled, self.participants_effective
        if enrolled is not None and effective is not None and effective > enrolled:
            raise ValueError("plus de participants présents que d'inscrits")
        return self


class SessionInput(_Input):
    starts_at: Moment
    duration_minutes: Annotated[int, Field(gt=0, le=24 * 60)]
    modality: Modality
    connection_link: ConnectionLink | None = None
    planned_headcount: Annotated[int, Field(ge=0, le=100_000)] | None = None
    held: bool = False
    actual_headcount: Annotated[int, Field(ge=0, le=100_000)] | None = None
    formateur_id: int | None = None
    trainer_count: Annotated[int, Field(ge=1, le=10)] = 1
    public_type: Annotated[str, Field(max_length=300)] = ""
    """« Type du public concerné » (seed 001's plan de formation ENT)."""

    @field_validator("modality")
    @classmethod
    def _known_modality(cls, value: str) -> str:
        if value not in MODALITIES:
            raise ValueError(f"modalité inconnue : {value}")
        return value

    @field_validator("starts_at")
    @classmethod
    def _aware(cls, value: datetime) -> datetime:
        if value.tzinfo is None:
            raise ValueError("l'heure doit préciser son fuseau horaire")
        return value


class OuvertureInput(_Input):
    nom_parcours: Annotated[str, Field(max_length=300)] = ""
    objectifs: Text = ""
    description: Text = ""
    pilote_nom: Annotated[str, Field(max_length=200)] = ""
    pilote_courriel: Annotated[str, Field(max_length=320)] = ""
    concepteurs: Text = ""
    associe_presentiel: bool | None = None
    duree_presentiel_h: Hours | None = None
    duree_distance_h: Hours | None = None
    accompagnement_distance: Text = ""
    publics: list[Annotated[str, Field(**one_of(PUBLICS))]] = Field(
        default_factory=list, max_length=len(PUBLICS)
    )
    public_autre: Annotated[str, Field(max_length=300)] = ""
    format_parcours: Annotated[str, Field(max_length=300)] = ""

    @field_validator("publics")
    @classmethod
    def _known_publics(cls, value: list[str]) -> list[str]:
        unknown = [p for p in value if p not in PUBLICS]
        if unknown:
            raise ValueError(f"public inconnu : {', '.join(unknown)}")
        return value


class DocumentInput(_Input):
    kind: Annotated[str, Field(**one_of(DOCUMENT_KINDS))]
    filename: Annotated[str, Field(min_length=1, max_length=255)]
    content_type: Annotated[str, Field(max_length=128)]

    @field_validator("kind")
    @classmethod
    def _known_kind(cls, value: str) -> str:
        if value not in DOCUMENT_KINDS:
            raise ValueError(f"type de document inconnu : {value}")
        return value


class AttendanceInput(_Input):
    """Headcounts taken from the émargement lists; an omitted ``participants_enrolled``
    keeps the value already recorded in the bilan."""

    participants_enrolled: Annotated[int, Field(ge=0, le=100_000)] | None = None
    participants_effective: Annotated[int, Field(ge=0, le=100_000)]

    @model_validator(mode="after")
    def _effective_within_enrolled(self) -> AttendanceInput:
        enrolled, effective = self.participants_enrolled, self.participants_effective
        if enrolled is not None and effective > enrolled:
            raise ValueError("plus de participants présents que d'inscrits")
        return self
