"""``formaflow archive`` and ``formaflow db recount``: the long-lived instance's upkeep, kept
apart from ``api/cli.py`` so each family stays small.

Same rules as the rest of the CLI: French output, a French message and a non-zero exit
code on any error (1: something failed, 2: bad input), never a traceback.
"""

from __future__ import annotations

from typing import Annotated

import typer

from api.command_context import command_container
from workflow.admin.archive import Archiver
from workflow.engine.errors import WorkflowError
from workflow.reads.queries import academie_id_by_slug, reading
from workflow.store import counters


def archive(
    academie: Annotated[
        str | None, typer.Option("--academie", help="Slug d'une académie (toutes sinon).")
    ] = None,
    simulation: Annotated[
        bool,
        typer.Option("--simulation", help="Dit ce qui serait fait, sans rien modifier."),
    ] = False,
) -> None:
    container = command_container()
    if academie is not None:
        with reading(container.engine) as conn:
            try:
                academie_id_by_slug(conn, academie)
            except WorkflowError as error:
                typer.secho(error.message, fg=typer.colors.RED, err=True)
                raise typer.Exit(code=2) from error
    archiver = Archiver(
        container.engine, container.settings.data_dir, clock=container.service.clock
    )
    candidates = archiver.due(academie)
    if not candidates:
        typer.echo(
            "Aucun dossier à archiver : aucun n'est clos depuis plus longtemps que la "
            "durée de conservation de son académie."
        )
        return
    typer.echo(
        f"{'Simulation — ' if simulation else ''}{len(candidates)} dossier(s) clos depuis plus "
        "longtemps que la durée de conservation de leur académie :"
    )
    done = failed = 0
    for candidate in candidates:
        result = archiver.archive(candidate, dry_run=simulation)
        head = (
            f"{candidate.reference} « {candidate.title} » ({candidate.academie}, "
            f"{candidate.state_label} depuis le {candidate.closed_on})"
        )
        if result.error is not None:
            failed += 1
            typer.secho(f"{head} : {result.error}.", fg=typer.colors.RED, err=True)
            continue
        done += 1
        typer.echo(f"{head} : {'serait archivé' if simulation else 'archivé'}.")
        lines = list(result.lines)
        if result.files_deleted:
            verb = "seraient effacés" if simulation else "effacés"
            lines.append(f"{result.files_deleted} fichier(s) {verb} du disque")
        for line in lines or ["aucune donnée à supprimer"]:
            typer.echo(f"  - {line}")
    if simulation:
        typer.echo(
            f"Simulation terminée : {done} dossier(s) seraient archivés, rien n'a été modifié."
        )
    else:
        typer.echo(
            f"Archivage terminé : {done} dossier(s) archivé(s), {failed} en échec. Historique, "
            "décisions, signatures et journal des décisions sont conservés (« formaflow "
            "audit verify » le vérifie)."
        )
    if failed:
        raise typer.Exit(code=1)


def recount() -> None:
    container = command_container()
    with container.engine.begin() as conn:
        counters.rebuild(conn)
    with reading(container.engine) as conn:
        drift = counters.drift(conn)
    if not drift.none:  # pragma: no cover - a write raced the recount
        typer.secho("Des dossiers ont changé pendant le recomptage : relancez-le.", err=True)
        raise typer.Exit(code=1)
    typer.echo("Compteurs du tableau de bord recalculés à partir des dossiers.")


def register(app: typer.Typer, db_app: typer.Typer) -> None:
    """Called by ``api/cli.py``: these commands join the ``formaflow`` command."""
    app.command(
        "archive",
        help="Archive les dossiers clos depuis plus longtemps que la durée de conservation de "
        "leur académie : ils quittent les listes par défaut, leurs documents et les données "
        "personnelles inutiles aux décisions sont supprimés (tout ou rien par dossier).",
    )(archive)
    db_app.command(
        "recount",
        help="Recalcule les compteurs du tableau de bord (après un chargement sans "
        "déclencheurs, comme pg_restore --disable-triggers).",
    )(recount)
