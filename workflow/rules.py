"""Every named guard and effect the specs may refer to, in one registry."""

from __future__ import annotations

from workflow.effects import BASE_EFFECTS, Effect
from workflow.guards import BASE_GUARDS, Guard
from workflow.payment import enregistrer_decision, montants_conformes

GUARDS: dict[str, Guard] = {**BASE_GUARDS, "montants_conformes": montants_conformes}

EFFECTS: dict[str, Effect] = {
    **BASE_EFFECTS,
    "enregistrer_decision": Effect(enregistrer_decision),
}
