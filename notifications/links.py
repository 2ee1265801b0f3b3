"""Action links in emails: signed for one dossier, one action, one recipient, one version.

An email that expects an action carries ``/liens/<jeton>``. The token is signed (so it can
be neither forged nor altered), expires, names the dossier version it was written for (so
a link overtaken by events says so instead of acting on a dossier that moved on), and is
used once (its hash is recorded in the transaction of the transition it performed). It is
not a credential on its own: the page asks the person to be signed in as the recipient, so
a forwarded email cannot act for someone else. A GET only shows a confirmation page — mail
scanners open links — and only the confirmation, a POST, acts.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

SALT = "formaflow.action-link.v1"


@dataclass(frozen=True, slots=True)
class LinkClaim:
    dossier_id: int
    trigger: str
    person_id: int
    version: int


class LinkError(Exception):
    """A link that cannot be used; ``message`` is the French explanation shown."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class ActionLinks:
    def __init__(self, secret: str, base_url: str, max_age_days: int = 30) -> None:
        self._serializer = URLSafeTimedSerializer(secret, salt=SALT)
        self.base_url = base_url.rstrip("/")
        self.max_age_seconds = max_age_days * 86400

    def url(self, claim: LinkClaim) -> str:
        token = self._serializer.dumps(
            [claim.dossier_id, claim.trigger, claim.person_id, claim.version]
        )
        return f"{self.base_url}/liens/{token}"

    def read(self, token: str) -> LinkClaim:
        try:
            data = self._serializer.loads(token, max_age=self.max_age_seconds)
        except SignatureExpired as exc:
            raise LinkError(
                "lien-expire",
                "Ce lien a expiré. Ouvrez le dossier pour agir depuis formaflow.",
            ) from exc
        except BadSignature as exc:
            raise LinkError(
                "lien-invalide", "Ce lien n'est pas valide (il a peut-être été tronqué)."
            ) from exc
        if not (
            isinstance(data, list)
            and len(data) == 4
            and all(isinstance(data[i], int) for i in (0, 2, 3))
            and isinstance(data[1], str)
        ):
            raise LinkError("lien-invalide", "Ce lien n'est pas valide.")
        return LinkClaim(data[0], data[1], data[2], data[3])


def token_hash(token: str) -> str:
    """What is recorded of a used link: enough to refuse it twice, useless to anyone else."""
    return hashlib.sha256(token.encode()).hexdigest()
