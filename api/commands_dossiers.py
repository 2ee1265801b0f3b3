"""``formaflow fire``, ``actions``, ``history``, ``status``, ``diagram``, ``delegate`` and
``walkthrough``: a dossier's actions, history and suppléances from the command line, kept
apart from ``api/cli.py`` so each family stays small.

Same rules as the rest of the CLI: French output, a French message and a non-zero exit
code on any refusal (1: refused, 2: bad usage), never a traceback.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

import typer

from api.command_context import command_container, dossier_container, require_defined_versions
from api.walkthrough import run_walkthrough
from states import LATEST
from states.roles import role_label
from workflow import demo
from workflow.engine.errors import WorkflowError
from workflow.engine.rows import find_id, load
from workflow.engine.service import FireCommand
from workflow.language.french import format_datetime
from workflow.language.labels import state_label, trigger_label
from workflow.reads.diagram import dot, mermaid
from workflow.reads.queries import (
    academie_id_by_slug,
    counts_by_state,
    history,
    person_id_by_email,
    reading,
)
from workflow.store import migrate


def _fail(error: WorkflowError) -> typer.Exit:
    typer.secho(error.message, fg=typer.colors.RED, err=True)
    return typer.Exit(code=1)


def fire(
    reference: Annotated[str, typer.Argument(help="Référence du dossier, ex. 26-DEM-0001.")],
    trigger: Annotated[str, typer.Argument(help="Action, ex. valider_scenario.")],
    as_email: Annotated[str, typer.Option("--as", help="Courriel de la personne qui agit.")],
    comment: Annotated[
        str | None, typer.Option(help="Commentaire (obligatoire pour certaines actions).")
    ] = None,
    payload: Annotated[str | None, typer.Option(help="Données complémentaires, en JSON.")] = None,
    version: Annotated[int | None, typer.Option(help="Version attendue du dossier.")] = None,
) -> None:
    container = dossier_container()
    try:
        data: Any = json.loads(payload) if payload else {}
    except json.JSONDecodeError as exc:
        typer.secho(f"Données JSON invalides : {exc.msg} (position {exc.pos}).", fg="red", err=True)
        raise typer.Exit(code=2) from exc
    if not isinstance(data, dict):
        typer.secho("Les données complémentaires doivent être un objet JSON.", fg="red", err=True)
        raise typer.Exit(code=2)
    try:
        with reading(container.engine) as conn:
            dossier_id = find_id(conn, reference)
            actor = person_id_by_email(conn, as_email)
        result = container.service.fire(
            FireCommand(
                dossier_id, trigger, actor, expected_version=version, comment=comment, payload=data
            )
        )
    except WorkflowError as error:
        raise _fail(error) from error
    before = state_label(result.workflow_name, result.workflow_version, result.from_state)
    after = state_label(result.workflow_name, result.workflow_version, result.to_state)
    typer.echo(f"{result.reference} : {before} → {after} (version {result.version}).")


def actions(
    reference: Annotated[str, typer.Argument(help="Référence du dossier.")],
    as_email: Annotated[str, typer.Option("--as", help="Courriel de la personne.")],
) -> None:
    container = dossier_container()
    try:
        with reading(container.engine) as conn:
            dossier_id = find_id(conn, reference)
            person = person_id_by_email(conn, as_email)
        available = container.service.available(dossier_id, person)
    except WorkflowError as error:
        raise _fail(error) from error
    if not available:
        typer.echo("Aucune action possible pour vous sur ce dossier en ce moment.")
    for item in available:
        mark = "prête" if item.ready else "bloquée"
        note = " (commentaire obligatoire)" if item.comment_required else ""
        typer.echo(f"- {item.trigger} — {item.label} : {mark}{note}")
        for missing in item.missing:
            typer.echo(f"    il manque : {missing}")


def show_history(reference: Annotated[str, typer.Argument(help="Référence du dossier.")]) -> None:
    container = dossier_container()
    try:
        with reading(container.engine) as conn:
            dossier = load(conn, find_id(conn, reference))
            lines = history(conn, dossier.id)
    except WorkflowError as error:
        raise _fail(error) from error
    name, version = dossier.workflow_name, dossier.workflow_version
    for line in lines:
        comment = f" — « {line.comment} »" if line.comment else ""
        role = role_label(line.role, line.actor_civilite)
        typer.echo(
            f"v{line.version} {format_datetime(line.at)} : "
            f"{trigger_label(name, version, line.trigger)} par {line.who} "
            f"({role}), « {state_label(name, version, line.from_state)} » → "
            f"« {state_label(name, version, line.to_state)} »{comment}"
        )


def status() -> None:
    container = dossier_container()
    with reading(container.engine) as conn:
        counts = counts_by_state(conn)
    current = None
    for row in counts:
        if row.workflow != current:
            current = row.workflow
            typer.echo(f"\n{LATEST[row.workflow].label} ({row.workflow} v{row.version})")
            typer.echo(f"  {'Phase':<14}{'État':<30}{'Dossiers':>9}")
        typer.echo(f"  {row.phase_label:<14}{row.label:<30}{row.count:>9}")
    phases: dict[tuple[str, str], int] = {}
    for row in counts:
        phases[(row.workflow, row.phase_label)] = (
            phases.get((row.workflow, row.phase_label), 0) + row.count
        )
    typer.echo("\nPar phase :")
    for (workflow, phase), count in phases.items():
        typer.echo(f"  {workflow:<20}{phase:<14}{count:>5}")


def diagram(
    workflow: Annotated[str, typer.Argument(help="dossier_formation ou ouverture_parcours.")],
    fmt: Annotated[str, typer.Option("--format", help="mermaid ou dot.")] = "mermaid",
) -> None:
    if workflow not in LATEST:
        typer.secho(
            f"Workflow inconnu : {workflow} (connus : {', '.join(LATEST)}).", fg="red", err=True
        )
        raise typer.Exit(code=2)
    if fmt not in ("mermaid", "dot"):
        typer.secho("Format inconnu : choisissez mermaid ou dot.", fg="red", err=True)
        raise typer.Exit(code=2)
    spec = LATEST[workflow]
    typer.echo(mermaid(spec) if fmt == "mermaid" else dot(spec), nl=False)


def delegate(
    titulaire: Annotated[str, typer.Argument(help="Courriel de la personne suppléée.")],
    suppleant: Annotated[str, typer.Argument(help="Courriel du suppléant.")],
    jours: Annotated[int, typer.Option(help="Durée de la suppléance, en jours.")] = 14,
    reference: Annotated[
        str | None, typer.Option("--dossier", help="Limiter à un dossier.")
    ] = None,
    role: Annotated[
        str, typer.Option(help="Rôle suppléé : pilote, formateur, gestionnaire, responsable…")
    ] = "pilote",
    academie: Annotated[
        str | None,
        typer.Option(help="Identifiant de l'académie (obligatoire pour un rôle d'académie)."),
    ] = None,
) -> None:
    container = dossier_container()
    try:
        with reading(container.engine) as conn:
            delegator = person_id_by_email(conn, titulaire)
            substitute = person_id_by_email(conn, suppleant)
            dossier_id = find_id(conn, reference) if reference else None
            academie_id = academie_id_by_slug(conn, academie) if academie else None
        start = datetime.now(UTC)
        container.editor.delegate(
            delegator,
            substitute,
            start,
            start + timedelta(days=jours),
            role=role,
            dossier_id=dossier_id,
            academie_id=academie_id,
        )
    except WorkflowError as error:
        raise _fail(error) from error
    typer.echo(
        f"{suppleant} supplée {titulaire} ({role_label(role)}) jusqu'au "
        f"{format_datetime(start + timedelta(days=jours))}."
    )


def walkthrough() -> None:
    container = command_container()
    migrate.upgrade(container.engine)
    require_defined_versions(container)
    if not demo.is_loaded(container.engine):
        demo.load_demo(container.engine, container.settings.data_dir, container.service)
    run_walkthrough(container, typer.echo)


def register(app: typer.Typer) -> None:
    """Called by ``api/cli.py``: these commands join the ``formaflow`` command, in this
    order (``formaflow --help`` lists them as registered)."""
    app.command("fire", help="Déclenche une action sur un dossier, au nom d'une personne.")(fire)
    app.command(
        "actions", help="Liste les actions qu'une personne peut faire maintenant sur un dossier."
    )(actions)
    app.command("history", help="Affiche l'historique d'un dossier.")(show_history)
    app.command("status", help="Nombre de dossiers par état et par phase.")(status)
    app.command("diagram", help="Exporte le diagramme d'un workflow (Mermaid ou Graphviz DOT).")(
        diagram
    )
    app.command("delegate", help="Désigne un suppléant pour une période (pilote par défaut).")(
        delegate
    )
    app.command(
        "walkthrough", help="Déroule un dossier de démonstration de bout en bout, en l'expliquant."
    )(walkthrough)
