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
