"""``formaflow academie``, ``formaflow personnes`` and ``formaflow suppleance``: académie
administration from the command line, for the operator (who may act on every académie).

The same use cases as the pages and the API (``workflow.admin``): a value is refused for
the same French reason. Exit codes as elsewhere: 1 refused, 2 bad input, never a traceback.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from api.command_context import command_container
from states.roles import ACADEMIE_ROLES, role_label
from workflow.admin import authority, catalog, changes, people
from workflow.admin.catalog import SettingsRefused
from workflow.admin.people_import import Outcome
from workflow.dossiers.team import delegations_in
from workflow.engine.errors import InvalidInput, WorkflowError
from workflow.language.french import format_datetime
from workflow.reads.queries import person_id_by_email, reading
from workflow.store.academie_settings import PACKAGED
from workflow.store.settings import get_settings

academie_app = typer.Typer(
    help="Académies : création depuis une graine, réglages, historique, rôles.",
    no_args_is_help=True,
)
people_app = typer.Typer(
    help="Annuaire d'une académie : import CSV, ajout, désactivation.", no_args_is_help=True
)
suppleance_app = typer.Typer(help="Suppléances : liste et révocation.", no_args_is_help=True)

SlugOption = Annotated[str, typer.Option("--academie", help="Identifiant de l'académie.")]


def _fail(message: str, code: int = 1) -> typer.Exit:
    typer.secho(message, fg=typer.colors.RED, err=True)
    return typer.Exit(code=code)


def _refused(error: WorkflowError) -> typer.Exit:
    if isinstance(error, SettingsRefused):
        for key, message in error.errors:
            typer.secho(f"{catalog.label_of(key)} ({key}) : {message}", fg="red", err=True)
        return typer.Exit(code=2)
    return _fail(error.message, 2 if isinstance(error, InvalidInput) else 1)


def _seed_file(name: str) -> Path:
    """A path, or the name of a seed shipped with the product (``demo``)."""
    path = Path(name)
    if path.is_file():
        return path
    directory = get_settings().academies_dir or PACKAGED
    packaged = directory / f"{name.removesuffix('.toml')}.toml"
    if packaged.is_file():
        return packaged
    raise _fail(f"Fichier introuvable : {name}", 2)


@academie_app.command(
    "import",
    help="Crée une académie depuis un fichier graine TOML (ex. states/academies/demo.toml). "
    "Ensuite, ses réglages vivent en base : modifier le fichier ne change plus rien.",
)
def academie_import(
    fichier: Annotated[str, typer.Argument(help="Fichier TOML, ou nom d'une graine fournie.")],
    slug: Annotated[
        str | None, typer.Option(help="Identifiant (sinon : celui du fichier).")
    ] = None,
    code: Annotated[
        str | None, typer.Option(help="Code des références (sinon : le fichier).")
    ] = None,
) -> None:
    path = _seed_file(fichier)
    container = command_container()
    try:
        text = path.read_text("utf-8")
    except UnicodeDecodeError as exc:
        raise _fail(f"{path} n'est pas un fichier texte UTF-8.", 2) from exc
    try:
        academie_id = container.admin.import_seed(text, where=path.name, slug=slug, code=code)
        ref = container.admin.academie(academie_id, actor_id=None)
    except WorkflowError as error:
        raise _refused(error) from error
    typer.echo(f"Académie créée : {ref.name} (identifiant {ref.slug}, code {ref.code}).")
    typer.echo(
        "Nommez son administrateur : formaflow academie grant COURRIEL administrateur "
        f"--academie {ref.slug}"
    )


@academie_app.command("list", help="Liste les académies.")
def academie_list() -> None:
    with reading(command_container().engine) as conn:
        for academie in authority.every_academie(conn):
            typer.echo(f"{academie.slug:<24}{academie.code:<10}{academie.name}")


@academie_app.command("show", help="Affiche les réglages d'une académie.")
def academie_show(slug: Annotated[str, typer.Argument(help="Identifiant de l'académie.")]) -> None:
    container = command_container()
    try:
        ref = container.admin.academie(slug, actor_id=None)
    except WorkflowError as error:
        raise _refused(error) from error
    with reading(container.engine) as conn:
        values = changes.current_values(conn, ref.id)
    typer.echo(f"{ref.name} (identifiant {ref.slug}, code {ref.code})")
    for key in catalog.all_keys():
        typer.echo(f"  {catalog.label_of(key)} [{key}] : {catalog.shown(key, values.get(key))}")


def _value(text: str) -> Any:
    """A value as typed: JSON for a list or a table (signatories, virtual classes), an empty
    string or ``defaut`` for the default, the text itself otherwise."""
    stripped = text.strip()
    if stripped in ("", "defaut", "défaut"):
        return None
    if stripped[:1] in "[{":
        try:
            return json.loads(stripped)
        except json.JSONDecodeError as exc:
            raise _fail(f"JSON invalide : {exc.msg} (position {exc.pos}).", 2) from exc
    return text


@academie_app.command(
    "set",
    help="Modifie des réglages : CLE=VALEUR… (ex. tarifs.hse=20,00 delais.rappel_signature=10 ; "
    "une liste en JSON ; CLE= pour revenir à la valeur par défaut). Tout ou rien ; chaque "
    "changement entre dans l'historique et s'applique aussitôt.",
)
def academie_set(
    slug: Annotated[str, typer.Argument(help="Identifiant de l'académie.")],
    values: Annotated[list[str], typer.Argument(help="CLE=VALEUR, une ou plusieurs.")],
) -> None:
    wanted: dict[str, Any] = {}
    for item in values:
        key, sep, text = item.partition("=")
        if not sep or not key.strip():
            raise _fail(f"Attendu CLE=VALEUR, pas « {item} ».", 2)
        wanted[key.strip()] = _value(text)
    container = command_container()
    try:
        made = container.admin.change_settings(slug, wanted, actor_id=None)
    except WorkflowError as error:
        raise _refused(error) from error
    if not made:
        typer.echo("Rien à changer : ces valeurs étaient déjà retenues.")
    for change in made:
        typer.echo(
            f"{catalog.label_of(change.key)} : {catalog.shown(change.key, change.old)} → "
            f"{catalog.shown(change.key, change.new)}"
        )


@academie_app.command("history", help="Historique de l'administration d'une académie.")
def academie_history(
    slug: Annotated[str, typer.Argument(help="Identifiant de l'académie.")],
    limit: Annotated[int, typer.Option(min=1, max=10_000)] = 50,
) -> None:
    container = command_container()
    try:
        ref = container.admin.academie(slug, actor_id=None)
    except WorkflowError as error:
        raise _refused(error) from error
    with reading(container.engine) as conn:
        lines, total = changes.history(conn, ref.id, limit=limit)
    typer.echo(f"{total} changement(s), les plus récents d'abord :")
    for line in lines:
        arrow = f"{line.old} → {line.new}" if line.old else line.new
        typer.echo(f"{format_datetime(line.at)} — {line.who} — {line.what} : {arrow}")


def _role(role: str) -> str:
    if role not in ACADEMIE_ROLES:
        raise _fail(f"Rôle d'académie : {', '.join(ACADEMIE_ROLES)}.", 2)
    return role


@academie_app.command("grant", help="Attribue un rôle d'académie (administrateur, gestionnaire…).")
def academie_grant(
    email: Annotated[str, typer.Argument(help="Courriel de la personne.")],
    role: Annotated[str, typer.Argument(help="administrateur, gestionnaire ou responsable.")],
    slug: SlugOption,
) -> None:
    container = command_container()
    try:
        with reading(container.engine) as conn:
            person = person_id_by_email(conn, email)
        name = container.admin.grant(slug, person, _role(role), actor_id=None)
    except WorkflowError as error:
        raise _refused(error) from error
    typer.echo(f"{name} est maintenant {role_label(role)} de l'académie {slug}.")


@academie_app.command("revoke", help="Retire un rôle d'académie.")
def academie_revoke(
    email: Annotated[str, typer.Argument(help="Courriel de la personne.")],
    role: Annotated[str, typer.Argument(help="administrateur, gestionnaire ou responsable.")],
    slug: SlugOption,
) -> None:
    container = command_container()
    try:
        with reading(container.engine) as conn:
            person = person_id_by_email(conn, email)
        name = container.admin.withdraw(slug, person, _role(role), actor_id=None)
    except WorkflowError as error:
        raise _refused(error) from error
    typer.echo(f"{name} n'est plus {role_label(role)} de l'académie {slug}.")


@people_app.command(
    "import",
    help="Importe des personnes depuis un CSV (courriel, nom, prénom ou nom complet, rôle). "
    "Sans --appliquer : un essai, ligne par ligne. Avec : tout le fichier, ou rien.",
)
def people_import_command(
    fichier: Annotated[Path, typer.Argument(help="Fichier CSV.")],
    slug: SlugOption,
    appliquer: Annotated[bool, typer.Option("--appliquer", help="Importer pour de bon.")] = False,
) -> None:
    if not fichier.is_file():
        raise _fail(f"Fichier introuvable : {fichier}", 2)
    content = fichier.read_bytes()
    container = command_container()
    try:
        report = container.admin.review_import(slug, content, actor_id=None)
    except WorkflowError as error:
        raise _refused(error) from error
    if report.problem is not None:
        raise _fail(report.problem, 2)
    for line in report.lines:
        mark = "REFUSÉE" if line.outcome is Outcome.REFUSED else "ok"
        typer.echo(
            f"ligne {line.number} [{mark}] {line.email or '(sans adresse)'} : {line.message}"
        )
    typer.echo(report.summary())
    if report.refused:
        raise _fail("Des lignes sont refusées : rien n'a été importé. Corrigez le fichier.", 1)
    if not appliquer:
        typer.echo("Essai seulement : relancez avec --appliquer pour importer.")
        return
    try:
        container.admin.import_people(slug, content, actor_id=None)
    except WorkflowError as error:
        raise _refused(error) from error
    typer.echo("Import fait.")


@people_app.command("add", help="Ajoute une personne à l'annuaire d'une académie.")
def people_add(
    email: Annotated[str, typer.Argument(help="Adresse électronique.")],
    name: Annotated[str, typer.Option("--nom", help="Prénom et nom.")],
    slug: SlugOption,
) -> None:
    container = command_container()
    try:
        added = container.admin.add_person(slug, email, name, actor_id=None)
    except WorkflowError as error:
        raise _refused(error) from error
    what = "créée" if added.created else "déjà connue"
    typer.echo(f"Personne {what}, dans l'annuaire de {slug} (n° {added.person_id}).")


def _set_active(email: str, slug: str, active: bool) -> None:
    container = command_container()
    try:
        with reading(container.engine) as conn:
            person = person_id_by_email(conn, email)
        name = container.admin.set_active(slug, person, active, actor_id=None)
    except WorkflowError as error:
        raise _refused(error) from error
    typer.echo(f"{name} est {'réactivé(e)' if active else 'désactivé(e)'}.")


@people_app.command(
    "deactivate", help="Désactive une personne (plus de connexion ; jamais supprimée)."
)
def people_deactivate(
    email: Annotated[str, typer.Argument(help="Adresse électronique.")], slug: SlugOption
) -> None:
    _set_active(email, slug, False)


@people_app.command("reactivate", help="Réactive une personne.")
def people_reactivate(
    email: Annotated[str, typer.Argument(help="Adresse électronique.")], slug: SlugOption
) -> None:
    _set_active(email, slug, True)


@people_app.command("list", help="L'annuaire d'une académie.")
def people_list(
    slug: SlugOption,
    recherche: Annotated[str, typer.Option(help="Nom ou adresse contenant ce texte.")] = "",
) -> None:
    container = command_container()
    try:
        ref = container.admin.academie(slug, actor_id=None)
    except WorkflowError as error:
        raise _refused(error) from error
    with reading(container.engine) as conn:
        entries, total = people.directory(conn, ref.id, search=recherche, limit=10_000)
    typer.echo(f"{total} personne(s)")
    for entry in entries:
        state = "" if entry.active else " [désactivée]"
        roles = f" — {', '.join(entry.roles)}" if entry.roles else ""
        typer.echo(f"{entry.full_name} <{entry.email}>{roles}{state}")


@suppleance_app.command("list", help="Les suppléances qui concernent une académie.")
def suppleance_list(slug: SlugOption) -> None:
    container = command_container()
    now = container.service.clock()
    try:
        ref = container.admin.academie(slug, actor_id=None)
    except WorkflowError as error:
        raise _refused(error) from error
    with reading(container.engine) as conn:
        lines = delegations_in(conn, ref.id)
    states = {"en_cours": "en cours", "a_venir": "à venir", "terminee": "terminée"}
    for line in lines:
        state = states.get(line.status(now), "révoquée")
        typer.echo(
            f"n° {line.id} [{state}] {line.substitute} supplée {line.delegator} "
            f"({role_label(line.role)}, {line.scope().lower()}) du "
            f"{format_datetime(line.starts_at)} au {format_datetime(line.ends_at)}"
        )


@suppleance_app.command("revoke", help="Révoque une suppléance (elle s'arrête aussitôt).")
def suppleance_revoke(
    numero: Annotated[int, typer.Argument(help="Numéro de la suppléance.")],
) -> None:
    container = command_container()
    try:
        container.editor.revoke_delegation(numero, actor_id=None)
    except WorkflowError as error:
        raise _refused(error) from error
    typer.echo(f"Suppléance n° {numero} révoquée.")


def register(app: typer.Typer) -> None:
    """Called by ``api/cli.py``: the administration commands join the ``formaflow`` command."""
    app.add_typer(academie_app, name="academie")
    app.add_typer(people_app, name="personnes")
    app.add_typer(suppleance_app, name="suppleance")
