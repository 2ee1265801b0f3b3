"""A throw-away PostgreSQL server for the test suite and the benchmarks.

``python -m tests.support.postgres -- COMMAND…`` starts a server in a temporary directory,
listening only on a Unix socket in that directory (no TCP port to collide with), runs the
command with ``FORMAFLOW_TEST_DATABASE_URL`` pointing at it, always stops the server, and
exits with the command's status. PostgreSQL refuses to run as root, so when we are root
the server runs as the ``postgres`` system user.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

PORT = 55432
DATABASE = "formaflow_test"


def _binary(name: str) -> str:
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    if candidates:
        return candidates[-1]
    raise SystemExit(f"{name} not found: install PostgreSQL (Debian package 'postgresql')")


def _as_server_user(args: list[str]) -> list[str]:
    if os.geteuid() != 0:
        return args
    return ["runuser", "-u", "postgres", "--", *args]


@contextlib.contextmanager
def server() -> Iterator[str]:
    """Yield a SQLAlchemy URL of a fresh, empty database; stop and remove everything after."""
    root = Path(tempfile.mkdtemp(prefix="formaflow-pg-"))
    data = root / "data"
    log = root / "server.log"
    if os.geteuid() == 0:
        uid = pwd.getpwnam("postgres").pw_uid
        os.chown(root, uid, -1)
    run = subprocess.run
    try:
        run(
            _as_server_user(
                [
                    _binary("initdb"),
                    "-D",
                    str(data),
                    "-A",
                    "trust",
                    "-U",
                    "postgres",
                    "-E",
                    "UTF8",
                    "--locale=C.UTF-8",
                    "--no-sync",
                ]
            ),
            check=True,
            stdout=subprocess.DEVNULL,
        )
        options = (
            f"-k {root} -p {PORT} -c listen_addresses='' -c fsync=off "
            "-c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
        )
        run(
            _as_server_user(
                [
                    _binary("pg_ctl"),
                    "-D",
                    str(data),
                    "-o",
                    options,
                    "-l",
                    str(log),
                    "-w",
                    "-t",
                    "60",
                    "start",
                ]
            ),
            check=True,
            stdout=subprocess.DEVNULL,
        )
        try:
            run(
                [_binary("createdb"), "-h", str(root), "-p", str(PORT), "-U", "postgres", DATABASE],
                check=True,
            )
            yield f"postgresql+psycopg://postgres@/{DATABASE}?host={root}&port={PORT}"
        finally:
            run(
                _as_server_user([_binary("pg_ctl"), "-D", str(data), "-w", "-m", "fast", "stop"]),
                check=False,
                stdout=subprocess.DEVNULL,
            )
    finally:
        shutil.rmtree(root, ignore_errors=True)


def main(argv: list[str]) -> int:
    if argv and argv[0] == "--":
        argv = argv[1:]
    if not argv:
        print("usage: python -m tests.support.postgres -- COMMAND [ARGS…]", file=sys.stderr)
        return 2
    with server() as url:
        env = {**os.environ, "FORMAFLOW_TEST_DATABASE_URL": url}
        return subprocess.run(argv, env=env, check=False).returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
