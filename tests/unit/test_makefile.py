"""``make test`` sets a fresh machine up by itself: the ``system`` target's logic, run with a
PATH that hides the programs and a stand-in ``apt-get`` that only records its calls (the
packages themselves are never removed from this machine, other work uses them)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TOOLS = ("bash", "sh", "env", "ls", "id", "cat")


def _system(
    tmp_path: Path,
    present: tuple[str, ...],
    chromium: bool,
    runtime: bool = False,
    calc_module: bool = True,
) -> tuple[str, list[str]]:
    """Run ``make system`` where only ``present`` (and the shell's tools) can be found;
    ``runtime``: WeasyPrint's libraries and the fonts are there too."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in TOOLS:
        found = shutil.which(tool)
        assert found is not None
        (bin_dir / tool).symlink_to(found)
    calls = tmp_path / "calls"
    stub = f'#!/bin/sh\necho "${{0##*/}} $*" >> {calls}\n'
    for program in ("apt-get", *present):
        (bin_dir / program).write_text(stub)
        (bin_dir / program).chmod(0o755)
    fonts = tmp_path / "fonts"
    if runtime:
        libs = "libpango-1.0.so.0 libpangoft2-1.0.so.0"
        (bin_dir / "ldconfig").write_text(f'#!/bin/sh\necho "{libs}"\n')
        (bin_dir / "ldconfig").chmod(0o755)
        (bin_dir / "grep").symlink_to(shutil.which("grep") or "/bin/grep")
        for font in ("liberation/LiberationSans-Regular.ttf", "dejavu/DejaVuSans.ttf"):
            (fonts / font).parent.mkdir(parents=True, exist_ok=True)
            (fonts / font).touch()
    # Debian's libreoffice-calc brings the Calc module next to soffice.
    calc = tmp_path / "libsclo.so"
    if calc_module and {"soffice", "libreoffice"} & set(present):
        calc.touch()
    browser = bin_dir / "chromium"
    if chromium:
        browser.write_text(stub)
        browser.chmod(0o755)
    make = shutil.which("make")
    assert make is not None
    result = subprocess.run(
        [
            make,
            "--no-print-directory",
            "-C",
            str(ROOT),
            "system",
            f"CHROMIUM={browser}",
            f"CALC_MODULE={calc}",
            f"PG_BINDIRS={tmp_path / 'nowhere'}",
            f"FONT_DIR={fonts}",
        ],
        env={"PATH": str(bin_dir)},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    lines = calls.read_text().splitlines() if calls.exists() else []
    return result.stdout, lines


def test_a_fresh_machine_gets_every_missing_package(tmp_path: Path) -> None:
    output, calls = _system(tmp_path, present=(), chromium=False)
    runtime = "libpango-1.0-0 libpangoft2-1.0-0 fonts-liberation fonts-dejavu-core npm"
    assert runtime in output
    assert "postgresql chromium poppler-utils libreoffice-calc" in output
    assert calls == [
        "apt-get update -qq",
        f"apt-get install -y -qq {runtime}",
        "apt-get update -qq",
        "apt-get install -y -qq postgresql chromium poppler-utils",
        "apt-get install -y -qq --no-install-recommends libreoffice-calc",
    ]


def test_only_what_is_missing_is_installed(tmp_path: Path) -> None:
    present = ("initdb", "npm", "soffice", "pdftotext", "pdfinfo")
    _, calls = _system(tmp_path, present=present, chromium=True, runtime=True)
    # pdftoppm missing: poppler-utils brings all three.
    assert calls == ["apt-get update -qq", "apt-get install -y -qq poppler-utils"]


def test_nothing_is_done_or_said_when_everything_is_there(tmp_path: Path) -> None:
    present = ("initdb", "npm", "libreoffice", "pdftotext", "pdftoppm", "pdfinfo")
    output, calls = _system(tmp_path, present=present, chromium=True, runtime=True)
    assert calls == []
    assert output == ""


def test_ci_runs_nothing_but_make_test() -> None:
    script = (ROOT / ".ci" / "run").read_text()
    commands = [
        line.strip()
        for line in script.splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]
    assert commands[-1] == "exec make test"
    assert all(c in ("set -euo pipefail", 'cd "$(dirname "$0")/.."') for c in commands[:-1])


def test_soffice_without_its_calc_module_still_gets_libreoffice_calc(tmp_path: Path) -> None:
    """Removing libreoffice-calc leaves libreoffice-common's soffice, which cannot open a
    sheet: the Calc module itself is looked for."""
    present = ("initdb", "npm", "soffice", "pdftotext", "pdftoppm", "pdfinfo")
    _, calls = _system(tmp_path, present, chromium=True, runtime=True, calc_module=False)
    assert calls == [
        "apt-get update -qq",
        "apt-get install -y -qq --no-install-recommends libreoffice-calc",
    ]
