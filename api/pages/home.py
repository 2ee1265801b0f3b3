"""« À traiter »: everyone's home page after sign-in.

What waits for me, by kind of work — each dossier with what is expected, since when, the
due date, and a button to the page where that work is done — then what I wait on from
others; for EAFC staff, their académies' queue and what is late, by the timers' own rule.
The list is ``workflow.reads.todo``'s, which is the service's own answer: it can never
offer an action the service refuses. « Mes tâches » (the charter checklist) stays one
click away, with how many tasks are open and late.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Request, Response
from starlette.concurrency import run_in_threadpool

from api.deps import Wired
from api.pages.errors import PageRoute
from api.pages.rendering import render
from api.pages.viewer import Seen, Viewer
from api.wiring import Container
from workflow.engine.rows import DossierRow
from workflow.engine.tasks import TaskBook, TaskFilters, TaskStatus
from workflow.language.durations import in_days, since
from workflow.reads.todo import WorkItem, todo

router = APIRouter(route_class=PageRoute, include_in_schema=False)

HOME = "/a-traiter"
CONTRACT_PAGE = "/dossiers/{dossier_id}/contrat"
"""The contract page (documents helper); « Signer » leads there once it exists."""


@dataclass(frozen=True, slots=True)
class WorkLink:
    """Where a kind of work is done, and what its button says."""

    href: str
    label: str


def work_link(request: Request, item: WorkItem) -> WorkLink:
    """The page where the work of ``item`` is done (its button on « À traiter »)."""
    dossier: DossierRow = item.dossier
    base = f"/dossiers/{dossier.id}"
    kind, state = item.kind.id, dossier.state
    if kind == "signature":
        return WorkLink(f"{base}/contrat", "Lire et signer le contrat")
    links = {
        "contrat": WorkLink(base, "Émettre le contrat"),
        "scenario": WorkLink(
            f"{base}/scenario",
            "Réviser le scénario" if state == "scenario_a_reviser" else "Rédiger le scénario",
        ),
        "validation_scenario": WorkLink(f"{base}/scenario", "Lire et valider le scénario"),
        "demarrage": WorkLink(f"{base}/sessions", "Voir les sessions et démarrer"),
        "en_cours": WorkLink(f"{base}/sessions", "Enregistrer les sessions"),
        "bilan": WorkLink(
            f"{base}/bilan",
            "Compléter le bilan" if state == "bilan_a_completer" else "Rédiger le bilan",
        ),
        "examen_bilan": WorkLink(f"{base}/bilan", "Examiner le bilan"),
        "decision": WorkLink(f"{base}/paiement", "Décider du paiement"),
        "mise_en_paiement": WorkLink(
            f"{base}/actions/mettre_en_paiement", "Vérifier et mettre en paiement"
        ),
        "demande": WorkLink(f"{base}/demande", "Compléter la demande"),
        "instruction": WorkLink(f"{base}/demande", "Instruire la demande"),
        "ouverture": WorkLink(f"{base}/demande", "Ouvrir le parcours"),
    }
    return links.get(kind, WorkLink(base, "Ouvrir le dossier"))


def has_route(request: Request, path: str) -> bool:
    """Whether the application serves ``path`` (a page another part may add)."""
    return any(getattr(route, "path", None) == path for route in request.app.routes)


def _context(request: Request, container: Container, viewer: Viewer) -> dict[str, Any]:
    found = todo(container.service, viewer.person_id)
    book = TaskBook(container.engine, container.service.clock)
    open_tasks, more_tasks = book.mine(viewer.person_id, TaskFilters(TaskStatus.OPEN, limit=200))
    return {
        "todo": found,
        "links": {
            item.dossier.id: work_link(request, item)
            for group in found.groups
            for item in group.items
        },
        "now": container.service.clock(),
        "open_tasks": len(open_tasks),
        "more_tasks": more_tasks,
        "late_tasks": sum(1 for t in open_tasks if t.overdue),
    }


@router.get(HOME)
async def home(request: Request, viewer: Seen, wired: Wired) -> Response:
    context = await run_in_threadpool(_context, request, wired, viewer)
    return render(
        request,
        "pages/a_traiter.html",
        {**context, "page_title": "À traiter", "since": since, "in_days": in_days},
    )
