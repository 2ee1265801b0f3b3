"""The outbox: who is written to at each transition, what they read, and what cannot leak.

Rows are read back from the real database as the relay would send them (the stored RFC 5322
bytes, parsed), so these tests see exactly what a recipient's mail client will see.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from jinja2 import UndefinedError
from sqlalchemy import Connection, Engine, select, update

from notifications.catalog import ACTION, CATALOG, TASKS
from notifications.rendering import render, template_exists
from states import SPECS
from tests.conftest import World, make_world
from tests.support.mail import BASE_URL, queued, writer
from tests.support.snapshots import snapshot
from workflow.demo import DemoBuilder, demo_ouverture
from workflow.dossiers.inputs import DossierInput
from workflow.engine.events import TransitionEvent
from workflow.engine.service import FireCommand, FireResult, WorkflowService
from workflow.rules import RULES
from workflow.store.tables import outbox_table, person_table
from workflow.store.types import utcnow

# Who hears of each step of the canonical path of a ``vacation_accompagnement`` dossier,
# with the actor of each step (see ``workflow.demo.FORMATION_PATH``) left out — unless the
# step handed them charter tasks of their own (``OWN_TASKS``).
_TEAM = {"pilote", "concepteur", "formateur", "tuteur"}
_LOCAL = {"chef_etablissement", "ien", "coordonnateur_reseau"}
_PAID = {"formateur", "concepteur", "tuteur"}
EXPECTED: dict[str, set[str]] = {
    "emettre_contrat": {"formateur", "responsable"},
    "signer/formateur": {"responsable"},
    "signer/responsable": _TEAM | {"gestionnaire"},
    "soumettre_scenario": {"pilote"},
    "valider_scenario": _TEAM | {"stagiaire"} | _LOCAL | {"gestionnaire"},
    "demarrer": _TEAM | {"stagiaire"},
    "terminer": _TEAM | {"stagiaire"} | _LOCAL,
    "soumettre_bilan": {"gestionnaire", "pilote"},
    "valider_bilan": {"responsable", "formateur", "pilote"},
    "accorder_paiement": _PAID | {"pilote", "gestionnaire"},
    "mettre_en_paiement": _PAID | {"pilote"},
    "demander_revision": {"concepteur", "formateur"},
    "demander_complement": {"formateur", "chef_etablissement"},
    "refuser_paiement": _PAID | {"pilote", "gestionnaire"},
    "annuler": (_TEAM - {"pilote"}) | {"stagiaire"} | _LOCAL | {"gestionnaire", "responsable"},
    "rouvrir_bilan": {"formateur", "pilote", "responsable"},
}
OWN_TASKS = {"valider_scenario", "demarrer", "terminer"}
"""Steps whose actor (the pilote, then the formateur) gets charter tasks of the new phase."""


@pytest.fixture
def mailing(engine: Engine, data_dir: Path) -> DemoBuilder:
    return DemoBuilder(engine, data_dir, WorkflowService(engine, RULES, subscribers=[writer()]))


def _people_by_role(world: World) -> dict[str, set[int]]:
    t = world.team
    found: dict[str, set[int]] = {
        "pilote": {t.pilote},
        "formateur": set(t.formateurs),
        "gestionnaire": {t.gestionnaire},
        "responsable": {t.responsable},
        "stagiaire": set(t.stagiaires),
    }
    for role in ("concepteur", "tuteur", "chef_etablissement", "ien", "coordonnateur_reseau"):
        person = getattr(t, role)
        if person is not None:
            found[role] = {person}
    return found


def _drive(
    mailing: DemoBuilder, world: World, target: str, dossier: int | None = None
) -> list[tuple[str, FireResult]]:
    fired: list[tuple[str, FireResult]] = []
    if dossier is None:
        dossier = mailing.formation(world.academie_id, world.team, title="Classe virtuelle")
    names = {world.team.formateurs[0]: "formateur", world.team.responsable: "responsable"}

    def narrate(trigger: str, actor: str, result: FireResult) -> None:
        key = f"signer/{names[int(actor)]}" if trigger == "signer" else trigger
        fired.append((key, result))

    mailing.drive(dossier, world.team, target, narrate)
    return fired


@pytest.mark.parametrize(
    "target",
    ["mis_en_paiement", "scenario_a_reviser", "bilan_a_completer", "paiement_refuse", "annule"],
)
def test_every_transition_writes_to_the_right_people_in_french(
    mailing: DemoBuilder, engine: Engine, target: str
) -> None:
    world = make_world(mailing)
    roles = _people_by_role(world)
    fired = _drive(mailing, world, target)
    assert fired
    for key, result in fired:
        rows = queued(engine, history_id=result.history_id)
        expected = set().union(*(roles[r] for r in EXPECTED[key]))
        got = [row.person_id or 0 for row in rows]
        assert sorted(got) == sorted(expected), key
        assert len(got) == len(set(got)), f"{key}: one email per person"
        if key in OWN_TASKS:
            # The actor receives their own new tasks (issue 12), in the same email.
            (own,) = [row for row in rows if row.person_id == result.actor_id]
            assert "VOS TÂCHES POUR CETTE PHASE" in own.text, key
        else:
            assert result.actor_id not in got, f"{key}: the actor is not told of their own action"
        template = key.split("/")[0]
        if key == "signer/responsable":
            template = "contrat_signe"
        kind = CATALOG[f"dossier_formation/{template}"]
        promised = f"{result.reference} — {kind.subject}"
        for row in rows:
            # The subject promises only what this recipient's body holds.
            if kind.general is None:
                assert row.subject == promised
            else:
                assert row.subject in {promised, f"{result.reference} — {kind.general}"}
            if TASKS in kind.promised_to:
                assert (row.subject == promised) == ("VOS TÂCHES POUR CETTE PHASE" in row.text)
            if ACTION in kind.promised_to:
                assert (row.subject == promised) == ("CE QUE VOUS AVEZ À FAIRE" in row.text)
            assert row.message["Subject"] == row.subject
            assert row.message["Auto-Submitted"] == "auto-generated"
            assert row.message["Reply-To"] == "eafc@example.org"
            assert f"{BASE_URL}/dossiers/{result.dossier_id}" in row.text
            assert row.text.startswith("Bonjour ")
            assert '<html lang="fr">' in row.html


def test_a_reopened_bilan_tells_its_authors_the_pilot_and_the_responsable(
    mailing: DemoBuilder, engine: Engine
) -> None:
    world = make_world(mailing)
    roles = _people_by_role(world)
    dossier = mailing.formation(world.academie_id, world.team, title="Classe virtuelle")
    mailing.drive(dossier, world.team, "bilan_valide")
    result = mailing.service.fire(
        FireCommand(
            dossier,
            "rouvrir_bilan",
            world.team.gestionnaire,
            comment="La classe virtuelle co-animée n'a réuni que 14 présents.",
        )
    )
    assert result.to_state == "bilan_a_completer"
    rows = {r.person_id: r for r in queued(engine, history_id=result.history_id)}
    expected = set().union(*(roles[r] for r in EXPECTED["rouvrir_bilan"]))
    assert set(rows) == expected
    subject = CATALOG["dossier_formation/rouvrir_bilan"].subject
    author = rows[world.team.formateurs[0]]
    assert author.subject == f"{result.reference} — {subject}"
    assert "n'a réuni que 14 présents" in author.text
    assert "soumettez-le de nouveau" in author.text
    assert f"/dossiers/{dossier}/actions/soumettre_bilan" in author.text
    assert "la décision de paiement attendra sa nouvelle validation" in (
        rows[world.team.responsable].text
    )
    assert "CE QUE VOUS AVEZ À FAIRE" not in rows[world.team.responsable].text


def test_the_chef_of_an_ent_convention_hears_of_the_signed_contract_and_the_payment(
    mailing: DemoBuilder, engine: Engine
) -> None:
    """On an ENT convention the chef d'établissement co-signs the contract and writes the
    bilan (hours per formateur): both its completion and the decision concern them."""
    world = make_world(mailing)
    world.configure_hse("20.00")
    chef = world.team.chef_etablissement
    assert chef is not None
    dossier = mailing.formation(
        world.academie_id, world.team, title="Convention ENT", dispositif="hse_convention_ent"
    )
    fired: dict[str, FireResult] = {}
    mailing.drive(
        dossier,
        world.team,
        "paiement_accorde",
        lambda trigger, actor, result: fired.__setitem__(result.to_state, result),
    )
    for state in ("contrat_signe", "paiement_accorde"):
        told = {r.person_id for r in queued(engine, history_id=fired[state].history_id)}
        assert chef in told, state
        assert fired[state].actor_id != chef
    refused = mailing.formation(
        world.academie_id,
        world.team,
        title="Convention ENT refusée",
        dispositif="hse_convention_ent",
    )
    mailing.drive(refused, world.team, "bilan_valide")
    result = mailing.service.fire(
        FireCommand(refused, "refuser_paiement", world.team.responsable, comment="Hors plan.")
    )
    assert chef in {r.person_id for r in queued(engine, history_id=result.history_id)}


def test_ouverture_parcours_transitions_write_their_emails(
    mailing: DemoBuilder, engine: Engine
) -> None:
    world = make_world(mailing)
    t = world.team
    editor = mailing.editor
    dossier = editor.create_dossier(
        DossierInput(
            title="Parcours M@gistère", academie_id=world.academie_id, workflow="ouverture_parcours"
        )
    )
    assert t.concepteur is not None
    editor.assign(t.pilote, "pilote", dossier_id=dossier)
    editor.assign(t.concepteur, "concepteur", dossier_id=dossier)
    editor.save_ouverture(dossier, demo_ouverture("Parcours test"))
    service = mailing.service
    steps = [
        ("soumettre", t.concepteur, None, {t.gestionnaire, t.pilote}),
        ("demander_complement", t.gestionnaire, "Préciser le public", {t.pilote, t.concepteur}),
        ("soumettre", t.pilote, None, {t.gestionnaire, t.concepteur}),
        ("accepter", t.gestionnaire, None, {t.pilote, t.concepteur}),
        ("ouvrir", t.gestionnaire, None, {t.pilote, t.concepteur}),
    ]
    for trigger, actor, comment, expected in steps:
        result = service.fire(FireCommand(dossier, trigger, actor, comment=comment))
        rows = queued(engine, history_id=result.history_id)
        assert {r.person_id for r in rows} == expected, trigger
        kind = CATALOG[f"ouverture_parcours/{trigger}"]
        for r in rows:
            # « à instruire » only to the gestionnaire, who instructs it.
            promised = kind.general is None or r.person_id == t.gestionnaire
            chosen = kind.subject if promised else kind.general
            assert r.subject == f"{result.reference} — {chosen}", (trigger, r.person_id)
        if comment:
            assert all(comment in r.text for r in rows)
    # A request still in « Brouillon » can be withdrawn by its authors.
    draft = editor.create_dossier(
        DossierInput(
            title="Parcours abandonné", academie_id=world.academie_id, workflow="ouverture_parcours"
        )
    )
    editor.assign(t.pilote, "pilote", dossier_id=draft)
    editor.assign(t.concepteur, "concepteur", dossier_id=draft)
    withdrawn = service.fire(FireCommand(draft, "retirer", t.concepteur))
    assert withdrawn.to_state == "retiree"
    [told] = queued(engine, history_id=withdrawn.history_id)
    assert told.person_id == t.pilote
    assert told.subject.endswith("— Demande d'ouverture de parcours retirée")
    assert "État : Retirée" in told.text


def test_each_email_says_what_to_do_next_with_tasks_and_links(
    mailing: DemoBuilder, engine: Engine
) -> None:
    world = make_world(mailing)
    fired = dict(_drive(mailing, world, "realisee"))
    formateur = world.team.formateurs[0]
    # The pilot is asked to validate, with the link to that action.
    (to_pilot,) = queued(engine, history_id=fired["soumettre_scenario"].history_id)
    dossier_id = fired["soumettre_scenario"].dossier_id
    assert "CE QUE VOUS AVEZ À FAIRE" in to_pilot.text
    assert f"{BASE_URL}/dossiers/{dossier_id}/actions/valider_scenario" in to_pilot.text
    assert f'href="{BASE_URL}/dossiers/{dossier_id}/actions/valider_scenario"' in to_pilot.html
    # Validation hands out the "en amont" tasks, each recipient their own.
    amont = {
        r.person_id: r for r in queued(engine, history_id=fired["valider_scenario"].history_id)
    }
    assert "- [ ] Configurer l'espace numérique (parcours M@gistère" in amont[formateur].text
    assert "Configurer l'espace numérique" not in amont[world.team.stagiaires[0]].text
    assert "VOS TÂCHES POUR CETTE PHASE" in amont[world.team.stagiaires[0]].text
    assert world.team.chef_etablissement is not None
    assert "Mettre à disposition une salle" in amont[world.team.chef_etablissement].text
    assert "VOS TÂCHES" not in amont[world.team.gestionnaire].text
    # The end of the training: the pilot makes the bilan of the quality questionnaires.
    after = {r.person_id: r for r in queued(engine, history_id=fired["terminer"].history_id)}
    # The formateur who ended it still receives their own « après » tasks, each due with
    # the bilan (DOMAIN §3: the charter's due dates).
    assert "- [ ] Déposer les documents administratifs" in after[formateur].text
    assert "(échéance : " in after[formateur].text
    assert "VOS TÂCHES POUR CETTE PHASE" in after[world.team.pilote].text


def test_the_trainer_reads_their_own_amount_and_its_calculation(
    mailing: DemoBuilder, engine: Engine
) -> None:
    world = make_world(mailing)
    fired = dict(_drive(mailing, world, "paiement_accorde"))
    rows = {
        r.person_id: r for r in queued(engine, history_id=fired["accorder_paiement"].history_id)
    }
    mine = rows[world.team.formateurs[0]]
    assert "VOTRE RÉMUNÉRATION" in mine.text
    assert "13 h ÷ 2 = 6,5 vacations" in mine.text
    assert "5 × 45,00 € = 225,00 €" in mine.text
    assert "<li>13 h ÷ 2 = 6,5 vacations</li>" in mine.html
    # The pilot is told of the decision but has no remuneration of their own.
    assert "VOTRE RÉMUNÉRATION" not in rows[world.team.pilote].text
    assert "225,00 €" in rows[world.team.pilote].text


def test_substitute_of_a_recipient_is_written_to_as_well(
    mailing: DemoBuilder, engine: Engine
) -> None:
    world = make_world(mailing)
    substitute = world.person("suppleant")
    now = utcnow()
    dossier = mailing.formation(world.academie_id, world.team, title="Classe virtuelle")
    mailing.editor.delegate(
        world.team.pilote, substitute, now - timedelta(hours=1), now + timedelta(days=10)
    )
    fired = dict(_drive(mailing, world, "scenario_soumis", dossier))
    rows = {
        r.person_id: r for r in queued(engine, history_id=fired["soumettre_scenario"].history_id)
    }
    assert set(rows) == {world.team.pilote, substitute}
    assert "en tant que suppléant de" in rows[substitute].text
    assert "/actions/valider_scenario" in rows[substitute].text
    # Where the pilote has nothing to do, only the pilote hears of it: the substitute
    # receives only what they may act on.
    for trigger in ("emettre_contrat", "signer/responsable"):
        told = {r.person_id for r in queued(engine, history_id=fired[trigger].history_id)}
        assert world.team.pilote in told or trigger == "emettre_contrat", trigger
        assert substitute not in told, trigger


def _rename(engine: Engine, person_id: int, name: str) -> None:
    with engine.begin() as conn:
        conn.execute(
            update(person_table).where(person_table.c.id == person_id).values(full_name=name)
        )


def test_names_and_comments_cannot_inject_headers_or_markup(
    mailing: DemoBuilder, engine: Engine
) -> None:
    world = make_world(mailing)
    _rename(engine, world.team.formateurs[0], "Eve\r\nBcc: intrus@example.org\r\nX-Evil: 1")
    _rename(engine, world.team.pilote, 'Paul <script>alert("x")</script>')
    dossier = mailing.formation(world.academie_id, world.team, title="Titre <b>gras</b>")
    comment = "Ligne 1\r\nBcc: intrus@example.org\n<img src=x onerror=alert(1)>"
    result = mailing.service.fire(
        FireCommand(dossier, "emettre_contrat", world.team.pilote, comment=comment)
    )
    rows = {r.person_id: r for r in queued(engine, history_id=result.history_id)}
    to_eve = rows[world.team.formateurs[0]]
    assert to_eve.message["Bcc"] is None and to_eve.message["X-Evil"] is None
    assert len(to_eve.message.get_all("To") or []) == 1
    assert "intrus@example.org" not in [a.addr_spec for a in to_eve.message["To"].addresses]
    html = to_eve.html
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "<img" not in html and "&lt;img src=x onerror=alert(1)&gt;" in html
    assert "<b>gras</b>" not in html and "&lt;b&gt;gras&lt;/b&gt;" in html
    # The plain-text part keeps the words as typed: nothing there is interpreted.
    assert "<img src=x onerror=alert(1)>" in to_eve.text


def test_a_rendering_failure_fails_the_transition_and_writes_nothing(
    mailing: DemoBuilder, engine: Engine
) -> None:
    class Broken:
        def __call__(self, conn: Connection, event: TransitionEvent) -> None:
            writer()(conn, event)
            render("dossier_formation/emettre_contrat", {"dossier": {}})

    world = make_world(mailing)
    dossier = mailing.formation(world.academie_id, world.team, title="Dossier")
    service = WorkflowService(engine, RULES, subscribers=[Broken()])
    before = snapshot(engine, dossier)
    with pytest.raises(UndefinedError):
        service.fire(FireCommand(dossier, "emettre_contrat", world.team.pilote, comment="ok"))
    assert snapshot(engine, dossier) == before
    assert queued(engine, dossier_id=dossier) == []


def test_every_template_the_specs_name_exists_and_is_catalogued() -> None:
    names = set()
    for spec in SPECS.values():
        for transition in spec.transitions:
            names |= {rule.template for rule in transition.notifications}
        names |= {d.template for d in spec.deadlines if d.template}
    assert names <= set(CATALOG)
    missing = [name for name in CATALOG if not template_exists(name)]
    assert missing == []


def test_person_emails_stay_in_the_outbox_addresses(engine: Engine) -> None:
    with engine.connect() as conn:
        bad = conn.execute(
            select(outbox_table.c.to_email).where(outbox_table.c.to_email.like("%\n%"))
        ).all()
    assert bad == []
