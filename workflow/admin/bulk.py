"""Bulk actions: one trigger on many dossiers, each through the same service as one action.

A gestionnaire or responsable chooses dossiers of one académie and an action — valider le
bilan, mettre en paiement, relancer les retardataires, annuler (with a comment). ``create``
records the batch and its dossiers (with the version each had when chosen) and returns at
once; a worker (``run_once``, in the serve process beside the relay and the deadline loop)
runs it: every dossier is one ``WorkflowService.fire`` — one transaction, the role of the
person who launched the batch checked on *that* dossier, its guards, its history, its own
emails — and its result (« fait », or « refusé » with the service's French reason) is
written in that same transaction, so a worker that dies mid-batch never acts twice on a
dossier: another worker takes the batch over when its lease expires and goes on with the
dossiers still waiting.

At most one batch waits or runs per académie: ``bulk_batch.running_academie_id`` is
unique while the batch is active and cleared when it ends.

« Relancer les retardataires » is no transition: for each dossier that is late, it sends
the reminder of its state's deadline (the deadline timer's own emails, through the same
subscribers) as a deadline point of its own. Which dossiers are late is the rule the
deadline timers and every list share (``workflow.engine.due.late_clause``, with the
académie's own delays).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection, Engine, func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from states import get_spec
from states.roles import role_label
from states.spec import DeadlineAction, DeadlineSpec
from workflow.engine.due import deadline_delays, late_clause
from workflow.engine.errors import InvalidInput, NotPermitted, WorkflowError
from workflow.engine.events import DeadlineEvent, DeadlineSubscriber
from workflow.engine.rows import load_for_actor
from workflow.engine.service import FireCommand, FireResult, WorkflowService
from workflow.store.tables import assignment_table as A
from workflow.store.tables import bulk_batch_table as B
from workflow.store.tables import bulk_item_table as BI
from workflow.store.tables import deadline_point_table as DP
from workflow.store.tables import dossier_table as D
from workflow.store.tables import person_table as P

log = logging.getLogger(__name__)

LAUNCHERS = ("gestionnaire", "responsable")
"""Académie roles that may launch a bulk action there (the service still checks, on each
dossier, the role its trigger needs)."""
MAX_DOSSIERS = 1000
LEASE = timedelta(seconds=60)
RENEW_SECONDS = 15.0
"""How often a running batch extends its lease (well within ``LEASE``)."""
REMIND = "relancer"


@dataclass(frozen=True, slots=True)
class BulkAction:
    id: str
    label: str
    trigger: str | None
    """The trigger fired on each dossier; None for the reminder, which is no transition."""
    comment_required: bool = False


ACTIONS: dict[str, BulkAction] = {
    a.id: a
    for a in (
        BulkAction("valider_bilan", "Valider le bilan", "valider_bilan"),
        BulkAction("mettre_en_paiement", "Mettre en paiement", "mettre_en_paiement"),
        BulkAction(REMIND, "Relancer les retardataires", None),
        BulkAction("annuler", "Annuler", "annuler", comment_required=True),
    )
}

BATCH_STATUS = {"en_attente": "En attente", "en_cours": "En cours", "terminee": "Terminée"}
ITEM_STATUS = {"en_attente": "En attente", "fait": "Fait", "refuse": "Refusé"}


class BatchBusy(WorkflowError):
    """Another batch already waits or runs in this académie."""

    code = "conflit"

    def __init__(self, batch_id: int | None, who: str | None) -> None:
        detail = f" (n° {batch_id}, lancée par {who})" if batch_id is not None and who else ""
        super().__init__(
            "Une action groupée est déjà en cours dans cette académie"
            f"{detail} : attendez qu'elle se termine avant d'en lancer une autre."
        )
        self.batch_id = batch_id


@dataclass(frozen=True, slots=True)
class _Claimed:
    id: int
    academie_id: int
    action: str
    comment: str | None
    created_by_id: int


class BulkActions:
    def __init__(
        self,
        engine: Engine,
        service: WorkflowService,
        reminders: Iterable[DeadlineSubscriber] = (),
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.engine = engine
        self.service = service
        self.reminders = list(reminders)
        self.clock = clock or service.clock

    # Launching -------------------------------------------------------------------------------

    def create(
        self,
        academie_id: int,
        action: str,
        dossier_ids: Iterable[int],
        *,
        actor_id: int,
        comment: str | None = None,
    ) -> int:
        """Record a batch to run; its id. Refused as a whole (French) when the action, the
        comment, the dossiers or the person's role do not allow it."""
        spec = ACTIONS.get(action)
        if spec is None:
            known = ", ".join(f"{a.label} ({a.id})" for a in ACTIONS.values())
            raise InvalidInput(f"Action groupée inconnue ; possibles : {known}.", "action")
        comment = (comment or "").strip() or None
        if spec.comment_required and comment is None:
            raise InvalidInput(
                f"Un commentaire est obligatoire pour « {spec.label} » : il figure dans "
                "l'historique et dans le courriel de chaque dossier.",
                "commentaire",
            )
        if comment is not None and len(comment) > 5000:
            raise InvalidInput("Le commentaire dépasse 5 000 caractères.", "commentaire")
        ids = list(dict.fromkeys(dossier_ids))
        if not ids:
            raise InvalidInput("Choisissez au moins un dossier.", "dossiers")
        if len(ids) > MAX_DOSSIERS:
            raise InvalidInput(
                f"Une action groupée porte sur {MAX_DOSSIERS} dossiers au plus ({len(ids)} "
                "choisis) : affinez le filtre.",
                "dossiers",
            )
        now = self.clock()
        try:
            with self.engine.begin() as conn:
                _require_launcher(conn, academie_id, actor_id)
                versions = _versions(conn, academie_id, ids)
                running = conn.execute(
                    select(B.c.id, P.c.full_name)
                    .join(P, P.c.id == B.c.created_by_id)
                    .where(B.c.running_academie_id == academie_id)
                ).first()
                if running is not None:
                    raise BatchBusy(running.id, running.full_name)
                key = conn.execute(
                    insert(B).values(
                        academie_id=academie_id,
                        running_academie_id=academie_id,
                        action=action,
                        comment=comment,
                        created_by_id=actor_id,
                        created_at=now,
                        status="en_attente",
                        total=len(ids),
                    )
                ).inserted_primary_key
                assert key is not None
                batch_id = int(key[0])
                conn.execute(
                    insert(BI),
                    [
                        {
                            "batch_id": batch_id,
                            "position": n,
                            "dossier_id": dossier_id,
                            "expected_version": versions[dossier_id],
                            "status": "en_attente",
                        }
                        for n, dossier_id in enumerate(ids, start=1)
                    ],
                )
                return batch_id
        except IntegrityError as error:
            # Two launches raced past the check: the unique active académie kept one.
            raise BatchBusy(None, None) from error

    # Running ---------------------------------------------------------------------------------

    def run_once(self, worker: str = "worker", *, only: int | None = None) -> int:
        """Claim a batch that waits (or whose worker stopped) and run it to its end; the
        number of dossiers handled (0: nothing to do). ``only`` restricts the claim to one
        batch (a test, or an operator finishing one batch by hand)."""
        batch = self._claim(only)
        if batch is None:
            return 0
        log.info("bulk batch %s (%s) claimed by %s", batch.id, batch.action, worker)
        handled = 0
        renewed = time.monotonic()
        for item_id, target in self._pending(batch.id):
            self._handle(batch, item_id, target)
            handled += 1
            if time.monotonic() - renewed > RENEW_SECONDS:
                self._renew(batch.id)
                renewed = time.monotonic()
        self._finish(batch.id)
        return handled

    def _claim(self, only: int | None = None) -> _Claimed | None:
        now = self.clock()
        claimable = or_(
            B.c.status == "en_attente",
            (B.c.status == "en_cours") & (B.c.lease_until < now),
        )
        if only is not None:
            claimable = claimable & (B.c.id == only)
        with self.engine.begin() as conn:
            candidates = conn.execute(
                select(B.c.id, B.c.academie_id, B.c.action, B.c.comment, B.c.created_by_id)
                .where(claimable)
                .order_by(B.c.id)
                .limit(5)
            ).all()
            for row in candidates:
                claimed = conn.execute(
                    update(B)
                    .where(B.c.id == row.id, claimable)
                    .values(
                        status="en_cours",
                        lease_until=now + LEASE,
                        started_at=func.coalesce(B.c.started_at, now),
                    )
                ).rowcount
                if claimed == 1:
                    return _Claimed(
                        row.id, row.academie_id, row.action, row.comment, row.created_by_id
                    )
        return None

    def _pending(self, batch_id: int) -> list[tuple[int, tuple[int, int]]]:
        """The dossiers of the batch still waiting, in the order they were chosen (read
        once: each result is written only if the dossier is still waiting, so a dossier
        another worker handled meanwhile is never counted twice)."""
        with self.engine.connect().execution_options(sqlite_begin="DEFERRED") as conn:
            rows = conn.execute(
                select(BI.c.id, BI.c.dossier_id, BI.c.expected_version)
                .where(BI.c.batch_id == batch_id, BI.c.status == "en_attente")
                .order_by(BI.c.position)
            ).all()
            conn.rollback()
        return [(int(r.id), (int(r.dossier_id), int(r.expected_version))) for r in rows]

    def _handle(self, batch: _Claimed, item_id: int, target: tuple[int, int]) -> None:
        dossier_id, version = target
        action = ACTIONS[batch.action]

        def done(conn: Connection, message: str) -> None:
            if not _mark(conn, item_id, "fait", message, self.clock()):
                # Another worker (this one's lease having run out) handled it meanwhile:
                # undo this second action with its emails.
                raise InvalidInput("Déjà traité par un autre processus.")

        try:
            if action.trigger is None:
                self._remind(batch, dossier_id, done)
            else:
                self.service.fire(
                    FireCommand(
                        dossier_id,
                        action.trigger,
                        batch.created_by_id,
                        expected_version=version,
                        comment=batch.comment,
                    ),
                    also=lambda conn, result: done(conn, _outcome(result)),
                )
        except WorkflowError as error:
            self._refuse(item_id, error.message)
        except Exception:
            # One dossier's unexpected failure must not stop the others; it is logged.
            log.exception("bulk batch %s: dossier %s failed", batch.id, dossier_id)
            self._refuse(item_id, "Erreur inattendue (journalisée) : rien n'a été fait.")

    def _refuse(self, item_id: int, message: str) -> None:
        with self.engine.begin() as conn:
            _mark(conn, item_id, "refuse", message, self.clock())

    def _remind(
        self, batch: _Claimed, dossier_id: int, done: Callable[[Connection, str], None]
    ) -> None:
        now = self.clock()
        with self.engine.begin() as conn:
            dossier, held = load_for_actor(conn, dossier_id, batch.created_by_id, now)
            if not any(c.role in LAUNCHERS for c in held):
                raise NotPermitted(
                    ACTIONS[REMIND].label.lower(), [role_label(r) for r in LAUNCHERS]
                )
            spec = get_spec(dossier.workflow_name, dossier.workflow_version)
            state = spec.state(dossier.state).label
            late = conn.execute(
                select(D.c.id).where(D.c.id == dossier_id, late_clause(now, deadline_delays(conn)))
            ).first()
            if late is None:
                raise InvalidInput(f"Pas en retard (« {state} ») : aucune relance envoyée.")
            deadline = _reminder(spec.deadlines, dossier.state, now - dossier.state_entered_at)
            if deadline is None or deadline.template is None:
                raise InvalidInput(f"Aucune relance n'est prévue dans l'état « {state} ».")
            key = conn.execute(
                insert(DP).values(
                    dossier_id=dossier_id,
                    deadline_id=f"relance_groupee:{deadline.id}"[:64],
                    anchor_at=now,
                    fired_at=now,
                )
            ).inserted_primary_key
            assert key is not None
            event = DeadlineEvent(
                point_id=int(key[0]),
                dossier_id=dossier_id,
                deadline_id=deadline.id,
                template=deadline.template,
                recipients=deadline.recipients,
                anchor_at=dossier.state_entered_at,
                due_at=dossier.state_entered_at + timedelta(days=deadline.offset_days),
                at=now,
            )
            for subscriber in self.reminders:
                subscriber(conn, event)
            done(conn, f"Relance envoyée : {deadline.label}")

    def _renew(self, batch_id: int) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                update(B).where(B.c.id == batch_id).values(lease_until=self.clock() + LEASE)
            )

    def _finish(self, batch_id: int) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                update(B)
                .where(B.c.id == batch_id)
                .values(
                    status="terminee",
                    finished_at=self.clock(),
                    lease_until=None,
                    running_academie_id=None,
                )
            )


