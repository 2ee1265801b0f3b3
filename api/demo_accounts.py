"""Passwords of the demo accounts: generated on first start, never written in the repo.

The password is kept (readable by the operator only) in the data directory so that
``make run`` can print it at every start; every demo person gets it.
"""

from __future__ import annotations

import secrets

from sqlalchemy import select

from api.wiring import Container
from workflow.demo import PEOPLE
from workflow.store.tables import person_table


def demo_password(container: Container) -> str:
    path = container.settings.data_dir / "demo-password.txt"
    if path.exists():
        return path.read_text().strip()
    password = "-".join(secrets.token_urlsafe(4) for _ in range(3))
    emails = [f"{login}@example.org" for login, _ in PEOPLE]
    with container.engine.connect() as conn:
        ids = (
            conn.execute(select(person_table.c.id).where(person_table.c.email.in_(emails)))
            .scalars()
            .all()
        )
    for person_id in ids:
        container.accounts.set_password(int(person_id), password)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(password + "\n")
    path.chmod(0o600)
    return password
