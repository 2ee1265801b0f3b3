"""Whole lifecycles over HTTP, each step by the person whose role allows it.

One ``dossier_formation`` dossier per dispositif goes from its creation to « Mis en
paiement » through the REST API only (creation, team, scenario, bilan, émargement upload,
every transition), each transition sent with the ETag of the previous answer; then its
history must name every step and the right person. The ``ouverture_parcours`` request
does the same.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from httpx2 import Response

from tests.conftest import World, make_world
from tests.support.api import Api
from tests.support.matrix import email_of
from workflow.demo import DemoBuilder, _tiny_pdf
from workflow.reads.queries import payment_decision, reading

DOSSIERS = "/api/v1/dossiers"
HSE_RATE = "12.34"


@dataclass
class Step:
    """One line the history must show: who did what, in which role."""

    trigger: str
    actor: int
    role: str
    from_state: str
    to_state: str


class Journey:
    """Drives one dossier over HTTP, checking every answer and keeping the expected history."""

    def __init__(self, api: Api, dossier: int, etag: str) -> None:
        self.api = api
        self.dossier = dossier
        self.etag = etag
        self.steps: list[Step] = []
        self.path = f"{DOSSIERS}/{dossier}"

    def fire(
        self,
        trigger: str,
        person: int,
        role: str,
        to_state: str,
        *,
        comment: str | None = None,
        payload: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        response = self.api.fire(
            self.dossier, trigger, person, comment=comment, payload=payload, etag=self.etag
        )
        assert response.status_code == 200, (trigger, response.text)
        body: dict[str, Any] = response.json()
        assert body["trigger"] == trigger and body["to_state"] == to_state, body
        assert body["role"] == role, body
        new_etag = response.headers["ETag"]
        assert new_etag == f'"{body["version"]}"' != self.etag
        self.steps.append(Step(trigger, person, role, body["from_state"], to_state))
        self.etag = new_etag
        return body

    def refused(self, trigger: str, person: int, status: int, **kwargs: Any) -> dict[str, Any]:
        """A step that must not pass yet: the answer, and the dossier unchanged."""
        response = self.api.fire(self.dossier, trigger, person, etag=self.etag, **kwargs)
        assert response.status_code == status, (trigger, response.text)
        assert response.headers["content-type"].startswith("application/problem+json")
        assert self.api.version(self.dossier, person) == self.etag
        body: dict[str, Any] = response.json()
        return body

    def put(self, part: str, person: int, body: dict[str, Any]) -> dict[str, Any]:
        response = self.api.put(f"{self.path}/{part}", person, json=body)
        assert response.status_code == 200, (part, response.text)
        self._editing_keeps_the_version(response)
        result: dict[str, Any] = response.json()
        return result

    def upload(self, person: int, kind: str, filename: str, content: bytes) -> dict[str, Any]:
        response = self.api.post(
            f"{self.path}/documents",
            person,
            data={"kind": kind},
            files={"file": (filename, content, "application/pdf")},
        )
        assert response.status_code == 201, response.text
        self._editing_keeps_the_version(response)
        result: dict[str, Any] = response.json()
        return result

    def assign(self, by: int, person_email: str, role: str) -> None:
        response = self.api.post(
            f"{self.path}/assignments", by, json={"person_email": person_email, "role": role}
        )
        assert response.status_code == 204, (role, response.text)

    def enrol(self, by: int, person_email: str) -> None:
        """A stagiaire is enrolled (the one way to the role), not assigned."""
        name = person_email.split("@", maxsplit=1)[0]
        response = self.api.post(
            f"{self.path}/stagiaires",
            by,
            json={"last_name": name, "first_name": "Stagiaire", "email": person_email},
        )
        assert response.status_code == 201, response.text
        self._editing_keeps_the_version(response)

    def _editing_keeps_the_version(self, response: Response) -> None:
        # Editing a part is not a transition: the ETag of the last answer stays good.
        assert response.headers.get("ETag", self.etag) == self.etag

    def check_history(self, reader: int, names: dict[int, str]) -> list[dict[str, Any]]:
        response = self.api.get(f"{self.path}/history", reader)
        assert response.status_code == 200, response.text
        lines: list[dict[str, Any]] = response.json()
        assert [
            (line["trigger"], line["actor"], line["role"], line["from_state"], line["to_state"])
            for line in lines
        ] == [(s.trigger, names[s.actor], s.role, s.from_state, s.to_state) for s in self.steps]
        assert [line["version"] for line in lines] == list(range(2, len(self.steps) + 2))
        assert all(line["who"] == line["actor"] for line in lines)
        return lines


# Setup -------------------------------------------------------------------------------


def _world(builder: DemoBuilder, dispositif: str) -> World:
    world = make_world(builder)
    if dispositif == "hse_convention_ent":
        world.configure_hse(HSE_RATE)
    return world


def _create(api: Api, person: int, body: dict[str, Any]) -> tuple[int, str, dict[str, Any]]:
    response = api.post(DOSSIERS, person, json=body)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    assert response.headers["Location"] == f"{DOSSIERS}/{created['id']}"
    assert response.headers["ETag"] == '"1"' and created["state"] == "brouillon"
    return int(created["id"]), response.headers["ETag"], created


def _formation_body(world: World, dispositif: str, title: str) -> dict[str, Any]:
    start = date.today() + timedelta(days=30)
    return {
        "title": title,
        "academie": world.slug,
        "dispositif": dispositif,
        "planned_hours_presentiel": "6",
        "planned_hours_distance": "13",
        "planned_participants": 20,
        "planned_start": start.isoformat(),
        "planned_end": (start + timedelta(days=42)).isoformat(),
    }


def _emails(api: Api, world: World) -> dict[int, str]:
    team = world.team
    people = [
        team.pilote,
        *team.formateurs,
        team.gestionnaire,
        team.responsable,
        team.concepteur,
        team.tuteur,
        team.chef_etablissement,
        team.ien,
        team.coordonnateur_reseau,
        *team.stagiaires,
    ]
    return {p: email_of(api.container.engine, p) for p in people if p is not None}


def _let_pilote_open_dossiers(api: Api, world: World, emails: dict[int, str]) -> None:
    """Only people known in an académie may open a dossier there: the gestionnaire opens a
    first one and names the pilote on it."""
    gestionnaire, pilote = world.team.gestionnaire, world.team.pilote
    refused = api.post(DOSSIERS, pilote, json=_formation_body(world, "eafc_taux_a", "Trop tôt"))
    assert refused.status_code == 403, refused.text
    first, _, created = _create(
        api, gestionnaire, _formation_body(world, "eafc_taux_a", "Premier dossier")
    )
    assert created["my_roles"] == ["gestionnaire"]
    Journey(api, first, '"1"').assign(gestionnaire, emails[pilote], "pilote")


def _scenario(tutor: int) -> dict[str, Any]:
    return {
        "objectives": "Concevoir et animer une séance hybride avec ses élèves.",
        "competences": "Scénariser une activité à distance ; accompagner des pairs.",
        "prerequisites": "Avoir un compte M@gistère.",
        "public": "Enseignants de collège",
        "hours_presentiel": "6",
        "hours_distance": "13",
        "accompaniment_plan": "Retour individualisé sous 72 h sur chaque production.",
        "validation_criteria": "",
        "sequences": [
            {
                "title": "Lancement",
                "a_faire_en_amont": "Envoyer les liens de connexion.",
                "steps": [
                    {
                        "period": "Semaine 1",
                        "duration_minutes": 180,
                        "content": "Présentation du dispositif et des attendus",
                        "modality": "presentiel",
                    },
                    {
                        "period": "Semaine 2",
                        "duration_minutes": 90,
                        "content": "Classe virtuelle : prise en main du parcours",
                        "modality": "classe_virtuelle",
                        "connection_link": "https://visio.example.org/lancement",
                    },
                ],
            },
            {
                "title": "Mise en œuvre accompagnée",
                "steps": [
                    {
                        "period": "Semaines 3 à 5",
                        "duration_minutes": 600,
                        "content": "Conception d'une séance, échanges sur le forum",
                        "modality": "asynchrone",
                        "led_by": "tuteur",
                        "tutor_id": tutor,
                    }
                ],
            },
        ],
    }


@dataclass(frozen=True)
class Expected:
    """What the barème must decide from the bilan below, per dispositif."""

    formateur_hours: str
    effective: int
    tuteur_followed: int | None
    payload: dict[str, Any]
    total: Decimal


def _expected(dispositif: str, concepteur: int) -> Expected:
    if dispositif == "vacation_accompagnement":
        # 13 h ÷ 2 = 6,5 vacations, capped by 5 effective trainees → 5 × 45,00 €.
        return Expected("13", 5, None, {}, Decimal("225.00"))
    if dispositif == "hse_convention_ent":
        # 20 h declared, at most 18 HSE per formateur → 18 × 12,34 €.
        return Expected("20", 12, None, {}, Decimal("222.12"))
    # Conception decided at 15 vacations, tutorat 16 trainees ÷ 8 = 2 → 17 × 45,00 €.
    return Expected("4", 16, 16, {"conception": {str(concepteur): "15"}}, Decimal("765.00"))


# Formation lifecycles ----------------------------------------------------------------


@pytest.mark.parametrize(
    "dispositif", ["vacation_accompagnement", "hse_convention_ent", "eafc_taux_a"]
)
def test_formation_lifecycle_over_http(builder: DemoBuilder, api: Api, dispositif: str) -> None:
    world = _world(builder, dispositif)
    team = world.team
    assert team.concepteur and team.tuteur and team.chef_etablissement
    emails = _emails(api, world)
    hse = dispositif == "hse_convention_ent"

    # Creation: the pilote opens the dossier and becomes its pilote; for the ENT convention
    # the EAFC opens it (EAFC staff do not become pilote) and names the pilote.
    if hse:
        dossier, etag, created = _create(
            api, team.gestionnaire, _formation_body(world, dispositif, "Convention ENT")
        )
        assert created["my_roles"] == ["gestionnaire"]
        assert "pilote" not in {m["role"] for m in created["team"]}
        journey = Journey(api, dossier, etag)
        journey.assign(team.gestionnaire, emails[team.pilote], "pilote")
    else:
        _let_pilote_open_dossiers(api, world, emails)
        dossier, etag, created = _create(
            api, team.pilote, _formation_body(world, dispositif, f"Parcours {dispositif}")
        )
        assert created["my_roles"] == ["pilote"]
        journey = Journey(api, dossier, etag)
    assert created["dispositif"] == dispositif and created["academie"] == world.slug

    # The pilote names the team.
    formateur = team.formateurs[0]
    assignments = [
        (formateur, "formateur"),
        (team.concepteur, "concepteur"),
        (team.tuteur, "tuteur"),
        (team.chef_etablissement, "chef_etablissement"),
        (team.coordonnateur_reseau, "coordonnateur_reseau"),
        *[(s, "stagiaire") for s in team.stagiaires],
    ]
    if not hse and team.ien is not None:
        assignments.append((team.ien, "ien"))
    for person, role in assignments:
        assert person is not None
        if role == "stagiaire":
            journey.enrol(team.pilote, emails[person])
        else:
            journey.assign(team.pilote, emails[person], role)
    view = api.get(journey.path, team.pilote)
    assert view.headers["ETag"] == journey.etag, "naming the team is not a transition"
    names = {m["person_id"]: m["full_name"] for m in view.json()["team"]}
    assert {(p, r) for p, r in assignments} <= {
        (m["person_id"], m["role"]) for m in view.json()["team"]
    }

    # Contract: emitted by the pilote, signed by each required signatory, the last one
    # moving it to « Contrat signé ».
    journey.fire("emettre_contrat", team.pilote, "pilote", "contrat_a_signer")
    signatories: list[tuple[int, str]] = (
        [(team.chef_etablissement, "chef_etablissement"), (team.responsable, "responsable")]
        if hse
        else [(formateur, "formateur")]
        + ([(team.concepteur, "concepteur")] if dispositif == "eafc_taux_a" else [])
        + [(team.responsable, "responsable")]
    )
    for n, (person, role) in enumerate(signatories, start=1):
        last = n == len(signatories)
        journey.fire("signer", person, role, "contrat_signe" if last else "contrat_a_signer")
        if not last:
            again = journey.refused("signer", person, 422)
            assert any("déjà signé" in m for m in again["missing"])

    # Scenario: written by the concepteur; the guard names what is missing; the pilote asks
    # for a revision, the formateur resubmits, the pilote validates.
    scenario = _scenario(team.tuteur)
    saved = journey.put("scenario", team.concepteur, scenario)
    assert [s["title"] for s in saved["sequences"]] == ["Lancement", "Mise en œuvre accompagnée"]
    missing = journey.refused("soumettre_scenario", team.concepteur, 422)["missing"]
    assert missing == ["les critères de validation"]
    scenario["validation_criteria"] = "Dépôt d'une séance scénarisée et d'un retour réflexif."
    journey.put("scenario", team.concepteur, scenario)
    journey.fire("soumettre_scenario", team.concepteur, "concepteur", "scenario_soumis")
    journey.fire(
        "demander_revision",
        team.pilote,
        "pilote",
        "scenario_a_reviser",
        comment="Préciser l'accompagnement de la séquence 2.",
    )
    scenario["accompaniment_plan"] += " Forum suivi chaque jour ouvré par la tutrice."
    journey.put("scenario", team.formateurs[0], scenario)
    journey.fire("soumettre_scenario", formateur, "formateur", "scenario_soumis")
    journey.fire("valider_scenario", team.pilote, "pilote", "scenario_valide")

    # Training.
    journey.fire("demarrer", formateur, "formateur", "en_cours")
    journey.fire("terminer", team.gestionnaire, "gestionnaire", "realisee")

    # Bilan: by the formateur, or the chef d'établissement for an ENT convention; the
    # émargement list uploaded as a PDF.
    expected = _expected(dispositif, team.concepteur)
    author, author_role = (
        (team.chef_etablissement, "chef_etablissement") if hse else (formateur, "formateur")
    )
    hours = [{"person_id": formateur, "hours": expected.formateur_hours}]
    if expected.tuteur_followed is not None:
        hours.append(
            {"person_id": team.tuteur, "hours": "10", "trainees_followed": expected.tuteur_followed}
        )
    bilan: dict[str, Any] = {
        "participants_enrolled": 20,
        "view_chef_etablissement": "Les équipes se sont approprié l'outil.",
        "view_formateurs": "Bonne dynamique, un rythme d'accompagnement à alléger.",
        "eval_fiabilite": "Aucun incident technique ; engagements tenus.",
        "eval_faisabilite": "Séquençage adapté, rythme soutenu en semaine 3.",
        "eval_accompagnement": "Échanges réguliers et de qualité sur le forum.",
        "eval_effets": "Séances hybrides menées en classe par la plupart des stagiaires.",
        "hours": hours,
    }
    journey.put("bilan", author, bilan)
    missing = journey.refused("soumettre_bilan", author, 422)["missing"]
    assert missing == [
        "le nombre de participants effectivement présents (émargement)",
        "les listes d'émargement téléversées",
    ]
    document = journey.upload(
        formateur, "emargement", "emargement.pdf", _tiny_pdf(f"Émargement {dossier}")
    )
    assert document["kind"] == "emargement" and document["content_type"] == "application/pdf"
    attendance = journey.put("attendance", author, {"participants_effective": expected.effective})
    assert attendance["participants_enrolled"] == 20
    journey.fire("soumettre_bilan", author, author_role, "bilan_soumis")
    journey.fire(
        "demander_complement",
        team.gestionnaire,
        "gestionnaire",
        "bilan_a_completer",
        comment="Joindre la liste d'émargement de la classe virtuelle.",
    )
    journey.upload(
        formateur, "emargement", "emargement-cv.pdf", _tiny_pdf(f"Classe virtuelle {dossier}")
    )
    journey.fire("soumettre_bilan", author, author_role, "bilan_soumis")
    journey.fire("valider_bilan", team.gestionnaire, "gestionnaire", "bilan_valide")

    # Decision and payment.
    journey.fire(
        "accorder_paiement",
        team.responsable,
        "responsable",
        "paiement_accorde",
        payload=expected.payload,
    )
    journey.fire("mettre_en_paiement", team.gestionnaire, "gestionnaire", "mis_en_paiement")

    final = api.get(journey.path, team.pilote)
    assert final.json()["state"] == "mis_en_paiement" and final.json()["actions"] == []
    with reading(api.container.engine) as conn:
        decision = payment_decision(conn, dossier)
    assert decision is not None and decision.total == expected.total
    assert decision.decided_by == names[team.responsable]

    lines = journey.check_history(team.stagiaires[0], names)
    assert [line["trigger"] for line in lines] == [
        "emettre_contrat",
        *["signer"] * len(signatories),
        "soumettre_scenario",
        "demander_revision",
        "soumettre_scenario",
        "valider_scenario",
        "demarrer",
        "terminer",
        "soumettre_bilan",
        "demander_complement",
        "soumettre_bilan",
        "valider_bilan",
        "accorder_paiement",
        "mettre_en_paiement",
    ]
    comments = {line["trigger"]: line["comment"] for line in lines if line["comment"]}
    assert comments == {
        "demander_revision": "Préciser l'accompagnement de la séquence 2.",
        "demander_complement": "Joindre la liste d'émargement de la classe virtuelle.",
    }


def test_hse_payment_needs_the_rate_of_the_academie(
    world: World, api: Api, builder: DemoBuilder
) -> None:
    """The demo configuration has no HSE rate (the seeds give none): the decision is refused
    in French and nothing changes."""
    dossier = world.formation("hse_convention_ent")
    builder.drive(dossier, world.team, "bilan_valide")
    journey = Journey(api, dossier, api.version(dossier, world.team.responsable))
    body = journey.refused("accorder_paiement", world.team.responsable, 422)
    assert body["type"] == "/api/problemes/conditions-non-remplies"
    assert any("taux de l'HSE n'est pas configuré" in m for m in body["missing"]), body
    with reading(api.container.engine) as conn:
        assert payment_decision(conn, dossier) is None


# Ouverture de parcours ---------------------------------------------------------------


def _demande(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "nom_parcours": "Premiers pas avec l'ENT",
        "objectifs": "Permettre aux enseignants de concevoir des activités en autonomie.",
        "description": "Trois modules de deux semaines, un forum animé par le tuteur.",
        "pilote_nom": "Pilote de test",
        "pilote_courriel": "pilote@example.org",
        "concepteurs": "Concepteur de test",
        "associe_presentiel": True,
        "duree_presentiel_h": "3",
        "duree_distance_h": "6",
        "accompagnement_distance": "Tutorat asynchrone sur le forum, réponse sous 48 h.",
        "publics": ["college", "lycee"],
        "format_parcours": "Parcours accompagné",
    }
    body.update(changes)
    return body


def test_ouverture_parcours_lifecycle_over_http(world: World, api: Api) -> None:
    team = world.team
    assert team.concepteur is not None
    emails = _emails(api, world)
    _let_pilote_open_dossiers(api, world, emails)
    dossier, etag, created = _create(
        api,
        team.pilote,
        {
            "title": "Demande : premiers pas avec l'ENT",
            "academie": world.slug,
            "workflow": "ouverture_parcours",
        },
    )
    assert created["workflow"] == "ouverture_parcours" and created["my_roles"] == ["pilote"]
    journey = Journey(api, dossier, etag)
    journey.assign(team.pilote, emails[team.concepteur], "concepteur")

    saved = journey.put("demande", team.concepteur, _demande(duree_distance_h=None, publics=[]))
    assert saved["nom_parcours"] == "Premiers pas avec l'ENT"
    missing = journey.refused("soumettre", team.concepteur, 422)["missing"]
    assert missing == ["la durée prévue à distance", "le public visé"]
    journey.put("demande", team.concepteur, _demande())
    journey.fire("soumettre", team.concepteur, "concepteur", "soumise")
    frozen = api.put(f"{journey.path}/demande", team.pilote, json=_demande(objectifs="Autre"))
    assert frozen.status_code == 422, "a submitted request is frozen"
    journey.fire(
        "demander_complement",
        team.gestionnaire,
        "gestionnaire",
        "a_completer",
        comment="Préciser la durée à distance.",
    )
    journey.put("demande", team.pilote, _demande(duree_distance_h="8"))
    journey.fire("soumettre", team.pilote, "pilote", "soumise")
    journey.fire("accepter", team.gestionnaire, "gestionnaire", "acceptee")
    journey.fire("ouvrir", team.gestionnaire, "gestionnaire", "ouverte")

    final = api.get(f"{journey.path}/demande", team.concepteur)
    assert final.status_code == 200 and final.json()["duree_distance_h"] == "8.00"
    view = api.get(journey.path, team.concepteur).json()
    assert view["state"] == "ouverte" and view["actions"] == []
    names = {m["person_id"]: m["full_name"] for m in view["team"]}
    lines = journey.check_history(team.concepteur, names)
    assert [line["trigger"] for line in lines] == [
        "soumettre",
        "demander_complement",
        "soumettre",
        "accepter",
        "ouvrir",
    ]
