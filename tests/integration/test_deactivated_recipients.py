"""A person an administrateur deactivated (they left) receives no more emails, while the
rest of the team still does (issue 15 §1: deactivate, never delete)."""

from __future__ import annotations

from api.wiring import Container
from tests.conftest import World
from tests.support.mail import queued
from workflow.admin.service import Administration
from workflow.engine.service import FireCommand


def test_a_deactivated_member_is_no_longer_written_to(
    world: World, api_container: Container
) -> None:
    container = api_container
    team = world.team
    administratrice = world.person("administratrice")
    admin = Administration(container.engine)
    admin.grant(world.academie_id, administratrice, "administrateur", actor_id=None)
    dossier = world.formation()
    world.builder.service = container.service
    world.builder.drive(dossier, team, "contrat_a_signer")
    gone, stays = team.formateurs[0], team.responsable
    admin.set_active(world.slug, gone, False, actor_id=administratrice)

    result = container.service.fire(
        FireCommand(dossier, "annuler", team.pilote, comment="Reporté.")
    )
    told = {row.person_id for row in queued(container.engine, history_id=result.history_id)}
    assert stays in told and team.gestionnaire in told
    assert gone not in told
    # Reactivated, they are written to again.
    admin.set_active(world.slug, gone, True, actor_id=administratrice)
    other = world.formation()
    world.builder.drive(other, team, "contrat_a_signer")
    result = container.service.fire(FireCommand(other, "annuler", team.pilote, comment="Reporté."))
    assert gone in {row.person_id for row in queued(container.engine, history_id=result.history_id)}
