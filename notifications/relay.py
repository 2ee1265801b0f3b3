"""The relay: sends what the outbox holds, at least once, over reused SMTP connections.

Three kinds of coroutine share one event loop:

- the *claimer* takes batches of due rows in one statement each — ``FOR UPDATE SKIP
  LOCKED`` on PostgreSQL so parallel relays never claim the same row, under ``BEGIN
  IMMEDIATE`` on SQLite — and stamps them with a lease;
- *senders*, one per SMTP connection, push the stored bytes as they are (same bytes and
  same ``Message-ID`` on every attempt);
- the *marker* writes the outcomes back in batches (sent; retry later with exponential
  backoff and jitter; dead, with the server's answer kept).

A live relay never sends a message twice. It holds at most what it can send within its
lease — its connections × half the lease ÷ the time one message takes, measured as it goes
and assumed to be a whole SMTP timeout until measured (a server that hangs makes every
message cost one) — and a *renewer* extends the lease of everything it still holds (queued,
being sent, or sent and not yet marked) every third of the lease. A message whose lease
could run out before one more timeout (renewals failing, the database unreachable) is not
sent but left to expire; a row claimed again by this relay while it still holds it is not
queued twice. Every attempt is counted in the database (``attempts + 1`` in SQL).

A relay that dies leaves its claimed rows leased; once the lease has passed another relay
takes them again. A message sent but not yet marked when the relay died is sent twice,
with the same ``Message-ID``, so the recipient's software can recognise the duplicate.
Database work runs in a worker thread, batched: a round trip per batch, not per message.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import random
import socket
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import aiosmtplib
from sqlalchemy import Engine, bindparam, or_, select, update

from notifications.settings import MailSettings
from workflow.store.database import is_postgresql
from workflow.store.tables import outbox_table as O
from workflow.store.types import utcnow

log = logging.getLogger(__name__)

PENDING, SENT, DEAD = "pending", "sent", "dead"


@dataclass(frozen=True, slots=True)
class Claimed:
    id: int
    message_id: str
    from_email: str
    to_email: str
    raw: bytes
    attempts: int


@dataclass(frozen=True, slots=True)
class Outcome:
    message: Claimed
    sent: bool
    permanent: bool = False
    error: str | None = None


@dataclass(frozen=True, slots=True)
class SmtpTarget:
    """Where to send; the dev mailbox or the académie's relay."""

    host: str
    port: int
    security: str = "none"
    username: str | None = None
    password: str | None = None
    timeout: float = 30.0
    ca_file: str | None = None


def smtp_target(
    settings: MailSettings, host: str | None = None, port: int | None = None
) -> SmtpTarget:
    return SmtpTarget(
        host=host or settings.smtp_host or "127.0.0.1",
        port=port or settings.smtp_port,
        security=settings.smtp_security,
        username=settings.smtp_username,
        password=settings.smtp_password.get_secret_value() if settings.smtp_password else None,
        timeout=settings.smtp_timeout_seconds,
        ca_file=str(settings.smtp_ca_file) if settings.smtp_ca_file else None,
    )


_MARK_SENT = (
    update(O)
    .where(O.c.id.in_(bindparam("ids", expanding=True)))
    .values(status=SENT, sent_at=bindparam("now"), lease_until=None, attempts=O.c.attempts + 1)
)
_MARK_FAILED = (
    update(O)
    # Only a row this relay still holds: a late answer never revives a sent row nor takes a
    # row back from a relay that has claimed it since.
    .where(
        O.c.id == bindparam("b_id"),
        O.c.status == PENDING,
        O.c.leased_by == bindparam("b_worker"),
    )
    .values(
        status=bindparam("b_status"),
        attempts=O.c.attempts + 1,
        next_attempt_at=bindparam("b_next"),
        last_error=bindparam("b_error"),
        lease_until=None,
    )
)
_RENEW = (
    update(O)
    .where(
        O.c.id.in_(bindparam("ids", expanding=True)),
        O.c.status == PENDING,
        O.c.leased_by == bindparam("worker"),
        O.c.lease_until.is_not(None),
    )
    .values(lease_until=bindparam("until"))
    .returning(O.c.id)
)


