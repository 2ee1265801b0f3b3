"""The benchmarks must keep running: a quick pass on SQLite, figures not judged here."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def run_bench(*args: str) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FORMAFLOW_")}
    result = subprocess.run(
        [sys.executable, "-m", *args, "--database", "sqlite"],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_transition_benchmark_runs_and_reports_its_ratio() -> None:
    out = run_bench("bench.transitions", "--quick")
    assert "service/hand-written: sqlite" in out
    assert "shared Machine's model list: 0 before, 0 after" in out


def test_api_benchmark_runs_and_reports_its_ratio() -> None:
    assert "HTTP/direct: sqlite" in run_bench("bench.api", "--quick", "--skip-list")


def test_notifications_benchmark_runs_and_reports_its_ratios() -> None:
    out = run_bench("bench.notifications", "--quick")
    assert "relay/naive: sqlite" in out and "relay/bare: sqlite" in out


def test_paf_and_bulk_benchmark_runs_and_reports_its_figures() -> None:
    out = run_bench("bench.paf_bulk", "--quick")
    assert "paf: lecture + import = " in out and "bulk: " in out
    assert "même action sans courriels" in out


def test_stagiaires_import_benchmark_runs_and_reports_its_figure() -> None:
    out = run_bench("bench.stagiaires_import", "--quick")
    assert "sqlite: import of 50 lines, target < 5 s:" in out
    assert "convocations written in the same transaction" in out


def test_dashboard_benchmark_runs_and_reports_its_figures(tmp_path: Path) -> None:
    out = run_bench("bench.dashboard", "--quick", "--data", str(tmp_path))
    assert "sqlite: page p99 ≤ " in out and "Transitions (valider_bilan" in out
