"""Random sequences of triggers by random people: illegal ones change nothing, each
accepted one writes exactly one history row and moves the version by one."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine

from states import get_spec
from tests.conftest import World
from tests.support.snapshots import snapshot
from workflow.engine.errors import WorkflowError
from workflow.engine.machines import machine_for
from workflow.engine.service import FireCommand, WorkflowService

SPEC = get_spec("dossier_formation")
ACTORS = [
    "pilote",
    "formateur",
    "concepteur",
    "tuteur",
    "stagiaire",
    "chef_etablissement",
    "gestionnaire",
    "responsable",
    "outsider",
    "systeme",
]
MACHINE = machine_for(SPEC.name, SPEC.version)


def actor_id(world: World, name: str) -> int | None:
    team = world.team
    return {
        "pilote": team.pilote,
        "formateur": team.formateurs[0],
        "concepteur": team.concepteur,
        "tuteur": team.tuteur,
        "stagiaire": team.stagiaires[0],
        "chef_etablissement": team.chef_etablissement,
        "gestionnaire": team.gestionnaire,
        "responsable": team.responsable,
        "outsider": world.outsider,
        "systeme": None,
    }[name]


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data(), dispositif=st.sampled_from(["vacation_accompagnement", "eafc_taux_a"]))
def test_random_sequences_keep_the_dossier_consistent(
    data: st.DataObject,
    dispositif: str,
    world: World,
    service: WorkflowService,
    engine: Engine,
) -> None:
    dossier = world.formation(dispositif)
    world.builder.complete_scenario(dossier, world.team)
    world.builder.complete_bilan(dossier, world.team)
    accepted = 0
    for _ in range(data.draw(st.integers(1, 25), label="length")):
        before: dict[str, Any] = snapshot(engine, dossier)
        # Half the draws come from the triggers valid now, so that runs get deep enough.
        valid = MACHINE.triggers_from(before["dossier"]["state"]) or SPEC.triggers
        trigger = data.draw(st.sampled_from(SPEC.triggers) | st.sampled_from(valid), "trigger")
        who = data.draw(st.sampled_from(ACTORS), label="actor")
        comment = data.draw(st.sampled_from([None, "Un commentaire"]), label="comment")
        try:
            result = service.fire(
                FireCommand(dossier, trigger, actor_id(world, who), comment=comment)
            )
        except WorkflowError:
            assert snapshot(engine, dossier) == before
            continue
        accepted += 1
        after = snapshot(engine, dossier)
        assert after["history"] == before["history"] + 1
        assert after["dossier"]["version"] == before["dossier"]["version"] + 1 == result.version
        assert after["dossier"]["state"] == result.to_state
        assert result.to_state in {t.dest for t in SPEC.transitions} | {result.from_state}
    final = snapshot(engine, dossier)
    assert final["history"] == accepted
    assert final["dossier"]["version"] == accepted + 1
