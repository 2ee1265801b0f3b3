"""The benchmark must keep running: a quick pass on SQLite, figures not judged here."""

from __future__ import annotations

import os
import subprocess
import sys


def test_transition_benchmark_runs_and_reports_its_ratio() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FORMAFLOW_")}
    result = subprocess.run(
        [sys.executable, "-m", "bench.transitions", "--quick", "--database", "sqlite"],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "service/hand-written: sqlite" in result.stdout
    assert "shared Machine's model list: 0 before, 0 after" in result.stdout


def test_api_benchmark_runs_and_reports_its_ratio() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FORMAFLOW_")}
    result = subprocess.run(
        [sys.executable, "-m", "bench.api", "--quick", "--skip-list", "--database", "sqlite"],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "HTTP/direct: sqlite" in result.stdout


def test_notifications_benchmark_runs_and_reports_its_ratios() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FORMAFLOW_")}
    result = subprocess.run(
        [sys.executable, "-m", "bench.notifications", "--quick", "--database", "sqlite"],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "relay/naive: sqlite" in result.stdout and "relay/bare: sqlite" in result.stdout
