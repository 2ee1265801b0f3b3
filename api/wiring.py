"""Which implementation serves which port: the only place the parts are put together."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

from sqlalchemy import Engine

from api.accounts import Accounts
from api.exports.participants import render_attestation
from api.settings import ApiSettings, get_api_settings
from notifications.links import ActionLinks
from notifications.outbox import OutboxWriter
from notifications.participants import ParticipantMail
from notifications.settings import MailSettings, get_mail_settings
from notifications.tokens import QuestionnaireLinks, SigninLinks
from workflow.dossiers.editing import DossierEditor
from workflow.engine.deadlines import DeadlineTimer
from workflow.engine.service import WorkflowService
from workflow.participants.attendance import Registers
from workflow.participants.attestations import AttestationMailing
from workflow.participants.enrolment import Enrolments
from workflow.participants.etablissements import Etablissements
from workflow.participants.purge import Purges
from workflow.participants.questionnaire import Questionnaires
from workflow.rules import RULES
from workflow.store.database import make_engine
from workflow.store.settings import WorkflowSettings, get_settings


@dataclass
class Container:
    settings: WorkflowSettings
    api_settings: ApiSettings = field(default_factory=get_api_settings)
    mail_settings: MailSettings = field(default_factory=get_mail_settings)

    @cached_property
    def engine(self) -> Engine:
        return make_engine(self.settings.database_url, self.settings)

    @cached_property
    def links(self) -> ActionLinks:
        return ActionLinks(self.api_settings.signing_key(), self.mail_settings.base_url)

    @cached_property
    def questionnaire_links(self) -> QuestionnaireLinks:
        return QuestionnaireLinks(self.api_settings.signing_key(), self.mail_settings.base_url)

    @cached_property
    def signin_links(self) -> SigninLinks:
        return SigninLinks(self.api_settings.signing_key(), self.mail_settings.base_url)

    @cached_property
    def participant_mail(self) -> ParticipantMail:
        return ParticipantMail(
            self.mail_settings, self.questionnaire_links, attestation_html=render_attestation
        )

    @cached_property
    def outbox(self) -> OutboxWriter:
        # A stagiaire's « terminer » email and questionnaire reminder carry their own link.
        personal = {
            f"dossier_formation/{name}": self.participant_mail.questionnaire_context
            for name in ("terminer", "rappel_questionnaire")
        }
        return OutboxWriter(self.mail_settings, links=self.links, personal=personal)

    @cached_property
    def service(self) -> WorkflowService:
        # Every transition writes its emails in its own transaction (the outbox); the
        # scenario's validation also convokes the stagiaires.
        return WorkflowService(
            self.engine, RULES, subscribers=[self.outbox, self.participant_mail.on_transition]
        )

    @cached_property
    def timer(self) -> DeadlineTimer:
        return DeadlineTimer(self.engine, self.service, subscribers=[self.outbox.on_deadline])

    @cached_property
    def editor(self) -> DossierEditor:
        return DossierEditor(
            self.engine,
            self.settings.data_dir,
            clock=self.service.clock,
            session_subscribers=[self.participant_mail.on_session],
        )

    @cached_property
    def enrolments(self) -> Enrolments:
        return Enrolments(
            self.engine,
            clock=self.service.clock,
            subscribers=[self.participant_mail.on_participants],
        )

    @cached_property
    def registers(self) -> Registers:
        return Registers(self.engine, clock=self.service.clock)

    @cached_property
    def questionnaires(self) -> Questionnaires:
        return Questionnaires(self.engine, clock=self.service.clock)

    @cached_property
    def purges(self) -> Purges:
        return Purges(self.engine, clock=self.service.clock)

    @cached_property
    def attestation_mailing(self) -> AttestationMailing:
        return AttestationMailing(
            self.engine, self.participant_mail.attestations, clock=self.service.clock
        )

    @cached_property
    def etablissements(self) -> Etablissements:
        return Etablissements(self.engine, clock=self.service.clock)

    @cached_property
    def accounts(self) -> Accounts:
        return Accounts(self.engine, self.api_settings, clock=self.service.clock)

    def close(self) -> None:
        """Release the database connections, if any were opened."""
        engine = self.__dict__.pop("engine", None)
        if engine is not None:
            engine.dispose()


def build(
    settings: WorkflowSettings | None = None,
    api_settings: ApiSettings | None = None,
    mail_settings: MailSettings | None = None,
) -> Container:
    return Container(
        settings or get_settings(),
        api_settings or get_api_settings(),
        mail_settings or get_mail_settings(),
    )
