"""The composition: every name the specs use, resolved to a capability's guard or effect.

The only module that knows every capability; ``api``'s wiring hands ``RULES`` to the
service when it builds it, and a test checks every name in ``states/`` resolves here.
"""

from __future__ import annotations

from workflow.documents.signing import SIGNATURE_EFFECTS, SIGNATURE_GUARDS
from workflow.documents.versions import VERSION_EFFECTS, VERSION_GUARDS
from workflow.dossiers.guards import DOSSIER_GUARDS
from workflow.engine.registry import Effect, Guard, Rules
from workflow.payments.decision import enregistrer_decision, montants_conformes

GUARDS: dict[str, Guard] = {
    **DOSSIER_GUARDS,
    **SIGNATURE_GUARDS,
    **VERSION_GUARDS,
    "montants_conformes": montants_conformes,
}

EFFECTS: dict[str, Effect] = {
    **SIGNATURE_EFFECTS,
    **VERSION_EFFECTS,
    "enregistrer_decision": Effect(enregistrer_decision),
}

RULES = Rules(guards=GUARDS, effects=EFFECTS)
