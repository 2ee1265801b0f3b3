"""``formaflow user create`` and ``formaflow token create|revoke``: people's local accounts
and API tokens for other systems, kept apart from ``api/cli.py`` so each family stays small.

Same rules as the rest of the CLI: French output, a French message and a non-zero exit
code on any refusal (1: refused, 2: bad usage), never a traceback.
"""

from __future__ import annotations

from typing import Annotated

import typer

from api.accounts import MIN_PASSWORD_LENGTH
from api.command_context import command_container
from states.roles import ACADEMIE_ROLES, CIVILITES
from workflow.engine.errors import WorkflowError
from workflow.reads.queries import academie_id_by_slug, person_id_by_email, reading
from workflow.store import migrate

user_app = typer.Typer(help="Comptes des personnes.", no_args_is_help=True)
token_app = typer.Typer(
    help="Jetons d'API (Bearer) pour les autres systèmes.", no_args_is_help=True
)


def _fail(error: WorkflowError) -> typer.Exit:
    typer.secho(error.message, fg=typer.colors.RED, err=True)
    return typer.Exit(code=1)


@user_app.command("create", help="Crée un compte local (le mot de passe est demandé).")
def user_create(
    email: Annotated[str, typer.Argument(help="Adresse électronique.")],
    name: Annotated[str, typer.Option("--name", help="Nom complet.")],
    academie: Annotated[
        str | None, typer.Option(help="Slug de l'académie (rôle d'académie).")
    ] = None,
    role: Annotated[
        str | None, typer.Option(help="gestionnaire, responsable ou administrateur.")
    ] = None,
    password: Annotated[
        str | None,
        typer.Option(envvar="FORMAFLOW_NEW_PASSWORD", help="Mot de passe (sinon demandé)."),
    ] = None,
    civilite: Annotated[
        str | None,
        typer.Option(help="madame ou monsieur (accorde les intitulés : « Formatrice »…)."),
    ] = None,
) -> None:
    container = command_container()
    migrate.upgrade(container.engine)
    if civilite is not None and civilite not in CIVILITES:
        typer.secho("Civilité : madame ou monsieur (ou rien).", fg="red", err=True)
        raise typer.Exit(code=2)
    if (academie is None) != (role is None):
        typer.secho("--academie et --role vont ensemble.", fg="red", err=True)
        raise typer.Exit(code=2)
    if role is not None and role not in ACADEMIE_ROLES:
        typer.secho(
            "Rôle d'académie : gestionnaire, responsable ou administrateur.", fg="red", err=True
        )
        raise typer.Exit(code=2)
    secret = password or typer.prompt("Mot de passe", hide_input=True, confirmation_prompt=True)
    if len(secret) < MIN_PASSWORD_LENGTH:
        typer.secho(
            f"Le mot de passe doit compter au moins {MIN_PASSWORD_LENGTH} caractères.",
            fg="red",
            err=True,
        )
        raise typer.Exit(code=2)
    try:
        # Everything that can be refused is checked before anything is written: an unknown
        # académie used to be reported after the account had been created.
        academie_id = None
        if academie is not None:
            with reading(container.engine) as conn:
                academie_id = academie_id_by_slug(conn, academie)
        person = container.editor.create_person(email, name, civilite)
        try:
            container.accounts.set_password(person, secret)
            if academie_id is not None and role is not None:
                container.admin.grant(academie_id, person, role, actor_id=None)
        except BaseException:
            container.editor.remove_new_person(person)
            raise
    except WorkflowError as error:
        raise _fail(error) from error
    typer.echo(f"Compte créé pour {email}.")


@token_app.command("create", help="Crée un jeton d'API pour une personne (affiché une seule fois).")
def token_create(
    email: Annotated[str, typer.Argument(help="Adresse électronique de la personne.")],
    name: Annotated[str, typer.Option(help="À quoi sert ce jeton.")] = "",
    days: Annotated[int, typer.Option("--jours", help="Durée de validité, en jours.")] = 90,
) -> None:
    container = command_container()
    try:
        with reading(container.engine) as conn:
            person = person_id_by_email(conn, email)
    except WorkflowError as error:
        raise _fail(error) from error
    token = container.accounts.create_token(person, name, days)
    typer.echo(token)


@token_app.command("revoke", help="Révoque un jeton (le jeton entier ou son préfixe affiché).")
def token_revoke(
    token: Annotated[str, typer.Argument(help="Jeton ou préfixe ffk_xxxxxx.")],
) -> None:
    container = command_container()
    count = container.accounts.revoke_token(token)
    if not count:
        typer.secho("Aucun jeton actif ne correspond.", fg="red", err=True)
        raise typer.Exit(code=1)
    typer.echo(f"{count} jeton(s) révoqué(s).")


def register(app: typer.Typer) -> None:
    """Called by ``api/cli.py``: ``formaflow user …`` and ``formaflow token …``."""
    app.add_typer(user_app, name="user")
    app.add_typer(token_app, name="token")
