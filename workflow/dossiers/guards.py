"""Named guards of a dossier's own content: team, dispositif, hours, scenario, bilan, demande.

Each returns every missing item, in French, or nothing. A guard never stops at the first
problem: the person fixing the dossier should see the whole list at once. Guards only
read, on the service's connection.
"""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import func, select

from states.dispositifs import DISPOSITIFS
from workflow.dossiers.inputs import email_address
from workflow.dossiers.tutors import misplaced_tutors
from workflow.engine.registry import Guard, GuardContext
from workflow.engine.roles import members
from workflow.language.vocabulary import CO_ANIMATION_MIN_PARTICIPANTS, MODALITIES
from workflow.store.tables import (
    assignment_table,
    bilan_hours_table,
    bilan_table,
    document_table,
    scenario_table,
    sequence_table,
    step_table,
)
from workflow.store.tables import ouverture_table as O


def formateur_affecte(ctx: GuardContext) -> list[str]:
    count = ctx.conn.execute(
        select(func.count())
        .select_from(assignment_table)
        .where(
            assignment_table.c.dossier_id == ctx.dossier.id,
            assignment_table.c.role == "formateur",
        )
    ).scalar_one()
    return [] if count else ["au moins un formateur affecté au dossier"]


def dispositif_choisi(ctx: GuardContext) -> list[str]:
    if ctx.dossier.dispositif in DISPOSITIFS:
        return []
    return ["le dispositif (qui détermine le barème de rémunération)"]


def heures_prevues(ctx: GuardContext) -> list[str]:
    total = (ctx.dossier.planned_hours_presentiel or Decimal(0)) + (
        ctx.dossier.planned_hours_distance or Decimal(0)
    )
    return [] if total > 0 else ["les heures prévues (en présentiel et/ou à distance)"]


def scenario_complet(ctx: GuardContext) -> list[str]:
    conn = ctx.conn
    scenario = conn.execute(
        select(scenario_table).where(scenario_table.c.dossier_id == ctx.dossier.id)
    ).first()
    if scenario is None:
        return ["le scénario (aucune séquence n'est saisie)", "les critères de validation"]
    missing: list[str] = []
    sequences = conn.execute(
        select(sequence_table.c.id, sequence_table.c.position)
        .where(sequence_table.c.scenario_id == scenario.id)
        .order_by(sequence_table.c.position)
    ).all()
    if not sequences:
        missing.append("au moins une séquence dans le scénario")
    steps = conn.execute(
        select(step_table, sequence_table.c.position.label("seq_position"))
        .join(sequence_table, sequence_table.c.id == step_table.c.sequence_id)
        .where(sequence_table.c.scenario_id == scenario.id)
        .order_by(sequence_table.c.position, step_table.c.position)
    ).all()
    steps_by_seq = {s.seq_position for s in steps}
    for seq in sequences:
        if seq.position not in steps_by_seq:
            missing.append(f"séquence {seq.position} : au moins une étape")
    participants = ctx.dossier.planned_participants
    for step in steps:
        where = f"séquence {step.seq_position}, étape {step.position}"
        if step.modality not in MODALITIES:
            missing.append(f"{where} : la modalité")
        if not step.duration_minutes or step.duration_minutes <= 0:
            missing.append(f"{where} : la durée")
        if step.modality == "asynchrone" and step.tutor_id is None:
            missing.append(f"{where} : l'accompagnement (tuteur) de l'étape asynchrone")
        if step.co_animation and (participants or 0) < CO_ANIMATION_MIN_PARTICIPANTS:
            missing.append(
                f"{where} : au moins {CO_ANIMATION_MIN_PARTICIPANTS} participants prévus pour "
                f"une co-animation ({participants or 0} prévus)"
            )
    tutors = [(f"séquence {s.seq_position}, étape {s.position}", s.tutor_id) for s in steps]
    missing += misplaced_tutors(conn, ctx.dossier.ref, tutors)
    if not (scenario.validation_criteria or "").strip():
        missing.append("les critères de validation")
    return missing


def bilan_complet(ctx: GuardContext) -> list[str]:
    conn, dossier = ctx.conn, ctx.dossier
    missing: list[str] = []
    bilan = conn.execute(select(bilan_table).where(bilan_table.c.dossier_id == dossier.id)).first()
    if bilan is None or bilan.participants_effective is None:
        missing.append("le nombre de participants effectivement présents (émargement)")
    declared = {
        row.person_id
        for row in conn.execute(
            select(bilan_hours_table.c.person_id).where(
                bilan_hours_table.c.dossier_id == dossier.id
            )
        )
    }
    for formateur in members(conn, dossier.ref, ["formateur"]):
        if formateur.person_id not in declared:
            missing.append(f"les heures effectuées par {formateur.full_name}")
    emargements = conn.execute(
        select(func.count())
        .select_from(document_table)
        .where(document_table.c.dossier_id == dossier.id, document_table.c.kind == "emargement")
    ).scalar_one()
    if not emargements:
        missing.append("les listes d'émargement téléversées")
    return missing


def demande_complete(ctx: GuardContext) -> list[str]:
    request = ctx.conn.execute(select(O).where(O.c.dossier_id == ctx.dossier.id)).first()
    if request is None:
        return ["le formulaire de demande"]
    missing: list[str] = []
    texts = {
        "nom_parcours": "le nom du parcours",
        "objectifs": "les objectifs visés",
        "description": "la description (contenu et organisation)",
        "pilote_nom": "le nom du pilote",
        "pilote_courriel": "le courriel du pilote",
        "concepteurs": "les concepteurs",
        "format_parcours": "le format du parcours",
    }
    for column, label in texts.items():
        if not str(getattr(request, column) or "").strip():
            missing.append(label)
    if str(request.pilote_courriel or "").strip():
        try:
            email_address(request.pilote_courriel, "le courriel du pilote")
        except ValueError as error:
            missing.append(str(error))  # saved before addresses were checked
    if request.associe_presentiel is None:
        missing.append("si le parcours est associé à un présentiel (oui/non)")
    if request.associe_presentiel and not request.duree_presentiel_h:
        missing.append("la durée prévue en présentiel")
    if not request.duree_distance_h:
        missing.append("la durée prévue à distance")
    elif not (request.accompagnement_distance or "").strip():
        missing.append("l'accompagnement prévu pour la partie distancielle")
    if not request.publics:
        missing.append("le public visé")
    return missing


DOSSIER_GUARDS: dict[str, Guard] = {
    "formateur_affecte": formateur_affecte,
    "dispositif_choisi": dispositif_choisi,
    "heures_prevues": heures_prevues,
    "scenario_complet": scenario_complet,
    "bilan_complet": bilan_complet,
    "demande_complete": demande_complete,
}
