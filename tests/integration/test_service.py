"""The transition service against a real database: refusals, signatures, delegation, tasks."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import Engine, select, text
from sqlalchemy.exc import DBAPIError

from tests.conftest import World
from tests.support.matrix import ouverture_in
from tests.support.snapshots import history_rows, snapshot
from workflow.demo import demo_ouverture
from workflow.dossiers.inputs import DossierInput, ScenarioInput, SequenceInput, StepInput
from workflow.engine.errors import (
    DossierNotFound,
    GuardFailed,
    InvalidInput,
    NotPermitted,
    StaleVersion,
    TriggerNotAvailable,
    WorkflowError,
)
from workflow.engine.service import FireCommand, FireResult, WorkflowService
from workflow.reads.queries import history, payment_decision
from workflow.store.tables import signature_table, task_table
from workflow.store.types import utcnow


def fire(
    service: WorkflowService,
    dossier: int,
    trigger: str,
    actor: int | None,
    *,
    comment: str | None = None,
    expected_version: int | None = None,
    payload: dict[str, Any] | None = None,
) -> FireResult:
    return service.fire(
        FireCommand(dossier, trigger, actor, expected_version, comment, payload or {})
    )


BadInput = Callable[[WorkflowService, World, int], object]

BAD_INPUTS: dict[str, tuple[BadInput, type[WorkflowError], str]] = {
    "dossier inconnu": (
        lambda s, w, d: fire(s, 10**9, "annuler", w.team.pilote, comment="x"),
        DossierNotFound,
        "introuvable",
    ),
    "action inconnue": (
        lambda s, w, d: fire(s, d, "tout_valider", w.team.pilote),
        TriggerNotAvailable,
        "Actions possibles dans cet état",
    ),
    "action invalide depuis cet état": (
        lambda s, w, d: fire(s, d, "valider_scenario", w.team.pilote),
        TriggerNotAvailable,
        "n'est pas possible quand le dossier est « Contrat à signer »",
    ),
    "mauvais rôle": (
        lambda s, w, d: fire(s, d, "annuler", w.team.formateurs[0], comment="non"),
        NotPermitted,
        "rôle requis",
    ),
    "personne hors du dossier (qui ne le voit pas)": (
        lambda s, w, d: fire(s, d, "annuler", w.outsider, comment="non"),
        DossierNotFound,
        "introuvable",
    ),
    "gestionnaire d'une autre académie": (
        lambda s, w, d: fire(s, d, "annuler", w.other_academie_gestionnaire, comment="x"),
        DossierNotFound,
        "introuvable",
    ),
    "commentaire manquant": (
        lambda s, w, d: fire(s, d, "annuler", w.team.pilote, comment="   "),
        GuardFailed,
        "un commentaire (obligatoire",
    ),
    "version périmée": (
        lambda s, w, d: fire(s, d, "signer", w.team.formateurs[0], expected_version=1),
        StaleVersion,
        "modifié entre-temps",
    ),
    "système sans droit": (
        lambda s, w, d: fire(s, d, "annuler", None, comment="x"),
        NotPermitted,
        "rôle requis",
    ),
}


@pytest.mark.parametrize("case", list(BAD_INPUTS), ids=list(BAD_INPUTS))
def test_each_bad_input_gets_its_typed_french_error_and_changes_nothing(
    case: str, world: World, service: WorkflowService, engine: Engine
) -> None:
    dossier = world.formation()
    fire(service, dossier, "emettre_contrat", world.team.pilote)
    before = snapshot(engine, dossier)
    attempt, error_type, message = BAD_INPUTS[case]
    with pytest.raises(error_type) as raised:
        attempt(service, world, dossier)
    assert message in raised.value.message
    assert snapshot(engine, dossier) == before


def test_invalid_trigger_lists_the_valid_ones(world: World, service: WorkflowService) -> None:
    dossier = world.formation()
    with pytest.raises(TriggerNotAvailable) as raised:
        fire(service, dossier, "valider_bilan", world.team.gestionnaire)
    assert raised.value.valid == ["annuler", "emettre_contrat"]
    # A person reads labels, never the identifiers (« valider_bilan », « brouillon »).
    assert raised.value.message == (
        "L'action « Valider le bilan » n'est pas possible quand le dossier est « Brouillon ». "
        "Actions possibles dans cet état : Annuler le dossier ; Émettre le contrat."
    )


def test_a_person_is_never_offered_what_only_the_system_fires(
    world: World, service: WorkflowService
) -> None:
    dossier = world.formation()
    world.builder.drive(dossier, world.team, "contrat_signe")
    with pytest.raises(TriggerNotAvailable) as raised:
        fire(service, dossier, "valider_bilan", world.team.gestionnaire)
    # « Établir un avenant » is the system's, in the transaction of an edit: not offered.
    assert "etablir_avenant" not in raised.value.valid
    assert "avenant au contrat" not in raised.value.message.split("Actions possibles")[1]
    assert "Soumettre le scénario au pilote" in raised.value.message


def test_a_part_that_cannot_be_edited_names_the_state_by_its_label(
    world: World, service: WorkflowService
) -> None:
    request = ouverture_in(world.builder, world.academie_id, world.team, "acceptee")
    with pytest.raises(InvalidInput) as raised:
        world.builder.editor.save_ouverture(
            request, demo_ouverture("Trop tard"), actor_id=world.team.concepteur
        )
    assert raised.value.message == (
        "Impossible de modifier la demande d'ouverture quand le dossier est dans l'état "
        "« Acceptée »."
    )


def test_failed_guard_names_every_missing_item_at_once(
    world: World, service: WorkflowService, engine: Engine
) -> None:
    editor = world.builder.editor
    dossier = editor.create_dossier(DossierInput(title="Sans rien", academie_id=world.academie_id))
    editor.assign(world.team.pilote, "pilote", dossier_id=dossier)
    before = snapshot(engine, dossier)
    with pytest.raises(GuardFailed) as raised:
        fire(service, dossier, "emettre_contrat", world.team.pilote)
    assert raised.value.reasons == [
        "au moins un formateur affecté au dossier",
        "le dispositif (qui détermine le barème de rémunération)",
        "les heures prévues (en présentiel et/ou à distance)",
    ]
    assert snapshot(engine, dossier) == before


def test_scenario_guard_names_each_incomplete_step(world: World, service: WorkflowService) -> None:
    dossier = world.formation(participants=10)
    world.builder.drive(dossier, world.team, "contrat_signe")
    world.builder.editor.save_scenario(
        dossier,
        ScenarioInput(
            sequences=[
                SequenceInput(title="Vide"),
                SequenceInput(
                    title="Mal décrite",
                    steps=[
                        StepInput(content="sans modalité ni durée"),
                        StepInput(modality="asynchrone", duration_minutes=60),
                        StepInput(
                            modality="classe_virtuelle", duration_minutes=90, co_animation=True
                        ),
                    ],
                ),
            ]
        ),
    )
    with pytest.raises(GuardFailed) as raised:
        fire(service, dossier, "soumettre_scenario", world.team.concepteur)
    assert raised.value.reasons == [
        "séquence 1 : au moins une étape",
        "séquence 2, étape 1 : la modalité",
        "séquence 2, étape 1 : la durée",
        "séquence 2, étape 2 : l'accompagnement (tuteur) de l'étape asynchrone",
        "séquence 2, étape 3 : au moins 15 participants prévus pour une co-animation (10 prévus)",
        "les critères de validation",
    ]


def test_a_steps_tutor_must_be_a_tuteur_or_a_formateur_of_the_dossier(
    world: World, service: WorkflowService, engine: Engine
) -> None:
    dossier = world.formation()
    world.builder.drive(dossier, world.team, "contrat_signe")
    editor = world.builder.editor
    stagiaire = world.team.stagiaires[0]
    with engine.connect() as conn:
        name = conn.execute(
            text("select full_name from person where id = :id"), {"id": stagiaire}
        ).scalar_one()
    before = snapshot(engine, dossier)
    with pytest.raises(InvalidInput) as raised:
        editor.save_scenario(
            dossier,
            ScenarioInput(
                validation_criteria="Une séance menée",
                sequences=[
                    SequenceInput(
                        title="Accompagnement",
                        steps=[
                            StepInput(
                                modality="asynchrone", duration_minutes=60, tutor_id=stagiaire
                            )
                        ],
                    )
                ],
            ),
        )
    assert raised.value.message == (
        f"séquence 1, étape 1 : {name} n'est ni tuteur ni formateur sur ce dossier "
        "(l'accompagnement revient à un tuteur ou un formateur du dossier)."
    )
    assert snapshot(engine, dossier) == before
    # A tutor who loses the role afterwards is caught when the scenario is submitted.
    world.builder.complete_scenario(dossier, world.team)
    tuteur = world.team.tuteur
    assert tuteur is not None
    editor.unassign(tuteur, "tuteur", dossier)
    with pytest.raises(GuardFailed) as refused:
        fire(service, dossier, "soumettre_scenario", world.team.concepteur)
    [reason] = refused.value.reasons
    assert reason.startswith("séquence 2, étape 1 : ") and "n'est ni tuteur ni formateur" in reason
    editor.assign(tuteur, "formateur", dossier_id=dossier)  # a formateur may accompany
    assert fire(service, dossier, "soumettre_scenario", world.team.concepteur).to_state == (
        "scenario_soumis"
    )


def test_bilan_guard_names_missing_hours_participants_and_emargement(
    world: World, service: WorkflowService
) -> None:
    dossier = world.formation()
    world.builder.drive(dossier, world.team, "realisee")
    with pytest.raises(GuardFailed) as raised:
        fire(service, dossier, "soumettre_bilan", world.team.formateurs[0])
    with world.builder.engine.connect() as conn:
        name = conn.execute(
            text("select full_name from person where id = :id"), {"id": world.team.formateurs[0]}
        ).scalar_one()
    assert raised.value.reasons == [
        "le nombre de participants effectivement présents (émargement)",
        f"les heures effectuées par {name}",
        "les listes d'émargement téléversées",
    ]


def test_signer_moves_on_only_with_the_last_required_signature(
    world: World, service: WorkflowService, engine: Engine
) -> None:
    second = world.person("formateur-bis")
    world.team.formateurs.append(second)
    dossier = world.formation()
    fire(service, dossier, "emettre_contrat", world.team.pilote)
    first = fire(service, dossier, "signer", world.team.formateurs[0])
    assert (first.from_state, first.to_state) == ("contrat_a_signer", "contrat_a_signer")
    with pytest.raises(GuardFailed, match="vous avez déjà signé"):
        fire(service, dossier, "signer", world.team.formateurs[0])
    with pytest.raises(NotPermitted):
        fire(service, dossier, "signer", world.team.pilote)
    assert fire(service, dossier, "signer", world.team.responsable).to_state == "contrat_a_signer"
    other_responsable = world.person("responsable-bis")
    world.builder.editor.assign(other_responsable, "responsable", academie_id=world.academie_id)
    with pytest.raises(GuardFailed, match="a déjà été donnée"):
        fire(service, dossier, "signer", other_responsable)
    last = fire(service, dossier, "signer", second)
    assert last.to_state == "contrat_signe"
    with engine.connect() as conn:
        rows = conn.execute(
            select(signature_table).where(signature_table.c.dossier_id == dossier)
        ).all()
    assert sorted(r.role for r in rows) == ["formateur", "formateur", "responsable"]
    assert len({r.contract_sha256 for r in rows}) == 1
    assert all(len(r.contract_sha256) == 64 for r in rows)


def test_ent_convention_is_signed_by_the_head_of_school_not_the_trainer(
    world: World, service: WorkflowService
) -> None:
    dossier = world.formation("hse_convention_ent")
    fire(service, dossier, "emettre_contrat", world.team.pilote)
    with pytest.raises(NotPermitted):
        fire(service, dossier, "signer", world.team.formateurs[0])
    assert world.team.chef_etablissement is not None
    fire(service, dossier, "signer", world.team.chef_etablissement)
    assert fire(service, dossier, "signer", world.team.responsable).to_state == "contrat_signe"


def test_available_triggers_say_what_is_missing(world: World, service: WorkflowService) -> None:
    dossier = world.formation()
    world.builder.drive(dossier, world.team, "contrat_signe")
    assert world.team.concepteur is not None
    found = {a.trigger: a for a in service.available(dossier, world.team.concepteur)}
    assert set(found) == {"soumettre_scenario"}
    assert "les critères de validation" in found["soumettre_scenario"].missing
    pilote = {a.trigger: a for a in service.available(dossier, world.team.pilote)}
    assert set(pilote) == {"annuler"}
    assert pilote["annuler"].comment_required and pilote["annuler"].ready
    assert service.available(dossier, world.outsider) == []


def test_a_substitute_acts_for_the_pilote_during_the_delegation_only(
    world: World, service: WorkflowService, engine: Engine
) -> None:
    substitute = world.person("suppleant")
    dossier = world.formation()
    world.builder.drive(dossier, world.team, "scenario_soumis")
    with pytest.raises(DossierNotFound):
        fire(service, dossier, "valider_scenario", substitute)
    now = utcnow()
    world.builder.editor.delegate(
        world.team.pilote, substitute, now - timedelta(days=30), now - timedelta(days=1)
    )
    with pytest.raises(DossierNotFound):
        fire(service, dossier, "valider_scenario", substitute)
    world.builder.editor.delegate(
        world.team.pilote,
        substitute,
        now - timedelta(hours=1),
        now + timedelta(days=7),
        dossier_id=dossier,
    )
    result = fire(service, dossier, "valider_scenario", substitute)
    assert (result.role, result.on_behalf_of_id) == ("pilote", world.team.pilote)
    with engine.connect() as conn:
        last = history(conn, dossier)[-1]
    assert last.on_behalf_of is not None and last.on_behalf_of.startswith("Pilote")
    assert last.who == f"Suppleant pour {last.on_behalf_of}"
    with pytest.raises(NotPermitted):
        fire(service, dossier, "demarrer", substitute)


def test_phase_tasks_are_handed_to_each_role_holder(
    world: World, service: WorkflowService, engine: Engine
) -> None:
    dossier = world.formation()
    world.builder.drive(dossier, world.team, "realisee")
    with engine.connect() as conn:
        tasks = conn.execute(select(task_table).where(task_table.c.dossier_id == dossier)).all()
    by_phase: dict[str, set[tuple[int, str]]] = {}
    for task in tasks:
        by_phase.setdefault(task.phase, set()).add((task.person_id, task.role))
    assert (world.team.stagiaires[1], "stagiaire") in by_phase["pendant"]
    assert (world.team.ien, "ien") in by_phase["en_amont"]
    assert {role for _, role in by_phase["apres"]} == {
        "formateur",
        "stagiaire",
        "pilote",
        "chef_etablissement",
        "ien",
        "coordonnateur_reseau",
    }
    due = [t for t in tasks if t.code == "documents_administratifs"]
    assert len(due) == 1 and due[0].due_at is not None
    assert timedelta(days=29) < due[0].due_at - due[0].created_at <= timedelta(days=30)
    assert all(t.done_at is None for t in tasks)


def test_only_system_may_fire_timer_triggers_without_an_actor(
    world: World, service: WorkflowService
) -> None:
    dossier = world.formation()
    world.builder.drive(dossier, world.team, "scenario_valide")
    result = fire(service, dossier, "demarrer", None)
    assert (result.to_state, result.role) == ("en_cours", "systeme")


def test_history_is_append_only_in_the_database(world: World, engine: Engine) -> None:
    dossier = world.formation()
    world.builder.drive(dossier, world.team, "contrat_a_signer")
    for statement in (
        "update history set comment = 'x' where dossier_id = :d",
        "delete from history where dossier_id = :d",
    ):
        with pytest.raises(DBAPIError, match="append-only"), engine.begin() as conn:
            conn.execute(text(statement), {"d": dossier})
    assert len(history_rows(engine, dossier)) == 1


@pytest.mark.parametrize(
    ("dispositif", "payload", "expected_total", "expected_steps"),
    [
        (
            "vacation_accompagnement",
            {},
            Decimal("225.00"),
            [
                "13 h ÷ 2 = 6,5 vacations",
                "plafond : 5 stagiaires effectifs → 5 vacations",
                "5 × 45,00 € = 225,00 €",
            ],
        ),
        ("eafc_taux_a", {"conception": {"CONCEPTEUR": "12"}}, Decimal("568.35"), None),
    ],
)
def test_full_lifecycle_reaches_payment_with_the_bareme_amounts(
    dispositif: str,
    payload: dict[str, object],
    expected_total: Decimal,
    expected_steps: list[str] | None,
    world: World,
    service: WorkflowService,
    engine: Engine,
) -> None:
    dossier = world.formation(dispositif)
    if "conception" in payload:
        payload = {"conception": {str(world.team.concepteur): "12"}}
    world.builder.drive(
        dossier, world.team, "mis_en_paiement", payloads={"accorder_paiement": payload}
    )
    rows = history_rows(engine, dossier)
    assert rows[-1].to_state == "mis_en_paiement"
    assert [r.version for r in rows] == list(range(2, len(rows) + 2))
    with engine.connect() as conn:
        decision = payment_decision(conn, dossier)
    assert decision is not None
    assert decision.total == expected_total
    assert sum(line.amount for line in decision.lines) == expected_total
    if expected_steps is not None:
        assert [line.steps for line in decision.lines] == [expected_steps]
        assert decision.lines[0].person_id == world.team.formateurs[0]
    else:
        assert {line.component for line in decision.lines} == {"conception", "tutorat"}


def test_missing_rate_blocks_the_decision_with_a_french_reason(
    world: World, service: WorkflowService, engine: Engine
) -> None:
    dossier = world.formation("hse_convention_ent")
    world.builder.drive(dossier, world.team, "bilan_valide")
    before = snapshot(engine, dossier)
    with pytest.raises(GuardFailed) as raised:
        fire(service, dossier, "accorder_paiement", world.team.responsable)
    assert raised.value.reasons == [
        "Le taux de l'HSE n'est pas configuré pour cette académie : la décision ne peut pas "
        "être prise."
    ]
    assert snapshot(engine, dossier) == before


def test_adjustment_within_bounds_needs_a_justification(
    world: World, service: WorkflowService, engine: Engine
) -> None:
    dossier = world.formation()
    world.builder.drive(dossier, world.team, "bilan_valide")
    formateur = world.team.formateurs[0]
    before = snapshot(engine, dossier)
    over = {"ajustements": [{"personne": formateur, "unites": "9"}], "justification": "x"}
    with pytest.raises(GuardFailed):
        fire(service, dossier, "accorder_paiement", world.team.responsable, payload=over)
    bare = {"ajustements": [{"personne": formateur, "unites": "4"}]}
    with pytest.raises(GuardFailed, match="justification"):
        fire(service, dossier, "accorder_paiement", world.team.responsable, payload=bare)
    assert snapshot(engine, dossier) == before
    ok = {
        "ajustements": [{"personne": formateur, "unites": "4"}],
        "justification": "Une séance annulée",
    }
    fire(service, dossier, "accorder_paiement", world.team.responsable, payload=ok)
    with engine.connect() as conn:
        decision = payment_decision(conn, dossier)
    assert decision is not None
    assert (decision.total, decision.justification) == (Decimal("180.00"), "Une séance annulée")
    assert decision.lines[0].steps[-2].startswith("Ajustement par le responsable : 4 vacations")


def test_ouverture_parcours_runs_on_the_same_engine(
    world: World, service: WorkflowService, engine: Engine
) -> None:
    editor = world.builder.editor
    dossier = editor.create_dossier(
        DossierInput(title="Demande", academie_id=world.academie_id, workflow="ouverture_parcours")
    )
    assert world.team.concepteur is not None
    editor.assign(world.team.concepteur, "concepteur", dossier_id=dossier)
    with pytest.raises(GuardFailed) as raised:
        fire(service, dossier, "soumettre", world.team.concepteur)
    assert raised.value.reasons == ["le formulaire de demande"]
    editor.save_ouverture(
        dossier,
        demo_ouverture("Parcours test").model_copy(
            update={"publics": [], "accompagnement_distance": ""}
        ),
    )
    with pytest.raises(GuardFailed) as raised:
        fire(service, dossier, "soumettre", world.team.concepteur)
    assert raised.value.reasons == [
        "l'accompagnement prévu pour la partie distancielle",
        "le public visé",
    ]
    editor.save_ouverture(dossier, demo_ouverture("Parcours test"))
    fire(service, dossier, "soumettre", world.team.concepteur)
    with pytest.raises(GuardFailed, match="commentaire"):
        fire(service, dossier, "demander_complement", world.team.gestionnaire)
    fire(service, dossier, "demander_complement", world.team.gestionnaire, comment="Préciser")
    fire(service, dossier, "soumettre", world.team.concepteur)
    fire(service, dossier, "accepter", world.team.gestionnaire)
    final = fire(service, dossier, "ouvrir", world.team.gestionnaire)
    assert final.to_state == "ouverte" and final.version == 6
    assert [r.trigger for r in history_rows(engine, dossier)] == [
        "soumettre",
        "demander_complement",
        "soumettre",
        "accepter",
        "ouvrir",
    ]
