"""The package's structure: imports run only downwards through the layers, and never in a circle.

Every import counts, those inside functions too: a function-local import that runs upwards is still
a dependency that runs upwards.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

import pytest

import custfocus

PACKAGE = Path(custfocus.__file__).parent

# Lowest first; a module may import from its own layer and the layers below.
LAYERS = (
    {"errors"},
    {"stats"},
    {"section"},
    {"engine"},
    {"data", "demo"},
    {"pulse", "retention", "loyalty", "value", "lifetimes", "profitability", "interventions", "voice", "people",
     "maturity"},
    {"report"},
    {"cli", "service"},
    {"__init__", "__main__"},
)
LAYER = {part: level for level, parts in enumerate(LAYERS) for part in parts}


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> set[str]:
    """The custfocus modules a file imports, resolved to the most specific module that exists."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return {_existing(name) for name in names if name.split(".")[0] == "custfocus"} - {"custfocus"}


def _existing(name: str) -> str:
    parts = name.split(".")
    while len(parts) > 1:
        candidate = PACKAGE.parent.joinpath(*parts)
        if candidate.with_suffix(".py").exists() or (candidate / "__init__.py").exists():
            return ".".join(parts)
        parts.pop()
    return "custfocus"


def _graph() -> dict[str, set[str]]:
    graph = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        module = _module_name(path)
        graph[module] = _imports(path) - {module}
    return graph


def _layer(module: str) -> int:
    top = module.split(".")[1] if "." in module else "__init__"
    if top not in LAYER:
        pytest.fail(f"{module} belongs to no layer: add its package to LAYERS in {Path(__file__).name}")
    return LAYER[top]


def test_imports_never_run_upwards():
    upwards = [f"{module} (layer {_layer(module)}) imports {target} (layer {_layer(target)})"
               for module, targets in _graph().items() for target in sorted(targets)
               if _layer(target) > _layer(module)]
    assert not upwards, "imports that run upwards:\n" + "\n".join(upwards)


def test_no_import_cycles():
    graph = _graph()
    cycles = _cycles({m: {t for t in ts if t in graph and not m.startswith(t + ".")} for m, ts in graph.items()})
    assert not cycles, "import cycles:\n" + "\n".join(" -> ".join(c) for c in cycles)


def test_analysis_packages_depend_on_each_other_without_cycles():
    packages = defaultdict(set)
    for module, targets in _graph().items():
        if _layer(module) == LAYER["pulse"]:
            source = module.split(".")[1]
            packages[source].update(t.split(".")[1] for t in targets if _layer(t) == LAYER["pulse"])
    cycles = _cycles({p: ts - {p} for p, ts in packages.items()})
    assert not cycles, "analysis packages in a circle:\n" + "\n".join(" -> ".join(c) for c in cycles)


def test_the_check_sees_an_upward_import_and_a_cycle():
    assert _layer("custfocus.report.build") > _layer("custfocus.value.clv")
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == [["a", "b", "c", "a"]]
    assert _cycles({"a": {"b"}, "b": set()}) == []


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """One cycle per strongly connected component with more than one node (Tarjan)."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def visit(node):
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph.get(node, ())):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(_one_cycle(graph, sorted(component)))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def _one_cycle(graph: dict[str, set[str]], component: list[str]) -> list[str]:
    members, start = set(component), component[0]
    path, seen = [start], {start}
    while True:
        step = min(t for t in graph[path[-1]] if t in members)
        if step in seen:
            return path[path.index(step):] + [step]
        path.append(step)
        seen.add(step)


def test_every_registered_section_follows_the_contract():
    import importlib
    import inspect

    from custfocus.report.registry import SECTIONS

    for name in SECTIONS:
        package = importlib.import_module(f"custfocus.{name}")
        parameters = list(inspect.signature(package.section).parameters)
        assert parameters == ["company", "context"], f"custfocus.{name}.section takes {parameters}"
        assert package.section.__doc__.endswith(f"custfocus.{name}.presentation.section."), name
        assert "section" in package.__all__, f"custfocus.{name} does not export section"
        assert (PACKAGE / name / "presentation.py").exists(), f"custfocus.{name} has no presentation.py"
