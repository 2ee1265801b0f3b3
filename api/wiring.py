"""Which implementation serves which port: the only place the parts are put together."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from sqlalchemy import Connection, Engine

from api.accounts import Accounts
from api.documents.archive import ContractSealer
from api.documents.files import attestation_pdf
from api.documents.sealing import SealKeys, default_keys
from api.settings import ApiSettings, for_database, get_api_settings
from notifications.links import ActionLinks
from notifications.outbox import OutboxWriter
from notifications.participants import ParticipantMail
from notifications.settings import MailSettings, get_mail_settings
from notifications.tokens import QuestionnaireLinks, SigninLinks
from workflow.admin.bulk import BulkActions
from workflow.admin.paf import PafImporter
from workflow.admin.service import Administration
from workflow.documents.avenants import AvenantOnEdit
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
            self.mail_settings, self.questionnaire_links, attestation_pdf=attestation_pdf
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
    def sealer(self) -> ContractSealer:
        return ContractSealer(self.settings.data_dir, self.seal_keys)

    def seal_keys(self, conn: Connection, academie_id: int) -> SealKeys:
        """The académie's certificate from the settings, else the embedded self-signed one."""
        del conn, academie_id  # one certificate for the deployment today
        s = self.api_settings
        if s.seal_certificate_file is not None and s.seal_key_file is not None:
            password = s.seal_key_password
            return SealKeys(
                s.seal_certificate_file,
                s.seal_key_file,
                None if password is None else password.get_secret_value().encode(),
            )
        return default_keys(self.settings.data_dir, "formaflow (certificat de développement)")

    def seal_trust_root(self) -> Path | None:
        """The certificate sealed PDFs are checked against, if one exists (never made here)."""
        configured = self.api_settings.seal_certificate_file
        if configured is not None:
            return configured
        default = self.settings.data_dir / "sceau" / "certificat.pem"
        return default if default.is_file() else None

    @cached_property
    def service(self) -> WorkflowService:
        # Every transition writes its emails in its own transaction (the outbox), the last
        # signature of a version its sealed PDF (the file removed on rollback), and the
        # scenario's validation also convokes the stagiaires.
        return WorkflowService(
            self.engine,
            RULES,
            subscribers=[self.outbox, self.sealer, self.participant_mail.on_transition],
        )

    @cached_property
    def timer(self) -> DeadlineTimer:
        return DeadlineTimer(self.engine, self.service, subscribers=[self.outbox.on_deadline])

    @cached_property
    def editor(self) -> DossierEditor:
        # A change of a signed contract's terms makes its avenant in the same transaction.
        return DossierEditor(
            self.engine,
            self.settings.data_dir,
            clock=self.service.clock,
            after_change=[AvenantOnEdit(self.service)],
            session_subscribers=[self.participant_mail.on_session],
        )

    @cached_property
    def paf(self) -> PafImporter:
        return PafImporter(self.engine, clock=self.service.clock)

    @cached_property
    def bulk(self) -> BulkActions:
        # Reminders are the deadline timer's own emails.
        return BulkActions(self.engine, self.service, reminders=[self.outbox.on_deadline])

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
    def admin(self) -> Administration:
        return Administration(self.engine, clock=self.service.clock)

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
    settings = settings or get_settings()
    return Container(
        settings,
        for_database(api_settings or get_api_settings(), settings.database_url),
        mail_settings or get_mail_settings(),
    )
