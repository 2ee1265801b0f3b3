"""« Données personnelles »: what formaflow keeps about people and stagiaires, why, for how
long and whom to ask. Public, like the accessibility statement: a stagiaire who answers the
questionnaire without an account must be able to read it.

The retention periods are each académie's own settings (``stagiaire_retention_days``), read
where every capability reads them, so the page says what the product actually does.
"""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import APIRouter, Request, Response
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool

from api.deps import Wired
from api.pages.errors import PageRoute
from api.pages.rendering import render
from api.pages.viewer import MaybeSeen
from workflow.language.vocabulary import MIN_ANSWERS_SHOWN, PARTICIPATION_RULES
from workflow.reads.queries import reading
from workflow.store.academie_settings import academie_settings
from workflow.store.tables import academie_table

router = APIRouter(route_class=PageRoute, include_in_schema=False)


@dataclass(frozen=True, slots=True)
class AcademiePolicy:
    name: str
    retention_days: int
    rule: str
    contact: str | None


@router.get("/donnees-personnelles")
async def personal_data(request: Request, viewer: MaybeSeen, wired: Wired) -> Response:
    # ``viewer``: a signed-in person keeps their header (name, menu, sign-out) here too.
    def read() -> list[AcademiePolicy]:
        with reading(wired.engine) as conn:
            ids = conn.execute(
                select(academie_table.c.id).order_by(academie_table.c.name)
            ).scalars()
            found = []
            for academie_id in list(ids):
                settings = academie_settings(conn, int(academie_id))
                found.append(
                    AcademiePolicy(
                        settings.name,
                        settings.stagiaire_retention_days,
                        PARTICIPATION_RULES[settings.participation_rule],
                        settings.reply_to,
                    )
                )
            return found

    policies = await run_in_threadpool(read)
    return render(
        request,
        "pages/donnees_personnelles.html",
        {
            "page_title": "Données personnelles",
            "policies": policies,
            "threshold": MIN_ANSWERS_SHOWN,
        },
    )
