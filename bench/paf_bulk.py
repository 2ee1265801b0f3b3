"""How long the PAF import of 1,000 lines and a bulk validation of 200 bilans take.

Run ``python -m bench.paf_bulk [--lines N] [--batch M] [--database sqlite|postgresql|both]``
(``--quick`` for a smoke run). It prints figures and exits 0 unless something crashes:
nothing here asserts on a timing (the targets, < 10 s each, are judged by reading).

PAF: a CSV of ``--lines`` lines as Excel writes it (Windows-1252, ``;``), each naming a
pilote, two formateurs and a concepteur who exist, read by the same code as the page, the
API and ``formaflow paf import`` (``api.imports.paf.parse``), then the dry run, the import
(all lines created, with their team, in one transaction), and the same file again (every
line unchanged). The same lines as an XLSX are read too.

Bulk: ``--batch`` dossiers inserted directly in « Bilan soumis » with their team, one
``valider_bilan`` batch launched by their gestionnaire and run by the worker of ``serve``
(``BulkActions.run_once``) with the product's wiring: one service transaction per dossier,
with its history row and its emails written to the outbox.
"""

from __future__ import annotations

import argparse
import io
import tempfile
import time
import uuid
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TypeVar

from openpyxl import Workbook
from sqlalchemy import func, insert, select

from api.imports.paf import parse
from api.settings import ApiSettings
from api.wiring import Container
from bench.transitions import postgresql_url, sqlite_url
from workflow.admin.bulk import BulkActions
from workflow.admin.paf import Action
from workflow.dossiers.editing import DossierEditor
from workflow.engine.service import WorkflowService
from workflow.rules import RULES
from workflow.store.migrate import upgrade
from workflow.store.settings import WorkflowSettings
from workflow.store.tables import assignment_table, dossier_table, outbox_table
from workflow.store.types import utcnow

TARGET_SECONDS = 10.0
HEADER = [
    "Identifiant PAF",
    "Intitulé",
    "Dispositif",
    "Pilote (courriel)",
    "Formateurs (courriels)",
    "Concepteurs (courriels)",
    "Heures présentiel",
    "Heures distance",
    "Participants prévus",
    "Date de début",
    "Date de fin",
    "Public",
]

T = TypeVar("T")


def timed(work: Callable[[], T]) -> tuple[T, float]:
    start = time.perf_counter()
    result = work()
    return result, time.perf_counter() - start


def _people(editor: DossierEditor, tag: str) -> dict[str, list[str]]:
    roles = {"pilote": 5, "formateur": 20, "concepteur": 5}
    emails: dict[str, list[str]] = {}
    for role, count in roles.items():
        emails[role] = []
        for n in range(count):
            address = f"{role}{n}.{tag}@example.org"
            editor.create_person(address, f"{role.title()} {n}")
            emails[role].append(address)
    return emails


def _rows(lines: int, emails: dict[str, list[str]]) -> list[list[str]]:
    rows = []
    for n in range(1, lines + 1):
        f = emails["formateur"]
        rows.append(
            [
                f"26B{n:07d}",
                f"Module hybride n° {n} : écrire, évaluer",
                "vacation_accompagnement" if n % 2 else "Parcours EAFC rémunéré au taux A",
                emails["pilote"][n % len(emails["pilote"])],
                f"{f[n % len(f)]}, {f[(n + 1) % len(f)]}",
                emails["concepteur"][n % len(emails["concepteur"])],
                "6",
                "13,5",
                str(10 + n % 20),
                "14/09/2026",
                "12/12/2026",
                "Enseignants du second degré",
            ]
        )
    return rows


def _csv(rows: list[list[str]]) -> bytes:
    text = "\r\n".join(";".join(row) for row in [HEADER, *rows]) + "\r\n"
    return text.encode("cp1252")


def _xlsx(rows: list[list[str]]) -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    for row in [HEADER, *rows]:
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _container(url: str, data_dir: Path) -> Container:
    container = Container(
        WorkflowSettings(database_url=url, data_dir=data_dir),
        ApiSettings(env="production", data_dir=data_dir, base_url="http://bench"),
    )
    upgrade(container.engine)
    return container


def bench_paf(container: Container, lines: int) -> list[str]:
    tag = uuid.uuid4().hex[:8]
    editor = container.editor
    academie = editor.create_academie(f"bench-{tag}", f"Académie banc {tag}", f"B{tag[:6]}")
    rows = _rows(lines, _people(editor, tag))
    content, xlsx = _csv(rows), _xlsx(rows)
    parsed, read = timed(lambda: parse(content))
    _, read_xlsx = timed(lambda: parse(xlsx))
    importer = container.paf
    trial, dry = timed(lambda: importer.dry_run(academie, parsed, actor_id=None))
    done, applied = timed(lambda: importer.apply(academie, parse(content), actor_id=None))
    again, reapplied = timed(lambda: importer.apply(academie, parse(content), actor_id=None))
    assert trial.count(Action.CREATE) == lines, trial.counts
    assert done.applied and done.count(Action.CREATE) == lines, done.counts
    assert again.count(Action.SAME) == lines, again.counts
    with container.engine.connect() as conn:
        created = conn.execute(
            select(func.count())
            .select_from(dossier_table)
            .where(dossier_table.c.academie_id == academie)
        ).scalar_one()
    assert created == lines
    total = read + applied
    return [
        f"  PAF {lines} lignes (CSV Windows-1252) : lecture {read:.2f} s, essai {dry:.2f} s, "
        f"import {applied:.2f} s, réimport à l'identique {reapplied:.2f} s",
        f"  même PAF en XLSX : lecture {read_xlsx:.2f} s",
        f"  paf: lecture + import = {total:.2f} s (objectif < {TARGET_SECONDS:.0f} s : "
        f"{'atteint' if total < TARGET_SECONDS else 'MANQUÉ'})",
    ]


