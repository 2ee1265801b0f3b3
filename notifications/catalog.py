"""Every email the specs can ask for, by template name, with its French subject.

The specs name templates; this catalogue is what those names resolve to, and a test keeps
the two in step. A subject always starts with the dossier reference when it is sent, so
a recipient can sort and search their mailbox by dossier.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class MessageKind:
    subject: str
    expects_action: bool
    """Whether some recipients must act (the email then carries the action link)."""
    general: str | None = None
    """The subject for a recipient the first one promises nothing to: a subject says only
    what the body holds (« vos tâches en amont » only to someone who has some)."""
    promised_to: tuple[str, ...] = ()
    """Who ``subject`` holds for: role ids (derived ones included), ``TASKS`` for whoever
    has tasks of the phase in the email, ``ACTION`` for whoever has an action to take."""


TASKS = "*taches"
ACTION = "*action"


_F = "dossier_formation"
_O = "ouverture_parcours"

CATALOG: dict[str, MessageKind] = {
    f"{_F}/emettre_contrat": MessageKind(
        "Contrat à signer", True, "Contrat émis : signatures attendues", ("signataire",)
    ),
    f"{_F}/signer": MessageKind("Contrat : votre signature est attendue", True),
    f"{_F}/contrat_signe": MessageKind("Contrat signé par tous les signataires", True),
    f"{_F}/etablir_avenant": MessageKind("Avenant au contrat à signer", True),
    f"{_F}/signer_avenant": MessageKind("Avenant au contrat : signature enregistrée", True),
    f"{_F}/soumettre_scenario": MessageKind(
        "Scénario hybride à valider", True, "Scénario hybride soumis au pilote", ("pilote",)
    ),
    f"{_F}/valider_scenario": MessageKind(
        "Scénario validé : vos tâches en amont", True, "Scénario validé", (TASKS,)
    ),
    f"{_F}/demander_revision": MessageKind("Scénario à réviser", True),
    f"{_F}/demarrer": MessageKind(
        "Formation démarrée : vos tâches pendant la formation",
        True,
        "Formation démarrée",
        (TASKS,),
    ),
    f"{_F}/terminer": MessageKind(
        "Formation terminée : téléverser les listes d'émargement et soumettre le bilan",
        True,
        "Formation terminée",
        ("auteur_bilan",),
    ),
    f"{_F}/soumettre_bilan": MessageKind(
        "Bilan d'activités à examiner", True, "Bilan d'activités soumis", ("gestionnaire",)
    ),
    f"{_F}/demander_complement": MessageKind(
        "Bilan d'activités à compléter",
        True,
        "Complément demandé au bilan d'activités",
        ("auteur_bilan",),
    ),
    f"{_F}/valider_bilan": MessageKind(
        "Bilan validé : décision de paiement attendue", True, "Bilan validé", ("responsable",)
    ),
    f"{_F}/rouvrir_bilan": MessageKind(
        "Bilan d'activités rouvert : à compléter",
        True,
        "Bilan d'activités rouvert",
        ("auteur_bilan",),
    ),
    f"{_F}/accorder_paiement": MessageKind("Paiement accordé", True),
    f"{_F}/refuser_paiement": MessageKind("Paiement refusé", False),
    f"{_F}/mettre_en_paiement": MessageKind("Mis en paiement", False),
    f"{_F}/annuler": MessageKind("Dossier annulé", False),
    f"{_F}/rappel_signature": MessageKind("Rappel : contrat en attente de votre signature", True),
    f"{_F}/rappel_validation_scenario": MessageKind(
        "Rappel : scénario en attente de votre validation", True
    ),
    # Deadline delays are the académie's (no number of days in a subject: the body dates it).
    f"{_F}/escalade_validation_scenario": MessageKind(
        "Scénario toujours en attente de validation", True
    ),
    f"{_F}/rappel_bilan": MessageKind("Rappel : bilan d'activités attendu", True),
    f"{_F}/escalade_bilan": MessageKind("Bilan d'activités en retard", True),
    f"{_F}/relance_inactivite": MessageKind("Dossier en attente de votre action", True),
    f"{_F}/rappel_questionnaire": MessageKind(
        "Rappel : questionnaire d'évaluation de la formation", False
    ),
    f"{_O}/soumettre": MessageKind(
        "Demande d'ouverture de parcours à instruire",
        True,
        "Demande d'ouverture de parcours soumise",
        ("gestionnaire",),
    ),
    f"{_O}/demander_complement": MessageKind("Demande d'ouverture de parcours à compléter", True),
    f"{_O}/accepter": MessageKind("Demande d'ouverture de parcours acceptée", False),
    f"{_O}/refuser": MessageKind("Demande d'ouverture de parcours refusée", False),
    f"{_O}/ouvrir": MessageKind("Parcours M@gistère ouvert", False),
    f"{_O}/retirer": MessageKind("Demande d'ouverture de parcours retirée", False),
    f"{_O}/relance_demande": MessageKind("Demande d'ouverture toujours en attente", True),
}


def subject(template: str, reference: str) -> str:
    return f"{reference} — {CATALOG[template].subject}"


def subject_for(
    template: str, reference: str, roles: tuple[str, ...], *, tasks: bool, action: bool
) -> str:
    """The subject for one recipient: the promising one only if the body keeps the promise
    for them (their role, their tasks, their action), the plain one otherwise."""
    kind = CATALOG[template]
    if kind.general is None:
        return subject(template, reference)
    held = set(roles) | ({TASKS} if tasks else set()) | ({ACTION} if action else set())
    chosen = kind.subject if held & set(kind.promised_to) else kind.general
    return f"{reference} — {chosen}"
