"""The recipes that take a dossier through its life, by the people whose role allows each step.

``DemoBuilder`` creates a formation dossier with its team, fills its scenario, sessions and
bilan, and drives it along the canonical path through the real service: the demo loader,
the printed walk-through and many tests share it, so what they show is what real use would
leave (history, signatures, tasks, decisions).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, select

from workflow.demo_contents import demo_bilan, demo_scenario, tiny_pdf
from workflow.demo_people import Team
from workflow.dossiers.dates import EARLY_CONFIRMED, early
from workflow.dossiers.editing import DossierEditor
from workflow.dossiers.inputs import DocumentInput, DossierInput, SessionInput
from workflow.engine.rows import load
from workflow.engine.service import FireCommand, FireResult, WorkflowService
from workflow.participants.counts import trainee_counts
from workflow.participants.enrolment import Enrolments
from workflow.participants.inputs import StagiaireInput
from workflow.store.tables import person_table

# The canonical path of a formation dossier: each step's trigger and the team member who
# fires it. ``annule`` and ``paiement_refuse`` branch off it.
FORMATION_PATH: list[tuple[str, str]] = [
    ("emettre_contrat", "pilote"),
    ("signer", "*signataires"),
    ("soumettre_scenario", "concepteur_ou_formateur"),
    ("valider_scenario", "pilote"),
    ("demarrer", "formateur"),
    ("terminer", "formateur"),
    ("soumettre_bilan", "auteur_bilan"),
    ("valider_bilan", "gestionnaire"),
    ("accorder_paiement", "responsable"),
    ("mettre_en_paiement", "gestionnaire"),
]
STATE_AFTER: dict[str, str] = {
    "emettre_contrat": "contrat_a_signer",
    "signer": "contrat_signe",
    "soumettre_scenario": "scenario_soumis",
    "valider_scenario": "scenario_valide",
    "demarrer": "en_cours",
    "terminer": "realisee",
    "soumettre_bilan": "bilan_soumis",
    "valider_bilan": "bilan_valide",
    "accorder_paiement": "paiement_accorde",
    "mettre_en_paiement": "mis_en_paiement",
}


Narrator = Callable[[str, str, FireResult], None]


class DemoBuilder:
    """Recipes for complete dossiers, shared by the demo loader, the walk-through and tests."""

    def __init__(self, engine: Engine, data_dir: Path, service: WorkflowService) -> None:
        self.engine = engine
        self.editor = DossierEditor(engine, data_dir, clock=service.clock)
        self.enrolments = Enrolments(engine, clock=service.clock)
        self.etablissements: list[int | None] = []
        """Schools the stagiaires of ``formation`` are enrolled from (cycled), if any."""
        self.service = service

    def formation(
        self,
        academie_id: int,
        team: Team,
        *,
        title: str,
        dispositif: str = "vacation_accompagnement",
        hours_distance: Decimal = Decimal("13"),
        participants: int = 20,
        start: date | None = None,
        undated: bool = False,
    ) -> int:
        """``undated``: no planned dates at all (the budget lists it « à dater »)."""
        start = start or date.today() + timedelta(days=30)
        dossier_id = self.editor.create_dossier(
            DossierInput(
                title=title,
                academie_id=academie_id,
                dispositif=dispositif,
                planned_hours_presentiel=Decimal("6"),
                planned_hours_distance=hours_distance,
                planned_participants=participants,
                planned_start=None if undated else start,
                planned_end=None if undated else start + timedelta(days=42),
            )
        )
        for person_id, role in team.dossier_roles():
            if role != "stagiaire":
                self.editor.assign(person_id, role, dossier_id=dossier_id)
        self.enrol(dossier_id, team.stagiaires, self.etablissements or None)
        return dossier_id

    def enrol(
        self, dossier_id: int, people: list[int], etablissements: list[int | None] | None = None
    ) -> list[int]:
        """Enrol existing people as stagiaires (the one way to give that role), each from
        the établissement of the same rank in ``etablissements`` (cycled), if any."""
        if not people:
            return []
        with self.engine.connect() as conn:
            rows = {
                int(r.id): r
                for r in conn.execute(
                    select(person_table.c.id, person_table.c.email, person_table.c.full_name).where(
                        person_table.c.id.in_(people)
                    )
                )
            }
        schools = etablissements or [None]
        items = []
        for n, person in enumerate(people):
            first, _, last = rows[person].full_name.partition(" ")
            items.append(
                StagiaireInput(
                    first_name=first or rows[person].full_name,
                    last_name=last or first or "—",
                    email=rows[person].email,
                    etablissement_id=schools[n % len(schools)],
                )
            )
        return self.enrolments.enrol_all(dossier_id, items, actor_id=None)

    def complete_scenario(self, dossier_id: int, team: Team) -> None:
        tutor = team.tuteur or team.formateurs[0]
        self.editor.save_scenario(dossier_id, demo_scenario(tutor))

    def complete_bilan(self, dossier_id: int, team: Team, effective: int = 5) -> None:
        enrolled = max(effective, 6)
        with self.engine.connect() as conn:
            counts = trainee_counts(conn, load(conn, dossier_id))
        if counts.from_attendance and counts.effective.value is not None:
            # Attendance was recorded: the bilan carries its counts, as its page would.
            enrolled, effective = counts.enrolled, counts.effective.value
        self.editor.save_bilan(dossier_id, demo_bilan(team, enrolled, effective))
        self.editor.add_document(
            dossier_id,
            DocumentInput(
                kind="emargement", filename="emargement.pdf", content_type="application/pdf"
            ),
            tiny_pdf(f"Liste d'émargement — dossier {dossier_id}"),
            uploaded_by=team.formateurs[0],
        )

    def add_sessions(
        self, dossier_id: int, team: Team, start: datetime, *, held: bool = False
    ) -> None:
        """Two sessions of 3 h a week apart; with ``held``, those already begun are
        recorded as held (a session cannot be before it starts)."""
        now = self.service.clock()
        for n, modality in enumerate(("presentiel", "classe_virtuelle")):
            starts_at = start + timedelta(days=7 * n)
            was_held = held and starts_at <= now
            headcount = len(team.stagiaires) or 6
            self.editor.add_session(
                dossier_id,
                SessionInput(
                    starts_at=starts_at,
                    duration_minutes=180,
                    modality=modality,
                    connection_link="https://visio.example.org/session" if n else None,
                    place=None if n else "Atelier Canopé, salle 2 — 12 rue de l'Exemple, Marseille",
                    planned_headcount=headcount,
                    held=was_held,
                    actual_headcount=headcount if was_held else None,
                    formateur_id=team.formateurs[0],
                    public_type="Enseignants de collège",
                ),
            )

    def actor_for(self, step_actor: str, team: Team, dispositif: str) -> int:
        if step_actor == "concepteur_ou_formateur":
            return team.concepteur or team.formateurs[0]
        if step_actor == "auteur_bilan":
            if dispositif == "hse_convention_ent" and team.chef_etablissement:
                return team.chef_etablissement
            return team.formateurs[0]
        if step_actor == "formateur":
            return team.formateurs[0]
        value = getattr(team, step_actor)
        assert isinstance(value, int)
        return value

    def signatories(self, team: Team, dispositif: str) -> list[int]:
        if dispositif == "hse_convention_ent":
            assert team.chef_etablissement is not None
            return [team.chef_etablissement, team.responsable]
        people = list(team.formateurs)
        if dispositif == "eafc_taux_a" and team.concepteur:
            people.append(team.concepteur)
        return [*people, team.responsable]

    def drive(
        self,
        dossier_id: int,
        team: Team,
        target: str,
        narrate: Narrator | None = None,
        payloads: dict[str, dict[str, Any]] | None = None,
    ) -> None:
        """Take a formation dossier along the canonical path until it stands in ``target``."""
        payloads = payloads or {}
        with self.engine.connect() as conn:
            dossier = load(conn, dossier_id)
        dispositif = dossier.dispositif or ""
        if target == "annule":
            self._fire(
                dossier_id,
                "annuler",
                team.pilote,
                narrate,
                comment="Formation déprogrammée faute d'inscrits.",
            )
            return
        detour = {
            "scenario_a_reviser": "scenario_soumis",
            "bilan_a_completer": "bilan_soumis",
            "paiement_refuse": "bilan_valide",
        }
        goal = detour.get(target, target)
        state = dossier.state
        # Resume from where the dossier stands (a test may stop, edit, and drive on).
        reached = [i for i, (t, _) in enumerate(FORMATION_PATH) if STATE_AFTER[t] == state]
        path = FORMATION_PATH[reached[0] + 1 :] if reached else FORMATION_PATH
        for trigger, who in path:
            if state == goal:
                break
            if trigger == "soumettre_scenario":
                self.complete_scenario(dossier_id, team)
            if trigger == "soumettre_bilan":
                self.complete_bilan(dossier_id, team)
            if who == "*signataires":
                for person in self.signatories(team, dispositif):
                    self._fire(dossier_id, "signer", person, narrate)
            else:
                self._fire(
                    dossier_id,
                    trigger,
                    self.actor_for(who, team, dispositif),
                    narrate,
                    payload={**self._early(dossier_id, trigger), **payloads.get(trigger, {})},
                )
            state = STATE_AFTER[trigger]
        if target == "scenario_a_reviser":
            self._fire(
                dossier_id,
                "demander_revision",
                team.pilote,
                narrate,
                comment="Préciser l'accompagnement de la séquence 2.",
            )
        elif target == "bilan_a_completer":
            self._fire(
                dossier_id,
                "demander_complement",
                team.gestionnaire,
                narrate,
                comment="Il manque la liste d'émargement de la classe virtuelle.",
            )
        elif target == "paiement_refuse":
            self._fire(
                dossier_id,
                "refuser_paiement",
                team.responsable,
                narrate,
                comment="Service fait non attesté par le chef d'établissement.",
            )

    def _early(self, dossier_id: int, trigger: str) -> dict[str, Any]:
        """The recipe starts and ends trainings when it is told to: before the sessions'
        dates, it confirms it, as a person must (``workflow.dossiers.dates``)."""
        with self.engine.connect() as conn:
            ahead = early(conn, dossier_id, trigger, self.service.clock())
        return {EARLY_CONFIRMED: True} if ahead is not None else {}

    def _fire(
        self,
        dossier_id: int,
        trigger: str,
        actor: int,
        narrate: Narrator | None,
        comment: str | None = None,
        payload: dict[str, Any] | None = None,
    ) -> FireResult:
        result = self.service.fire(
            FireCommand(dossier_id, trigger, actor, comment=comment, payload=payload or {})
        )
        if narrate is not None:
            narrate(trigger, str(actor), result)
        return result
