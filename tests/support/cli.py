"""Running the ``formaflow`` command in tests.

Most tests call it in process, through typer's runner: the same command objects the console
script calls, against the same real database, without paying a Python start-up and the
imports (about two seconds here) for every command. The commands that run an event loop
(``relay``, ``timers``) and one round per command family go through a real subprocess,
so that the console script itself, its environment handling and its exit codes stay tested.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

from api.cli import app
from api.command_context import close_commands
from api.settings import get_api_settings
from notifications.settings import get_mail_settings
from workflow.store.settings import get_settings


def run_cli(
    url: str,
    data: Path,
    *args: str,
    extra: dict[str, str] | None = None,
    process: bool = False,
) -> subprocess.CompletedProcess[str]:
    """Run ``formaflow ARGS`` with only the given ``FORMAFLOW_*`` settings.

    In process, an exception the command did not turn into an exit code is re-raised:
    a traceback must fail the test, as it would show one to the agent.
    """
    settings = {"FORMAFLOW_DATABASE_URL": url, "FORMAFLOW_DATA_DIR": str(data), **(extra or {})}
    if process:
        env = {k: v for k, v in os.environ.items() if not k.startswith("FORMAFLOW_")}
        return subprocess.run(
            [sys.executable, "-m", "api", *args],
            env=env | settings,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
    unset: dict[str, str | None] = {k: None for k in os.environ if k.startswith("FORMAFLOW_")}
    _forget_settings()
    try:
        result = CliRunner().invoke(app, list(args), env=unset | settings, catch_exceptions=True)
    finally:
        close_commands()
        # A process reads its settings once; here each command must read its own, and the
        # next test must not inherit them.
        _forget_settings()
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return subprocess.CompletedProcess(
        ["formaflow", *args], result.exit_code, result.stdout, result.stderr
    )


def _forget_settings() -> None:
    for cached in (get_settings, get_api_settings, get_mail_settings):
        cached.cache_clear()
