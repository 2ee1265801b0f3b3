"""Typed errors of the engine, each carrying a French message for the person who acted.

The edges map them to their own language (HTTP problem types, CLI exit codes); the
``code`` is stable so that a client can branch on it without parsing French.
"""

from __future__ import annotations

from collections.abc import Sequence


class WorkflowError(Exception):
    code = "erreur"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class DossierNotFound(WorkflowError):
    code = "dossier-introuvable"

    def __init__(self, dossier: int | str) -> None:
        super().__init__(f"Le dossier {dossier} est introuvable.")
        self.dossier = dossier


class NotFound(WorkflowError):
    """Something that does not exist or that the person may not see: both are said the same
    way, so that what belongs to another académie does not reveal its existence."""

    code = "introuvable"


class AcademieNotFound(NotFound):
    code = "academie-introuvable"

    def __init__(self, academie: int | str) -> None:
        super().__init__(f"L'académie « {academie} » est introuvable.")
        self.academie = academie


class DelegationNotFound(NotFound):
    code = "suppleance-introuvable"

    def __init__(self, delegation: int) -> None:
        super().__init__(f"La suppléance n° {delegation} est introuvable.")
        self.delegation = delegation


class PersonNotFound(WorkflowError):
    code = "personne-introuvable"

    def __init__(self, who: int | str) -> None:
        super().__init__(f"Aucune personne ne correspond à « {who} ».")
        self.who = who


class TriggerNotAvailable(WorkflowError):
    code = "action-indisponible"

    def __init__(
        self,
        trigger: str,
        state_label: str,
        valid: Sequence[tuple[str, str]],
        trigger_label: str | None = None,
    ) -> None:
        """``trigger_label`` is None when the workflow has no such action at all: the
        message then quotes what was asked, never an identifier of ours."""
        if valid:
            listed = " ; ".join(label for _, label in valid)
            hint = f" Actions possibles dans cet état : {listed}."
        else:
            hint = " Aucune action n'est possible dans cet état."
        if trigger_label is None:
            said = f"L'action « {trigger} » n'existe pas pour ce dossier"
        else:
            said = f"L'action « {trigger_label} » n'est pas possible"
        super().__init__(f"{said} quand le dossier est « {state_label} ».{hint}")
        self.trigger = trigger
        self.valid = [trigger_id for trigger_id, _ in valid]


class NotPermitted(WorkflowError):
    code = "action-non-autorisee"

    def __init__(
        self, trigger_label: str, allowed_labels: Sequence[str], where: str = "sur ce dossier"
    ) -> None:
        roles = ", ".join(allowed_labels)
        super().__init__(
            f"Vous n'avez pas le rôle requis {where} pour « {trigger_label} » "
            f"(rôles autorisés : {roles})."
        )


class GuardFailed(WorkflowError):
    """Everything that is missing, named at once so the person can fix it in one go."""

    code = "conditions-non-remplies"

    def __init__(self, trigger_label: str, reasons: Sequence[str]) -> None:
        listed = "\n".join(f"- {reason}" for reason in reasons)
        super().__init__(
            f"« {trigger_label} » est impossible pour l'instant. Il manque :\n{listed}"
        )
        self.reasons = list(reasons)


class StaleVersion(WorkflowError):
    code = "version-perimee"

    def __init__(self, expected: int, current: int) -> None:
        super().__init__(
            f"Le dossier a été modifié entre-temps (version {current}, vous aviez la version "
            f"{expected}). Rechargez-le avant de recommencer."
        )
        self.expected = expected
        self.current = current


class InvalidInput(WorkflowError):
    code = "saisie-invalide"

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field
