"""Dispositifs: which barème pays a dossier and who must sign its contract.

The signatory rules come from the seeds: 000 "signé par le formateur et le responsable
académique de la formation"; 001 a convention between the DAFPEN director and the head of
school. 004 gives no rule for the EAFC taux A; every formateur and concepteur plus the
responsable is our default (an académie may override it in its configuration).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class SignatoryMode(StrEnum):
    EACH = "chacun"
    """Every person holding the role on the dossier signs."""

    ONE = "un"
    """One signature from any holder of the role is enough."""


@dataclass(frozen=True, slots=True)
class SignatoryRule:
    role: str
    mode: SignatoryMode


@dataclass(frozen=True, slots=True)
class Dispositif:
    id: str
    label: str
    bareme: str
    signatories: tuple[SignatoryRule, ...]
    bilan_roles: tuple[str, ...]
    """Roles that submit the bilan (ENT conventions: the chef d'établissement)."""


DISPOSITIFS: dict[str, Dispositif] = {
    d.id: d
    for d in (
        Dispositif(
            id="vacation_accompagnement",
            label="Accompagnement à distance rémunéré en vacations",
            bareme="vacation_accompagnement",
            signatories=(
                SignatoryRule("formateur", SignatoryMode.EACH),
                SignatoryRule("responsable", SignatoryMode.ONE),
            ),
            bilan_roles=("formateur",),
        ),
        Dispositif(
            id="hse_convention_ent",
            label="Convention de formation ENT (HSE)",
            bareme="hse_convention_ent",
            signatories=(
                SignatoryRule("chef_etablissement", SignatoryMode.ONE),
                SignatoryRule("responsable", SignatoryMode.ONE),
            ),
            bilan_roles=("chef_etablissement",),
        ),
        Dispositif(
            id="eafc_taux_a",
            label="Parcours EAFC rémunéré au taux A",
            bareme="eafc_taux_a",
            signatories=(
                SignatoryRule("formateur", SignatoryMode.EACH),
                SignatoryRule("concepteur", SignatoryMode.EACH),
                SignatoryRule("responsable", SignatoryMode.ONE),
            ),
            bilan_roles=("formateur",),
        ),
    )
}
