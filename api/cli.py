"""The ``formaflow`` command: French help and messages, since EAFC staff read them.

Every engine error is printed as its French message and turns into a non-zero exit code
(1 for a refused action, 2 for bad usage), never a traceback.

The commands live by family in ``api/commands_*.py`` (dossiers, processes, accounts,
upkeep, payments, PAF, participants, administration, workflow versions, archive); this
module builds the ``formaflow`` application from them, and keeps ``db upgrade`` and ``demo``.
"""

from __future__ import annotations

import typer
from sqlalchemy.exc import DBAPIError

from api import (
    commands_accounts,
    commands_admin,
    commands_archive,
    commands_dossiers,
    commands_paf,
    commands_participants,
    commands_payments,
    commands_processes,
    commands_upkeep,
    commands_workflow,
)
from api.command_context import close_commands, command_container
from workflow import demo
from workflow.store import migrate
from workflow.store.database import failure_message

app = typer.Typer(
    help="formaflow — dossiers de formation hybride : contrats, scénarios, bilans, paiements.",
    no_args_is_help=True,
    add_completion=False,
)
db_app = typer.Typer(help="Base de données.", no_args_is_help=True)
app.add_typer(db_app, name="db")
# ``formaflow --help`` lists the commands, then the groups, each in the order registered.
commands_accounts.register(app)
commands_upkeep.register(app)
commands_payments.register(app)
commands_paf.register(app)
commands_participants.register(app)
commands_admin.register(app)
commands_workflow.register(app)
commands_archive.register(app, db_app)


@db_app.command("upgrade", help="Applique les migrations du schéma (Alembic).")
def db_upgrade() -> None:
    container = command_container()
    migrate.upgrade(container.engine)
    typer.echo("Schéma à jour.")


@app.command("demo", help="Charge les données de démonstration si elles sont absentes.")
def load_demo() -> None:
    container = command_container()
    migrate.upgrade(container.engine)
    if demo.is_loaded(container.engine):
        typer.echo("Données de démonstration déjà présentes : rien à faire.")
        return
    summary = demo.load_demo(container.engine, container.settings.data_dir, container.service)
    typer.echo(
        f"Académie de démonstration créée : {len(summary.people)} personnes, "
        f"{len(summary.dossiers)} dossiers."
    )


# After ``demo``, as before the split: ``formaflow --help`` lists them in this order.
commands_dossiers.register(app)
commands_processes.register(app)


def main() -> None:
    """The console script: a database that is missing, behind or unreachable is told in
    French with what to do, rather than a traceback of SQL."""
    try:
        app()
    except DBAPIError as error:
        typer.secho(failure_message(error), fg=typer.colors.RED, err=True)
        raise SystemExit(1) from None
    finally:
        close_commands()
