"""My tasks (list, tick, untick) and the read-only workflow definitions and diagrams."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import update

from states import SPECS, get_spec
from states.roles import role_label
from tests.conftest import World
from tests.support.api import Api
from workflow.participants.roster import enrolment_of
from workflow.reads.diagram import mermaid
from workflow.store.tables import task_table
from workflow.store.types import utcnow

JSON_PROBLEM = "application/problem+json"
SVG = "{http://www.w3.org/2000/svg}"


def _codes(role: str, *phases: str) -> set[str]:
    spec = get_spec("dossier_formation")
    return {t.code for t in spec.tasks if t.role == role and t.phase in phases}


def _tasks(api: Api, person: int, statut: str | None = None, **params: Any) -> list[Any]:
    if statut is not None:
        params["statut"] = statut
    response = api.get("/api/v1/tasks", person, params=params)
    assert response.status_code == 200, response.text
    items: list[Any] = response.json()["items"]
    return items


def _running(world: World) -> int:
    dossier = world.formation()
    world.builder.drive(dossier, world.team, "en_cours")
    return dossier


def _set_due(api: Api, task_id: int, due_at: datetime) -> None:
    # Test setup only: put a due date in the past (or future) directly in SQL, since the
    # charter's en amont / pendant tasks have no due date of their own.
    with api.container.engine.begin() as conn:
        conn.execute(update(task_table).where(task_table.c.id == task_id).values(due_at=due_at))


# Tasks ---------------------------------------------------------------------------------


def test_formateur_lists_only_their_own_tasks(world: World, api: Api) -> None:
    dossier = _running(world)
    formateur, stagiaire = world.team.formateurs[0], world.team.stagiaires[0]
    mine = _tasks(api, formateur)
    # Started: the « en amont » tasks closed with their phase, kept as « non faites ».
    assert {t["code"] for t in mine} == _codes("formateur", "pendant")
    assert {t["role"] for t in mine} == {"formateur"}
    assert {t["role_label"] for t in mine} == {"Formateur"}
    assert {t["phase_label"] for t in mine} == {"Pendant"}
    closed = _tasks(api, formateur, "non_faites")
    assert {t["code"] for t in closed} == _codes("formateur", "en_amont")
    assert all(t["closed_at"] and t["done_at"] is None and not t["overdue"] for t in closed)
    assert {t["dossier_id"] for t in mine} == {dossier}
    assert all(t["dossier_title"] == "Dossier de test" for t in mine)
    assert all(t["dossier_reference"] and t["done_at"] is None for t in mine)
    theirs = _tasks(api, stagiaire)
    assert {t["code"] for t in theirs} == _codes("stagiaire", "pendant")
    assert not {t["id"] for t in mine} & {t["id"] for t in theirs}
    assert _tasks(api, world.outsider) == []


def test_complete_then_reopen(world: World, api: Api) -> None:
    _running(world)
    formateur = world.team.formateurs[0]
    task = _tasks(api, formateur)[0]
    done = api.post(f"/api/v1/tasks/{task['id']}/complete", formateur)
    assert done.status_code == 200, done.text
    body = done.json()
    assert body["id"] == task["id"] and body["done_by_id"] == formateur
    assert body["done_at"] is not None
    assert task["id"] in {t["id"] for t in _tasks(api, formateur, "faites")}
    assert task["id"] not in {t["id"] for t in _tasks(api, formateur)}
    again = api.post(f"/api/v1/tasks/{task['id']}/complete", formateur)
    assert again.status_code == 200 and again.json()["done_at"] == body["done_at"]
    reopened = api.post(f"/api/v1/tasks/{task['id']}/reopen", formateur)
    assert reopened.status_code == 200, reopened.text
    assert reopened.json()["done_at"] is None and reopened.json()["done_by_id"] is None
    assert task["id"] in {t["id"] for t in _tasks(api, formateur)}
    assert task["id"] not in {t["id"] for t in _tasks(api, formateur, "faites")}
    assert api.post(f"/api/v1/tasks/{task['id']}/reopen", formateur).status_code == 200


@pytest.mark.parametrize("who", ["stagiaire", "outsider", "pilote"])
def test_someone_elses_task_is_not_found(world: World, api: Api, who: str) -> None:
    _running(world)
    formateur = world.team.formateurs[0]
    person = {
        "stagiaire": world.team.stagiaires[0],
        "outsider": world.outsider,
        "pilote": world.team.pilote,
    }[who]
    task = _tasks(api, formateur)[0]
    for action in ("complete", "reopen"):
        response = api.post(f"/api/v1/tasks/{task['id']}/{action}", person)
        assert response.status_code == 404, response.text
        assert response.headers["content-type"].startswith(JSON_PROBLEM)
        problem = response.json()
        assert problem["type"] == "/api/problemes/introuvable"
        assert problem["detail"] == f"La tâche {task['id']} est introuvable parmi vos tâches."
    assert task["id"] in {t["id"] for t in _tasks(api, formateur)}


def test_unknown_task_is_not_found(world: World, api: Api) -> None:
    response = api.post(f"/api/v1/tasks/{2**31 - 1}/complete", world.team.pilote)
    assert response.status_code == 404
    assert response.json()["title"] == "Ressource introuvable"


def test_overdue_filter_and_due_date_order(world: World, api: Api) -> None:
    _running(world)
    formateur = world.team.formateurs[0]
    first, second, *_ = _tasks(api, formateur)
    now = utcnow()
    _set_due(api, second["id"], now - timedelta(days=1))
    _set_due(api, first["id"], now + timedelta(days=3))
    late = _tasks(api, formateur, "en_retard")
    assert [t["id"] for t in late] == [second["id"]]
    assert late[0]["overdue"] is True
    ordered = _tasks(api, formateur)
    assert [t["id"] for t in ordered[:2]] == [second["id"], first["id"]]
    assert ordered[1]["overdue"] is False and ordered[-1]["due_at"] is None
    api.post(f"/api/v1/tasks/{second['id']}/complete", formateur)
    assert _tasks(api, formateur, "en_retard") == []
    everything = _tasks(api, formateur, "toutes")
    closed = _tasks(api, formateur, "non_faites")
    assert len(everything) == len(ordered) + len(closed)
    assert second["id"] in {t["id"] for t in everything}


def test_tasks_of_several_dossiers_sort_by_reference_and_page(world: World, api: Api) -> None:
    _running(world)
    _running(world)
    formateur = world.team.formateurs[0]
    all_open = _tasks(api, formateur)
    assert len(all_open) == 2 * len(_codes("formateur", "pendant"))
    references = [t["dossier_reference"] for t in all_open]
    assert references == sorted(references)
    page = api.get("/api/v1/tasks", formateur, params={"limit": 3, "offset": 2}).json()
    assert page["has_more"] is True and page["limit"] == 3 and page["offset"] == 2
    assert [t["id"] for t in page["items"]] == [t["id"] for t in all_open[2:5]]
    tail = api.get("/api/v1/tasks", formateur, params={"offset": len(all_open) - 1}).json()
    assert tail["has_more"] is False and len(tail["items"]) == 1


def test_a_holder_who_left_the_dossier_may_no_longer_tick(world: World, api: Api) -> None:
    dossier = _running(world)
    stagiaire = world.team.stagiaires[0]
    task = _tasks(api, stagiaire)[0]
    with world.builder.engine.connect() as conn:
        enrolment = enrolment_of(conn, dossier, stagiaire)
    assert enrolment is not None
    # A stagiaire leaves a dossier by a withdrawal (désinscription), which takes the role.
    world.builder.enrolments.withdraw(dossier, enrolment.enrolment_id, actor_id=None)
    assert _tasks(api, stagiaire, "toutes") == []
    response = api.post(f"/api/v1/tasks/{task['id']}/complete", stagiaire)
    assert response.status_code == 403
    assert response.json()["type"] == "/api/problemes/action-non-autorisee"
    assert "Stagiaire" in response.json()["detail"]


def test_bad_filters_are_french_problems(world: World, api: Api) -> None:
    response = api.get("/api/v1/tasks", world.team.pilote, params={"statut": "finies"})
    assert response.status_code == 422
    assert response.json()["errors"] == [{"field": "statut", "message": "valeur non autorisée"}]
    response = api.get("/api/v1/tasks", world.team.pilote, params={"limit": 0})
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "limit"


def test_ticking_with_a_cookie_needs_the_csrf_token(world: World, api: Api) -> None:
    _running(world)
    formateur = world.team.formateurs[0]
    task = _tasks(api, formateur)[0]
    api.container.accounts.set_password(formateur, "un mot de passe solide")
    email = api.get("/api/v1/auth/me", formateur).json()["email"]
    client = api.client
    login = client.post(
        "/api/v1/auth/login", json={"email": email, "password": "un mot de passe solide"}
    )
    assert login.status_code == 200, login.text
    path = f"/api/v1/tasks/{task['id']}/complete"
    refused = client.post(path)
    assert refused.status_code == 403 and refused.json()["type"] == "/api/problemes/jeton-csrf"
    assert client.get("/api/v1/tasks").json()["items"][0]["done_at"] is None
    accepted = client.post(path, headers={"X-CSRF-Token": login.json()["csrf_token"]})
    assert accepted.status_code == 200 and accepted.json()["done_at"] is not None


# Workflows -----------------------------------------------------------------------------


def test_list_workflows(world: World, api: Api) -> None:
    response = api.get("/api/v1/workflows", world.outsider)
    assert response.status_code == 200
    listed = {(w["name"], w["version"]): w for w in response.json()}
    assert set(listed) == set(SPECS)
    for key, spec in SPECS.items():
        assert listed[key]["label"] == spec.label
        assert listed[key]["state_count"] == len(spec.states)
        assert listed[key]["transition_count"] == len(spec.transitions)


@pytest.mark.parametrize("key", sorted(SPECS), ids=lambda k: f"{k[0]}-v{k[1]}")
def test_workflow_definition_matches_the_spec(world: World, api: Api, key: Any) -> None:
    spec = SPECS[key]
    response = api.get(
        f"/api/v1/workflows/{spec.name}", world.team.pilote, params={"version": spec.version}
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["name"], body["version"], body["initial"]) == (*key, spec.initial)
    states = {s["id"]: s for s in body["states"]}
    assert list(states) == [s.id for s in spec.states]
    for state in spec.states:
        assert states[state.id]["label"] == state.label
        assert states[state.id]["terminal"] == state.terminal
        assert states[state.id]["phase_label"] == spec.phase(state.phase).label
    transitions = {t["trigger"]: t for t in body["transitions"]}
    assert list(transitions) == list(spec.triggers)
    for transition in spec.transitions:
        out = transitions[transition.trigger]
        assert out["label"] == transition.label
        assert out["sources"] == list(transition.sources) and out["dest"] == transition.dest
        assert out["roles"] == [{"id": r, "label": role_label(r)} for r in transition.roles]
        assert out["comment_required"] == transition.comment_required
        assert out["guards"] == list(transition.guards)
    assert [d["id"] for d in body["deadlines"]] == [d.id for d in spec.deadlines]
    assert [p["label"] for p in body["phases"]] == [p.label for p in spec.phases]
    assert len(body["tasks"]) == len(spec.tasks)


def test_roles_read_in_french(world: World, api: Api) -> None:
    body = api.get("/api/v1/workflows/dossier_formation", world.team.pilote).json()
    roles = {r["id"]: r["label"] for t in body["transitions"] for r in t["roles"]}
    assert roles["pilote"] == "Pilote" and roles["signataire"] == "Signataire du contrat"
    assert roles["responsable"] == "Responsable académique de la formation"


def test_mermaid_diagram(world: World, api: Api) -> None:
    spec = get_spec("dossier_formation")
    response = api.get(
        "/api/v1/workflows/dossier_formation/diagram",
        world.team.pilote,
        params={"format": "mermaid", "etat": "en_cours"},
    )
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/plain; charset=utf-8"
    assert response.text == mermaid(spec, "en_cours")
    assert "class en_cours current" in response.text
    default = api.get("/api/v1/workflows/ouverture_parcours/diagram", world.team.pilote)
    assert default.text == mermaid(get_spec("ouverture_parcours"))


@pytest.mark.parametrize("name", ["dossier_formation", "ouverture_parcours"])
def test_svg_diagram(world: World, api: Api, name: str) -> None:
    spec = get_spec(name)
    current = spec.states[2].id
    response = api.get(
        f"/api/v1/workflows/{name}/diagram",
        world.team.pilote,
        params={"format": "svg", "etat": current},
    )
    assert response.status_code == 200
    assert response.headers["content-type"] == "image/svg+xml"
    root = ET.fromstring(response.text)
    assert root.tag == f"{SVG}svg" and root.get("role") == "img"
    title = root.find(f"{SVG}title")
    assert title is not None and spec.label in (title.text or "")
    texts = {" ".join(t.itertext()) for t in root.iter(f"{SVG}text")}
    assert {s.label for s in spec.states} <= texts
    nodes = {g.get("data-etat"): g for g in root.iter(f"{SVG}g") if g.get("data-etat")}
    assert set(nodes) == {s.id for s in spec.states}
    for state_id, node in nodes.items():
        fill = node.find(f"{SVG}rect")
        assert fill is not None
        assert (fill.get("fill") == "#000091") == (state_id == current)
    label = _node_text(nodes[current])
    assert label == spec.state(current).label


def _node_text(node: ET.Element) -> str | None:
    text = node.find(f"{SVG}text")
    assert text is not None
    return " ".join(text.itertext())  # a long name wraps on several lines


def test_unknown_workflow_version_or_state(world: World, api: Api) -> None:
    pilote = world.team.pilote
    unknown = api.get("/api/v1/workflows/inconnu", pilote)
    assert unknown.status_code == 404
    assert unknown.headers["content-type"].startswith(JSON_PROBLEM)
    assert unknown.json()["detail"].startswith("Aucun workflow ne s'appelle « inconnu »")
    assert api.get("/api/v1/workflows/inconnu/diagram", pilote).status_code == 404
    version = api.get("/api/v1/workflows/dossier_formation", pilote, params={"version": 99})
    assert version.status_code == 404 and "pas de version 99" in version.json()["detail"]
    state = api.get(
        "/api/v1/workflows/dossier_formation/diagram",
        pilote,
        params={"format": "svg", "etat": "nulle_part"},
    )
    assert state.status_code == 422
    assert state.json()["errors"][0]["field"] == "etat"
    assert "État inconnu" in state.json()["detail"]
    fmt = api.get("/api/v1/workflows/dossier_formation/diagram", pilote, params={"format": "png"})
    assert fmt.status_code == 422 and fmt.json()["errors"][0]["field"] == "format"


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/api/v1/tasks"),
        ("POST", "/api/v1/tasks/1/complete"),
        ("POST", "/api/v1/tasks/1/reopen"),
        ("GET", "/api/v1/workflows"),
        ("GET", "/api/v1/workflows/dossier_formation"),
        ("GET", "/api/v1/workflows/dossier_formation/diagram?format=svg"),
    ],
)
def test_authentication_is_required(api: Api, method: str, path: str) -> None:
    response = api.client.request(method, path)
    assert response.status_code == 401
    assert response.json()["type"] == "/api/problemes/authentification-requise"
