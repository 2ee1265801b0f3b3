"""What the demo's people type and upload: a scenario, a bilan, an ouverture request, a PDF.

Plain inputs of the use cases, the same for every demo dossier, kept apart from the recipes
that drive dossiers so that those read as the steps of a dossier's life.
"""

from __future__ import annotations

from decimal import Decimal

from workflow.demo_people import Team
from workflow.dossiers.inputs import (
    BilanInput,
    HoursInput,
    OuvertureInput,
    ScenarioInput,
    SequenceInput,
    StepInput,
)


def demo_scenario(tutor: int) -> ScenarioInput:
    """A two-sequence hybrid scenario whose asynchronous step is led by ``tutor``."""
    return ScenarioInput(
        objectives="Concevoir et animer une séance hybride avec ses élèves.",
        competences="Scénariser une activité à distance ; accompagner des pairs.",
        prerequisites="Avoir un compte M@gistère.",
        public="Enseignants de collège",
        hours_presentiel=Decimal("6"),
        hours_distance=Decimal("13"),
        accompaniment_plan="Retour individualisé sous 72 h sur chaque production.",
        validation_criteria="Dépôt d'une séance scénarisée et d'un retour réflexif.",
        penser_a="Réserver la salle informatique.",
        sequences=[
            SequenceInput(
                title="Lancement",
                a_faire_en_amont="Envoyer les liens de connexion.",
                steps=[
                    StepInput(
                        period="Semaine 1",
                        duration_minutes=180,
                        content="Présentation du dispositif et des attendus",
                        modality="presentiel",
                    ),
                    StepInput(
                        period="Semaine 2",
                        duration_minutes=90,
                        content="Classe virtuelle : prise en main du parcours",
                        modality="classe_virtuelle",
                        connection_link="https://visio.example.org/lancement",
                    ),
                ],
            ),
            SequenceInput(
                title="Mise en œuvre accompagnée",
                steps=[
                    StepInput(
                        period="Semaines 3 à 5",
                        duration_minutes=600,
                        content="Conception d'une séance, échanges sur le forum",
                        modality="asynchrone",
                        led_by="tuteur",
                        tutor_id=tutor,
                    ),
                ],
            ),
        ],
    )


def demo_bilan(team: Team, enrolled: int, effective: int) -> BilanInput:
    """A complete bilan: the team's hours and the counts of trainees it followed."""
    return BilanInput(
        participants_enrolled=enrolled,
        participants_effective=effective,
        view_chef_etablissement="Les équipes se sont approprié l'outil.",
        view_formateurs="Bonne dynamique, un rythme d'accompagnement à alléger.",
        eval_fiabilite="Aucun incident technique ; engagements tenus.",
        eval_faisabilite="Séquençage adapté, rythme soutenu en semaine 3.",
        eval_accompagnement="Échanges réguliers et de qualité sur le forum.",
        eval_effets="Séances hybrides menées en classe par 4 stagiaires sur 5.",
        hours=[
            HoursInput(person_id=f, hours=Decimal("13"), trainees_followed=effective)
            for f in team.formateurs
        ]
        + (
            [HoursInput(person_id=team.tuteur, hours=Decimal("10"), trainees_followed=effective)]
            if team.tuteur and team.tuteur not in team.formateurs
            else []
        ),
    )


def demo_ouverture(name: str) -> OuvertureInput:
    return OuvertureInput(
        nom_parcours=name,
        objectifs="Permettre aux enseignants de concevoir des activités en autonomie.",
        description="Trois modules de deux semaines, un forum animé par le tuteur.",
        pilote_nom="Nadia Rousseau",
        pilote_courriel="nadia.rousseau@example.org",
        concepteurs="Marc Girard",
        associe_presentiel=True,
        duree_presentiel_h=Decimal("3"),
        duree_distance_h=Decimal("6"),
        accompagnement_distance="Tutorat asynchrone sur le forum, réponse sous 48 h.",
        publics=["college", "lycee"],
        format_parcours="Parcours accompagné",
    )


def tiny_pdf(title: str) -> bytes:
    """A valid one-page PDF, so demo documents open in any viewer."""
    text = title.encode("latin-1", "replace").replace(b"(", b"[").replace(b")", b"]")
    stream = b"BT /F1 14 Tf 72 770 Td (" + text + b") Tj ET"
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length " + str(len(stream)).encode() + b" >>\nstream\n" + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
    ]
    out = b"%PDF-1.4\n"
    offsets = []
    for n, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{n} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{o:010d} 00000 n \n".encode() for o in offsets)
    out += (
        f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n"
    ).encode()
    return out