def bench_bulk(container: Container, count: int, *, emails: bool = True) -> list[str]:
    """``emails=False``: the same batch through a service without the outbox subscriber,
    to tell the engine's share from the composition of the emails."""
    tag = uuid.uuid4().hex[:8]
    editor = container.editor
    academie = editor.create_academie(f"lot-{tag}", f"Académie lot {tag}", f"L{tag[:6]}")
    gestionnaire = editor.create_person(f"gestionnaire.{tag}@example.org", "Gestionnaire Banc")
    responsable = editor.create_person(f"responsable.{tag}@example.org", "Responsable Banc")
    pilote = editor.create_person(f"pilote.{tag}@example.org", "Pilote Banc")
    formateur = editor.create_person(f"formateur.{tag}@example.org", "Formateur Banc")
    editor.assign(gestionnaire, "gestionnaire", academie_id=academie)
    editor.assign(responsable, "responsable", academie_id=academie)
    now = utcnow()
    with container.engine.begin() as conn:
        ids = [
            int(
                conn.execute(
                    insert(dossier_table).values(
                        reference=f"26-L{tag[:6]}-{n:04d}",
                        title=f"Bilan à valider n° {n}",
                        academie_id=academie,
                        workflow_name="dossier_formation",
                        workflow_version=1,
                        dispositif="vacation_accompagnement",
                        state="bilan_soumis",
                        version=1,
                        state_entered_at=now,
                        created_at=now,
                        updated_at=now,
                    )
                ).inserted_primary_key[0]  # type: ignore[index]
            )
            for n in range(1, count + 1)
        ]
        conn.execute(
            insert(assignment_table),
            [
                {"person_id": person, "role": role, "dossier_id": d, "created_at": now}
                for d in ids
                for person, role in ((pilote, "pilote"), (formateur, "formateur"))
            ],
        )
    bulk = (
        container.bulk
        if emails
        else BulkActions(container.engine, WorkflowService(container.engine, RULES))
    )
    batch, launch = timed(
        lambda: bulk.create(academie, "valider_bilan", ids, actor_id=gestionnaire)
    )
    handled, run = timed(lambda: bulk.run_once("bench", only=batch))
    assert handled == count
    with container.engine.connect() as conn:
        states = set(
            conn.execute(select(dossier_table.c.state).where(dossier_table.c.id.in_(ids)))
            .scalars()
            .all()
        )
        written = conn.execute(
            select(func.count()).select_from(outbox_table).where(outbox_table.c.dossier_id.in_(ids))
        ).scalar_one()
    assert states == {"bilan_valide"}, states
    total = launch + run
    if not emails:
        return [
            f"  même action sans courriels (service seul) : {run:.2f} s "
            f"({count / run:,.0f} dossiers/s)"
        ]
    return [
        f"  action groupée « valider le bilan » sur {count} dossiers : lancement {launch:.2f} s, "
        f"traitement {run:.2f} s ({count / run:,.0f} dossiers/s), {written} courriels écrits",
        f"  bulk: {total:.2f} s (objectif < {TARGET_SECONDS:.0f} s : "
        f"{'atteint' if total < TARGET_SECONDS else 'MANQUÉ'})",
    ]


def run(database: str, lines: int, batch: int) -> list[str]:
    with tempfile.TemporaryDirectory(prefix="formaflow-bench-") as directory:
        if database == "sqlite":
            with sqlite_url() as (url, _):
                container = _container(url, Path(directory))
                try:
                    return [
                        f"{database}:",
                        *bench_paf(container, lines),
                        *bench_bulk(container, batch),
                        *bench_bulk(container, batch, emails=False),
                    ]
                finally:
                    container.close()
        with postgresql_url() as (url, origin):
            container = _container(url, Path(directory))
            try:
                return [
                    f"{database} ({origin}):",
                    *bench_paf(container, lines),
                    *bench_bulk(container, batch),
                    *bench_bulk(container, batch, emails=False),
                ]
            finally:
                container.close()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.paf_bulk", description=__doc__)
    parser.add_argument("--lines", type=int, default=1000)
    parser.add_argument("--batch", type=int, default=200)
    parser.add_argument(
        "--database", choices=("sqlite", "postgresql", "both"), default="both", dest="database"
    )
    parser.add_argument("--quick", action="store_true", help="100 lines, 20 dossiers")
    args = parser.parse_args(argv)
    lines, batch = (100, 20) if args.quick else (args.lines, args.batch)
    databases = ("sqlite", "postgresql") if args.database == "both" else (args.database,)
    for database in databases:
        for line in run(database, lines, batch):
            print(line, flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
