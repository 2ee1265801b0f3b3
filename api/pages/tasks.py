"""« Mes tâches »: my open charter tasks across dossiers, ticked and unticked by forms."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Path, Query, Request, Response
from fastapi.responses import RedirectResponse
from starlette.concurrency import run_in_threadpool

from api.deps import Wired
from api.pages.errors import PageRoute
from api.pages.flash import Flash, set_flash
from api.pages.rendering import render
from api.pages.signin import safe_next
from api.pages.viewer import Seen
from workflow.engine.tasks import TaskBook, TaskFilters, TaskStatus

router = APIRouter(route_class=PageRoute, include_in_schema=False)

TaskId = Annotated[int, Path(ge=1, le=2**31 - 1)]
STATUS_TABS = [
    (TaskStatus.OPEN, "À faire"),
    (TaskStatus.DONE, "Faites"),
    (TaskStatus.CLOSED, "Non faites"),
]


@router.get("/mes-taches")
def my_tasks(
    request: Request,
    viewer: Seen,
    wired: Wired,
    statut: Annotated[TaskStatus, Query()] = TaskStatus.OPEN,
) -> Response:
    book = TaskBook(wired.engine, wired.service.clock)
    tasks, more = book.mine(viewer.person_id, TaskFilters(status=statut, limit=200))
    return render(
        request,
        "pages/mes_taches.html",
        {
            "page_title": "Mes tâches",
            "tasks": tasks,
            "more": more,
            "status": statut.value,
            "tabs": [(s.value, label) for s, label in STATUS_TABS],
        },
    )


async def _tick(
    request: Request, wired: Wired, viewer: Seen, task_id: int, done: bool, back: str
) -> Response:
    book = TaskBook(wired.engine, wired.service.clock)
    action = book.complete if done else book.reopen
    task = await run_in_threadpool(action, task_id, viewer.person_id)
    response = RedirectResponse(safe_next(back), status_code=303)
    title = "Tâche faite" if done else "Tâche rouverte"
    set_flash(
        request, response, Flash("success", title, f"{task.label} ({task.dossier_reference})")
    )
    return response


@router.post("/taches/{task_id}/faite")
async def complete(
    request: Request,
    task_id: TaskId,
    viewer: Seen,
    wired: Wired,
    retour: Annotated[str, Form(max_length=500)] = "/mes-taches",
) -> Response:
    return await _tick(request, wired, viewer, task_id, True, retour)


@router.post("/taches/{task_id}/a-refaire")
async def reopen(
    request: Request,
    task_id: TaskId,
    viewer: Seen,
    wired: Wired,
    retour: Annotated[str, Form(max_length=500)] = "/mes-taches",
) -> Response:
    return await _tick(request, wired, viewer, task_id, False, retour)
