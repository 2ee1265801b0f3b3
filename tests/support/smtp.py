"""A real SMTP server over TCP (aiosmtpd) for the tests, whose answers can be scripted.

The relay under test talks to it exactly as to the académie's relay: a socket, the SMTP
dialogue, real refusals. ``refuse`` makes RCPT fail with a given reply for some addresses
(5xx: permanent, 4xx: temporary); ``fail_data`` makes the next *n* DATA commands answer a
temporary 451; ``stall_next_rcpt`` makes the next *n* RCPT commands hang (the server
answers nothing for a while, as a wedged relay does, and accepts nothing); ``stop``/``start``
take the server down and up again on the same port. ``rcpt_attempts`` counts, per address,
every RCPT the server saw: one per delivery attempt.
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import socket
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage

    @property
    def message_id(self) -> str:
        return str(self.message["Message-ID"])


@dataclass
class _Script:
    refuse: dict[str, str] = field(default_factory=dict)
    fail_data: int = 0
    delay_seconds: float = 0.0
    stall_rcpt: int = 0
    stall_seconds: float = 0.0


class _Handler:
    def __init__(self, sink: SmtpSink) -> None:
        self.sink = sink

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: Any
    ) -> str:
        with self.sink.lock:
            self.sink.rcpt_attempts[address.lower()] += 1
            stall = self.sink.script.stall_rcpt > 0
            if stall:
                self.sink.script.stall_rcpt -= 1
        if stall:
            # Hung: no answer until the client has given up (and closed the connection);
            # the message was never accepted, so nothing is recorded.
            await asyncio.sleep(self.sink.script.stall_seconds)
            return "451 4.4.2 Délai dépassé"
        reply = self.sink.script.refuse.get(address.lower())
        if reply is not None:
            return reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        with self.sink.lock:
            if self.sink.script.fail_data > 0:
                self.sink.script.fail_data -= 1
                self.sink.temporary_failures += 1
                return "451 4.3.0 Essayez plus tard"
        if self.sink.script.delay_seconds:
            # A slow server, so that a relay can be killed in the middle of a batch.
            await asyncio.sleep(self.sink.script.delay_seconds)
        parsed = email.message_from_bytes(
            envelope.original_content or b"", policy=email.policy.default
        )
        assert isinstance(parsed, EmailMessage)
        with self.sink.changed:
            self.sink.received.append(
                Received(str(envelope.mail_from), list(envelope.rcpt_tos), parsed)
            )
            self.sink.changed.notify_all()
        return "250 OK"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class SmtpSink:
    def __init__(self, port: int | None = None) -> None:
        self.port = port or free_port()
        self.received: list[Received] = []
        self.script = _Script()
        self.temporary_failures = 0
        self.rcpt_attempts: Counter[str] = Counter()
        self.lock = threading.Lock()
        self.changed = threading.Condition(self.lock)
        self._controller: Controller | None = None

    def start(self) -> SmtpSink:
        self._controller = Controller(_Handler(self), hostname="127.0.0.1", port=self.port)
        self._controller.start()
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def refuse(self, address: str, reply: str) -> None:
        self.script.refuse[address.lower()] = reply

    def fail_next_data(self, count: int) -> None:
        with self.lock:
            self.script.fail_data = count

    def stall_next_rcpt(self, count: int, seconds: float) -> None:
        with self.lock:
            self.script.stall_rcpt, self.script.stall_seconds = count, seconds

    def slow_down(self, seconds: float) -> None:
        self.script.delay_seconds = seconds

    def messages(self) -> list[Received]:
        with self.lock:
            return list(self.received)

    def to(self, address: str) -> list[Received]:
        return [r for r in self.messages() if address in r.rcpt_tos]

    def wait_for(self, condition: Callable[[list[Received]], bool], timeout: float = 30) -> bool:
        """Wait until ``condition`` holds on what was received (bounded, not a timing test)."""
        with self.changed:
            return self.changed.wait_for(lambda: condition(list(self.received)), timeout)
