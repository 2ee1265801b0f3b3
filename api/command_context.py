"""The containers of ``formaflow`` commands, closed when the command ends.

A process would release its connections on exit anyway; closing them explicitly also keeps
a long-lived caller (the test suite runs commands in process) from holding PostgreSQL
sessions that block ``DROP DATABASE`` or a template copy. (Typer vendors its own click, so
a click context's ``call_on_close`` is not reachable through public API.)
"""

from __future__ import annotations

import typer

from api.wiring import Container, build
from workflow.engine.versions import UndefinedVersionInUse, check_versions
from workflow.reads.queries import reading

_opened: list[Container] = []


def command_container() -> Container:
    container = build()
    _opened.append(container)
    return container


def close_commands() -> None:
    while _opened:
        _opened.pop().close()


def require_defined_versions(container: Container) -> None:
    """Stop the command, in French, when dossiers run on a spec version ``states/`` no
    longer defines (they could not be read): at the start, never halfway through."""
    try:
        with reading(container.engine) as conn:
            check_versions(conn)
    except UndefinedVersionInUse as error:
        typer.secho(error.message, fg=typer.colors.RED, err=True)
        raise typer.Exit(code=1) from error


def dossier_container() -> Container:
    """The container of a command that reads dossiers, once their versions are checked."""
    container = command_container()
    require_defined_versions(container)
    return container
