"""``formaflow outbox list|retry|purge`` and ``formaflow fichiers orphelins``: the outbox
of emails and the stored files, looked after by the operator, kept apart from
``api/cli.py`` so each family stays small.

Same rules as the rest of the CLI: French output, a French message and a non-zero exit
code on any refusal (1: refused, 2: bad usage), never a traceback.
"""

from __future__ import annotations

from typing import Annotated

import typer

from api.command_context import command_container
from notifications import backlog
from workflow.dossiers.files import orphans, remove_orphans
from workflow.language.french import format_datetime
from workflow.reads.queries import reading

outbox_app = typer.Typer(help="Boîte d'envoi des courriels.", no_args_is_help=True)
files_app = typer.Typer(help="Fichiers des documents déposés.", no_args_is_help=True)


@outbox_app.command("list", help="Liste les courriels (les plus récents d'abord).")
def outbox_list(
    statut: Annotated[
        str | None, typer.Option(help="pending (en attente), sent (envoyés), dead (en échec).")
    ] = None,
    limit: Annotated[int, typer.Option(min=1, max=10_000)] = 50,
) -> None:
    if statut is not None and statut not in backlog.STATUSES:
        typer.secho("Statut inconnu : pending, sent ou dead.", fg=typer.colors.RED, err=True)
        raise typer.Exit(code=2)
    container = command_container()
    counts = backlog.counts(container.engine)
    typer.echo(
        f"En attente : {counts['pending']} · envoyés : {counts['sent']} · "
        f"en échec : {counts['dead']}"
    )
    for line in backlog.lines(container.engine, status=statut, limit=limit):
        typer.echo(
            f"#{line.id} [{_STATUS_LABELS[line.status]}] {format_datetime(line.created_at)} "
            f"→ {line.to_email} : {line.subject}"
            + (f" — {line.last_error}" if line.last_error and line.status != "sent" else "")
        )


@outbox_app.command("retry", help="Remet en file les courriels en échec (tous, ou ceux donnés).")
def outbox_retry(ids: Annotated[list[int] | None, typer.Argument(help="Numéros.")] = None) -> None:
    count = backlog.retry(command_container().engine, ids=ids or None)
    typer.echo(f"{count} courriel(s) remis en file.")


@outbox_app.command("purge", help="Supprime les courriels envoyés anciens.")
def outbox_purge(
    jours: Annotated[int, typer.Option(min=0, help="Âge minimal, en jours.")] = 90,
    echecs: Annotated[bool, typer.Option(help="Supprimer aussi les courriels en échec.")] = False,
) -> None:
    count = backlog.purge(command_container().engine, older_than_days=jours, dead_too=echecs)
    typer.echo(f"{count} courriel(s) supprimé(s).")


@files_app.command(
    "orphelins",
    help="Liste les fichiers qu'aucun document ne désigne (dépôts interrompus) ; "
    "--supprimer les efface.",
)
def files_orphans(
    supprimer: Annotated[
        bool, typer.Option("--supprimer", help="Effacer les fichiers orphelins trouvés.")
    ] = False,
) -> None:
    container = command_container()
    data_dir = container.settings.data_dir
    with reading(container.engine) as conn:
        found = remove_orphans(conn, data_dir) if supprimer else orphans(conn, data_dir)
    for orphan in found:
        kind = "dépôt interrompu" if orphan.staged else "sans document"
        typer.echo(f"{orphan.path} ({orphan.size} octets, {kind})")
    total = sum(o.size for o in found)
    verb = "supprimé(s)" if supprimer else "orphelin(s)"
    typer.echo(f"{len(found)} fichier(s) {verb}, {total} octets.")


_STATUS_LABELS = {"pending": "en attente", "sent": "envoyé", "dead": "en échec"}


def register(app: typer.Typer) -> None:
    """Called by ``api/cli.py``: ``formaflow outbox …`` and ``formaflow fichiers …``."""
    app.add_typer(outbox_app, name="outbox")
    app.add_typer(files_app, name="fichiers")
