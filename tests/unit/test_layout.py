"""The import rules of ARCHITECTURE.md, checked on the source so that they cannot rot.

``api → notifications → workflow → states``; inside ``workflow/`` arrows point downwards
only: ``language`` (pure vocabularies) then ``store`` at the bottom, then ``engine`` (which
imports no capability: guards and effects reach it as a registry built in ``workflow.rules``),
then the capabilities in a fixed order, then ``reads``, then the composition modules at the
top (``rules``, ``demo``). A capability may use the ones before it in ``CAPABILITIES``:
payments count the trainees (participants) of a dossier's team (dossiers); documents show
the barème's rule and chain signatures into the payment journal; administration configures
all of them and imports plans into dossiers.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BASE = ("store", "language")
CAPABILITIES = ("dossiers", "participants", "payments", "documents", "admin")
EDGE_LIBRARIES = (
    "fastapi",
    "starlette",
    "uvicorn",
    "jinja2",
    "aiosmtplib",
    "aiosmtpd",
    "httpx",
    "openpyxl",
    "icalendar",
    "weasyprint",
    "pyhanko",
    "notifications",
    "api",
)
WRITES = ("insert", "update", "delete")


def _modules(package: str) -> Iterator[tuple[str, Path]]:
    for path in sorted((ROOT / package).rglob("*.py")):
        if "migrations" in path.parts:
            continue
        parts = path.relative_to(ROOT).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        yield ".".join(parts), path


def _imports(path: Path) -> Iterator[tuple[int, str]]:
    """Every module a file imports, at any depth (a lazy import counts too)."""
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.lineno, node.module
            for alias in node.names:
                # ``from workflow import journal`` imports a module, not a name.
                yield node.lineno, f"{node.module}.{alias.name}"


def _layer(module: str) -> str:
    """``workflow.engine.service`` → ``engine``; a top-level module → ``top``."""
    parts = module.split(".")
    if len(parts) == 1:
        return "package"
    return (
        parts[1]
        if len(parts) > 2 or parts[1] in (*BASE, "engine", *CAPABILITIES, "reads")
        else "top"
    )


def _allowed(layer: str) -> set[str]:
    if layer == "language":
        return {"language"}
    if layer == "store":
        return {"language", "store"}
    if layer == "engine":
        return {*BASE, "engine"}
    if layer in CAPABILITIES:
        earlier = CAPABILITIES[: CAPABILITIES.index(layer) + 1]
        return {*BASE, "engine", *earlier}
    if layer == "reads":
        return {*BASE, "engine", *CAPABILITIES, "reads"}
    return {*BASE, "engine", *CAPABILITIES, "reads", "top", "package"}


def _violations_inside_workflow() -> list[str]:
    found = []
    for module, path in _modules("workflow"):
        layer = _layer(module)
        for line, imported in _imports(path):
            if not imported.startswith("workflow."):
                continue
            target = _layer(imported)
            if target not in _allowed(layer):
                found.append(
                    f"{path.relative_to(ROOT)}:{line} ({layer}) imports {imported} ({target})"
                )
    return found


def test_workflow_arrows_point_downwards() -> None:
    assert _violations_inside_workflow() == []


def test_every_workflow_package_has_a_known_layer() -> None:
    packages = {p.name for p in (ROOT / "workflow").iterdir() if (p / "__init__.py").exists()}
    assert packages <= {*BASE, "engine", *CAPABILITIES, "reads"}


@pytest.mark.parametrize(
    ("package", "forbidden"),
    [
        ("states", ("workflow", "notifications", "api", "sqlalchemy", "sqlmodel")),
        ("workflow", EDGE_LIBRARIES),
        ("notifications", ("api", "fastapi", "starlette")),
    ],
)
def test_dependencies_point_one_way(package: str, forbidden: tuple[str, ...]) -> None:
    found = [
        f"{path.relative_to(ROOT)}:{line} imports {imported}"
        for _, path in _modules(package)
        for line, imported in _imports(path)
        if imported.split(".")[0] in forbidden
    ]
    assert found == []


def test_reads_write_nothing() -> None:
    found = []
    for module, path in _modules("workflow"):
        if _layer(module) != "reads":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module == "sqlalchemy":
                found += [f"{module} imports {a.name}" for a in node.names if a.name in WRITES]
            if isinstance(node, ast.Attribute) and node.attr in ("commit", *WRITES):
                found.append(f"{module}:{node.lineno} calls .{node.attr}")
    assert found == []


def test_the_rule_catches_an_upward_import() -> None:
    """The checker itself: an engine module importing a capability is reported."""
    assert "engine" in _allowed("payments")
    assert "payments" not in _allowed("engine")
    assert "documents" not in _allowed("payments")
    assert _layer("workflow.engine.service") == "engine"
    assert _layer("workflow.rules") == "top"