def _outcome(result: FireResult) -> str:
    spec = get_spec(result.workflow_name, result.workflow_version)
    return f"{spec.state(result.from_state).label} → {spec.state(result.to_state).label}"


def _mark(conn: Connection, item_id: int, status: str, message: str, now: datetime) -> bool:
    """Record an item's result, once: False when it already had one."""
    changed = conn.execute(
        update(BI)
        .where(BI.c.id == item_id, BI.c.status == "en_attente")
        .values(status=status, message=message, done_at=now)
    ).rowcount
    return changed == 1


def _reminder(
    deadlines: Iterable[DeadlineSpec], state: str, waited: timedelta
) -> DeadlineSpec | None:
    """The reminder of ``state`` whose date has passed latest (else its first): the one the
    people who must act would have received by now."""
    reminders = [d for d in deadlines if d.action is DeadlineAction.REMINDER and state in d.states]
    passed = [d for d in reminders if timedelta(days=d.offset_days) <= waited]
    if passed:
        return max(passed, key=lambda d: d.offset_days)
    return reminders[0] if reminders else None


def _require_launcher(conn: Connection, academie_id: int, actor_id: int) -> None:
    held = conn.execute(
        select(A.c.id).where(
            A.c.person_id == actor_id,
            A.c.academie_id == academie_id,
            A.c.role.in_(LAUNCHERS),
        )
    ).first()
    if held is None:
        raise NotPermitted(
            "lancer une action groupée dans cette académie", [role_label(r) for r in LAUNCHERS]
        )


def _versions(conn: Connection, academie_id: int, ids: list[int]) -> dict[int, int]:
    """The version of each chosen dossier; the ones not in this académie are refused as
    not found (whether they exist elsewhere is not told)."""
    found: dict[int, int] = {}
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        found.update(
            conn.execute(
                select(D.c.id, D.c.version).where(D.c.id.in_(chunk), D.c.academie_id == academie_id)
            ).all()
        )
    missing = [i for i in ids if i not in found]
    if missing:
        listed = ", ".join(f"n° {i}" for i in missing[:20]) + (" …" if len(missing) > 20 else "")
        raise InvalidInput(f"Dossiers introuvables dans cette académie : {listed}.", "dossiers")
    return found


def active_batch(conn: Connection, academie_id: int) -> int | None:
    """The batch waiting or running in the académie, if any."""
    found = conn.execute(select(B.c.id).where(B.c.running_academie_id == academie_id)).scalar()
    return None if found is None else int(found)
