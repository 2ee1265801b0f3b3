"""Roles and derived recipient sets, with the labels people read.

Most roles are held on a dossier; ``gestionnaire``, ``responsable`` and ``administrateur``
are held on an académie and reach every dossier of it (the administrateur sets the
académie's people, roles and settings, and fires no transition). ``signataire`` and
``auteur_bilan`` are derived from the dossier's dispositif (see ``states.dispositifs``).
"""

from __future__ import annotations

DOSSIER_ROLES: dict[str, str] = {
    "pilote": "Pilote",
    "concepteur": "Concepteur",
    "formateur": "Formateur",
    "tuteur": "Tuteur",
    "stagiaire": "Stagiaire",
    "chef_etablissement": "Chef d'établissement",
    "ien": "IEN de circonscription",
    "coordonnateur_reseau": "Coordonnateur de réseau",
}

ACADEMIE_ROLES: dict[str, str] = {
    "gestionnaire": "Gestionnaire EAFC",
    "responsable": "Responsable académique de la formation",
    "administrateur": "Administrateur de l'académie",
}

ROLES: dict[str, str] = {**DOSSIER_ROLES, **ACADEMIE_ROLES}

SIGNATORY = "signataire"
"""Derived role: a required signatory of this dossier's contract."""

BILAN_AUTHOR = "auteur_bilan"
"""Derived role: who submits the bilan for this dispositif (001: the chef d'établissement
for an ENT convention, the formateurs otherwise)."""

DERIVED_ROLES: dict[str, str] = {
    SIGNATORY: "Signataire du contrat",
    BILAN_AUTHOR: "Auteur du bilan d'activités",
}

UNANSWERED = "stagiaires_sans_reponse"
"""Derived recipients: the enrolled stagiaires who have not answered the questionnaire."""

DERIVED_RECIPIENTS: dict[str, str] = {
    "signataires": "Tous les signataires requis du contrat",
    "signataires_restants": "Les signataires qui n'ont pas encore signé",
    UNANSWERED: "Les stagiaires qui n'ont pas répondu au questionnaire d'évaluation",
}


SYSTEM = "systeme"
"""Recorded as the role of what formaflow does by itself (timers, version migrations)."""


def role_label(role: str) -> str:
    if role == SYSTEM:
        return "action automatique"
    return ROLES.get(role) or DERIVED_ROLES.get(role) or role
