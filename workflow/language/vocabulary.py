"""Closed lists of the domain, with the French labels people read."""

from __future__ import annotations

MODALITIES: dict[str, str] = {
    "presentiel": "Présentiel",
    "classe_virtuelle": "Classe virtuelle (synchrone)",
    "webinaire": "Webinaire",
    "asynchrone": "À distance asynchrone",
}
SYNCHRONOUS_DISTANCE = frozenset({"classe_virtuelle", "webinaire"})

DOCUMENT_KINDS: dict[str, str] = {
    "emargement": "Liste d'émargement",
    "contrat": "Contrat",
    "fiche_remuneration": "Fiche de rémunération",
    "autre": "Autre document",
}

PRODUCED_DOCUMENT_KINDS: dict[str, str] = {
    "contrat_scelle": "Contrat ou avenant signé (PDF scellé)",
}
"""Documents formaflow produces itself; never accepted as an upload."""

KIND_LABELS: dict[str, str] = {**DOCUMENT_KINDS, **PRODUCED_DOCUMENT_KINDS}
"""Every kind a stored document may have, uploaded or produced, as people read it."""

PUBLICS: dict[str, str] = {
    "enseignants_1er_degre": "Enseignants du 1er degré",
    "college": "Collège",
    "lycee": "Lycée",
    "chefs_etablissement": "Chefs d'établissement",
    "inspecteurs": "Inspecteurs",
    "atss": "ATSS",
    "autres": "Autres",
}

CO_ANIMATION_MIN_PARTICIPANTS = 15
"""Seed 004 §5.3: « la co-animation est possible à partir de 15 participants » (the scenario's
guard and the barème both read it, so it lives with the domain's words, below both)."""

PARTICIPATION_RULES: dict[str, str] = {
    "une_presence": "au moins une session tenue ou une activité à distance faite",
    "moitie": "au moins la moitié des sessions tenues et des activités à distance",
    "toutes": "toutes les sessions tenues et toutes les activités à distance",
}
"""When a stagiaire « a effectivement participé » (seed 000) or counts as « candidat
tutoré » (seed 004): the seeds give no rule, so each académie chooses one (DOMAIN §7)."""
DEFAULT_PARTICIPATION_RULE = "une_presence"

# Stagiaires (DOMAIN §7) ------------------------------------------------------------------

SYNCHRONOUS = frozenset({"presentiel", "classe_virtuelle", "webinaire"})
"""Modalities that take the stagiaire out of class for the session's duration (charter 002:
the synchronous sessions release, an asynchronous period does not)."""

ATTENDANCE_STATUSES: dict[str, str] = {
    "present": "Présent",
    "absent_excuse": "Absent excusé",
    "absent": "Absent non excusé",
}

ETABLISSEMENT_KINDS: dict[str, str] = {
    "etablissement": "Établissement du second degré (EPLE)",
    "ecole": "École du premier degré",
}
HEAD_ROLES: dict[str, str] = {
    "chef_etablissement": "Chef d'établissement",
    "ien": "IEN de circonscription",
}
"""Who releases a stagiaire from classes: the EPLE's head, or the IEN for a primary school."""

QUESTIONNAIRE_CRITERIA: dict[str, tuple[str, str]] = {
    "fiabilite": (
        "Fiabilité du dispositif",
        "la technique, le respect des engagements de chacun des acteurs",
    ),
    "faisabilite": (
        "Faisabilité pédagogique",
        "les rythmes de travail, le séquençage des activités, le rythme de l'accompagnement",
    ),
    "accompagnement": (
        "Accompagnement",
        "la nature et la qualité des contenus des échanges",
    ),
    "effets": (
        "Effets de la formation",
        "dans votre établissement et dans vos pratiques",
    ),
}
"""The four evaluation criteria of seed 001 §5, each with what it covers."""

QUESTIONNAIRE_LEVELS: dict[int, str] = {
    1: "Pas du tout satisfaisant",
    2: "Peu satisfaisant",
    3: "Satisfaisant",
    4: "Très satisfaisant",
}
MIN_ANSWERS_SHOWN = 3
"""Below this many answers, the aggregate is not shown at all: with one or two answers a
reader could tell who said what (DOMAIN §7)."""

RELEASE_SYNCHRONOUS = (
    "Le chef d'établissement (ou l'IEN) libère l'enseignant des cours qui englobent la durée "
    "de la session de formation synchrone."
)
RELEASE_ASYNCHRONOUS = (
    "Une convocation asynchrone n'implique pas d'être libéré de cours et nécessite une "
    "organisation personnelle afin de pouvoir réaliser les activités proposées au cours de "
    "la période correspondante."
)
FOLLOW_FROM_HOME = (
    "Le stagiaire peut suivre sa formation à partir de son domicile sous réserve d'être en "
    "capacité de gérer les aspects techniques et logistiques."
)
"""The charter's words on release from classes (seed 002), quoted in every convocation."""
