"""Use cases that edit a dossier without changing its state: team, scenario, bilan, files.

Like ``WorkflowService.fire``, each public method is one transaction and owns its commit.
Referential problems (an unknown person, a role that does not exist) come back as
``InvalidInput`` with a French message, never as a database error.

``DossierEditor`` is assembled from one part per thing edited, each in its own module:
people and académies (``editing_people``), opening and planning (``editing_planning``), the
team and suppléances (``editing_team``), what people write — scenario, ouverture request,
bilan (``editing_contents``) — sessions (``editing_sessions``) and documents
(``editing_documents``); what they share (opening a dossier for an edit, the hooks) is
``editing_base``.
"""

from __future__ import annotations

from workflow.dossiers.editing_base import EditHook
from workflow.dossiers.editing_contents import ContentEdits
from workflow.dossiers.editing_documents import DocumentEdits
from workflow.dossiers.editing_people import PeopleEdits
from workflow.dossiers.editing_planning import PlanningEdits
from workflow.dossiers.editing_sessions import SessionEdits
from workflow.dossiers.editing_team import PARTICIPANT_ROLE, TeamEdits

__all__ = ["PARTICIPANT_ROLE", "DossierEditor", "EditHook"]


class DossierEditor(
    PeopleEdits, PlanningEdits, TeamEdits, ContentEdits, SessionEdits, DocumentEdits
):
    """Every editing use case of a dossier, one transaction each (``EditorBase`` holds the
    engine, the clock and the hooks told of an edit)."""
