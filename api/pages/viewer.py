"""Who is looking at a page: the signed-in person and the roles that shape their menu.

Authentication and CSRF are the API's own (``api.deps.current_principal``: session
cookie, and for a form post the ``csrf_token`` field); a page only turns « not signed in »
into a redirect to the sign-in page instead of a 401.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from starlette.concurrency import run_in_threadpool

from api.accounts import Principal
from api.deps import Wired, current_principal
from api.problems import ApiProblem
from api.wiring import Container
from states.roles import ACADEMIE_ROLES
from workflow.dossiers.access import creatable_academies
from workflow.dossiers.team import person_of
from workflow.reads.institutions import home_academie
from workflow.reads.queries import reading
from workflow.reads.worklists import roles_held
from workflow.store.academie_settings import academie_settings


class LoginRequired(Exception):
    """No valid session: the page answers with a redirect to ``/connexion``."""


@dataclass(frozen=True, slots=True)
class MenuItem:
    href: str
    label: str


@dataclass(frozen=True, slots=True)
class Viewer:
    principal: Principal
    roles: frozenset[str]
    creates: bool = False
    """Whether some académie lets them open a dossier (``workflow.dossiers.access``'s rule)."""
    institution: str | None = None
    """The institution of their académie, under the Marianne in the page header (the
    DSFR's default « République française » when they belong to none)."""
    civilite: str | None = None
    """So that the labels of their own roles agree with them (« Formatrice »)."""

    @property
    def person_id(self) -> int:
        return self.principal.person_id

    @property
    def full_name(self) -> str:
        return self.principal.full_name

    @property
    def csrf_token(self) -> str:
        return self.principal.csrf_token or ""

    @property
    def is_staff(self) -> bool:
        """Gestionnaire or responsable of an académie: they follow every dossier of it."""
        return bool(self.roles & set(ACADEMIE_ROLES))

    @property
    def imports_paf(self) -> bool:
        """Gestionnaire or administrateur of an académie: they import its PAF."""
        return bool(self.roles & {"gestionnaire", "administrateur"})

    @property
    def acts_in_bulk(self) -> bool:
        """Gestionnaire or responsable: they launch bulk actions from the dashboard."""
        return bool(self.roles & {"gestionnaire", "responsable"})

    @property
    def administers(self) -> bool:
        """Administrateur of an académie: the « Administration » pages are theirs."""
        return "administrateur" in self.roles

    @property
    def reviews(self) -> bool:
        return "pilote" in self.roles

    @property
    def participates(self) -> bool:
        """A stagiaire of some dossier: « Mes formations » is theirs."""
        return "stagiaire" in self.roles

    @property
    def only_participates(self) -> bool:
        return self.roles == frozenset({"stagiaire"})

    @property
    def home(self) -> str:
        """Everyone lands on « À traiter »: what waits for them, whatever their roles; a
        person who only follows trainings, on « Mes formations »."""
        if self.only_participates:
            return "/mes-formations"
        return "/a-traiter"

    @property
    def menu(self) -> list[MenuItem]:
        items = [MenuItem("/a-traiter", "À traiter"), MenuItem("/mes-taches", "Mes tâches")]
        if self.participates:
            items.insert(0, MenuItem("/mes-formations", "Mes formations"))
        if self.reviews:
            items.append(MenuItem("/a-valider", "À valider"))
        if not self.only_participates:
            items.append(
                MenuItem("/tableau-de-bord", "Tableau de bord" if self.is_staff else "Mes dossiers")
            )
        if self.creates:
            items.append(MenuItem("/dossiers/nouveau", "Nouveau dossier"))
        if self.imports_paf:
            items.append(MenuItem("/paf", "Import du PAF"))
        if self.administers:
            items.append(MenuItem("/administration", "Administration"))
        return items


def _roles(
    container: Container, person_id: int
) -> tuple[frozenset[str], bool, str | None, str | None]:
    with reading(container.engine) as conn:
        roles = roles_held(conn, person_id, container.service.clock())
        academie_id = home_academie(conn, person_id)
        institution = None if academie_id is None else academie_settings(conn, academie_id)
        person = person_of(conn, person_id)
        return (
            roles,
            bool(creatable_academies(conn, person_id)),
            None if institution is None else institution.institution,
            None if person is None else person.civilite,
        )


async def current_viewer(request: Request, wired: Wired) -> Viewer:
    try:
        principal = await current_principal(request, wired)
    except ApiProblem as problem:
        if problem.status == 401:
            raise LoginRequired from problem
        raise
    roles, creates, institution, civilite = await run_in_threadpool(
        _roles, wired, principal.person_id
    )
    viewer = Viewer(principal, roles, creates, institution, civilite)
    request.state.viewer = viewer
    return viewer


Seen = Annotated[Viewer, Depends(current_viewer)]


async def optional_viewer(request: Request, wired: Wired) -> Viewer | None:
    """The signed-in person on a page anyone may read (legal notices): their header and
    menu when they have a session, the anonymous page otherwise — never a redirect."""
    try:
        return await current_viewer(request, wired)
    except (LoginRequired, ApiProblem):
        return None


MaybeSeen = Annotated[Viewer | None, Depends(optional_viewer)]
