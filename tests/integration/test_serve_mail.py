"""``formaflow serve`` as ``make run`` starts it: a transition's email reaches /dev/mailbox.

``FORMAFLOW_BASE_URL`` is left unset, as with ``make run PORT=…``: the links in the email
must then follow the port the server listens on.

A real server process on its embedded defaults (demo data, embedded SMTP server, relay and
timers in-process), driven over HTTP like a person with curl would.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.smtp import free_port

FORMAFLOW = str(Path(sys.executable).parent / "formaflow")


@pytest.fixture
def served(
    fresh_database_url: str, tmp_path: Path
) -> Iterator[tuple[str, dict[str, str], subprocess.Popen[bytes]]]:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("FORMAFLOW_")}
    env |= {
        "FORMAFLOW_DATABASE_URL": fresh_database_url,
        "FORMAFLOW_DATA_DIR": str(tmp_path / "var"),
        "FORMAFLOW_DEV_MAILBOX_DIR": str(tmp_path / "var" / "mailbox"),
        "FORMAFLOW_DEV_SMTP_PORT": str(free_port()),
        "FORMAFLOW_ENV": "development",
    }
    log = (tmp_path / "serve.log").open("wb")
    process = subprocess.Popen(
        [FORMAFLOW, "serve", "--port", str(port)], cwd=tmp_path, env=env, stdout=log, stderr=log
    )
    base = f"http://127.0.0.1:{port}"
    try:
        _until(lambda: _answers(f"{base}/healthz"), process, timeout=180)
        yield base, env, process
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()


def _answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=5).status_code == 200
    except httpx.TransportError:
        return False


def _until(condition: Callable[[], bool], process: subprocess.Popen[bytes], timeout: float) -> None:
    """Wait for ``condition``, failing at once if the server died (bounded, not a timing test)."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not reached in time"
        try:
            process.wait(timeout=0.2)  # returns early only if the server process has ended
        except subprocess.TimeoutExpired:
            continue
        raise AssertionError(f"the server stopped with code {process.returncode}")


def test_firing_in_the_api_puts_the_email_in_the_dev_mailbox(
    served: tuple[str, dict[str, str], subprocess.Popen[bytes]],
) -> None:
    base, env, process = served

    def token(email: str) -> str:
        made = subprocess.run(
            [FORMAFLOW, "token", "create", email],
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
        return made.stdout.strip().splitlines()[-1]

    # The dev mailbox shows each person their own messages, and the académie's to its
    # gestionnaire: she reads what the pilote's action sent.
    gestion = {"Authorization": f"Bearer {token('camille.morel@example.org')}"}
    with httpx.Client(
        base_url=base,
        timeout=30,
        headers={"Authorization": f"Bearer {token('nadia.rousseau@example.org')}"},
    ) as http:
        found = http.get("/api/v1/dossiers", params={"q": "26-DEM-0004"}).json()
        (dossier,) = found["items"]
        assert dossier["state"] == "scenario_soumis"
        detail = http.get(f"/api/v1/dossiers/{dossier['id']}")
        fired = http.post(
            f"/api/v1/dossiers/{dossier['id']}/transitions/valider_scenario",
            headers={"If-Match": detail.headers["ETag"]},
            json={"comment": None, "payload": {}},
        )
        assert fired.status_code == 200, fired.text
        # « … : vos tâches en amont » to those who have some, « Scénario validé » to others.
        subject = "26-DEM-0004 — Scénario validé"

        def mailbox() -> str:
            return http.get("/dev/mailbox", headers=gestion).text

        _until(lambda: subject in mailbox(), process, timeout=120)
        page = mailbox()
        link = r'<td[^>]*>([^<]*)</td>\s*<td[^>]*><a href="(/dev/mailbox/[0-9a-f-]+)">'
        link += re.escape(subject)
        rows = re.findall(link, page)
        recipients = {to for to, _ in rows}
        # The académie's gestionnaire is told, with the team; the pilot who validated too,
        # for the « en amont » tasks the validation gave them (issue 12).
        assert any("camille.morel@example.org" in to for to in recipients), recipients
        (own,) = [path for to, path in rows if "nadia.rousseau@example.org" in to]
        assert "Établir le calendrier" in http.get(own, headers=gestion).text
        message = http.get(rows[0][1], headers=gestion).text
        assert "a validé le scénario hybride" in message
        assert f"{base}/dossiers/{dossier['id']}" in message
