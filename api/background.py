"""What ``formaflow serve`` runs beside the HTTP server: the relay, the deadline loop and the
bulk-action worker.

Both are also commands of their own (``formaflow relay``, ``formaflow timers``) for
deployments that scale them apart; inside ``serve`` they run in its event loop, started
and stopped with the application. With no SMTP host configured in development, the
embedded mail server is started first and the relay sends to it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from api.wiring import Container
from notifications.devmail import DevMailServer
from notifications.relay import Relay, smtp_target

log = logging.getLogger(__name__)


BULK_INTERVAL_SECONDS = 1.0
"""How often the bulk-action worker looks for a batch: a person is watching its progress."""


class Background:
    def __init__(
        self, container: Container, *, relay: bool = True, timers: bool = True, bulk: bool = True
    ) -> None:
        self.container = container
        self.with_relay = relay
        self.with_timers = timers
        self.with_bulk = bulk
        self.dev_server: DevMailServer | None = None
        self.dev_port: int | None = None
        self._stop = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []

    def start_dev_mail(self) -> int | None:
        """The embedded SMTP server, when development has no real one configured."""
        mail = self.container.mail_settings
        if mail.smtp_host or self.container.api_settings.env != "development":
            return None
        server = DevMailServer(mail.dev_mailbox_dir, port=mail.dev_smtp_port)
        try:
            self.dev_port = server.start()
        except OSError as error:
            # Another serve process on this machine already runs it: send to that one.
            log.warning(
                "dev mail server not started (%s); using port %s", error, mail.dev_smtp_port
            )
            self.dev_port = mail.dev_smtp_port
            return self.dev_port
        self.dev_server = server
        return self.dev_port

    def relay(self) -> Relay:
        mail = self.container.mail_settings
        port = self.dev_port if self.dev_port is not None else None
        host = "127.0.0.1" if self.dev_port is not None else None
        return Relay(self.container.engine, mail, smtp_target(mail, host=host, port=port))

    async def start(self) -> None:
        self._stop.clear()
        if self.with_relay:
            self.start_dev_mail()
            self._tasks.append(asyncio.create_task(self.relay().run(self._stop)))
        if self.with_timers:
            self._tasks.append(asyncio.create_task(self._timer_loop()))
        if self.with_bulk:
            self._tasks.append(asyncio.create_task(self._bulk_loop()))

    async def _timer_loop(self) -> None:
        interval = self.container.mail_settings.timer_interval_seconds
        while not self._stop.is_set():
            try:
                acted = await asyncio.to_thread(self.container.timer.run_once)
                if acted:
                    log.info("deadlines: %d acted upon", acted)
            except Exception:  # the loop must survive one bad scan; the error is logged
                log.exception("deadline scan failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), interval)

    async def _bulk_loop(self) -> None:
        """Bulk actions launched from the pages or the API, run here (one batch at a time per
        process; several processes share the batches through their leases)."""
        worker = f"serve-{id(self)}"
        while not self._stop.is_set():
            try:
                handled = await asyncio.to_thread(self.container.bulk.run_once, worker)
            except Exception:  # the loop must survive one bad batch; the error is logged
                log.exception("bulk action failed")
                handled = 0
            if handled:
                continue
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), BULK_INTERVAL_SECONDS)

    async def stop(self) -> None:
        self._stop.set()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()
        if self.dev_server is not None:
            self.dev_server.stop()
            self.dev_server = None
