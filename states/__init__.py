"""Workflow definitions as frozen data. Imports nothing of ours but itself."""

from __future__ import annotations

from states import dossier_formation, ouverture_parcours
from states.spec import WorkflowSpec

SPECS: dict[tuple[str, int], WorkflowSpec] = {
    spec.key: spec for spec in (dossier_formation.SPEC, ouverture_parcours.SPEC)
}

LATEST: dict[str, WorkflowSpec] = {}
for _spec in sorted(SPECS.values(), key=lambda s: s.version):
    LATEST[_spec.name] = _spec


def get_spec(name: str, version: int | None = None) -> WorkflowSpec:
    """The spec a dossier runs on; ``None`` means the newest version."""
    if version is None:
        return LATEST[name]
    return SPECS[(name, version)]


__all__ = ["LATEST", "SPECS", "WorkflowSpec", "get_spec"]
