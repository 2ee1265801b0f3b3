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


CIVILITES: dict[str, str] = {"madame": "Madame", "monsieur": "Monsieur"}
"""A person's civilité, optional: with « madame » the labels of their roles are feminine."""

FEMININE: dict[str, str] = {
    "concepteur": "Conceptrice",
    "formateur": "Formatrice",
    "tuteur": "Tutrice",
    "chef_etablissement": "Cheffe d'établissement",
    "coordonnateur_reseau": "Coordonnatrice de réseau",
    "administrateur": "Administratrice de l'académie",
    BILAN_AUTHOR: "Autrice du bilan d'activités",
}
"""Labels whose feminine differs; the others (pilote, gestionnaire, IEN…) are epicene."""


SYSTEM = "systeme"
"""Recorded as the role of what formaflow does by itself (timers, version migrations)."""


def role_label(role: str, civilite: str | None = None) -> str:
    """« Formateur », or « Formatrice » for a person whose civilité is « madame »."""
    if role == SYSTEM:
        return "action automatique"
    if civilite == "madame" and role in FEMININE:
        return FEMININE[role]
    return ROLES.get(role) or DERIVED_ROLES.get(role) or role


_ARTICLES = {
    # (elided, feminine) → the article before a role noun, by construction.
    "le": {(True, False): "l'", (True, True): "l'", (False, False): "le ", (False, True): "la "},
    "du": {
        (True, False): "de l'",
        (True, True): "de l'",
        (False, False): "du ",
        (False, True): "de la ",
    },
    "au": {
        (True, False): "à l'",
        (True, True): "à l'",
        (False, False): "au ",
        (False, True): "à la ",
    },
}


def role_noun(role: str, civilite: str | None = None, article: str = "le") -> str:
    """The role as a noun in a sentence, agreeing with the person: « la gestionnaire EAFC »,
    « le pilote », « l'IEN de circonscription », « de la pilote » (``article="du"``),
    « à la formatrice » (``article="au"``). Without a civilité, the usual masculine."""
    label = role_label(role, civilite)
    if len(label) > 1 and label[1].islower():
        label = label[0].lower() + label[1:]  # « Pilote » → « pilote », but « IEN » stays
    elided = label[0].lower() in "aeéèêiîoôuh"
    return _ARTICLES[article][(elided, civilite == "madame")] + label
