"""What the demo académie holds: where its dossiers stand, its PAF, its administration.

Pure data and two small steps of ``workflow.demo.load_demo``: the formation dossiers' target
states and titles (one per state of the workflow), the ouverture requests, the plan
académique imported as a gestionnaire would, and the settings change and suppléances the
administration pages show. All names are fictitious.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Engine

from workflow.admin.paf import PafImporter
from workflow.admin.paf_lines import read_lines
from workflow.admin.service import Administration
from workflow.dossiers.editing import DossierEditor
from workflow.engine.service import WorkflowService

FORMATION_TARGETS: list[tuple[str, str, str]] = [
    ("brouillon", "vacation_accompagnement", "Accompagner l'usage de l'ENT au collège"),
    ("contrat_a_signer", "vacation_accompagnement", "Enseigner avec le numérique en cycle 3"),
    ("contrat_signe", "eafc_taux_a", "Évaluer par compétences en lycée professionnel"),
    ("scenario_soumis", "eafc_taux_a", "Différencier en mathématiques au cycle 4"),
    ("scenario_a_reviser", "vacation_accompagnement", "Oral et grand oral : accompagner"),
    ("scenario_valide", "hse_convention_ent", "Prendre en main l'ENT de l'établissement"),
    ("en_cours", "vacation_accompagnement", "Classe inversée en sciences"),
    ("realisee", "hse_convention_ent", "Utiliser l'ENT avec ses élèves"),
    ("bilan_soumis", "vacation_accompagnement", "Écrire pour apprendre en histoire"),
    ("bilan_a_completer", "hse_convention_ent", "Le cahier de textes numérique"),
    ("bilan_valide", "vacation_accompagnement", "Coopérer en EPS avec des outils numériques"),
    ("paiement_accorde", "vacation_accompagnement", "Accompagner les néo-titulaires"),
    ("paiement_refuse", "vacation_accompagnement", "Évaluer l'oral en langues vivantes"),
    ("mis_en_paiement", "vacation_accompagnement", "Hybrider une formation disciplinaire"),
    ("annule", "eafc_taux_a", "Parcours M@gistère : éducation aux médias"),
]

OUVERTURE_TARGETS: list[tuple[str, list[tuple[str, str, str | None]]]] = [
    ("brouillon", []),
    ("soumise", [("soumettre", "concepteur", None)]),
    (
        "a_completer",
        [
            ("soumettre", "concepteur", None),
            ("demander_complement", "gestionnaire", "Préciser la durée à distance."),
        ],
    ),
    ("acceptee", [("soumettre", "pilote", None), ("accepter", "gestionnaire", None)]),
    (
        "ouverte",
        [
            ("soumettre", "pilote", None),
            ("accepter", "gestionnaire", None),
            ("ouvrir", "gestionnaire", None),
        ],
    ),
    (
        "refusee",
        [
            ("soumettre", "concepteur", None),
            ("refuser", "gestionnaire", "Un parcours national couvre déjà ce besoin."),
        ],
    ),
    ("retiree", [("retirer", "concepteur", None)]),
]

OUVERTURE_TITLES = {
    "brouillon": "Enseigner l'IA au lycée",
    "soumise": "Premiers pas avec l'ENT",
    "a_completer": "Évaluer sans noter",
    "acceptee": "Le numérique en maternelle",
    "ouverte": "Accueillir un élève allophone",
    "refusee": "Sensibilisation au RGPD",
    "retiree": "Jeux sérieux en SVT",
}


DEMO_ETABLISSEMENT = "Collège Jean Jaurès de Démoville"
"""Fictitious, like every name of the demo."""


DEMO_PAF: list[list[str]] = [
    [
        "Identifiant PAF",
        "Intitulé",
        "Dispositif",
        "Pilote (courriel)",
        "Formateurs (courriels)",
        "Concepteurs (courriels)",
        "Heures présentiel",
        "Heures distance",
        "Participants prévus",
        "Date de début",
        "Date de fin",
        "Public",
    ],
    [
        "26A0140001",
        "Évaluer avec le numérique au cycle 3",
        "vacation_accompagnement",
        "paul.lefevre@example.org",
        "sophie.bernard@example.org",
        "lucie.fontaine@example.org",
        "6",
        "12",
        "18",
        "05/01/2027",
        "26/03/2027",
        "Enseignants du 1er degré",
    ],
    [
        "26A0140002",
        "Co-enseigner en classe virtuelle",
        "Parcours EAFC rémunéré au taux A",
        "nadia.rousseau@example.org",
        "julien.petit@example.org, claire.dubois@example.org",
        "marc.girard@example.org",
        "3",
        "9",
        "24",
        "11/01/2027",
        "02/04/2027",
        "Professeurs de collège",
    ],
    [
        "26A0140003",
        "L'ENT au service du lien école-familles",
        "Convention de formation ENT (HSE)",
        "paul.lefevre@example.org",
        "thomas.roux@example.org",
        "",
        "",
        "10",
        "15",
        "",
        "",
        "Équipes d'établissement",
    ],
]
"""A small plan académique de formation, imported as the gestionnaire would (« Import du
PAF »): three dossiers in « Brouillon » with their identifiant PAF and their team."""


def import_demo_paf(engine: Engine, service: WorkflowService, academie_id: int) -> dict[str, int]:
    report = PafImporter(engine, clock=service.clock).apply(
        academie_id, read_lines(DEMO_PAF), actor_id=None
    )
    assert report.applied, [line.reasons for line in report.refused]
    return {line.paf_id: line.dossier_id for line in report.lines if line.dossier_id}


def administration_demo(
    admin: Administration,
    editor: DossierEditor,
    academie_id: int,
    people: dict[str, int],
    dossiers: dict[str, int],
    now: datetime,
) -> None:
    """What the administration pages show: a rate and a delay changed by the administratrice
    (in the history), a suppléance of an académie role (to come) and one of a formateur
    (revoked)."""
    administratrice = people["alice.perrin"]
    admin.change_settings(
        academie_id,
        {"tarifs.hse": "22.50", "delais.rappel_signature": "10"},
        actor_id=administratrice,
    )
    editor.delegate(
        people["camille.morel"],
        people["isabelle.chevalier"],
        now + timedelta(days=20),
        now + timedelta(days=34),
        role="gestionnaire",
        academie_id=academie_id,
        actor_id=administratrice,
    )
    formation = dossiers["dossier_formation:en_cours"]
    formateur = people[("sophie.bernard", "julien.petit", "claire.dubois", "thomas.roux")[6 % 4]]
    revoked = editor.delegate(
        formateur,
        people["thomas.roux"],
        now - timedelta(days=2),
        now + timedelta(days=5),
        role="formateur",
        dossier_id=formation,
        actor_id=people["paul.lefevre"],
    )
    editor.revoke_delegation(revoked, actor_id=people["paul.lefevre"])
