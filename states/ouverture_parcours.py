"""Workflow ``ouverture_parcours`` v1: a request to open a parcours M@gistère.

From seed 004, annex 3: the pilot or the concepteur asks the chargé de mission EAFC
(here the académie's gestionnaire) to open a course. It is small on purpose: it proves
that the engine knows nothing of contracts or bilans.
"""

from __future__ import annotations

from states.spec import (
    DeadlineAction,
    DeadlineAnchor,
    DeadlineSpec,
    NotificationRule,
    PhaseSpec,
    StateSpec,
    TransitionSpec,
    WorkflowSpec,
)

NAME = "ouverture_parcours"


def _notify(*recipients: str, template: str) -> NotificationRule:
    return NotificationRule(recipients=recipients, template=f"{NAME}/{template}")


SPEC = WorkflowSpec(
    name=NAME,
    version=1,
    label="Demande d'ouverture de parcours M@gistère",
    initial="brouillon",
    phases=(
        PhaseSpec("redaction", "Rédaction"),
        PhaseSpec("instruction", "Instruction"),
        PhaseSpec("decision", "Décision"),
        PhaseSpec("termine", "Terminé"),
    ),
    states=(
        StateSpec("brouillon", "Brouillon", "redaction"),
        StateSpec("soumise", "Soumise à l'EAFC", "instruction"),
        StateSpec("a_completer", "À compléter", "instruction"),
        StateSpec("acceptee", "Acceptée", "decision"),
        StateSpec("ouverte", "Parcours ouvert", "termine", terminal=True),
        StateSpec("refusee", "Refusée", "termine", terminal=True),
        StateSpec("retiree", "Retirée", "termine", terminal=True),
    ),
    transitions=(
        TransitionSpec(
            trigger="soumettre",
            label="Soumettre la demande",
            sources=("brouillon", "a_completer"),
            dest="soumise",
            roles=("pilote", "concepteur"),
            guards=("demande_complete",),
            notifications=(_notify("gestionnaire", "pilote", "concepteur", template="soumettre"),),
        ),
        TransitionSpec(
            # Its authors change their mind before sending it: nobody else has seen it yet.
            trigger="retirer",
            label="Retirer la demande",
            sources=("brouillon",),
            dest="retiree",
            roles=("pilote", "concepteur"),
            irreversible=True,
            notifications=(_notify("pilote", "concepteur", template="retirer"),),
        ),
        TransitionSpec(
            trigger="demander_complement",
            label="Demander un complément",
            sources=("soumise",),
            dest="a_completer",
            roles=("gestionnaire",),
            comment_required=True,
            notifications=(_notify("pilote", "concepteur", template="demander_complement"),),
        ),
        TransitionSpec(
            trigger="accepter",
            label="Accepter la demande",
            sources=("soumise",),
            dest="acceptee",
            roles=("gestionnaire",),
            notifications=(_notify("pilote", "concepteur", template="accepter"),),
        ),
        TransitionSpec(
            trigger="refuser",
            label="Refuser la demande",
            sources=("soumise",),
            dest="refusee",
            roles=("gestionnaire",),
            comment_required=True,
            irreversible=True,
            notifications=(_notify("pilote", "concepteur", template="refuser"),),
        ),
        TransitionSpec(
            trigger="ouvrir",
            label="Ouvrir le parcours",
            sources=("acceptee",),
            dest="ouverte",
            roles=("gestionnaire",),
            irreversible=True,
            notifications=(_notify("pilote", "concepteur", template="ouvrir"),),
        ),
    ),
    deadlines=(
        DeadlineSpec(
            id="relance_demande",
            label="Relance : demande en attente d'instruction",
            states=("soumise",),
            anchor=DeadlineAnchor.STATE_ENTERED,
            offset_days=15,
            action=DeadlineAction.REMINDER,
            recipients=("gestionnaire",),
            template=f"{NAME}/relance_demande",
            marks_due=True,
        ),
    ),
)
