"""A printed tour of one new demo dossier through its whole lifecycle.

It is what ``make run`` shows until the web pages exist: every step is a real call to the
service by the person whose role allows it, and the refusals are real refusals.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, select

from api.wiring import Container
from states import get_spec
from states.roles import role_label
from workflow.demo import DemoBuilder, Team
from workflow.engine.errors import WorkflowError
from workflow.engine.service import FireCommand, FireResult
from workflow.language.french import format_datetime
from workflow.language.labels import trigger_label
from workflow.payments.baremes import format_euros
from workflow.reads.queries import history, payment_decision, person_id_by_email, reading
from workflow.store.tables import academie_table, dossier_table, history_table, person_table

Echo = Callable[[str], None]


def run_walkthrough(container: Container, echo: Echo) -> None:
    engine = container.engine
    with reading(engine) as conn:
        academie_id = conn.execute(
            select(academie_table.c.id).where(academie_table.c.slug == "demo")
        ).scalar_one()
        ids = {
            key: person_id_by_email(conn, f"{key}@example.org")
            for key in (
                "paul.lefevre",
                "sophie.bernard",
                "camille.morel",
                "helene.garnier",
                "lucie.fontaine",
                "emilie.laurent",
                "anne.lambert",
                "lea.martin",
                "hugo.simon",
            )
        }
        names = dict(conn.execute(select(person_table.c.id, person_table.c.full_name)).all())
    spec = get_spec("dossier_formation")
    builder = DemoBuilder(engine, container.settings.data_dir, container.service)
    team = Team(
        pilote=ids["paul.lefevre"],
        formateurs=[ids["sophie.bernard"]],
        gestionnaire=ids["camille.morel"],
        responsable=ids["helene.garnier"],
        concepteur=ids["lucie.fontaine"],
        tuteur=ids["emilie.laurent"],
        chef_etablissement=ids["anne.lambert"],
        stagiaires=[ids["lea.martin"], ids["hugo.simon"]],
    )
    echo("=== formaflow — visite guidée d'un dossier de formation hybride ===\n")
    dossier_id = builder.formation(
        academie_id,
        Team(team.pilote, [], team.gestionnaire, team.responsable),
        title="Visite guidée : accompagner une classe virtuelle",
    )
    with reading(engine) as conn:
        reference = conn.execute(
            select(dossier_table.c.reference).where(dossier_table.c.id == dossier_id)
        ).scalar_one()
    echo(f"Dossier {reference} créé à l'état « {spec.state(spec.initial).label} ».")
    echo("Le pilote tente d'émettre le contrat avant d'avoir constitué l'équipe :")
    try:
        container.service.fire(FireCommand(dossier_id, "emettre_contrat", team.pilote))
    except WorkflowError as error:
        echo(_indent(error.message))
    for person_id, role in team.dossier_roles():
        if role not in ("pilote", "stagiaire"):
            builder.editor.assign(person_id, role, dossier_id=dossier_id)
    builder.enrol(dossier_id, team.stagiaires)
    echo(
        "L'équipe est affectée (formatrice, conceptrice, tutrice, cheffe d'établissement, "
        "stagiaires).\n"
    )
    builder.add_sessions(dossier_id, team, datetime.now(UTC) + timedelta(days=30))

    def narrate(trigger: str, _actor: str, result: FireResult) -> None:
        transition = spec.transition(trigger)
        who = names.get(_actor_of(result, engine), "?")
        before = spec.state(result.from_state).label
        after = spec.state(result.to_state).label
        line = f"• {who} ({role_label(result.role)}) : {transition.label} — {before} → {after}"
        if result.tasks_created:
            line += f" ; {result.tasks_created} tâches créées pour la phase « "
            line += f"{spec.phase(spec.state(result.to_state).phase).label} »"
        echo(line)

    builder.drive(dossier_id, team, "mis_en_paiement", narrate=narrate)
    with reading(engine) as conn:
        decision = payment_decision(conn, dossier_id)
    if decision is not None:
        echo(
            f"\nDécision de paiement de {decision.decided_by} : "
            f"{format_euros(decision.total)} au total."
        )
        for paid in decision.lines:
            echo(f"  {paid.full_name} — " + " ; ".join(paid.steps))
    echo("\nHistorique enregistré :")
    with reading(engine) as conn:
        for line in history(conn, dossier_id):
            action = trigger_label(spec.name, spec.version, line.trigger)
            echo(f"  v{line.version} {format_datetime(line.at)} — {action} par {line.who}")
    echo("\nFin de la visite : le dossier est « Mis en paiement ».")


def _actor_of(result: FireResult, engine: Engine) -> int:
    with reading(engine) as conn:
        actor = conn.execute(
            select(history_table.c.actor_id).where(history_table.c.id == result.history_id)
        ).scalar_one()
    return int(actor)


def _indent(text: str) -> str:
    return "\n".join(f"    {line}" for line in text.splitlines())
