"""The real app served by uvicorn over TCP on a loopback port, for the browser tests."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import uvicorn
from fastapi import FastAPI

STARTUP_SECONDS = 10.0


@contextmanager
def serving(
    app: FastAPI, name: str = "formaflow-e2e", options: dict[str, object] | None = None
) -> Iterator[str]:
    """Serve ``app`` in a background thread until the block ends; yields its base URL.

    The socket is bound here on a port the kernel picks, so no other process can take it
    between choosing and listening; readiness is polled, never slept on. ``options`` go to
    ``uvicorn.Config`` (e.g. the forwarded-header settings ``formaflow serve`` uses).
    """
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(128)
    port = sock.getsockname()[1]
    config = uvicorn.Config(
        app,
        log_config=None,
        log_level="warning",
        access_log=False,
        lifespan="off",
        ws="none",
        **(options or {}),  # type: ignore[arg-type]
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name=name, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + STARTUP_SECONDS
        while not server.started:
            if not thread.is_alive():
                raise RuntimeError("the app server stopped while starting")
            if time.monotonic() > deadline:
                raise RuntimeError("the app server did not start in time")
            thread.join(timeout=0.01)  # wakes early if the server thread dies
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=STARTUP_SECONDS)
        sock.close()
        assert not thread.is_alive(), "the app server did not stop"
