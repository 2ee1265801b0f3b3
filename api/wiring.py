"""Which implementation serves which port: the only place the parts are put together."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from sqlalchemy import Engine

from workflow.database import make_engine
from workflow.editing import DossierEditor
from workflow.service import WorkflowService
from workflow.settings import WorkflowSettings, get_settings


@dataclass
class Container:
    settings: WorkflowSettings

    @cached_property
    def engine(self) -> Engine:
        return make_engine(self.settings.database_url, self.settings)

    @cached_property
    def service(self) -> WorkflowService:
        return WorkflowService(self.engine)

    @cached_property
    def editor(self) -> DossierEditor:
        return DossierEditor(self.engine, self.settings.data_dir, clock=self.service.clock)


def build(settings: WorkflowSettings | None = None) -> Container:
    return Container(settings or get_settings())
