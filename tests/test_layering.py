"""Imports go one way (docs/architecture.md): each module's imports of Chimera, read from its
source (function-level imports too), against the layer it belongs to."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"

# Module prefix -> layer; the longest matching prefix wins. Lower layers never import higher.
LAYERS: dict[str, int] = {
    # 0. values: no layer below them
    "chimera": 0,  # the package itself (__version__)
    "chimera.errors": 0,
    "chimera.configfile": 0,
    "chimera.options": 0,
    "chimera.calls": 0,
    "chimera.atomic": 0,
    "chimera.system": 0,
    "chimera.stats": 0,
    "chimera.metrics_table": 0,
    "chimera.quantities": 0,
    # 1. infrastructure: each talks to one outside thing (a server, files, the database)
    "chimera.models": 1,
    "chimera.backends": 1,
    "chimera.ingest": 1,
    "chimera.store": 1,
    # 2. the agent: analysis and report of facts through a backend
    "chimera.agent": 2,
    # 3. measurement: benchmarks over agents and backends; old results read in
    "chimera.bench": 3,
    "chimera.legacy": 3,
    "chimera.load": 3,
    "chimera.executor": 3,  # where sweeps, searches and load levels run: local or Ray
    # 4. rendering of the values the layers below return
    "chimera.render": 4,
    # 5. application: each command's lifecycle (store run, files, HTML)
    "chimera.app": 5,
    "chimera.demo": 5,
    # 6. the command line
    "chimera.cli": 6,
    "chimera.__main__": 6,
}
# Pairs a layer may not use although it is below: infrastructure packages stay independent
# of each other except as listed, and render knows no network and no database.
FORBIDDEN: dict[str, tuple[str, ...]] = {
    "chimera.ingest": ("chimera.backends", "chimera.store", "chimera.models"),
    "chimera.store": ("chimera.backends", "chimera.ingest", "chimera.models"),
    "chimera.backends": ("chimera.ingest", "chimera.store"),
    "chimera.agent": ("chimera.store",),
    "chimera.render": ("chimera.backends", "chimera.store"),
    # measurement hands its results to the application layer, which records them
    "chimera.legacy": ("chimera.store",),
    "chimera.load": ("chimera.store",),
    "chimera.executor": ("chimera.store",),
}
TESTING = "chimera.testing"  # test servers and doubles: below nothing in the product


def module_name(path: Path) -> str:
    parts = path.relative_to(SRC).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def layer_of(module: str) -> tuple[str, int] | None:
    matches = [p for p in LAYERS if module == p or module.startswith(p + ".")]
    if not matches:
        return None
    prefix = max(matches, key=len)
    return prefix, LAYERS[prefix]


def chimera_imports(path: Path) -> list[tuple[int, str]]:
    """(line, module) of every import of chimera in the file, nested ones included."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module == "chimera":
                found += [(node.lineno, f"chimera.{a.name}") for a in node.names]
            elif node.module.startswith("chimera."):
                found.append((node.lineno, node.module))
        elif isinstance(node, ast.Import):
            found += [(node.lineno, a.name) for a in node.names if a.name.startswith("chimera")]
    return found


def violations() -> list[str]:
    out = []
    for path in sorted((SRC / "chimera").rglob("*.py")):
        module = module_name(path)
        if module.startswith(TESTING):
            continue  # checked below: the test kit may use the product, never the other way
        mine = layer_of(module)
        assert mine is not None, f"{module} belongs to no layer: add it to LAYERS"
        for line, target in chimera_imports(path):
            if target.startswith(TESTING):
                out.append(f"{module}:{line} imports the test kit {target}")
                continue
            theirs = layer_of(target)
            if theirs is None or (theirs[1] <= mine[1] and not _forbidden(module, target)):
                continue
            why = "a forbidden pair" if theirs[1] <= mine[1] else f"layer {theirs[1]} > {mine[1]}"
            out.append(f"{module}:{line} imports {target} ({why})")
    return out


def _forbidden(module: str, target: str) -> bool:
    return any(
        (module == src or module.startswith(src + "."))
        and any(target == t or target.startswith(t + ".") for t in banned)
        for src, banned in FORBIDDEN.items()
    )


def test_imports_go_one_way() -> None:
    assert violations() == []


def test_measurement_records_nothing_in_the_store() -> None:
    """Sweeps, searches and sessions hand results to a ledger or sink; the application layer
    writes the store. Only ``bench.sides`` reads it (``chimera compare`` on stored runs)."""
    writers = [
        f"{module_name(path)}:{line} imports {target}"
        for path in sorted((SRC / "chimera" / "bench").rglob("*.py"))
        for line, target in chimera_imports(path)
        if target.startswith("chimera.store") and module_name(path) != "chimera.bench.sides"
    ]
    assert writers == []


def test_the_test_kit_uses_only_values_models_and_backends() -> None:
    allowed = ("chimera.testing", "chimera.backends", "chimera.models", "chimera.calls")
    allowed += ("chimera.errors", "chimera.options", "chimera.configfile", "chimera.atomic")
    bad = [
        f"{module_name(path)}:{line} imports {target}"
        for path in sorted((SRC / "chimera" / "testing").rglob("*.py"))
        for line, target in chimera_imports(path)
        if not any(target == a or target.startswith(a + ".") for a in allowed)
        and target != "chimera"
    ]
    assert bad == []


def test_the_command_line_is_read_only_by_the_cli() -> None:
    readers = [
        module_name(path)
        for path in sorted((SRC / "chimera").rglob("*.py"))
        if "sys.argv" in path.read_text(encoding="utf-8")
    ]
    assert [m for m in readers if not m.startswith(("chimera.cli", "chimera.testing"))] == []


@pytest.mark.parametrize(
    ("module", "target", "expected"),
    [
        ("chimera.agent.workflow", "chimera.store.db", True),
        ("chimera.store.db", "chimera.agent.spec", True),
        ("chimera.render.run", "chimera.backends.base", True),
        ("chimera.app.run", "chimera.render.html", False),
        ("chimera.app.load", "chimera.render.load", False),
        ("chimera.load.runner", "chimera.render.load", True),
        ("chimera.legacy.rows", "chimera.store.readonly", True),
        ("chimera.app.importer", "chimera.store.readonly", False),
    ],
)
def test_the_rules_catch_a_wrong_import(module: str, target: str, expected: bool) -> None:
    mine, theirs = layer_of(module), layer_of(target)
    assert mine is not None and theirs is not None
    assert (theirs[1] > mine[1] or _forbidden(module, target)) is expected


def test_modules_stay_under_600_lines() -> None:
    long = {
        module_name(path): n
        for path in sorted((SRC / "chimera").rglob("*.py"))
        if (n := len(path.read_text(encoding="utf-8").splitlines())) >= 600
    }
    assert long == {}, "split these by job (docs/architecture.md)"
