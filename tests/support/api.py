"""A thin helper over the test client: who is calling, and a transition with its ETag."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from httpx2 import Response
from sqlalchemy import select

from api.wiring import Container
from workflow.store.tables import person_table

PAGE_PASSWORD = "un mot de passe des pages"


def page_session(client: TestClient, container: Container, person_id: int) -> str:
    """A browser-like session for ``person_id`` on ``client``; its CSRF token, which the
    page forms carry."""
    container.accounts.set_password(person_id, PAGE_PASSWORD)
    with container.engine.connect() as conn:
        address = conn.execute(
            select(person_table.c.email).where(person_table.c.id == person_id)
        ).scalar_one()
    login = client.post("/api/v1/auth/login", json={"email": address, "password": PAGE_PASSWORD})
    assert login.status_code == 200, login.text
    token: str = login.json()["csrf_token"]
    return token


class Api:
    def __init__(self, client: TestClient, container: Container) -> None:
        self.client = client
        self.container = container
        self._tokens: dict[int, str] = {}

    def auth(self, person_id: int) -> dict[str, str]:
        """Bearer headers for ``person_id`` (a token is created once per person)."""
        if person_id not in self._tokens:
            self._tokens[person_id] = self.container.accounts.create_token(person_id, "tests")
        return {"Authorization": f"Bearer {self._tokens[person_id]}"}

    def get(self, path: str, person_id: int, **kwargs: Any) -> Response:
        return self.client.get(path, headers=self.auth(person_id), **kwargs)

    def post(self, path: str, person_id: int, **kwargs: Any) -> Response:
        headers = {**self.auth(person_id), **kwargs.pop("headers", {})}
        return self.client.post(path, headers=headers, **kwargs)

    def put(self, path: str, person_id: int, **kwargs: Any) -> Response:
        headers = {**self.auth(person_id), **kwargs.pop("headers", {})}
        return self.client.put(path, headers=headers, **kwargs)

    def version(self, dossier_id: int, person_id: int) -> str:
        response = self.get(f"/api/v1/dossiers/{dossier_id}", person_id)
        assert response.status_code == 200, response.text
        return response.headers["ETag"]

    def fire(
        self,
        dossier_id: int,
        trigger: str,
        person_id: int,
        *,
        comment: str | None = None,
        payload: dict[str, Any] | None = None,
        etag: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> Response:
        """Fire as ``person_id``; the ETag is read first (by the same person) unless given."""
        if etag is None:
            etag = self.version(dossier_id, person_id)
        return self.post(
            f"/api/v1/dossiers/{dossier_id}/transitions/{trigger}",
            person_id,
            json={"comment": comment, "payload": payload or {}},
            headers={"If-Match": etag, **(headers or {})},
        )
