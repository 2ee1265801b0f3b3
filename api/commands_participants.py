"""``formaflow etablissements …`` and ``formaflow stagiaires …``: the reference list of
schools, importing a list of stagiaires from the shell, and the purge of closed dossiers'
stagiaire data once their académie's retention period is over.

Each is a dry run unless told ``--executer``: an operator reads what would happen first.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from pydantic import ValidationError

from api.command_context import command_container
from api.imports.lists import ImportFileError, read_list
from workflow.engine.errors import WorkflowError
from workflow.engine.rows import find_id
from workflow.participants.importing import ImportRefused, ImportReport, header_key
from workflow.participants.inputs import EtablissementInput
from workflow.participants.purge import due_dossiers
from workflow.reads.queries import academie_id_by_slug, reading

etablissements_app = typer.Typer(
    help="Établissements et écoles de l'académie (et leur chef ou IEN).", no_args_is_help=True
)
stagiaires_app = typer.Typer(help="Stagiaires : import d'une liste, purge.", no_args_is_help=True)

SCHOOL_HEADERS = {
    "uai": "uai",
    "code uai": "uai",
    "rne": "uai",
    "nom": "name",
    "etablissement": "name",
    "type": "kind",
    "commune": "commune",
    "responsable": "head_name",
    "nom du responsable": "head_name",
    "fonction du responsable": "head_role",
    "fonction": "head_role",
    "courriel du responsable": "head_email",
    "courriel": "head_email",
}
KINDS = {"etablissement": "etablissement", "eple": "etablissement", "ecole": "ecole"}
HEADS = {
    "chef d etablissement": "chef_etablissement",
    "chef_etablissement": "chef_etablissement",
    "principal": "chef_etablissement",
    "proviseur": "chef_etablissement",
    "ien": "ien",
}


def _fail(message: str, code: int = 1) -> typer.Exit:
    typer.secho(message, fg=typer.colors.RED, err=True)
    return typer.Exit(code=code)


@etablissements_app.command(
    "importer",
    help="Charge la liste des établissements (CSV : UAI ; Nom ; Type ; Commune ; Responsable ; "
    "Fonction du responsable ; Courriel du responsable). Type : établissement ou école ; "
    "fonction : chef d'établissement ou IEN.",
)
def import_schools(
    fichier: Annotated[Path, typer.Argument(help="Fichier CSV ou XLSX.")],
    academie: Annotated[str, typer.Option(help="Slug de l'académie, ex. demo.")],
) -> None:
    container = command_container()
    try:
        read = read_list(fichier.name, fichier.read_bytes())
    except (OSError, ImportFileError) as error:
        raise _fail(f"Lecture impossible : {error}", 2) from error
    columns = {
        SCHOOL_HEADERS[k]: i
        for i, h in enumerate(read.header)
        if (k := header_key(h)) in SCHOOL_HEADERS
    }
    items, problems = [], []
    for number, row in enumerate(read.rows, start=2):
        value = {name: (row[i].strip() if i < len(row) else "") for name, i in columns.items()}
        value["kind"] = KINDS.get(
            header_key(value.get("kind", "")).replace(" ", ""), value.get("kind", "")
        )
        value["head_role"] = HEADS.get(
            header_key(value.get("head_role", "")), value.get("head_role", "")
        )
        try:
            items.append(EtablissementInput.model_validate(value))
        except ValidationError as error:
            reasons = "; ".join(str(e["msg"]).removeprefix("Value error, ") for e in error.errors())
            problems.append(f"ligne {number} : {reasons}")
    if problems:
        for problem in problems:
            typer.echo(problem, err=True)
        raise _fail("Rien n'a été chargé : corrigez le fichier.", 2)
    with reading(container.engine) as conn:
        try:
            academie_id = academie_id_by_slug(conn, academie)
        except WorkflowError as error:
            raise _fail(error.message, 2) from error
    created, updated = container.etablissements.save_all(academie_id, items)
    typer.echo(f"{created} établissement(s) créé(s), {updated} mis à jour.")


def _print_report(report: ImportReport) -> None:
    for problem in report.problems:
        typer.echo(f"Fichier : {problem}")
    for line in report.lines:
        reasons = f" — {' ; '.join(line.messages)}" if line.messages else ""
        typer.echo(
            f"ligne {line.number} : {line.status_label} : {line.name} <{line.email}>{reasons}"
        )
    typer.echo(
        f"À inscrire : {report.to_enrol} ; déjà inscrits : {report.already} ; "
        f"refusées : {report.refused}."
    )


@stagiaires_app.command(
    "importer",
    help="Lit une liste de stagiaires (CSV ou XLSX) pour un dossier et dit ce qui serait fait, "
    "ligne par ligne ; --executer l'importe (tout ou rien).",
)
def import_stagiaires(
    reference: Annotated[str, typer.Argument(help="Référence du dossier, ex. 26-DEM-0007.")],
    fichier: Annotated[Path, typer.Argument(help="Fichier CSV ou XLSX.")],
    executer: Annotated[bool, typer.Option("--executer", help="Importer pour de bon.")] = False,
) -> None:
    container = command_container()
    try:
        read = read_list(fichier.name, fichier.read_bytes())
    except (OSError, ImportFileError) as error:
        raise _fail(f"Lecture impossible : {error}", 2) from error
    try:
        with reading(container.engine) as conn:
            dossier_id = find_id(conn, reference)
        if executer:
            report = container.enrolments.import_file(
                dossier_id, read.header, read.rows, actor_id=None
            )
        else:
            report = container.enrolments.preview(dossier_id, read.header, read.rows, actor_id=None)
    except ImportRefused as refused:
        _print_report(refused.report)
        raise _fail(refused.message) from refused
    except WorkflowError as error:
        raise _fail(error.message) from error
    _print_report(report)
    typer.echo(
        "Liste importée."
        if executer
        else "Rien n'a été inscrit (lecture seule ; --executer pour importer)."
    )
    if not report.ok:
        raise typer.Exit(code=1)


@stagiaires_app.command(
    "purger",
    help="Supprime les données personnelles des stagiaires des dossiers clos depuis plus "
    "longtemps que la durée de conservation de leur académie (effectifs et réponses anonymes "
    "conservés). Sans --executer, liste seulement les dossiers concernés.",
)
def purge(
    executer: Annotated[bool, typer.Option("--executer", help="Supprimer pour de bon.")] = False,
) -> None:
    container = command_container()
    with reading(container.engine) as conn:
        due = due_dossiers(conn, container.service.clock())
    if not due:
        typer.echo("Aucun dossier clos n'a dépassé sa durée de conservation.")
        return
    for dossier_id, reference in due:
        if not executer:
            typer.echo(f"{reference} : données des stagiaires à supprimer")
            continue
        try:
            result = container.purges.purge(dossier_id, actor_id=None)
        except WorkflowError as error:
            typer.secho(f"{reference} : {error.message}", fg=typer.colors.RED, err=True)
            continue
        typer.echo(
            f"{reference} : {result.enrolments} inscription(s) supprimée(s), "
            f"{result.anonymised} compte(s) anonymisé(s)."
        )
    if not executer:
        typer.echo(f"{len(due)} dossier(s) ; --executer pour supprimer.")


def register(app: typer.Typer) -> None:
    app.add_typer(etablissements_app, name="etablissements")
    app.add_typer(stagiaires_app, name="stagiaires")
