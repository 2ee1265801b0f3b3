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
