"""The French labels of the specs' identifiers (states, triggers), whatever the version.

A dossier moved to another version of its workflow keeps the history it had before: rows
whose states or triggers the new version no longer has. A person must still read a label,
never ``contrat_a_signer``: the dossier's own version is asked first, then every other
version of its workflow, newest first.
"""

from __future__ import annotations

from states import SPECS
from states.spec import WorkflowSpec

MIGRATION_TRIGGER = "migrer_version"
"""The history rows ``formaflow workflow migrate`` writes (not a trigger of any spec)."""
MIGRATION_LABEL = "Migration vers une autre version du workflow"


def _versions(workflow: str, version: int | None) -> list[WorkflowSpec]:
    own = SPECS.get((workflow, version)) if version is not None else None
    others = sorted(
        (s for s in SPECS.values() if s.name == workflow and s is not own),
        key=lambda s: -s.version,
    )
    return [own, *others] if own is not None else others


def state_label(workflow: str, version: int | None, state: str) -> str:
    for spec in _versions(workflow, version):
        for candidate in spec.states:
            if candidate.id == state:
                return candidate.label
    return state


def trigger_label(workflow: str, version: int | None, trigger: str) -> str:
    if trigger == MIGRATION_TRIGGER:
        return MIGRATION_LABEL
    for spec in _versions(workflow, version):
        for candidate in spec.transitions:
            if candidate.trigger == trigger:
                return candidate.label
    return trigger
