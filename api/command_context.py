"""The containers of ``formaflow`` commands, closed when the command ends.

A process would release its connections on exit anyway; closing them explicitly also keeps
a long-lived caller (the test suite runs commands in process) from holding PostgreSQL
sessions that block ``DROP DATABASE`` or a template copy. (Typer vendors its own click, so
a click context's ``call_on_close`` is not reachable through public API.)
"""

from __future__ import annotations

from api.wiring import Container, build

_opened: list[Container] = []


def command_container() -> Container:
    container = build()
    _opened.append(container)
    return container


def close_commands() -> None:
    while _opened:
        _opened.pop().close()
