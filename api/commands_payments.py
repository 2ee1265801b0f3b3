"""``formaflow bareme``, ``formaflow audit`` and ``formaflow export``: the payment side of
the command line, kept apart from ``api/cli.py`` so each family stays small.

Same rules as the rest of the CLI: French output, a French message and a non-zero exit
code on any error (1: refused or found broken, 2: bad input), never a traceback.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Annotated

import typer

from api.command_context import command_container, dossier_container
from api.documents.verify import verify_files
from api.exports import files
from api.exports.files import ExportFile
from workflow.engine.errors import WorkflowError
from workflow.engine.history import verify_history
from workflow.engine.rows import find_id
from workflow.payments import journal
from workflow.payments.baremes import BaremeError, Rates
from workflow.payments.rates import ConfigurationError, academie_rates, is_configured
from workflow.payments.simulation import PARAMETERS, bareme_label, simulate
from workflow.reads.queries import (
    academie_id_by_slug,
    person_id_by_email,
    reading,
    snapshot,
)
from workflow.reads.reports import Scope

bareme_app = typer.Typer(help="Barèmes de rémunération : simulation.", no_args_is_help=True)
audit_app = typer.Typer(help="Journal des décisions : vérification.", no_args_is_help=True)
export_app = typer.Typer(
    help="Exports : budget, liste des dossiers, fiche de rémunération, bilan, Sofia-FMO, "
    "calendrier.",
    no_args_is_help=True,
)


def _bad_input(message: str) -> typer.Exit:
    typer.secho(message, fg=typer.colors.RED, err=True)
    return typer.Exit(code=2)


def _extra_params(args: list[str]) -> dict[str, list[str]]:
    """``--effective-trainees 5 --hours 6 --hours=7`` → ``{"effective_trainees": ["5"], …}``."""
    params: dict[str, list[str]] = {}
    items = iter(args)
    for item in items:
        if not item.startswith("--") or len(item) < 3:
            raise _bad_input(f"Argument inattendu : « {item} » (attendu : --paramètre valeur).")
        name, sep, value = item[2:].partition("=")
        if not sep:
            value = next(items, "")
            if not value or value.startswith("--"):
                raise _bad_input(f"Valeur manquante après {item}.")
        params.setdefault(name.replace("-", "_"), []).append(value)
    return params


@bareme_app.command("list", help="Liste les barèmes et leurs paramètres de simulation.")
def bareme_list() -> None:
    for name, params in PARAMETERS.items():
        typer.echo(f"{name} — {bareme_label(name)}")
        for param in params:
            many = " (répétable : un par formateur)" if param.repeatable else ""
            typer.echo(f"  {param.option} : {param.label}{many}")


@bareme_app.command(
    "simulate",
    help=(
        "Simule un barème : mêmes étapes de calcul et même montant qu'une décision. "
        "Exemple : formaflow bareme simulate vacation_accompagnement --hours 13 "
        "--effective-trainees 5 --academie demo"
    ),
    context_settings={"allow_extra_args": True, "ignore_unknown_options": True},
)
def bareme_simulate(
    ctx: typer.Context,
    bareme: Annotated[str, typer.Argument(help="vacation_accompagnement, hse_convention_ent…")],
    academie: Annotated[
        str | None,
        typer.Option(help="Slug de l'académie dont on prend les taux (sinon : ceux des textes)."),
    ] = None,
    rate: Annotated[
        str | None, typer.Option(help="Taux à simuler, en euros (remplace celui de l'académie).")
    ] = None,
) -> None:
    params = _extra_params(list(ctx.args))
    configured = True
    try:
        if academie:
            with reading(command_container().engine) as conn:
                academie_id = academie_id_by_slug(conn, academie)
                rates = academie_rates(conn, academie_id)
                configured = is_configured(conn, academie_id)
        else:
            rates = Rates.default_eafc()
        given = None if rate is None else Decimal(rate.replace(",", "."))
        result = simulate(bareme, params, rates, given)
    except InvalidOperation as exc:
        raise _bad_input(f"--rate doit être un montant en euros (« {rate} »).") from exc
    except (BaremeError, ConfigurationError) as error:
        raise _bad_input(str(error)) from error
    except WorkflowError as error:
        raise _bad_input(error.message) from error
    if not configured:
        typer.echo(
            f"(L'académie « {academie} » n'a configuré aucun taux : un montant sans taux "
            "reste non calculé ; --rate permet d'en simuler un.)"
        )
    for line in result.lines:
        typer.echo(line)


@audit_app.command(
    "verify",
    help="Vérifie la chaîne du journal des décisions, celle de l'historique de chaque "
    "dossier et chaque pièce stockée (empreinte, sceau) ; code de sortie 1 si l'un est "
    "altéré.",
)
def audit_verify(
    academie: Annotated[str | None, typer.Option(help="Ne vérifier qu'une académie.")] = None,
) -> None:
    container = command_container()
    try:
        with snapshot(container.engine) as conn:
            report = journal.verify(conn, academie)
            academie_id = academie_id_by_slug(conn, academie) if academie else None
            lines = verify_history(conn, academie_id)
            files = verify_files(
                conn,
                container.settings.data_dir,
                container.seal_trust_root(),
                academie,
            )
    except WorkflowError as error:
        raise _fail(error) from error
    for finding in report.findings:
        typer.secho(finding.message, fg=typer.colors.RED, err=True)
    for line in lines.findings:
        typer.secho(line.message, fg=typer.colors.RED, err=True)
    for problem in files.problems:
        typer.secho(problem, fg=typer.colors.RED, err=True)
    if not files.ok:
        typer.secho(
            f"Pièces ALTÉRÉES : {len(files.problems)} sur {files.checked}.",
            fg=typer.colors.RED,
            err=True,
        )
    if not report.ok:
        typer.secho(
            f"Journal des décisions ALTÉRÉ : {len(report.findings)} académie(s) touchée(s) "
            f"sur {report.academies}.",
            fg=typer.colors.RED,
            err=True,
        )
    if not lines.ok:
        typer.secho(
            f"Historique ALTÉRÉ : {len(lines.findings)} dossier(s) touché(s) sur {lines.dossiers}.",
            fg=typer.colors.RED,
            err=True,
        )
    if not (report.ok and lines.ok and files.ok):
        raise typer.Exit(code=1)
    typer.echo(
        f"Journal des décisions intègre : {report.entries} entrée(s) vérifiée(s) dans "
        f"{report.academies} académie(s)."
    )
    typer.echo(
        f"Pièces intègres : {files.checked} fichier(s) conformes à leur empreinte, dont "
        f"{files.sealed} PDF scellé(s) au sceau valide."
    )
    for slug, head in report.last_hashes.items():
        typer.echo(f"  {slug} : dernière empreinte {head}")
    typer.echo(
        f"Historique intègre : {lines.rows} ligne(s) vérifiée(s) sur {lines.dossiers} dossier(s)."
    )


# --- Exports -----------------------------------------------------------------------------------

Output = Annotated[
    Path | None, typer.Option("--output", "-o", help="Fichier à écrire (sinon : nom par défaut).")
]
AsEmail = Annotated[
    str | None,
    typer.Option("--as", help="Limiter aux dossiers que cette personne peut voir."),
]


def _write(export: ExportFile, output: Path | None) -> None:
    target = output or Path(export.filename)
    target.write_bytes(export.content)
    typer.echo(f"Fichier écrit : {target} ({len(export.content)} octets).")


def _fail(error: WorkflowError) -> typer.Exit:
    typer.secho(error.message, fg=typer.colors.RED, err=True)
    return typer.Exit(code=1)


def _list_export(
    kind: str,
    fmt: str,
    academie: str | None,
    pilote: str | None,
    annee: int | None,
    as_email: str | None,
    output: Path | None,
) -> None:
    if fmt not in ("xlsx", "csv"):
        raise _bad_input("Format inconnu : choisissez xlsx ou csv.")
    container = dossier_container()
    now = container.service.clock()
    try:
        with reading(container.engine) as conn:
            scope = Scope(
                person_id=person_id_by_email(conn, as_email) if as_email else None,
                academie=academie,
                pilote_id=person_id_by_email(conn, pilote) if pilote else None,
                plan_year=annee,
            )
            make = files.budget_file if kind == "budget" else files.dossiers_file
            export = make(conn, scope, "csv" if fmt == "csv" else "xlsx", now)
    except WorkflowError as error:
        raise _fail(error) from error
    _write(export, output)


Fmt = Annotated[str, typer.Option("--format", help="xlsx ou csv.")]
AcademieOpt = Annotated[str | None, typer.Option(help="Slug de l'académie.")]
PiloteOpt = Annotated[str | None, typer.Option(help="Courriel du pilote.")]
AnneeOpt = Annotated[int | None, typer.Option(help="Année du plan (PAF) : 2026 pour 2026-2027.")]


@export_app.command("budget", help="Budget prévisionnel et réalisé (esprit T-Offres).")
def export_budget(
    fmt: Fmt = "xlsx",
    academie: AcademieOpt = None,
    pilote: PiloteOpt = None,
    annee: AnneeOpt = None,
    as_email: AsEmail = None,
    output: Output = None,
) -> None:
    _list_export("budget", fmt, academie, pilote, annee, as_email, output)


@export_app.command("dossiers", help="Liste des dossiers : état, phase, échéances dépassées.")
def export_dossiers(
    fmt: Fmt = "xlsx",
    academie: AcademieOpt = None,
    pilote: PiloteOpt = None,
    annee: AnneeOpt = None,
    as_email: AsEmail = None,
    output: Output = None,
) -> None:
    _list_export("dossiers", fmt, academie, pilote, annee, as_email, output)


def _dossier_export(reference: str, kind: str, output: Path | None) -> None:
    container = dossier_container()
    now = container.service.clock()
    try:
        with reading(container.engine) as conn:
            dossier_id = find_id(conn, reference)
            if kind == "fiche":
                export = files.fiche_file(conn, dossier_id, now)
            elif kind == "bilan":
                export = files.bilan_file(conn, dossier_id, now)
            elif kind == "sofia":
                export = files.sofia_file(conn, dossier_id, container.settings.data_dir, now)
            else:
                export = files.sessions_file(conn, dossier_id, now)
    except WorkflowError as error:
        raise _fail(error) from error
    _write(export, output)


Reference = Annotated[str, typer.Argument(help="Référence du dossier, ex. 26-DEM-0001.")]


@export_app.command("fiche", help="Fiche de rémunération imprimable (HTML).")
def export_fiche(reference: Reference, output: Output = None) -> None:
    _dossier_export(reference, "fiche", output)


@export_app.command("bilan", help="Bilan d'activités imprimable (HTML).")
def export_bilan(reference: Reference, output: Output = None) -> None:
    _dossier_export(reference, "bilan", output)


@export_app.command("sofia", help="Paquet Sofia-FMO : émargements et fiches, avec manifeste (zip).")
def export_sofia(reference: Reference, output: Output = None) -> None:
    _dossier_export(reference, "sofia", output)


@export_app.command("sessions", help="Sessions du dossier au format iCalendar (.ics).")
def export_sessions(reference: Reference, output: Output = None) -> None:
    _dossier_export(reference, "sessions", output)


def register(app: typer.Typer) -> None:
    """Called by ``api/cli.py``: the payment commands join the ``formaflow`` command."""
    app.add_typer(bareme_app, name="bareme")
    app.add_typer(audit_app, name="audit")
    app.add_typer(export_app, name="export")
