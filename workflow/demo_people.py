"""The demo's people: who they are, their civilité, and the team they form on a dossier.

All are fictitious and use ``example.org`` addresses. The CLI prints the first of them as
the demo accounts (``formaflow serve``); the recipes and the tests hand a ``Team`` around.
"""

from __future__ import annotations

from dataclasses import dataclass, field

PEOPLE: list[tuple[str, str]] = [
    ("camille.morel", "Camille Morel"),
    ("helene.garnier", "Hélène Garnier"),
    ("paul.lefevre", "Paul Lefèvre"),
    ("nadia.rousseau", "Nadia Rousseau"),
    ("olivier.mercier", "Olivier Mercier"),
    ("lucie.fontaine", "Lucie Fontaine"),
    ("marc.girard", "Marc Girard"),
    ("sophie.bernard", "Sophie Bernard"),
    ("julien.petit", "Julien Petit"),
    ("claire.dubois", "Claire Dubois"),
    ("thomas.roux", "Thomas Roux"),
    ("emilie.laurent", "Émilie Laurent"),
    ("anne.lambert", "Anne Lambert"),
    ("bernard.faure", "Bernard Faure"),
    ("isabelle.chevalier", "Isabelle Chevalier"),
    ("alice.perrin", "Alice Perrin"),
    ("lea.martin", "Léa Martin"),
    ("hugo.simon", "Hugo Simon"),
    ("chloe.michel", "Chloé Michel"),
    ("nathan.leroy", "Nathan Leroy"),
    ("manon.garcia", "Manon Garcia"),
]

CIVILITES: dict[str, str] = {
    login: civilite
    for civilite, logins in (
        (
            "madame",
            "alice.perrin camille.morel helene.garnier nadia.rousseau lucie.fontaine "
            "sophie.bernard "
            "claire.dubois emilie.laurent anne.lambert isabelle.chevalier lea.martin "
            "chloe.michel manon.garcia",
        ),
        (
            "monsieur",
            "paul.lefevre olivier.mercier marc.girard julien.petit thomas.roux bernard.faure "
            "hugo.simon nathan.leroy",
        ),
    )
    for login in logins.split()
}
"""Each demo person's civilité, so that labels and emails agree (« Formatrice »)."""


@dataclass
class Team:
    """Who holds which role on one dossier (académie roles included for convenience)."""

    pilote: int
    formateurs: list[int]
    gestionnaire: int
    responsable: int
    concepteur: int | None = None
    tuteur: int | None = None
    chef_etablissement: int | None = None
    ien: int | None = None
    coordonnateur_reseau: int | None = None
    stagiaires: list[int] = field(default_factory=list)

    def dossier_roles(self) -> list[tuple[int, str]]:
        pairs = [(self.pilote, "pilote")] + [(f, "formateur") for f in self.formateurs]
        for role in ("concepteur", "tuteur", "chef_etablissement", "ien", "coordonnateur_reseau"):
            person = getattr(self, role)
            if person is not None:
                pairs.append((person, role))
        return pairs + [(s, "stagiaire") for s in self.stagiaires]
