"""The specs are data: prove that they are well-formed and that every name resolves."""

from __future__ import annotations

import re
from collections import deque

import pytest

from notifications.catalog import CATALOG, subject
from states import LATEST, SPECS, get_spec
from states.dispositifs import DISPOSITIFS
from states.roles import DERIVED_RECIPIENTS, DERIVED_ROLES, ROLES
from states.spec import DeadlineAction, WorkflowSpec
from workflow.engine.machines import machine_for
from workflow.reads.diagram import dot, mermaid
from workflow.rules import EFFECTS, GUARDS

ALL_SPECS = list(SPECS.values())
IDS = [f"{s.name}-v{s.version}" for s in ALL_SPECS]


def reachable(spec: WorkflowSpec) -> set[str]:
    seen = {spec.initial}
    queue = deque([spec.initial])
    while queue:
        state = queue.popleft()
        for source, dest, _ in spec.edges():
            if source == state and dest not in seen:
                seen.add(dest)
                queue.append(dest)
    return seen


@pytest.mark.parametrize("spec", ALL_SPECS, ids=IDS)
def test_every_state_is_reachable_from_the_initial_one(spec: WorkflowSpec) -> None:
    assert reachable(spec) == {s.id for s in spec.states}


@pytest.mark.parametrize("spec", ALL_SPECS, ids=IDS)
def test_every_non_terminal_state_has_a_way_out(spec: WorkflowSpec) -> None:
    for state in spec.states:
        exits = {dest for source, dest, _ in spec.edges() if source == state.id}
        if state.terminal:
            assert not exits, f"terminal state {state.id} has exits {exits}"
        else:
            assert exits - {state.id}, f"{state.id} has no exit to another state"


@pytest.mark.parametrize("spec", ALL_SPECS, ids=IDS)
def test_every_name_in_the_spec_resolves(spec: WorkflowSpec) -> None:
    state_ids = {s.id for s in spec.states}
    phase_ids = {p.id for p in spec.phases}
    roles = set(ROLES) | set(DERIVED_ROLES)
    recipients = roles | set(DERIVED_RECIPIENTS)
    assert spec.initial in state_ids
    assert {s.phase for s in spec.states} <= phase_ids
    for t in spec.transitions:
        assert set(t.sources) <= state_ids and t.dest in state_ids, t.trigger
        # A transition with no role is the system's alone (an avenant follows an edit).
        assert (t.roles or t.system_may_fire) and set(t.roles) <= roles, t.trigger
        assert all(g in GUARDS for g in t.guards), t.trigger
        assert all(e in EFFECTS for e in t.effects), t.trigger
        if t.dest_condition is not None:
            produced = {f for e in t.effects for f in EFFECTS[e].facts}
            assert t.dest_condition in produced, t.trigger
        assert t.notifications, f"{t.trigger} sends no email"
        for rule in t.notifications:
            assert set(rule.recipients) <= recipients, t.trigger
            assert rule.template in CATALOG, rule.template
            assert rule.only_to is None or rule.only_to in state_ids
        if t.opens_phase_tasks is not None:
            assert spec.tasks_for(t.opens_phase_tasks), t.trigger
    for d in spec.deadlines:
        assert set(d.states) <= state_ids, d.id
        assert set(d.recipients) <= recipients, d.id
        if d.action is DeadlineAction.TRANSITION:
            assert d.trigger in spec.triggers
            transition = spec.transition(d.trigger)
            assert transition.system_may_fire and set(d.states) <= set(transition.sources)
        else:
            assert d.template in CATALOG and d.recipients, d.id
    for task in spec.tasks:
        assert task.role in ROLES and task.phase in phase_ids


def test_dossier_formation_matches_the_domain_table() -> None:
    spec = get_spec("dossier_formation", 1)
    assert [s.id for s in spec.states] == [
        "brouillon",
        "contrat_a_signer",
        "contrat_signe",
        "scenario_soumis",
        "scenario_a_reviser",
        "scenario_valide",
        "en_cours",
        "realisee",
        "bilan_soumis",
        "bilan_a_completer",
        "bilan_valide",
        "paiement_accorde",
        "paiement_refuse",
        "mis_en_paiement",
        "annule",
    ]
    assert set(spec.terminal_states) == {"paiement_refuse", "mis_en_paiement", "annule"}
    comment_required = {t.trigger for t in spec.transitions if t.comment_required}
    assert comment_required == {
        "demander_revision",
        "demander_complement",
        "rouvrir_bilan",
        "refuser_paiement",
        "annuler",
    }
    reopen = spec.transition("rouvrir_bilan")
    assert (reopen.sources, reopen.dest, reopen.roles) == (
        ("bilan_valide",),
        "bilan_a_completer",
        ("gestionnaire",),
    )
    assert spec.transition("valider_scenario").roles == ("pilote",)
    assert spec.transition("accorder_paiement").roles == ("responsable",)
    assert set(spec.transition("annuler").sources) == {s.id for s in spec.states if not s.terminal}
    assert spec.transition("signer").dest_condition == "signatures_completes"


def test_charter_tasks_cover_each_phase_and_role() -> None:
    spec = get_spec("dossier_formation", 1)
    by_phase = {p: {t.role for t in spec.tasks_for(p)} for p in ("en_amont", "pendant", "apres")}
    assert by_phase["en_amont"] == {
        "chef_etablissement",
        "ien",
        "coordonnateur_reseau",
        "stagiaire",
        "formateur",
        "pilote",
    }
    assert by_phase["pendant"] == {"formateur", "stagiaire"}
    assert by_phase["apres"] == {
        "formateur",
        "stagiaire",
        "pilote",
        "chef_etablissement",
        "ien",
        "coordonnateur_reseau",
    }


