"""The ``formaflow`` command: French help and messages, since EAFC staff read them.

Every engine error is printed as its French message and turns into a non-zero exit code
(1 for a refused action, 2 for bad usage), never a traceback.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import signal
import sys
import threading
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

import typer
import uvicorn
import uvloop
from sqlalchemy.exc import DBAPIError

from api import (
    commands_admin,
    commands_archive,
    commands_paf,
    commands_participants,
    commands_payments,
    commands_workflow,
)
from api.accounts import MIN_PASSWORD_LENGTH
from api.app import SERVE_RELAY, SERVE_TIMERS, create_app
from api.background import Background
from api.command_context import (
    close_commands,
    command_container,
    dossier_container,
    require_defined_versions,
)
from api.demo_accounts import demo_password
from api.public_address import follow_listening_address, listening_url
from api.settings import get_api_settings, production_by_default
from api.walkthrough import run_walkthrough
from notifications import backlog
from notifications.relay import Relay, smtp_target
from states import LATEST
from states.roles import ACADEMIE_ROLES, CIVILITES, role_label
from workflow import demo
from workflow.dossiers.files import orphans, remove_orphans
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
from workflow.store.database import failure_message

log = logging.getLogger("formaflow.cli")

app = typer.Typer(
    help="formaflow — dossiers de formation hybride : contrats, scénarios, bilans, paiements.",
    no_args_is_help=True,
    add_completion=False,
)
db_app = typer.Typer(help="Base de données.", no_args_is_help=True)
app.add_typer(db_app, name="db")
user_app = typer.Typer(help="Comptes des personnes.", no_args_is_help=True)
app.add_typer(user_app, name="user")
token_app = typer.Typer(
    help="Jetons d'API (Bearer) pour les autres systèmes.", no_args_is_help=True
)
app.add_typer(token_app, name="token")
outbox_app = typer.Typer(help="Boîte d'envoi des courriels.", no_args_is_help=True)
app.add_typer(outbox_app, name="outbox")
files_app = typer.Typer(help="Fichiers des documents déposés.", no_args_is_help=True)
app.add_typer(files_app, name="fichiers")
commands_payments.register(app)
commands_paf.register(app)
commands_participants.register(app)
commands_admin.register(app)
commands_workflow.register(app)
commands_archive.register(app, db_app)


def _fail(error: WorkflowError) -> typer.Exit:
    typer.secho(error.message, fg=typer.colors.RED, err=True)
    return typer.Exit(code=1)


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


@app.command("fire", help="Déclenche une action sur un dossier, au nom d'une personne.")
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


@app.command(
    "actions", help="Liste les actions qu'une personne peut faire maintenant sur un dossier."
)
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


@app.command("history", help="Affiche l'historique d'un dossier.")
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


@app.command("status", help="Nombre de dossiers par état et par phase.")
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


@app.command("diagram", help="Exporte le diagramme d'un workflow (Mermaid ou Graphviz DOT).")
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


@app.command("delegate", help="Désigne un suppléant pour une période (pilote par défaut).")
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


@app.command(
    "walkthrough", help="Déroule un dossier de démonstration de bout en bout, en l'expliquant."
)
def walkthrough() -> None:
    container = command_container()
    migrate.upgrade(container.engine)
    require_defined_versions(container)
    if not demo.is_loaded(container.engine):
        demo.load_demo(container.engine, container.settings.data_dir, container.service)
    run_walkthrough(container, typer.echo)


@app.command("serve", help="Démarre le serveur HTTP (API et documentation sur /api/docs).")
def serve(
    host: Annotated[str, typer.Option(help="Adresse d'écoute.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port d'écoute.")] = 8000,
    workers: Annotated[int, typer.Option(help="Processus (1 en développement).")] = 1,
    relay: Annotated[
        bool, typer.Option("--relay/--no-relay", help="Envoyer les courriels dans ce processus.")
    ] = True,
    timers: Annotated[
        bool,
        typer.Option("--timers/--no-timers", help="Traiter les échéances dans ce processus."),
    ] = True,
) -> None:
    container = command_container()
    public = follow_listening_address(container.api_settings, container.mail_settings, host, port)
    background = Background(container, relay=relay, timers=timers)
    migrate.upgrade(container.engine)
    if production_by_default(get_api_settings(), container.settings.database_url):
        log.warning("FORMAFLOW_ENV unset with a PostgreSQL database: production mode, no demo")
        typer.echo(
            "FORMAFLOW_ENV n'est pas défini et la base est PostgreSQL : démarrage en mode "
            "production (pas de données de démonstration, pas de /dev/mailbox). "
            "FORMAFLOW_ENV=development pour un serveur de développement."
        )
    require_defined_versions(container)
    if container.api_settings.env == "development":
        if not demo.is_loaded(container.engine):
            typer.echo("Premier démarrage : chargement des données de démonstration…")
            demo.load_demo(container.engine, container.settings.data_dir, container.service)
        password = demo_password(container)
        typer.echo(f"\nformaflow écoute sur {public}  (documentation : {public}/api/docs)")
        if public != listening_url(host, port):
            typer.echo(f"(adresse d'écoute : {listening_url(host, port)})")
        typer.echo(f"Comptes de démonstration, mot de passe commun : {password}")
        for login, name in demo.PEOPLE[:16]:
            typer.echo(f"  {login}@example.org  ({name})")
        typer.echo("  … et les stagiaires (voir README).")
        mail = container.mail_settings
        if relay and not mail.smtp_host:
            typer.echo(
                f"Courriels : serveur SMTP de développement sur 127.0.0.1:{mail.dev_smtp_port}, "
                f"à lire sur {public}/dev/mailbox\n"
            )
    if workers > 1:
        # Several processes need an import string, and uvicorn's spawned workers cannot
        # re-import this console script: hand over to ``python -m uvicorn``. Each worker
        # builds its own app, relay and deadline loop; they coordinate through the database.
        os.environ[SERVE_RELAY] = "1" if relay else "0"
        os.environ[SERVE_TIMERS] = "1" if timers else "0"
        command = [sys.executable, "-m", "uvicorn", "api.app:served_app", "--factory"]
        command += ["--host", host, "--port", str(port), "--workers", str(workers)]
        proxies = container.api_settings.uvicorn_proxy_options()
        if proxies["proxy_headers"]:
            command += [
                "--proxy-headers",
                "--forwarded-allow-ips",
                str(proxies["forwarded_allow_ips"]),
            ]
        else:
            command += ["--no-proxy-headers"]
        os.execv(sys.executable, command)  # noqa: S606
    uvicorn.run(
        create_app(container, background),
        host=host,
        port=port,
        log_level="info",
        **container.api_settings.uvicorn_proxy_options(),  # type: ignore[arg-type]
    )


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


@app.command("relay", help="Envoie les courriels de la boîte d'envoi (jusqu'à Ctrl+C).")
def relay_command(
    once: Annotated[
        bool, typer.Option("--once", help="Envoyer ce qui est dû maintenant, puis s'arrêter.")
    ] = False,
) -> None:
    container = command_container()
    mail = container.mail_settings
    relay = Relay(container.engine, mail, smtp_target(mail))
    if once:
        sent = uvloop.run(relay.drain())
        typer.echo(f"{sent} courriel(s) traité(s).")
        return
    typer.echo(f"Relais vers {relay.target.host}:{relay.target.port} (Ctrl+C pour arrêter).")
    stop = asyncio.Event()

    async def main() -> None:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await relay.run(stop)

    uvloop.run(main())


@app.command("timers", help="Traite les échéances : relances, escalades, démarrages et fins.")
def timers_command(
    once: Annotated[
        bool, typer.Option("--once", help="Traiter ce qui est dû maintenant, puis s'arrêter.")
    ] = False,
) -> None:
    container = dossier_container()
    interval = container.mail_settings.timer_interval_seconds
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    while True:
        acted = container.timer.run_once()
        typer.echo(f"{acted} échéance(s) traitée(s).")
        if once or stop.wait(interval):
            return


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
