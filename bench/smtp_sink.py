"""A minimal SMTP sink in a process of its own, for the notifications benchmark.

It accepts every message and keeps only a count, so that what is measured is the sender.
``python -m bench.smtp_sink --port P`` serves until terminated.
"""

from __future__ import annotations

import argparse
import signal
import threading

import uvloop
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session


class CountingHandler:
    def __init__(self) -> None:
        self.count = 0

    async def handle_DATA(  # noqa: N802 - the name aiosmtpd calls
        self, server: SMTP, session: Session, envelope: Envelope
    ) -> str:
        self.count += 1
        return "250 OK"


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.smtp_sink")
    parser.add_argument("--port", type=int, required=True)
    port = parser.parse_args().port
    # uvloop, as the product's own event loops: the sink must not be the bottleneck.
    controller = Controller(
        CountingHandler(), hostname="127.0.0.1", port=port, loop=uvloop.new_event_loop()
    )
    controller.start()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    print(f"ready {port}", flush=True)
    stop.wait()
    controller.stop()


if __name__ == "__main__":
    main()
