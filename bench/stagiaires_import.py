"""How long importing a list of stagiaires takes: 500 lines, target under 5 s (issue 13).

Run ``python -m bench.stagiaires_import [--lines N] [--rounds R] [--database
sqlite|postgresql|both]`` (``--quick`` for a smoke run). It prints figures and exits 0
unless something crashes: nothing here asserts on a timing.

What is timed, per round, on a fresh dossier of a fresh académie with three schools:

* *read*: the CSV file (UTF-8 with BOM, ``;``) read by the edge's reader into a header and
  rows (``api.imports.read_list``);
* *dry run*: ``Enrolments.preview`` — every line judged in French, nothing written;
* *import*: ``Enrolments.import_file`` — judged again then written in one transaction, all
  or nothing: 500 people created, their enrolments, events and ``stagiaire`` roles;
* *total*: the three, what a formateur waits for between choosing the file and the list;
* *import after validation*: the same import on a dossier whose scenario is validated, so
  the same transaction also writes the 500 convocations (with their calendar attachment)
  and the notices to the school heads — the product's wiring, its outbox writer included.

The figure is the median of the rounds, in seconds.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

from sqlalchemy import func, select

from api.imports.lists import read_list
from api.settings import ApiSettings
from api.wiring import Container
from notifications.settings import MailSettings
from tests.support.postgres import server
from workflow.demo import DemoBuilder, Team
from workflow.engine.service import FireCommand
from workflow.participants.inputs import EtablissementInput
from workflow.store.database import make_engine
from workflow.store.migrate import upgrade
from workflow.store.settings import WorkflowSettings
from workflow.store.tables import outbox_table
from workflow.store.types import utcnow

TARGET_SECONDS = 5.0
HEADER = "Nom;Prénom;Courriel;Établissement;Discipline ou public"


def _csv(tag: str, lines: int) -> bytes:
    schools = ["0130001A", "Lycée Jean Jaurès", "0130003C"]
    rows = [
        f"Nom{n:04d};Prénom{n:04d};stagiaire{n:04d}.{tag}@example.org;{schools[n % 3]};Maths"
        for n in range(lines)
    ]
    return ("\ufeff" + "\r\n".join([HEADER, *rows]) + "\r\n").encode("utf-8")


@contextmanager
def _container(url: str, data: Path) -> Iterator[Container]:
    engine = make_engine(url)
    upgrade(engine)
    container = Container(
        WorkflowSettings(database_url=url, data_dir=data),
        ApiSettings(env="production", data_dir=data, base_url="http://bench"),
        MailSettings(base_url="http://bench"),
    )
    container.__dict__["engine"] = engine
    try:
        yield container
    finally:
        engine.dispose()


def _dossier(container: Container, validated: bool) -> tuple[int, int]:
    """A fresh académie with its three schools and one dossier; (dossier, pilote)."""
    tag = uuid.uuid4().hex[:8]
    builder = DemoBuilder(container.engine, container.settings.data_dir, container.service)
    editor = builder.editor
    academie = editor.create_academie(f"bench-{tag}", f"Académie {tag}", tag[:6].upper())
    people = [
        editor.create_person(f"{r}.{tag}@example.org", r.title())
        for r in ("p", "f", "g", "r", "c", "t")
    ]
    team = Team(
        pilote=people[0],
        formateurs=[people[1]],
        gestionnaire=people[2],
        responsable=people[3],
        concepteur=people[4],
        tuteur=people[5],
    )
    editor.assign(team.gestionnaire, "gestionnaire", academie_id=academie)
    editor.assign(team.responsable, "responsable", academie_id=academie)
    container.etablissements.save_all(
        academie,
        [
            EtablissementInput(
                uai=f"013000{n}{'ABC'[n - 1]}",
                name=name,
                kind=kind,
                head_role=head,
                head_name=f"Responsable {n}",
                head_email=f"resp{n}.{tag}@example.org",
            )
            for n, name, kind, head in (
                (1, "Collège Marie Curie", "etablissement", "chef_etablissement"),
                (2, "Lycée Jean Jaurès", "etablissement", "chef_etablissement"),
                (3, "École des Lilas", "ecole", "ien"),
            )
        ],
    )
    dossier = builder.formation(academie, team, title="Banc d'import")
    if validated:
        builder.add_sessions(dossier, team, utcnow() + timedelta(days=20))
        builder.drive(dossier, team, "scenario_soumis")
        container.service.fire(FireCommand(dossier, "valider_scenario", team.pilote))
    return dossier, team.pilote


def _convocations(container: Container, dossier: int) -> int:
    with container.engine.connect() as conn:
        return int(
            conn.execute(
                select(func.count()).where(
                    outbox_table.c.dossier_id == dossier,
                    outbox_table.c.template == "participants/convocation",
                )
            ).scalar_one()
        )


def _round(container: Container, lines: int, validated: bool) -> dict[str, float]:
    dossier, pilote = _dossier(container, validated)
    content = _csv(uuid.uuid4().hex[:8], lines)
    started = time.perf_counter()
    read = read_list("liste.csv", content)
    read_at = time.perf_counter()
    report = container.enrolments.preview(dossier, read.header, read.rows, actor_id=pilote)
    previewed = time.perf_counter()
    assert report.ok and report.to_enrol == lines, report.problems
    done = container.enrolments.import_file(dossier, read.header, read.rows, actor_id=pilote)
    imported = time.perf_counter()
    assert done.to_enrol == lines
    assert _convocations(container, dossier) == (lines if validated else 0)
    return {
        "read": read_at - started,
        "dry run": previewed - read_at,
        "import": imported - previewed,
        "total": imported - started,
    }


def run(url: str, label: str, lines: int, rounds: int) -> None:
    with tempfile.TemporaryDirectory() as data, _container(url, Path(data)) as container:
        plain = [_round(container, lines, validated=False) for _ in range(rounds)]
        convoked = [_round(container, lines, validated=True) for _ in range(rounds)]
    for name in ("read", "dry run", "import", "total"):
        values = [r[name] for r in plain]
        print(
            f"{label}: {name} of {lines} lines: median {statistics.median(values):.2f} s "
            f"(min {min(values):.2f}, max {max(values):.2f})"
        )
    total = statistics.median(r["total"] for r in plain)
    verdict = "met" if total < TARGET_SECONDS else "NOT met"
    target = f"target < {TARGET_SECONDS:.0f} s"
    print(f"{label}: import of {lines} lines, {target}: {total:.2f} s — {verdict}")
    after = [r["total"] for r in convoked]
    print(
        f"{label}: the same import after validation ({lines} convocations written in the "
        f"same transaction): median {statistics.median(after):.2f} s"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--lines", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--database", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--quick", action="store_true", help="a smoke run: 50 lines, 1 round")
    options = parser.parse_args(argv)
    lines, rounds = (50, 1) if options.quick else (options.lines, options.rounds)
    if options.database in ("sqlite", "both"):
        with tempfile.TemporaryDirectory() as directory:
            run(f"sqlite:///{directory}/bench.db", "sqlite", lines, rounds)
    if options.database in ("postgresql", "both"):
        with server() as url:
            run(url, "postgresql", lines, rounds)
    return 0


if __name__ == "__main__":
    sys.exit(main())
