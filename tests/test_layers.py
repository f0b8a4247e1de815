"""The import graph of backprop_cli: imports point down the layer list of STYLE.md, and packages form no cycle.

Every import counts: at the top of a module, inside a function, and `import_module`/`find_spec` calls whose
module name is a literal (or an f-string with a literal package prefix).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "backprop_cli"

# Top to bottom; a unit may import its own layer or any layer below, never above.
LAYERS = (
    ("cli", "commands", "api", "__main__"),  # api: backprop_cli/__init__.py, the Python API
    ("outputs", "training"),
    ("verify",),
    ("fileformat", "examples"),  # examples: where the bundled graph files are
    ("engines",),
    ("graph", "numbers"),  # numbers: how values are written, for verdicts and outputs alike
    ("ops",),
    ("errors", "arguments", "schemas"),  # arguments: the rules the CLI and the API share; schemas: data files
)
RANK = {unit: rank for rank, units in enumerate(LAYERS) for unit in units}

# Known edges that break the rule, each with the issue that removes it. Keep this list empty.
ALLOWED: set[tuple[str, str]] = set()  # none left: the Graph API moved out of the data class (engines/api.py)


def _unit(module: str) -> str | None:
    """backprop_cli.ops.table -> "ops"; backprop_cli -> "api"; anything outside the package -> None."""
    parts = module.split(".")
    if parts[0] != "backprop_cli":
        return None
    if len(parts) == 1:
        return "api"
    return parts[1].removesuffix(".py")


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _resolve(module: str, is_package: bool, level: int, name: str | None) -> str:
    if level == 0:
        return name or ""
    base = module.split(".") if is_package else module.split(".")[:-1]
    base = base[: len(base) - (level - 1)]
    return ".".join(base + ([name] if name else []))


def _literal_prefix(node: ast.expr) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr) and node.values and isinstance(node.values[0], ast.Constant):
        return str(node.values[0].value).rstrip(".")  # f"backprop_cli.commands.{name}" -> the commands package
    return None


def imports_of(path: Path, module: str | None = None) -> set[str]:
    """Every backprop_cli module (or package) that the file imports, anywhere in it."""
    module = module or _module_name(path)
    is_package = path.name == "__init__.py"
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            target = _resolve(module, is_package, node.level, node.module)
            for alias in node.names:  # `from . import shapes` imports a module, `from . import load` a name
                sub = f"{target}.{alias.name}"
                sub_path = PACKAGE.parent / Path(*sub.split("."))
                found.add(sub if sub_path.with_suffix(".py").exists() or sub_path.is_dir() else target)
        elif isinstance(node, ast.Call) and node.args:
            func = node.func
            called = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            if called in ("import_module", "find_spec", "__import__"):
                literal = _literal_prefix(node.args[0])
                if literal:
                    found.add(literal)
    return {name for name in found if _unit(name) is not None}


def unit_edges() -> dict[tuple[str, str], list[str]]:
    """(importer unit, imported unit) -> the files that make the edge."""
    edges: dict[tuple[str, str], list[str]] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        source, where = _unit(_module_name(path)), str(path.relative_to(PACKAGE.parent))
        for unit in {_unit(target) for target in imports_of(path)} - {source}:
            edges.setdefault((source, unit), []).append(where)
    return edges


def test_every_unit_has_a_layer():
    units = {_unit(_module_name(p)) for p in PACKAGE.rglob("*.py")}
    assert units - set(RANK) == set(), "put the new module or package into LAYERS"


def test_imports_point_down():
    upward = [
        f"{a} -> {b} ({', '.join(files)})"
        for (a, b), files in unit_edges().items()
        if RANK[b] < RANK[a] and (a, b) not in ALLOWED
    ]
    assert upward == []


def test_no_cycles_between_packages():
    graph: dict[str, set[str]] = {}
    for a, b in unit_edges():
        if (a, b) not in ALLOWED:
            graph.setdefault(a, set()).add(b)
    cycles, state = [], {}

    def visit(unit: str, path: list[str]) -> None:
        state[unit] = "open"
        for nxt in sorted(graph.get(unit, ())):
            if state.get(nxt) == "open":
                cycles.append(" -> ".join(path[path.index(nxt) :] + [nxt]))
            elif nxt not in state:
                visit(nxt, path + [nxt])
        state[unit] = "done"

    for unit in sorted(graph):
        if unit not in state:
            visit(unit, [unit])
    assert cycles == []


@pytest.mark.parametrize("edge", sorted(ALLOWED))
def test_allowed_edges_still_exist(edge):
    """An allowlisted edge that is gone must leave the list, so that it cannot come back unnoticed."""
    assert edge in unit_edges()


def test_the_walker_sees_function_level_and_dynamic_imports(tmp_path):
    """The oracle for the walker itself: a file with every kind of import it must see."""
    probe = tmp_path / "probe.py"
    probe.write_text(
        "import importlib\n"
        "from . import batched\n"
        "def f():\n"
        "    from ..numbers import number\n"
        "    from .. import load\n"
        "    importlib.import_module('backprop_cli.cli')\n"
        "    importlib.import_module(f'backprop_cli.commands.{f}')\n"
    )
    found = imports_of(probe, "backprop_cli.verify.probe")
    expected = {"backprop_cli.verify.batched", "backprop_cli.numbers", "backprop_cli", "backprop_cli.cli"}
    assert found == expected | {"backprop_cli.commands"}
