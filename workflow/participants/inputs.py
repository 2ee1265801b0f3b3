"""Validated inputs of the participants' use cases, with French messages.

The same shapes serve the pages, the API and the import (one line of a file is one
``StagiaireInput``), so a rule is written once: an address is checked the same way
whether it was typed in a form or read from a spreadsheet.
"""

from __future__ import annotations

import re
from typing import Annotated, Self

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from workflow.language.vocabulary import (
    ATTENDANCE_STATUSES,
    ETABLISSEMENT_KINDS,
    HEAD_ROLES,
    QUESTIONNAIRE_CRITERIA,
)

_EMAIL = re.compile(r"^[^@\s<>(),;:\"\[\]\\]+@[^@\s<>(),;:\"\[\]\\]+\.[^@\s<>(),;:\"\[\]\\]+$")
_UAI = re.compile(r"^\d{7}[A-Z]$")
MAX_ID = 2**31 - 1


def normalise_email(value: str) -> str:
    """The address as stored (trimmed, lower case), or ``ValueError`` with the French reason."""
    address = value.strip().lower()
    if not address:
        raise ValueError("adresse électronique manquante")
    if len(address) > 320 or not _EMAIL.match(address):
        raise ValueError(f"adresse électronique invalide : « {value.strip()[:80]} »")
    if not address.isascii():
        # The emails carry the address in their headers: accents there are refused by many
        # relays, and would make every convocation to it fail.
        raise ValueError(
            f"adresse électronique invalide : « {value.strip()[:80]} » (lettres accentuées)"
        )
    return address


def normalise_uai(value: str) -> str:
    """A UAI (ex-RNE) as stored: seven digits and a letter, upper case."""
    code = value.strip().upper().replace(" ", "")
    if not _UAI.match(code):
        raise ValueError(f"code UAI invalide : « {value.strip()[:20]} » (7 chiffres et une lettre)")
    return code


class _Input(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    @model_validator(mode="after")
    def _no_nul(self) -> Self:
        for name in type(self).model_fields:
            value = getattr(self, name)
            if isinstance(value, str) and "\x00" in value:
                raise ValueError(f"{name} : caractère nul interdit")
        return self


Name = Annotated[str, Field(min_length=1, max_length=100)]


class StagiaireInput(_Input):
    """One stagiaire to enrol: who, where they work, what they teach."""

    last_name: Name
    first_name: Name
    email: Annotated[str, Field(max_length=320)]
    etablissement_id: Annotated[int, Field(ge=1, le=MAX_ID)] | None = None
    discipline: Annotated[str, Field(max_length=200)] = ""

    @field_validator("email")
    @classmethod
    def _email(cls, value: str) -> str:
        return normalise_email(value)

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}"


class WithdrawalInput(_Input):
    reason: Annotated[str, Field(max_length=2000)] = ""


class EtablissementInput(_Input):
    uai: Annotated[str, Field(max_length=16)]
    name: Annotated[str, Field(min_length=1, max_length=300)]
    kind: str
    commune: Annotated[str, Field(max_length=200)] = ""
    head_role: str
    head_name: Annotated[str, Field(min_length=1, max_length=200)]
    head_email: Annotated[str, Field(max_length=320)]

    @field_validator("uai")
    @classmethod
    def _uai(cls, value: str) -> str:
        return normalise_uai(value)

    @field_validator("kind")
    @classmethod
    def _kind(cls, value: str) -> str:
        if value not in ETABLISSEMENT_KINDS:
            raise ValueError(f"type d'établissement inconnu : {value} (etablissement ou ecole)")
        return value

    @field_validator("head_role")
    @classmethod
    def _head(cls, value: str) -> str:
        if value not in HEAD_ROLES:
            raise ValueError(f"responsable inconnu : {value} (chef_etablissement ou ien)")
        return value

    @field_validator("head_email")
    @classmethod
    def _head_email(cls, value: str) -> str:
        return normalise_email(value)


class SessionMarks(_Input):
    """Attendance at one session: a status for each enrolment listed."""

    marks: dict[int, str] = Field(max_length=5000)

    @field_validator("marks")
    @classmethod
    def _statuses(cls, value: dict[int, str]) -> dict[int, str]:
        wrong = sorted({s for s in value.values() if s not in ATTENDANCE_STATUSES})
        if wrong:
            raise ValueError(f"statut de présence inconnu : {', '.join(wrong)}")
        return value


class ActivityMarks(_Input):
    """One asynchronous step: done or not done for each enrolment listed."""

    done: dict[int, bool] = Field(max_length=5000)


class CorrectionInput(_Input):
    figure: Annotated[str, Field(max_length=64)]
    value: Annotated[int, Field(ge=0, le=100_000)]
    justification: Annotated[str, Field(max_length=2000)]

    @field_validator("justification")
    @classmethod
    def _justified(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("justification obligatoire : dites pourquoi ce nombre diffère")
        return value


Level = Annotated[int, Field(ge=1, le=4)]


class AnswerInput(_Input):
    """An answer to the evaluation questionnaire: the four criteria of seed 001 (1 to 4)."""

    fiabilite: Level
    faisabilite: Level
    accompagnement: Level
    effets: Level
    comment: Annotated[str, Field(max_length=5000)] = ""

    @property
    def levels(self) -> dict[str, int]:
        return {name: int(getattr(self, name)) for name in QUESTIONNAIRE_CRITERIA}