class Pace:
    """Seconds one connection takes per message, as seen lately: a slow send (a timeout)
    counts at once, fast ones bring the figure down gradually. Starts pessimistic, at one
    SMTP timeout, so that a relay starting against a hung server claims little."""

    def __init__(self, initial: float) -> None:
        self.seconds = initial

    def observe(self, seconds: float) -> None:
        if seconds >= self.seconds:
            self.seconds = seconds
        else:
            self.seconds = 0.9 * self.seconds + 0.1 * seconds


@dataclass(slots=True)
class _Hold:
    """A message this relay has claimed and not yet marked, and its lease as last set."""

    message: Claimed
    until: datetime


class Relay:
    def __init__(
        self,
        engine: Engine,
        settings: MailSettings,
        target: SmtpTarget,
        *,
        worker: str | None = None,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.engine = engine
        self.settings = settings
        self.target = target
        self.worker = worker or f"{socket.gethostname()}:{os.getpid()}:{id(self):x}"
        self.clock = clock
        self._claim = self._claim_statement(is_postgresql(engine))
        lease = float(settings.relay_lease_seconds)
        self.margin = timedelta(seconds=min(target.timeout, lease / 2))
        """A message is sent only if its lease outlasts this (one SMTP timeout)."""

    # --- database side (runs in a worker thread) -----------------------------------------

    def _claim_statement(self, postgresql: bool):  # type: ignore[no-untyped-def]
        due = (
            select(O.c.id)
            .where(
                O.c.status == PENDING,
                O.c.next_attempt_at <= bindparam("now"),
                or_(O.c.lease_until.is_(None), O.c.lease_until < bindparam("now")),
            )
            .order_by(O.c.next_attempt_at, O.c.id)
            .limit(bindparam("n"))
        )
        if postgresql:
            due = due.with_for_update(skip_locked=True)
        return (
            update(O)
            .where(O.c.id.in_(due.scalar_subquery()))
            .values(lease_until=bindparam("until"), leased_by=bindparam("worker"))
            .returning(O.c.id, O.c.message_id, O.c.from_email, O.c.to_email, O.c.raw, O.c.attempts)
        )

    def claim(self, limit: int) -> tuple[list[Claimed], datetime]:
        """Up to ``limit`` due rows, leased to this relay; with the lease's end."""
        now = self.clock()
        until = now + timedelta(seconds=self.settings.relay_lease_seconds)
        with self.engine.begin() as conn:
            rows = conn.execute(
                self._claim, {"now": now, "n": limit, "until": until, "worker": self.worker}
            ).all()
        return [
            Claimed(r.id, r.message_id, r.from_email, r.to_email, r.raw.encode("ascii"), r.attempts)
            for r in rows
        ], until

    def renew(self, ids: Sequence[int]) -> tuple[set[int], datetime]:
        """Extend the lease of rows this relay still holds; the ids it still held."""
        until = self.clock() + timedelta(seconds=self.settings.relay_lease_seconds)
        with self.engine.begin() as conn:
            kept = conn.execute(
                _RENEW, {"ids": list(ids), "worker": self.worker, "until": until}
            ).scalars()
            return {int(i) for i in kept}, until

    def mark(self, outcomes: Sequence[Outcome]) -> None:
        if not outcomes:
            return
        now = self.clock()
        sent = [o.message.id for o in outcomes if o.sent]
        failed = [self._failure(o, now) for o in outcomes if not o.sent]
        with self.engine.begin() as conn:
            if sent:
                conn.execute(_MARK_SENT, {"ids": sent, "now": now})
            if failed:
                conn.execute(_MARK_FAILED, failed)

    def _failure(self, outcome: Outcome, now: datetime) -> dict[str, object]:
        attempts = outcome.message.attempts + 1
        dead = outcome.permanent or attempts >= self.settings.relay_max_attempts
        if dead:
            log.warning("email %s dead: %s", outcome.message.message_id, outcome.error)
        return {
            "b_id": outcome.message.id,
            "b_worker": self.worker,
            "b_status": DEAD if dead else PENDING,
            "b_next": now if dead else now + self.backoff(attempts),
            "b_error": (outcome.error or "")[:2000],
        }

    def backoff(self, attempts: int) -> timedelta:
        """Exponential, capped, with jitter so that failed messages do not come back as one."""
        base = self.settings.relay_backoff_seconds * (2 ** (attempts - 1))
        delay = min(base, self.settings.relay_backoff_max_seconds)
        return timedelta(seconds=delay * random.uniform(0.5, 1.5))  # noqa: S311

    # --- SMTP side -----------------------------------------------------------------------

    def _client(self) -> aiosmtplib.SMTP:
        t = self.target
        return aiosmtplib.SMTP(
            hostname=t.host,
            port=t.port,
            username=t.username,
            password=t.password,
            use_tls=t.security == "tls",
            start_tls=t.security == "starttls",
            timeout=t.timeout,
            cert_bundle=t.ca_file,
        )

    async def _send(self, client: aiosmtplib.SMTP, message: Claimed) -> Outcome:
        try:
            if not client.is_connected:
                await client.connect()
            errors, _ = await client.sendmail(message.from_email, [message.to_email], message.raw)
        except aiosmtplib.SMTPRecipientsRefused as exc:
            refused = exc.recipients[0]
            return Outcome(message, False, refused.code >= 500, f"{refused.code} {refused.message}")
        except (aiosmtplib.SMTPServerDisconnected, aiosmtplib.SMTPConnectError) as exc:
            client.close()
            return Outcome(message, False, False, f"connexion : {exc}")
        except aiosmtplib.SMTPAuthenticationError as exc:
            # The relay's credentials, not the message: retried (an ops person can fix the
            # setting meanwhile) until the last attempt, never dead on the first refusal.
            client.close()
            return Outcome(
                message, False, False, f"authentification refusée : {exc.code} {exc.message}"
            )
        except aiosmtplib.SMTPResponseException as exc:
            if exc.code in (421,):
                client.close()
            return Outcome(message, False, exc.code >= 500, f"{exc.code} {exc.message}")
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
            client.close()
            return Outcome(message, False, False, f"{type(exc).__name__} : {exc}")
        if errors:
            code, text = next(iter(errors.values()))
            return Outcome(message, False, code >= 500, f"{code} {text}")
        return Outcome(message, True)

    # --- the loop ------------------------------------------------------------------------

    async def drain(self) -> int:
        """Send everything due now, then return how many messages were attempted."""
        return await self._run(stop=None)

    async def run(self, stop: asyncio.Event) -> None:
        """Keep sending until ``stop`` is set (``formaflow relay``, or inside ``serve``)."""
        await self._run(stop=stop)

    def capacity(self, pace: Pace) -> int:
        """How many messages this relay may hold at once: what its connections send in half
        a lease at the current pace — at least one per connection, at most two batches (one
        being sent while the next is claimed)."""
        connections = max(1, self.settings.relay_connections)
        batch = max(1, self.settings.relay_batch)
        half_lease = self.settings.relay_lease_seconds / 2
        within = int(connections * half_lease / max(pace.seconds, 0.001))
        return max(connections, min(2 * batch, within))

    async def _run(self, stop: asyncio.Event | None) -> int:
        batch = max(1, self.settings.relay_batch)
        queue: asyncio.Queue[Claimed | None] = asyncio.Queue()
        held: dict[int, _Hold] = {}
        pace = Pace(self.target.timeout)
        outcomes: list[Outcome] = []
        enough = asyncio.Event()
        freed = asyncio.Event()
        attempted = 0

        def holds(message: Claimed) -> _Hold | None:
            hold = held.get(message.id)
            return hold if hold is not None and hold.message is message else None

        async def sender() -> None:
            nonlocal attempted
            client = self._client()
            try:
                while (message := await queue.get()) is not None:
                    hold = holds(message)
                    if hold is not None and hold.until - self.clock() >= self.margin:
                        started = time.monotonic()
                        outcomes.append(await self._send(client, message))
                        pace.observe(time.monotonic() - started)
                        attempted += 1
                        if len(outcomes) >= batch:
                            enough.set()
                    elif hold is not None:
                        # The lease could end mid-send (renewals failing): another relay may
                        # take the row then. Leave it to expire rather than risk sending twice.
                        log.warning("email %s not sent: lease too short", message.message_id)
                        del held[message.id]
                        freed.set()
                    queue.task_done()
                queue.task_done()
            finally:
                await _close(client)

        async def flush() -> None:
            done = outcomes[:]
            del outcomes[: len(done)]
            enough.clear()
            if done:
                for outcome in done:
                    held.pop(outcome.message.id, None)
                freed.set()
                await asyncio.to_thread(self.mark, done)

        async def marker() -> None:
            # Outcomes are written back a batch at a time, or at least every 200 ms, so a
            # crash re-sends little and the database sees one round trip per batch.
            while True:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(enough.wait(), 0.2)
                await flush()

        async def renewer() -> None:
            # Every third of the lease, so that one late or failed renewal still leaves time.
            while True:
                await asyncio.sleep(self.settings.relay_lease_seconds / 3)
                snapshot = [hold.message for hold in held.values()]
                if not snapshot:
                    continue
                try:
                    kept, until = await asyncio.to_thread(self.renew, [m.id for m in snapshot])
                except Exception:
                    log.exception("lease renewal failed; messages near their lease's end wait")
                    continue
                for message in snapshot:
                    hold = holds(message)
                    if hold is None:
                        continue  # marked meanwhile
                    if message.id in kept:
                        hold.until = until
                    else:
                        # Taken by another relay after this one's lease ran out: theirs now.
                        del held[message.id]
                        freed.set()

        senders = [
            asyncio.create_task(sender()) for _ in range(max(1, self.settings.relay_connections))
        ]
        marking = asyncio.create_task(marker())
        renewing = asyncio.create_task(renewer())
        try:
            while stop is None or not stop.is_set():
                capacity = self.capacity(pace)
                room = min(batch, capacity - len(held))
                if room < max(1, min(batch, capacity) // 2):
                    # Holding what can be sent within the lease: wait for some to be marked.
                    freed.clear()
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(freed.wait(), 0.2)
                    continue
                claimed, until = await asyncio.to_thread(self.claim, room)
                for message in claimed:
                    hold = held.get(message.id)
                    if hold is not None:
                        # Still held here (its lease had run out): queued once already.
                        hold.until = until
                        continue
                    held[message.id] = _Hold(message, until)
                    queue.put_nowait(message)
                if len(claimed) < room:
                    # Nothing more due right now: let what was claimed finish and be recorded
                    # (a retry may then be due already), then stop or idle.
                    await queue.join()
                    await flush()
                    if claimed:
                        continue
                    if stop is None:
                        break
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(stop.wait(), self.settings.relay_idle_seconds)
        finally:
            for _ in senders:
                queue.put_nowait(None)
            await asyncio.gather(*senders, return_exceptions=True)
            for task in (marking, renewing):
                task.cancel()
            await asyncio.gather(marking, renewing, return_exceptions=True)
            await flush()
        return attempted


async def _close(client: aiosmtplib.SMTP) -> None:
    if client.is_connected:
        try:
            await client.quit()
        except (aiosmtplib.SMTPException, OSError):
            client.close()
