"""``formaflow paf import FICHIER --academie X [--essai]``: the PAF import for the operator.

The same use case as the page and the API (``workflow.admin.paf``), as the operator
(no role check). It prints the report line by line in French; with ``--essai`` nothing is
written. Exit codes as in the rest of the CLI: 0 done, 1 lines refused (nothing imported),
2 a file or an académie that cannot be used.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from api.command_context import command_container
from api.imports.paf import parse
from workflow.admin.paf import Action, PafReport
from workflow.engine.errors import WorkflowError
from workflow.reads.queries import academie_id_by_slug, reading

paf_app = typer.Typer(help="Plan académique de formation (PAF) : import.", no_args_is_help=True)


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'s' if count > 1 else ''}"


def summary(report: PafReport) -> str:
    """« 48 créations, 1 mise à jour, 0 inchangée, 0 ignorée, 2 refusées »."""
    parts = [
        _plural(report.count(Action.CREATE), "création"),
        _plural(report.count(Action.UPDATE), "mise") + " à jour"
        if report.count(Action.UPDATE) != 1
        else "1 mise à jour",
        _plural(report.count(Action.SAME), "inchangée"),
        _plural(report.count(Action.SKIP), "ignorée"),
        _plural(report.count(Action.REFUSE), "refusée"),
    ]
    return ", ".join(parts)


def print_report(report: PafReport) -> None:
    if report.ignored_columns:
        typer.echo("Colonnes ignorées : " + ", ".join(report.ignored_columns))
    for line in report.lines:
        head = f"Ligne {line.line} — {line.paf_id or '(sans identifiant)'}"
        if line.title:
            head += f" « {line.title} »"
        target = f" → {line.reference}" if line.reference else ""
        typer.echo(f"{head} : {line.label}{target}")
        for reason in line.reasons:
            typer.echo(f"    {'refus' if line.action is Action.REFUSE else 'motif'} : {reason}")
        for change in line.changes:
            typer.echo(f"    {change}")


@paf_app.command("import", help="Importe un PAF (CSV ou XLSX) en dossiers « Brouillon ».")
def paf_import(
    fichier: Annotated[Path, typer.Argument(help="Le fichier CSV ou XLSX du PAF.")],
    academie: Annotated[str, typer.Option(help="Slug de l'académie.")],
    essai: Annotated[
        bool, typer.Option("--essai", help="Seulement rapporter ce qui serait fait.")
    ] = False,
) -> None:
    container = command_container()
    try:
        content = fichier.read_bytes()
    except OSError as error:
        typer.secho(f"Fichier illisible : {fichier} ({error.strerror}).", fg="red", err=True)
        raise typer.Exit(code=2) from error
    importer = container.paf
    try:
        with reading(container.engine) as conn:
            academie_id = academie_id_by_slug(conn, academie)
        parsed = parse(content)
        if essai:
            report = importer.dry_run(academie_id, parsed, actor_id=None)
        else:
            stored = importer.store(academie_id, fichier.name, content, actor_id=None)
            report = importer.apply(academie_id, parsed, actor_id=None, import_id=stored)
    except WorkflowError as error:
        typer.secho(error.message, fg=typer.colors.RED, err=True)
        raise typer.Exit(code=2) from error
    print_report(report)
    if not report.ok:
        typer.secho(
            f"Essai : {summary(report)}. Rien n'a été importé : corrigez les lignes refusées "
            "puis relancez.",
            fg=typer.colors.RED,
            err=True,
        )
        raise typer.Exit(code=1)
    if essai:
        typer.echo(f"Essai : {summary(report)}. Rien n'a été importé (--essai).")
    else:
        typer.echo(f"Import effectué : {summary(report)}.")


def register(app: typer.Typer) -> None:
    """Called by ``api/cli.py``: ``formaflow paf …``."""
    app.add_typer(paf_app, name="paf")
