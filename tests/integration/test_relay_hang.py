"""The relay against an SMTP server that hangs: no message sent twice by a live relay.

When the server stops answering, every message in flight costs a whole SMTP timeout. A
relay that had claimed more than it could send within its lease used to see those leases
expire while the messages still waited in its own queue, claim them again, and send them
twice once the server came back (170 messages → 188 deliveries in the review). Here the
server hangs on RCPT — it answers nothing and accepts nothing — for a number of attempts
that, at two connections, lasts well beyond the lease; every message must still arrive
exactly once, and every attempt the server saw must be counted in the outbox.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, func, select

from notifications.relay import Relay, SmtpTarget
from tests.support.mail import drain, enqueue, mail_settings
from tests.support.smtp import SmtpSink
from workflow.store.tables import outbox_table as O

MESSAGES = 170
LEASE_SECONDS = 4
TIMEOUT_SECONDS = 1.0
STALLS = 16
"""Hung attempts: at two connections and one timeout each, 8 s of hang, twice the lease."""


@pytest.fixture
def sink() -> Iterator[SmtpSink]:
    server = SmtpSink().start()
    yield server
    server.stop()


def test_a_hanging_server_gets_each_message_once_and_every_attempt_is_counted(
    fresh_engine: Engine, sink: SmtpSink
) -> None:
    ids = enqueue(fresh_engine, MESSAGES)
    sink.stall_next_rcpt(STALLS, seconds=3 * TIMEOUT_SECONDS)
    settings = mail_settings(
        relay_lease_seconds=LEASE_SECONDS,
        relay_connections=2,
        relay_batch=20,
        relay_max_attempts=8,
    )
    relay = Relay(
        fresh_engine, settings, SmtpTarget("127.0.0.1", sink.port, timeout=TIMEOUT_SECONDS)
    )
    for _ in range(20):
        # A hung attempt is retried after a short backoff: drain until nothing is left.
        drain(relay)
        with fresh_engine.connect() as conn:
            left = conn.execute(
                select(func.count()).select_from(O).where(O.c.status != "sent")
            ).scalar_one()
        if not left:
            break
    received = Counter(r.message_id for r in sink.messages())
    assert set(received) == set(ids), "every message delivered"
    duplicates = sorted(mid for mid, n in received.items() if n > 1)
    assert duplicates == [], f"{len(duplicates)} Message-ID sent more than once"
    with fresh_engine.connect() as conn:
        attempts = conn.execute(select(func.sum(O.c.attempts))).scalar_one()
        leased = conn.execute(
            select(func.count()).select_from(O).where(O.c.lease_until.is_not(None))
        ).scalar_one()
    seen = sum(sink.rcpt_attempts.values())
    assert seen >= MESSAGES + STALLS, "the server did hang"
    assert attempts == seen, "every attempt the server saw is counted, none twice"
    assert leased == 0, "nothing is left under lease once sent"
