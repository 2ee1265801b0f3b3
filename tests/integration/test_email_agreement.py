"""Emails in French that agrees, read as their recipients read them: sent by the relay to
a real SMTP server (aiosmtpd over TCP) and parsed back from what it received.

- labels agree with the person (« La gestionnaire EAFC demande… », « Vos rôles sur ce
  dossier : Formatrice », « en tant que suppléante de… »);
- a subject promises only what the body holds (« vos tâches en amont » to someone who has
  tasks, « Scénario validé » to a tutrice who has none);
- « le commentaire ci-dessus », where the comment is;
- a substitute receives only what they may act on, while the person they stand in for
  keeps receiving everything;
- every message, text and HTML, ends with the académie's signature block.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from email.message import EmailMessage
from pathlib import Path

import pytest
from sqlalchemy import Engine, update

from notifications.relay import Relay, SmtpTarget
from tests.conftest import World, make_world
from tests.support.mail import drain, mail_settings, writer
from tests.support.smtp import Received, SmtpSink
from workflow.demo import DemoBuilder
from workflow.engine.rows import load
from workflow.engine.service import WorkflowService
from workflow.rules import RULES
from workflow.store.tables import person_table
from workflow.store.types import utcnow

SIGNATURE = [
    "École académique de la formation continue (EAFC)",
    "Académie de démonstration",
    "eafc@example.org",
]


@pytest.fixture
def mailing(engine: Engine, data_dir: Path) -> DemoBuilder:
    return DemoBuilder(engine, data_dir, WorkflowService(engine, RULES, subscribers=[writer()]))


@pytest.fixture
def sink() -> Iterator[SmtpSink]:
    server = SmtpSink().start()
    yield server
    server.stop()


def _civilite(engine: Engine, people: dict[int, str]) -> None:
    with engine.begin() as conn:
        for person, civilite in people.items():
            conn.execute(
                update(person_table).where(person_table.c.id == person).values(civilite=civilite)
            )


def _email(engine: Engine, person: int) -> str:
    with engine.connect() as conn:
        found = conn.execute(
            person_table.select()
            .with_only_columns(person_table.c.email)
            .where(person_table.c.id == person)
        ).scalar_one()
    return str(found)


def _text(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain",))
    assert isinstance(part, EmailMessage)
    return str(part.get_content())


def _html(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("html",))
    assert isinstance(part, EmailMessage)
    return str(part.get_content())


def _about(received: list[Received], reference: str, subject_part: str) -> list[Received]:
    return [
        r
        for r in received
        if str(r.message["Subject"]).startswith(reference) and subject_part in r.message["Subject"]
    ]


def _reference(engine: Engine, dossier: int) -> str:
    with engine.connect() as conn:
        return load(conn, dossier).reference


def _team(world: World, engine: Engine) -> int:
    """Civilités on the world's people, and a suppléante of the pilote; her id."""
    t = world.team
    assert t.concepteur and t.tuteur and t.chef_etablissement
    substitute = world.person("suppleante")
    _civilite(
        engine,
        {
            t.pilote: "madame",
            t.formateurs[0]: "madame",
            t.gestionnaire: "madame",
            t.responsable: "monsieur",
            t.concepteur: "monsieur",
            t.tuteur: "madame",
            t.chef_etablissement: "madame",
            substitute: "madame",
        },
    )
    now = utcnow()
    world.builder.editor.delegate(
        t.pilote, substitute, now - timedelta(hours=1), now + timedelta(days=30)
    )
    return substitute


