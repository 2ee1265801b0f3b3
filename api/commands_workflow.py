"""``formaflow workflow migrate``: move dossiers from one version of a workflow to another.

Kept apart from ``api/cli.py`` so each family of commands stays small. Same rules as the
rest of the CLI: French output, a French message and a non-zero exit code on any refusal
(1: refused, 2: bad input), never a traceback.
"""

from __future__ import annotations

from typing import Annotated

import typer

from api.command_context import command_container
from states import SPECS
from workflow.engine.versions import MigrationPlan, MigrationRefused, migrate

workflow_app = typer.Typer(
    help="Versions des workflows : déplacer les dossiers d'une version à une autre.",
    no_args_is_help=True,
)


def _mapping(pairs: list[str]) -> dict[str, str]:
    found: dict[str, str] = {}
    for pair in pairs:
        old, sep, new = (part.strip() for part in pair.partition("="))
        if not sep or not old or not new:
            typer.secho(
                f"--map attend ancien=nouveau (deux identifiants d'état) : « {pair} ».",
                fg=typer.colors.RED,
                err=True,
            )
            raise typer.Exit(code=2)
        if old in found and found[old] != new:
            typer.secho(
                f"--map : l'état « {old} » reçoit deux destinations ({found[old]}, {new}).",
                fg=typer.colors.RED,
                err=True,
            )
            raise typer.Exit(code=2)
        found[old] = new
    return found


def _label(workflow: str, version: int, state: str) -> str:
    spec = SPECS.get((workflow, version))
    if spec is not None:
        try:
            return spec.state(state).label
        except KeyError:
            pass
    return state


def _report(plan: MigrationPlan, dry_run: bool) -> None:
    name, old, new = plan.workflow, plan.from_version, plan.to_version
    if not plan.moves:
        typer.echo(
            f"Aucun dossier en cours sur la version {old} du workflow « {name} » : rien à migrer."
        )
    elif dry_run:
        typer.echo(
            f"Simulation (rien n'est écrit) : {len(plan.moves)} dossier(s) passeraient de la "
            f"version {old} à la version {new} du workflow « {name} » :"
        )
    else:
        typer.echo(
            f"{len(plan.moves)} dossier(s) migré(s) de la version {old} à la version {new} du "
            f"workflow « {name} », une ligne d'historique chacun (« {plan.comment} ») :"
        )
    for move in plan.moves:
        before = _label(name, old, move.from_state)
        after = _label(name, new, move.to_state)
        change = f"« {before} »" if before == after else f"« {before} » → « {after} »"
        typer.echo(f"  {move.reference} : {change}")
    if plan.finished_left:
        typer.echo(
            f"{plan.finished_left} dossier(s) terminé(s) restent en version {old} "
            "(--termines pour les déplacer aussi)."
        )


@workflow_app.command(
    "migrate",
    help=(
        "Déplace les dossiers en cours d'une version d'un workflow vers une autre, chacun à "
        "l'état du même nom ou à celui donné par --map ; tout ou rien. Exemple : formaflow "
        "workflow migrate dossier_formation --from 1 --to 2 --map contrat_a_signer=signature"
    ),
)
def workflow_migrate(
    name: Annotated[str, typer.Argument(help="Workflow, ex. dossier_formation.")],
    from_version: Annotated[int, typer.Option("--from", help="Version actuelle des dossiers.")],
    to_version: Annotated[int, typer.Option("--to", help="Version de destination.")],
    pairs: Annotated[
        list[str] | None,
        typer.Option(
            "--map",
            help="ancien=nouveau : destination d'un état absent de la nouvelle version "
            "(répétable).",
        ),
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Montrer ce qui serait fait, sans rien écrire.")
    ] = False,
    finished: Annotated[
        bool,
        typer.Option(
            "--termines",
            help="Déplacer aussi les dossiers terminés (pour pouvoir retirer l'ancienne version).",
        ),
    ] = False,
) -> None:
    mapping = _mapping(pairs or [])
    container = command_container()
    try:
        plan = migrate(
            container.engine,
            name,
            from_version,
            to_version,
            mapping,
            finished=finished,
            dry_run=dry_run,
            clock=container.service.clock,
        )
    except MigrationRefused as error:
        typer.secho(error.message, fg=typer.colors.RED, err=True)
        raise typer.Exit(code=1) from error
    _report(plan, dry_run)


def register(app: typer.Typer) -> None:
    """Called by ``api/cli.py``: the ``workflow`` commands join the ``formaflow`` command."""
    app.add_typer(workflow_app, name="workflow")
