"""Which implementation serves which port: the only place the parts are put together."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

from sqlalchemy import Engine

from api.accounts import Accounts
from api.settings import ApiSettings, get_api_settings
from notifications.links import ActionLinks
from notifications.outbox import OutboxWriter
from notifications.settings import MailSettings, get_mail_settings
from workflow.admin.service import Administration
from workflow.dossiers.editing import DossierEditor
from workflow.engine.deadlines import DeadlineTimer
from workflow.engine.service import WorkflowService
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
    def outbox(self) -> OutboxWriter:
        return OutboxWriter(self.mail_settings, links=self.links)

    @cached_property
    def service(self) -> WorkflowService:
        # Every transition writes its emails in its own transaction (the outbox).
        return WorkflowService(self.engine, RULES, subscribers=[self.outbox])

    @cached_property
    def timer(self) -> DeadlineTimer:
        return DeadlineTimer(self.engine, self.service, subscribers=[self.outbox.on_deadline])

    @cached_property
    def editor(self) -> DossierEditor:
        return DossierEditor(self.engine, self.settings.data_dir, clock=self.service.clock)

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
    return Container(
        settings or get_settings(),
        api_settings or get_api_settings(),
        mail_settings or get_mail_settings(),
    )
