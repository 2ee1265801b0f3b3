"""« À traiter » against the service, over the whole demo (issue 12's acceptance).

For every demo person, the dossiers « À traiter » lists are exactly those where the service
itself says an action is awaited of them today — asked of *every* dossier of the demo, not
only of the candidates the page's one query finds. And each action it lists, tried for
real in a transaction rolled back afterwards, is accepted by the service, or refused only
for the very items it shows as missing: the list can promise nothing the service refuses.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from sqlalchemy import Engine, create_engine, make_url, select, text

from workflow.demo import DemoSummary, load_demo
from workflow.dossiers.dates import EARLY_CONFIRMED
from workflow.engine.errors import GuardFailed
from workflow.engine.service import FireCommand, WorkflowService
from workflow.reads.todo import WorkItem, todo
from workflow.rules import RULES
from workflow.store.academie_settings import PACKAGED
from workflow.store.database import make_engine
from workflow.store.migrate import upgrade
from workflow.store.settings import get_settings
from workflow.store.tables import dossier_table


@dataclass
class Demo:
    engine: Engine
    service: WorkflowService
    summary: DemoSummary
    dossiers: list[int]


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory, database_url: str) -> Iterator[Demo]:
    """The demo, loaded once for the module into a database of its own (of the suite's
    kind: a SQLite file, or a database on the suite's PostgreSQL server)."""
    directory = tmp_path_factory.mktemp("todo")
    academies = get_settings().academies_dir
    assert academies is not None
    if not (academies / "demo.toml").exists():
        (academies / "demo.toml").write_text((PACKAGED / "demo.toml").read_text("utf-8"), "utf-8")
    if database_url.startswith("sqlite"):
        url, admin = f"sqlite:///{directory / 'demo.db'}", None
    else:
        name = f"formaflow_todo_{uuid.uuid4().hex[:12]}"
        admin = create_engine(database_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        url = make_url(database_url).set(database=name).render_as_string(hide_password=False)
    engine = make_engine(url)
    try:
        upgrade(engine)
        service = WorkflowService(engine, RULES)
        summary = load_demo(engine, directory, service)
        with engine.connect() as conn:
            ids = list(
                conn.execute(select(dossier_table.c.id).order_by(dossier_table.c.id)).scalars()
            )
        yield Demo(engine, service, summary, ids)
    finally:
        engine.dispose()
        if admin is not None:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()


def _listed(demo: Demo, person: int) -> dict[int, WorkItem]:
    return {
        item.dossier.id: item for group in todo(demo.service, person).groups for item in group.items
    }


def test_a_traiter_is_the_services_own_answer_for_every_demo_person(demo: Demo) -> None:
    nonempty = 0
    for login, person in demo.summary.people.items():
        expected = {
            dossier
            for dossier in demo.dossiers
            if any(a.awaited for a in demo.service.available(dossier, person))
        }
        listed = _listed(demo, person)
        assert set(listed) == expected, login
        for dossier, item in listed.items():
            awaited = {a.trigger for a in demo.service.available(dossier, person) if a.awaited}
            assert {a.trigger for a in item.actions} == awaited, (login, dossier)
        nonempty += bool(listed)
    # The demo gives work to the gestionnaire, the responsable, pilotes, concepteurs,
    # formateurs and the cheffe d'établissement: the comparison is not between empty sets.
    assert nonempty >= 8


def test_every_listed_action_is_accepted_or_refused_only_for_what_it_shows(demo: Demo) -> None:
    tried = 0
    for login, person in demo.summary.people.items():
        for dossier, item in _listed(demo, person).items():
            for action in item.actions:
                payload = (
                    {EARLY_CONFIRMED: True}
                    if any("votre confirmation de" in m for m in action.missing)
                    else {}
                )
                missing = [m for m in action.missing if "votre confirmation de" not in m]
                command = FireCommand(
                    dossier, action.trigger, person, comment="Vu.", payload=payload
                )
                with demo.engine.connect() as conn:
                    transaction = conn.begin()
                    try:
                        demo.service.fire_in(conn, command)
                    except GuardFailed as refused:
                        assert list(refused.reasons) == missing, (login, dossier, action.trigger)
                    else:
                        assert not missing, (login, dossier, action.trigger)
                    finally:
                        transaction.rollback()
                tried += 1
    assert tried >= 15


def test_a_stagiaire_does_not_follow_the_teams_waits(demo: Demo) -> None:
    """« Ce que vous attendez des autres » is the team's: a trainee enrolled in many
    trainings is not shown who must sign a contract or decide a payment."""
    stagiaire = demo.summary.people["lea.martin"]
    formatrice = demo.summary.people["sophie.bernard"]
    assert todo(demo.service, stagiaire).waiting == ()
    assert todo(demo.service, formatrice).waiting  # the team still sees theirs
