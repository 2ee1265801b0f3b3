"""The authorization matrix: who may fire what (DOMAIN §2), and the people to try it with.

The expected roles are written out here from DOMAIN §2, independently of ``states/``, so a
change to a spec that the domain does not sanction shows up as a failing test
(``test_the_matrix_expectations_are_the_spec``) rather than as a silently moved target.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

import fastapi.routing
from fastapi import FastAPI
from pydantic import SecretStr
from sqlalchemy import Engine, select

from api.app import create_app
from api.settings import ApiSettings
from api.wiring import Container
from states import LATEST
from states.dispositifs import DISPOSITIFS
from states.roles import ACADEMIE_ROLES, BILAN_AUTHOR, SIGNATORY
from tests.support.api import Api
from workflow.demo import DemoBuilder, Team, demo_ouverture
from workflow.dossiers.inputs import DossierInput
from workflow.engine.service import FireCommand
from workflow.store.settings import WorkflowSettings
from workflow.store.tables import person_table

FORMATION = "dossier_formation"
OUVERTURE = "ouverture_parcours"
DOSSIER_PREFIX = "/api/v1/dossiers/{dossier_id}"

ROLES: tuple[str, ...] = (
    "pilote",
    "concepteur",
    "formateur",
    "tuteur",
    "stagiaire",
    "chef_etablissement",
    "ien",
    "coordonnateur_reseau",
    "gestionnaire",
    "responsable",
)


class Relation(StrEnum):
    ON_DOSSIER = "sur_le_dossier"
    """Holds the role on this dossier (académie roles: on this dossier's académie)."""
    OTHER_DOSSIER = "autre_dossier"
    """Holds the role on another dossier of the same académie, none on this one. An
    académie role cannot be held so (it reaches every dossier of its académie): for them
    this cell is someone holding the role in a third académie."""
    OTHER_ACADEMIE = "autre_academie"
    """Holds the role in another académie only (a dossier role: on a dossier there)."""


# DOMAIN §2, "allowed roles" column.
DOMAIN_ROLES: dict[tuple[str, str], frozenset[str]] = {
    (FORMATION, "emettre_contrat"): frozenset({"pilote", "gestionnaire"}),
    (FORMATION, "soumettre_scenario"): frozenset({"concepteur", "formateur"}),
    (FORMATION, "valider_scenario"): frozenset({"pilote"}),
    (FORMATION, "demander_revision"): frozenset({"pilote"}),
    (FORMATION, "demarrer"): frozenset({"formateur", "gestionnaire"}),
    (FORMATION, "terminer"): frozenset({"formateur", "gestionnaire"}),
    (FORMATION, "demander_complement"): frozenset({"gestionnaire"}),
    (FORMATION, "valider_bilan"): frozenset({"gestionnaire"}),
    (FORMATION, "accorder_paiement"): frozenset({"responsable"}),
    (FORMATION, "refuser_paiement"): frozenset({"responsable"}),
    (FORMATION, "mettre_en_paiement"): frozenset({"gestionnaire"}),
    (FORMATION, "annuler"): frozenset({"pilote", "responsable"}),
    # DOMAIN §8: an avenant follows the edit that changed the contract; no person fires it.
    (FORMATION, "etablir_avenant"): frozenset(),
    (OUVERTURE, "soumettre"): frozenset({"pilote", "concepteur"}),
    (OUVERTURE, "demander_complement"): frozenset({"gestionnaire"}),
    (OUVERTURE, "accepter"): frozenset({"gestionnaire"}),
    (OUVERTURE, "refuser"): frozenset({"gestionnaire"}),
    (OUVERTURE, "ouvrir"): frozenset({"gestionnaire"}),
}

# DOMAIN §2 "Required signatories": `signer` is for these roles only, per dispositif.
SIGNATORIES: dict[str, frozenset[str]] = {
    "vacation_accompagnement": frozenset({"formateur", "responsable"}),
    "hse_convention_ent": frozenset({"chef_etablissement", "responsable"}),
    "eafc_taux_a": frozenset({"formateur", "concepteur", "responsable"}),
}

# DOMAIN §2: the bilan is submitted by the formateur, by the chef d'établissement for an
# ENT convention (seed 001).
BILAN_AUTHORS: dict[str, frozenset[str]] = {
    "vacation_accompagnement": frozenset({"formateur"}),
    "hse_convention_ent": frozenset({"chef_etablissement"}),
    "eafc_taux_a": frozenset({"formateur"}),
}

DISPOSITIF_DEPENDENT = frozenset({"signer", "signer_avenant", "soumettre_bilan"})
OUTSIDE_THE_MATRIX = frozenset({"etablir_avenant", "signer_avenant"})
"""Not tried cell by cell here (tests/integration/test_documents.py does): the system alone
establishes an avenant, and signing one needs an avenant awaiting that very person."""
DEFAULT_DISPOSITIF = "vacation_accompagnement"
COMMENT = "Motif saisi pour la matrice d'autorisations."


def allowed_roles(workflow: str, trigger: str, dispositif: str | None) -> frozenset[str]:
    """The roles DOMAIN §2 allows to fire ``trigger`` on a dossier of ``dispositif``."""
    if workflow == FORMATION and trigger in {"signer", "signer_avenant"}:
        return SIGNATORIES[dispositif or ""]
    if workflow == FORMATION and trigger == "soumettre_bilan":
        return BILAN_AUTHORS[dispositif or ""]
    return DOMAIN_ROLES[(workflow, trigger)]


def spec_roles(workflow: str, trigger: str, dispositif: str | None) -> frozenset[str]:
    """The same, read from the spec with its derived roles resolved (what the code does)."""
    roles: set[str] = set()
    for role in LATEST[workflow].transition(trigger).roles:
        if role == SIGNATORY:
            roles |= {rule.role for rule in DISPOSITIFS[dispositif or ""].signatories}
        elif role == BILAN_AUTHOR:
            roles |= set(DISPOSITIFS[dispositif or ""].bilan_roles)
        else:
            roles.add(role)
    return frozenset(roles)


@dataclass(frozen=True, slots=True)
class Attempt:
    """One cell of the matrix: ``role`` in ``relation`` fires ``trigger`` from ``source``."""

    workflow: str
    trigger: str
    source: str
    dispositif: str | None
    role: str
    relation: Relation
    several_sources: bool = False

    @property
    def allowed(self) -> bool:
        return self.relation is Relation.ON_DOSSIER and self.role in allowed_roles(
            self.workflow, self.trigger, self.dispositif
        )

    @property
    def expected_status(self) -> int:
        if self.relation is not Relation.ON_DOSSIER:
            return 404
        return 200 if self.allowed else 403

    @property
    def comment_required(self) -> bool:
        return LATEST[self.workflow].transition(self.trigger).comment_required

    @property
    def id(self) -> str:
        name = self.trigger if self.workflow == FORMATION else f"ouverture.{self.trigger}"
        if self.several_sources:
            name += f"@{self.source}"
        if self.trigger in DISPOSITIF_DEPENDENT and self.workflow == FORMATION:
            name += f".{self.dispositif}"
        return f"{name}-{self.role}-{self.relation.value}"


def attempts() -> list[Attempt]:
    """Every trigger of both workflows × every source state × every role × relation."""
    found: list[Attempt] = []
    for workflow in (FORMATION, OUVERTURE):
        spec = LATEST[workflow]
        for transition in spec.transitions:
            if workflow == FORMATION and transition.trigger in OUTSIDE_THE_MATRIX:
                continue
            if workflow == OUVERTURE:
                dispositifs: tuple[str | None, ...] = (None,)
            elif transition.trigger in DISPOSITIF_DEPENDENT:
                dispositifs = tuple(DISPOSITIFS)
            else:
                dispositifs = (DEFAULT_DISPOSITIF,)
            for source in transition.sources:
                for dispositif in dispositifs:
                    for role in ROLES:
                        for relation in Relation:
                            found.append(
                                Attempt(
                                    workflow,
                                    transition.trigger,
                                    source,
                                    dispositif,
                                    role,
                                    relation,
                                    several_sources=len(transition.sources) > 1,
                                )
                            )
    return found


def team_member(team: Team, role: str) -> int:
    """The one person holding ``role`` in a test team (the first formateur / stagiaire)."""
    if role == "formateur":
        return team.formateurs[0]
    if role == "stagiaire":
        return team.stagiaires[0]
    person = getattr(team, role)
    assert isinstance(person, int), role
    return person


def make_container(engine: Engine, data_dir: Path) -> Container:
    """The app's container on the suite's database, like the ``api_container`` fixture."""
    container = Container(
        WorkflowSettings(database_url="sqlite://", data_dir=data_dir),
        ApiSettings(env="production", data_dir=data_dir, base_url="http://testserver"),
    )
    container.__dict__["engine"] = engine
    return container


def route_methods(app: FastAPI) -> list[tuple[str, frozenset[str]]]:
    """Every (path, methods) the app serves, included routers flattened.

    FastAPI ≥ 0.16x keeps included routers as nodes of ``app.routes`` and flattens them
    with ``fastapi.routing.iter_route_contexts``; older versions list the routes directly.
    """
    flatten = getattr(fastapi.routing, "iter_route_contexts", None)
    routes: Iterable[Any] = flatten(app.routes) if flatten is not None else app.routes
    found = []
    for route in routes:
        path, methods = getattr(route, "path", None), getattr(route, "methods", None)
        if isinstance(path, str) and methods:
            found.append((path, frozenset(methods)))
    return found


def dossier_read_paths(app: FastAPI) -> list[str]:
    """Every GET route of one dossier (``/api/v1/dossiers/{dossier_id}`` and below)."""
    return sorted(
        {
            path
            for path, methods in route_methods(app)
            if "GET" in methods
            and (path == DOSSIER_PREFIX or path.startswith(DOSSIER_PREFIX + "/"))
        }
    )


def collection_app(data_dir: Path) -> FastAPI:
    """An app built only to list its routes at collection time (it never touches a database)."""
    return create_app(
        Container(
            WorkflowSettings(database_url="sqlite://", data_dir=data_dir),
            ApiSettings(
                env="production",
                data_dir=data_dir,
                base_url="http://testserver",
                secret_key=SecretStr("matrice-" * 6),
            ),
        )
    )


def email_of(engine: Engine, person_id: int) -> str:
    with engine.connect() as conn:
        return str(
            conn.execute(
                select(person_table.c.email).where(person_table.c.id == person_id)
            ).scalar_one()
        )


@dataclass
class Matrix:
    """Three groups of people around the dossiers under test, and the dossiers themselves.

    ``team`` holds every role on the dossiers under test (gestionnaire and responsable on
    their académie); ``neighbours`` hold the same dossier roles on another dossier of the
    same académie; ``far`` hold every role in another académie.
    """

    builder: DemoBuilder
    api: Api
    academie_id: int
    slug: str
    team: Team
    neighbours: Team
    far: Team
    outsider: int
    """Holds no role anywhere."""
    foreign_gestionnaire: int
    """The gestionnaire of another académie (``World.other_academie_gestionnaire``)."""
    third_academie: dict[str, int]
    """A gestionnaire and a responsable of a third académie."""
    shared: dict[tuple[str, str, str | None], int] = field(default_factory=dict)

    def person(self, role: str, relation: Relation) -> int:
        if relation is Relation.ON_DOSSIER:
            return team_member(self.team, role)
        if relation is Relation.OTHER_DOSSIER:
            if role in ACADEMIE_ROLES:
                return self.third_academie[role]
            return team_member(self.neighbours, role)
        return team_member(self.far, role)

    def dossier_for(self, attempt: Attempt) -> int:
        """A fresh dossier for an attempt that will succeed; a shared one for refusals
        (a refusal writes nothing, which each test checks through the ETag)."""
        key = (attempt.workflow, attempt.source, attempt.dispositif)
        if attempt.allowed:
            return self.new_dossier(*key)
        if key not in self.shared:
            self.shared[key] = self.new_dossier(*key)
        return self.shared[key]

    def new_dossier(self, workflow: str, state: str, dispositif: str | None) -> int:
        if workflow == OUVERTURE:
            return self.new_ouverture(state)
        builder = self.builder
        dossier = builder.formation(
            self.academie_id,
            self.team,
            title=f"Matrice : {state}",
            dispositif=dispositif or DEFAULT_DISPOSITIF,
        )
        builder.drive(dossier, self.team, state)
        # What the guards of the next step need, so that an allowed attempt succeeds.
        if state == "contrat_signe":
            builder.complete_scenario(dossier, self.team)
        if state == "realisee":
            builder.complete_bilan(dossier, self.team)
        return dossier

    def new_ouverture(self, state: str) -> int:
        return ouverture_in(self.builder, self.academie_id, self.team, state)

    def etag(self, dossier: int) -> str:
        """The dossier's ETag, read by the académie's gestionnaire (who sees every dossier)."""
        return self.api.version(dossier, self.team.gestionnaire)


def ouverture_in(builder: DemoBuilder, academie_id: int, team: Team, state: str) -> int:
    """A complete request to open a parcours, with the whole team on it, in ``state``."""
    editor = builder.editor
    dossier = editor.create_dossier(
        DossierInput(
            title=f"Demande d'ouverture : {state}", academie_id=academie_id, workflow=OUVERTURE
        )
    )
    for person, role in team.dossier_roles():
        editor.assign(person, role, dossier_id=dossier)
    editor.save_ouverture(dossier, demo_ouverture("Parcours de la matrice"))
    for trigger, role, comment in OUVERTURE_STEPS[state]:
        builder.service.fire(
            FireCommand(dossier, trigger, team_member(team, role), comment=comment)
        )
    return dossier


OUVERTURE_STEPS: dict[str, list[tuple[str, str, str | None]]] = {
    "brouillon": [],
    "soumise": [("soumettre", "concepteur", None)],
    "a_completer": [
        ("soumettre", "concepteur", None),
        ("demander_complement", "gestionnaire", "Préciser la durée à distance."),
    ],
    "acceptee": [("soumettre", "pilote", None), ("accepter", "gestionnaire", None)],
}
