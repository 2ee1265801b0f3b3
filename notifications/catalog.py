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


_F = "dossier_formation"
_O = "ouverture_parcours"

CATALOG: dict[str, MessageKind] = {
    f"{_F}/emettre_contrat": MessageKind("Contrat à signer", True),
    f"{_F}/signer": MessageKind("Contrat : votre signature est attendue", True),
    f"{_F}/contrat_signe": MessageKind("Contrat signé par tous les signataires", True),
    f"{_F}/etablir_avenant": MessageKind("Avenant au contrat à signer", True),
    f"{_F}/signer_avenant": MessageKind("Avenant au contrat : signature enregistrée", True),
    f"{_F}/soumettre_scenario": MessageKind("Scénario hybride à valider", True),
    f"{_F}/valider_scenario": MessageKind("Scénario validé : vos tâches en amont", True),
    f"{_F}/demander_revision": MessageKind("Scénario à réviser", True),
    f"{_F}/demarrer": MessageKind("Formation démarrée : vos tâches pendant la formation", True),
    f"{_F}/terminer": MessageKind(
        "Formation terminée : téléverser les listes d'émargement et soumettre le bilan", True
    ),
    f"{_F}/soumettre_bilan": MessageKind("Bilan d'activités à examiner", True),
    f"{_F}/demander_complement": MessageKind("Bilan d'activités à compléter", True),
    f"{_F}/valider_bilan": MessageKind("Bilan validé : décision de paiement attendue", True),
    f"{_F}/rouvrir_bilan": MessageKind("Bilan d'activités rouvert : à compléter", True),
    f"{_F}/accorder_paiement": MessageKind("Paiement accordé", True),
    f"{_F}/refuser_paiement": MessageKind("Paiement refusé", False),
    f"{_F}/mettre_en_paiement": MessageKind("Mis en paiement", False),
    f"{_F}/annuler": MessageKind("Dossier annulé", False),
    f"{_F}/rappel_signature": MessageKind("Rappel : contrat en attente de votre signature", True),
    f"{_F}/rappel_validation_scenario": MessageKind(
        "Rappel : scénario en attente de votre validation", True
    ),
    f"{_F}/escalade_validation_scenario": MessageKind(
        "Scénario en attente de validation depuis 14 jours", True
    ),
    f"{_F}/rappel_bilan": MessageKind("Rappel : bilan d'activités attendu", True),
    f"{_F}/escalade_bilan": MessageKind("Bilan d'activités en retard", True),
    f"{_F}/relance_inactivite": MessageKind("Dossier en attente de votre action", True),
    f"{_F}/rappel_questionnaire": MessageKind(
        "Rappel : questionnaire d'évaluation de la formation", False
    ),
    f"{_O}/soumettre": MessageKind("Demande d'ouverture de parcours à instruire", True),
    f"{_O}/demander_complement": MessageKind("Demande d'ouverture de parcours à compléter", True),
    f"{_O}/accepter": MessageKind("Demande d'ouverture de parcours acceptée", False),
    f"{_O}/refuser": MessageKind("Demande d'ouverture de parcours refusée", False),
    f"{_O}/ouvrir": MessageKind("Parcours M@gistère ouvert", False),
    f"{_O}/retirer": MessageKind("Demande d'ouverture de parcours retirée", False),
    f"{_O}/relance_demande": MessageKind("Demande d'ouverture en attente depuis 15 jours", True),
}


def subject(template: str, reference: str) -> str:
    return f"{reference} — {CATALOG[template].subject}"
