"""``formaflow serve``, ``relay`` and ``timers``: the long-running processes (HTTP server,
email relay, deadline loop), kept apart from ``api/cli.py`` so each family stays small.

Each can run alone or several times over: they coordinate through the database only.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sys
import threading
from typing import Annotated

import typer
import uvicorn
import uvloop

from api.app import SERVE_RELAY, SERVE_TIMERS, create_app
from api.background import Background
from api.command_context import command_container, dossier_container, require_defined_versions
from api.demo_accounts import demo_password
from api.public_address import follow_listening_address, listening_url
from api.settings import get_api_settings, production_by_default
from notifications.relay import Relay, smtp_target
from workflow import demo
from workflow.store import migrate

log = logging.getLogger("formaflow.cli")


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


def register(app: typer.Typer) -> None:
    """Called by ``api/cli.py``: these commands join the ``formaflow`` command, in this
    order (``formaflow --help`` lists them as registered)."""
    app.command("serve", help="Démarre le serveur HTTP (API et documentation sur /api/docs).")(
        serve
    )
    app.command("relay", help="Envoie les courriels de la boîte d'envoi (jusqu'à Ctrl+C).")(
        relay_command
    )
    app.command("timers", help="Traite les échéances : relances, escalades, démarrages et fins.")(
        timers_command
    )