def test_the_charter_tasks_of_seed_002_are_all_there() -> None:
    """Seed 002: the pilot « Sensibiliser les personnels… » before; the chef
    d'établissement, the IEN and the network coordinator « Impulser et veiller au maintien
    d'une dynamique positive… » after."""
    spec = get_spec("dossier_formation", 1)
    before = {(t.role, t.label) for t in spec.tasks_for("en_amont")}
    assert (
        "pilote",
        "Sensibiliser les personnels au caractère hybride de la formation et à sa plus-value "
        "dans la communication de rentrée",
    ) in before
    after = {t.role: t.label for t in spec.tasks_for("apres") if t.code == "dynamique_positive"}
    assert set(after) == {"chef_etablissement", "ien", "coordonnateur_reseau"}
    assert all(
        label.startswith("Impulser et veiller au maintien d'une dynamique positive")
        for label in after.values()
    )
    # Whoever gets tasks on a phase is told of them by the email that opens it.
    for transition in spec.transitions:
        if transition.opens_phase_tasks is not None:
            told = {r for rule in transition.notifications for r in rule.recipients}
            assert {t.role for t in spec.tasks_for(transition.opens_phase_tasks)} <= told


def test_an_ouverture_request_can_be_withdrawn_from_brouillon_only() -> None:
    spec = get_spec("ouverture_parcours", 1)
    withdraw = spec.transition("retirer")
    assert (withdraw.sources, withdraw.dest) == (("brouillon",), "retiree")
    assert set(withdraw.roles) == {"pilote", "concepteur"}
    assert spec.state("retiree").terminal and spec.state("retiree").label == "Retirée"


def test_each_dispositif_names_its_signatories() -> None:
    roles = {d: [r.role for r in disp.signatories] for d, disp in DISPOSITIFS.items()}
    assert roles == {
        "vacation_accompagnement": ["formateur", "responsable"],
        "hse_convention_ent": ["chef_etablissement", "responsable"],
        "eafc_taux_a": ["formateur", "concepteur", "responsable"],
    }


@pytest.mark.parametrize("spec", ALL_SPECS, ids=IDS)
def test_no_deadline_label_names_a_delay_the_academie_may_change(spec: WorkflowSpec) -> None:
    """Each académie sets its own delays (« Échéances »): a label saying « depuis 15 jours »
    would be wrong on its settings page, in its history and in the late dossiers' reasons
    as soon as it chose 10. The default is shown beside the field, the dates in the emails."""
    for deadline in spec.deadlines:
        assert not re.search(r"\d", deadline.label), deadline.label


def test_specs_are_frozen() -> None:
    spec = get_spec("dossier_formation")
    with pytest.raises(AttributeError):
        spec.initial = "annule"  # type: ignore[misc]


@pytest.mark.parametrize("spec", ALL_SPECS, ids=IDS)
def test_mermaid_diagram_lists_every_state_and_transition(spec: WorkflowSpec) -> None:
    text = mermaid(spec, current=spec.initial)
    assert text.startswith("stateDiagram-v2")
    for state in spec.states:
        assert f'state "{state.label}" as {state.id}' in text
    for source, dest, transition in spec.edges():
        assert f"{source} --> {dest}: {transition.label}" in text
    assert f"class {spec.initial} current" in text


@pytest.mark.parametrize("spec", ALL_SPECS, ids=IDS)
def test_dot_diagram_is_balanced_and_complete(spec: WorkflowSpec) -> None:
    text = dot(spec)
    assert text.startswith(f'digraph "{spec.name}"') and text.rstrip().endswith("}")
    assert text.count("{") == text.count("}")
    edges = set(re.findall(r"^\s+(\w+) -> (\w+) \[label=\"([^\"]+)\"\];$", text, re.M))
    assert edges == {(s, d, t.label) for s, d, t in spec.edges()}


def test_one_machine_per_spec_built_once_and_holding_no_model() -> None:
    first = machine_for("dossier_formation", 1)
    for _ in range(1000):
        first.fire("brouillon", "emettre_contrat")
    assert machine_for("dossier_formation", 1) is first
    assert first.machine.models == []


def test_signer_stays_until_the_condition_holds() -> None:
    machine = machine_for("dossier_formation", 1)
    assert machine.fire("contrat_a_signer", "signer", {"signatures_completes": False}) == (
        "contrat_a_signer"
    )
    assert machine.fire("contrat_a_signer", "signer", {"signatures_completes": True}) == (
        "contrat_signe"
    )


def test_latest_spec_is_returned_without_a_version() -> None:
    assert get_spec("ouverture_parcours") is LATEST["ouverture_parcours"]
    with pytest.raises(KeyError):
        get_spec("inconnu")


def test_every_catalogued_message_is_used_by_a_spec_and_has_a_french_subject() -> None:
    used = {r.template for s in ALL_SPECS for t in s.transitions for r in t.notifications}
    used |= {d.template for s in ALL_SPECS for d in s.deadlines if d.template}
    assert set(CATALOG) == used
    assert subject("dossier_formation/soumettre_scenario", "26-DEM-0004") == (
        "26-DEM-0004 — Scénario hybride à valider"
    )
