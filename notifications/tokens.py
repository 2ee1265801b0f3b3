"""Signed links for people without a password: the evaluation questionnaire, and the email
sign-in link of the embedded default.

Both are signed (neither forged nor altered), expire, and serve once: the questionnaire
because the enrolment records that it answered, the sign-in link because its hash is
recorded when it opens a session. Neither says anything readable about the person: the
payload is ids, and the token is meaningless without the server's key.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from notifications.links import LinkError


@dataclass(frozen=True, slots=True)
class QuestionnaireClaim:
    dossier_id: int
    enrolment_id: int


class QuestionnaireLinks:
    SALT = "formaflow.questionnaire.v1"

    def __init__(self, secret: str, base_url: str, max_age_days: int = 180) -> None:
        self._serializer = URLSafeTimedSerializer(secret, salt=self.SALT)
        self.base_url = base_url.rstrip("/")
        self.max_age_seconds = max_age_days * 86400

    def token(self, claim: QuestionnaireClaim) -> str:
        return str(self._serializer.dumps([claim.dossier_id, claim.enrolment_id]))

    def url(self, claim: QuestionnaireClaim) -> str:
        return f"{self.base_url}/questionnaire/{self.token(claim)}"

    def read(self, token: str) -> QuestionnaireClaim:
        try:
            data = self._serializer.loads(token, max_age=self.max_age_seconds)
        except SignatureExpired as exc:
            raise LinkError(
                "lien-expire", "Ce lien de questionnaire a expiré : le questionnaire est fermé."
            ) from exc
        except BadSignature as exc:
            raise LinkError(
                "lien-invalide",
                "Ce lien de questionnaire n'est pas valide (il a peut-être été tronqué ou "
                "modifié). Utilisez le lien reçu par courriel, tel quel.",
            ) from exc
        if not (isinstance(data, list) and len(data) == 2 and all(type(v) is int for v in data)):
            raise LinkError("lien-invalide", "Ce lien de questionnaire n'est pas valide.")
        return QuestionnaireClaim(data[0], data[1])


@dataclass(frozen=True, slots=True)
class SigninClaim:
    person_id: int
    nonce: str


class SigninLinks:
    SALT = "formaflow.signin-link.v1"

    def __init__(self, secret: str, base_url: str, max_age_minutes: int = 30) -> None:
        self._serializer = URLSafeTimedSerializer(secret, salt=self.SALT)
        self.base_url = base_url.rstrip("/")
        self.max_age_minutes = max_age_minutes

    def url(self, person_id: int) -> str:
        token = self._serializer.dumps([person_id, secrets.token_urlsafe(12)])
        return f"{self.base_url}/connexion/lien/{token}"

    def read(self, token: str) -> SigninClaim:
        try:
            data = self._serializer.loads(token, max_age=self.max_age_minutes * 60)
        except SignatureExpired as exc:
            raise LinkError(
                "lien-expire",
                f"Ce lien de connexion a expiré (il vaut {self.max_age_minutes} minutes) : "
                "demandez-en un nouveau.",
            ) from exc
        except BadSignature as exc:
            raise LinkError(
                "lien-invalide",
                "Ce lien de connexion n'est pas valide (il a peut-être été tronqué) : "
                "demandez-en un nouveau.",
            ) from exc
        if not (
            isinstance(data, list)
            and len(data) == 2
            and type(data[0]) is int
            and isinstance(data[1], str)
        ):
            raise LinkError("lien-invalide", "Ce lien de connexion n'est pas valide.")
        return SigninClaim(data[0], data[1])
