"""The house rules of DESIGN.md, checked: no import cycle in gpu_bo/, no module over 500 lines,
and lower layers never import upper ones.

Imports are read with ``ast`` (nothing is executed), module-level and function-level alike (a
lazy import still ties two modules together), except those under ``if TYPE_CHECKING:``. A
package's ``__init__`` runs before any of its submodules, so importing ``gpu_bo.x.y`` counts as
an edge to ``gpu_bo.x.y`` only, not to the ``__init__`` files above it.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
MAX_LINES = 500
# DESIGN.md: lower layers (space, study, surrogate, acquisition) never import upper ones
LOWER = ("gpu_bo.space", "gpu_bo.study", "gpu_bo.surrogate", "gpu_bo.acquisition", "gpu_bo.kernels",
         "gpu_bo.maximize", "gpu_bo.batch", "gpu_bo.trust_region", "gpu_bo.device", "gpu_bo.exceptions")
UPPER = ("gpu_bo.optimizer", "gpu_bo.runner", "gpu_bo.run_loop", "gpu_bo.backends", "gpu_bo.integrations", "gpu_bo.cli",
         "gpu_bo.storage", "gpu_bo.dashboard", "gpu_bo.plots")


def _modules() -> dict[str, Path]:
    """Dotted module name -> file, for gpu_bo/ and kernels/ (installed as gpu_bo.kernels)."""
    out = {}
    for base, prefix in ((ROOT / "gpu_bo", ("gpu_bo",)), (ROOT / "kernels", ("gpu_bo", "kernels"))):
        for f in base.rglob("*.py"):
            parts = list(prefix) + list(f.relative_to(base).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts = parts[:-1]
            out[".".join(parts)] = f
    return out


def _is_type_checking(node: ast.If) -> bool:
    t = node.test
    return (isinstance(t, ast.Name) and t.id == "TYPE_CHECKING") or (
        isinstance(t, ast.Attribute) and t.attr == "TYPE_CHECKING")


def _imports(name: str, path: Path, modules: dict[str, Path]) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    is_pkg = path.name == "__init__.py"
    out: set[str] = set()

    def resolve(mod: str) -> str | None:
        # the longest known module that is a prefix of mod
        parts = mod.split(".")
        while parts:
            cand = ".".join(parts)
            if cand in modules:
                return cand
            parts.pop()
        return None

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and _is_type_checking(node):
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, ast.Import):
            for a in node.names:
                if a.name.startswith("gpu_bo"):
                    r = resolve(a.name)
                    if r:
                        out.add(r)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                pkg = name.split(".") if is_pkg else name.split(".")[:-1]
                pkg = pkg[: len(pkg) - (node.level - 1)]
                base = ".".join(pkg + ([node.module] if node.module else []))
            else:
                base = node.module or ""
            if base.startswith("gpu_bo"):
                for a in node.names:
                    full = f"{base}.{a.name}"
                    r = full if full in modules else resolve(base)
                    if r:
                        out.add(r)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    out.discard(name)
    return out


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    return {name: _imports(name, path, modules) for name, path in modules.items()}


def _find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    WHITE, GREY, BLACK = 0, 1, 2
    color = {n: WHITE for n in graph}
    stack: list[str] = []

    def dfs(n: str) -> list[str] | None:
        color[n] = GREY
        stack.append(n)
        for m in sorted(graph.get(n, ())):
            if m == "gpu_bo":  # the package root only re-exports; importing it is the user's entry
                continue
            if color.get(m) == GREY:
                return stack[stack.index(m):] + [m]
            if color.get(m) == WHITE:
                found = dfs(m)
                if found:
                    return found
        stack.pop()
        color[n] = BLACK
        return None

    for n in sorted(graph):
        if color[n] == WHITE:
            found = dfs(n)
            if found:
                return found
    return None


def test_the_cycle_finder_finds_a_planted_cycle():
    assert _find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _find_cycle({"a": {"b"}, "b": {"c"}, "c": set()}) is None


def test_the_graph_sees_real_imports():
    g = _graph()
    assert "gpu_bo.space" in g["gpu_bo.optimizer"]
    assert "gpu_bo.exceptions" in g["gpu_bo.space"]


def test_no_import_cycle_in_gpu_bo():
    cycle = _find_cycle(_graph())
    assert cycle is None, "import cycle: " + " -> ".join(cycle)


def test_lower_layers_never_import_upper_ones():
    bad = []
    for mod, deps in _graph().items():
        if mod.startswith(LOWER):
            bad += [f"{mod} imports {d}" for d in sorted(deps) if d.startswith(UPPER)]
    assert not bad, "\n".join(bad)


@pytest.mark.parametrize("folder", ["gpu_bo", "kernels"])
def test_no_module_over_500_lines(folder):
    long = {str(f.relative_to(ROOT)): n for f in (ROOT / folder).rglob("*.py")
            if (n := len(f.read_text().splitlines())) > MAX_LINES}
    assert not long, f"modules over {MAX_LINES} lines (split them): {long}"