def test_emails_agree_keep_their_promises_and_end_with_the_signature(
    mailing: DemoBuilder, engine: Engine, sink: SmtpSink
) -> None:
    world = make_world(mailing)
    t = world.team
    assert t.concepteur and t.tuteur and t.chef_etablissement
    revised = mailing.formation(world.academie_id, t, title="Scénario revu")
    completed = mailing.formation(world.academie_id, t, title="Bilan complété")
    paid = mailing.formation(world.academie_id, t, title="Jusqu'au paiement")
    substitute = _team(world, engine)
    mailing.drive(revised, t, "scenario_a_reviser")
    mailing.drive(completed, t, "bilan_a_completer")
    mailing.drive(paid, t, "mis_en_paiement")
    drain(Relay(engine, mail_settings(), SmtpTarget("127.0.0.1", sink.port)))

    formatrice, tutrice = _email(engine, t.formateurs[0]), _email(engine, t.tuteur)
    concepteur, pilote = _email(engine, t.concepteur), _email(engine, t.pilote)
    suppleante, cheffe = _email(engine, substitute), _email(engine, t.chef_etablissement)
    references = {_reference(engine, d) for d in (revised, completed, paid)}
    ours = [r for r in sink.messages() if r.message["X-Formaflow-Dossier"] in references]

    # Labels agree with the person who acted and with the reader.
    (revision,) = [
        r
        for r in _about(ours, _reference(engine, revised), "Scénario à réviser")
        if concepteur in r.rcpt_tos
    ]
    text = _text(revision.message)
    assert "La pilote demande une révision du scénario hybride" in text
    assert "selon le commentaire ci-dessus" in text
    assert text.index("Commentaire :") < text.index("ci-dessus")
    assert "Vos rôles sur ce dossier : Concepteur" in text
    (complement,) = [
        r for r in _about(ours, _reference(engine, completed), "ompl") if cheffe in r.rcpt_tos
    ]
    text = _text(complement.message)
    assert "La gestionnaire EAFC demande un complément au bilan" in text
    assert "Cheffe d'établissement" in text
    paid_ref = _reference(engine, paid)
    validated = {r.rcpt_tos[0]: r for r in _about(ours, paid_ref, "Scénario validé")}
    assert "La pilote a validé le scénario hybride" in _text(validated[formatrice].message)
    assert "Vos rôles sur ce dossier : Formatrice" in _text(validated[formatrice].message)
    assert "Tutrice" in _text(validated[tutrice].message)

    # A subject promises only what its body holds.
    assert (
        validated[formatrice].message["Subject"].endswith("Scénario validé : vos tâches en amont")
    )
    assert "VOS TÂCHES POUR CETTE PHASE" in _text(validated[formatrice].message)
    assert validated[tutrice].message["Subject"] == f"{paid_ref} — Scénario validé"
    assert "VOS TÂCHES" not in _text(validated[tutrice].message)
    ended = {r.rcpt_tos[0]: r for r in _about(ours, paid_ref, "Formation terminée")}
    assert ended[tutrice].message["Subject"] == f"{paid_ref} — Formation terminée"
    submitted = {r.rcpt_tos[0]: r for r in _about(ours, paid_ref, "Scénario hybride")}
    assert submitted[pilote].message["Subject"].endswith("Scénario hybride à valider")
    assert "à la validation de la pilote" in _text(submitted[pilote].message)

    # The suppléante hears only of what she may act on; the pilote of everything.
    to_substitute = [r for r in ours if suppleante in r.rcpt_tos]
    to_pilote = [r for r in ours if pilote in r.rcpt_tos]
    assert {str(r.message["Subject"]).split(" — ")[1] for r in to_substitute} == {
        "Scénario hybride à valider"
    }
    assert len(to_substitute) == 3  # one submission on each dossier
    assert len(to_pilote) > 3 * len(to_substitute)
    text = _text(to_substitute[0].message)
    assert "en tant que suppléante de" in text
    assert "/actions/valider_scenario" in text

    # Every message ends with the académie's signature block, in both parts.
    assert ours
    for message in (r.message for r in ours):
        lines = _text(message).rstrip().splitlines()
        assert lines[-4:] == ["--", *SIGNATURE], message["Subject"]
        html = _html(message).replace("\r\n", "\n")
        assert html.rstrip().endswith(
            '<p class="signature">' + "<br>\n".join(SIGNATURE) + "</p>\n</body>\n</html>"
        ), message["Subject"]
