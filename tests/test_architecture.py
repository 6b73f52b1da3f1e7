"""The import structure the architecture doc promises: no cycles, among packages or modules.

Imports are read from the source (module level and inside functions alike, since a lazy import
is still a dependency), so a cycle fails here even where Python would happen to resolve it.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

import spectramind

ROOT = Path(spectramind.__file__).parent


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports() -> dict[str, set[str]]:
    """spectramind module -> the spectramind modules it imports."""
    modules = {_module_name(path): path for path in ROOT.rglob("*.py") if "conf" not in path.relative_to(ROOT).parts}
    edges: dict[str, set[str]] = defaultdict(set)
    for name, path in modules.items():
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                # `from spectramind.x import y` imports module spectramind.x.y when that is a module
                targets = [
                    f"{node.module}.{alias.name}" if f"{node.module}.{alias.name}" in modules else node.module
                    for alias in node.names
                ]
            else:
                continue
            edges[name].update(t for t in targets if t in modules and t != name)
    return edges


def _unit(module: str) -> str:
    """The package a module belongs to (``spectramind.ablation``), or the top-level module itself."""
    return ".".join(module.split(".")[:2])


def _cycle(edges: dict[str, set[str]]) -> list[str] | None:
    """One cycle of the directed graph, as a path that returns to its start, or None."""
    state: dict[str, int] = {}  # 1 = on the current path, 2 = done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for target in sorted(edges.get(node, ())):
            if state.get(target) == 1:
                return path[path.index(target) :] + [target]
            if target not in state and (found := visit(target)):
                return found
        path.pop()
        state[node] = 2
        return None

    for node in sorted(edges):
        if node not in state and (found := visit(node)):
            return found
    return None


def test_the_import_graph_is_read():
    edges = _imports()
    assert "spectramind.ablation.manifest" in edges["spectramind.ablation.runner"]
    assert "spectramind.data.layout" in edges["spectramind.leaderboard.figures"]


def test_no_import_cycle_among_packages():
    packages: dict[str, set[str]] = defaultdict(set)
    for source, targets in _imports().items():
        packages[_unit(source)].update(_unit(t) for t in targets if _unit(t) != _unit(source))
    assert _cycle(packages) is None, " -> ".join(_cycle(packages))


def test_no_import_cycle_among_modules():
    edges = _imports()
    assert _cycle(edges) is None, " -> ".join(_cycle(edges))


def test_cycle_finder_finds_a_cycle():
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": {"c"}}) is None


def test_tracking_and_the_hydra_free_packages_do_not_import_the_sweep_logic_or_hydra_plugins():
    """The run recorder reports status changes through a hook (training passes the manifest's);
    the sweep logic itself never needs Lightning (config checks live beside the training)."""
    edges = _imports()
    for source, targets in edges.items():
        if source.startswith("spectramind.tracking"):
            assert not any(t.startswith("spectramind.ablation") for t in targets), (source, targets)
        if source.startswith("spectramind.ablation"):
            assert not any(
                t.startswith(("spectramind.training", "spectramind.models", "spectramind.config_checks"))
                for t in targets
            ), (source, targets)


def test_the_sweep_logic_is_hydra_free():
    """spectramind.ablation (design, plan, runner, ...) runs without Hydra, torch or Lightning."""
    for path in (ROOT / "ablation").glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = (
                [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else [node.module or ""]
                if isinstance(node, ast.ImportFrom)
                else []
            )
            assert not [n for n in names if n.split(".")[0] in ("hydra", "torch", "pytorch_lightning", "omegaconf")], (
                path.name,
                names,
            )


def test_collating_and_ranking_a_sweep_does_not_import_torch():
    """`spectramind ablate leaderboard|status` and the leaderboard callback read JSON files: torch
    (seconds to import) loads only when a run's predictions are diagnosed."""
    import subprocess
    import sys

    code = "import sys, spectramind.leaderboard.build, spectramind.ablation.status; print('torch' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"


def test_a_single_training_depends_on_no_sweep_code():
    """training.py runs one training; a sweep injects its status hook (train.py builds it)."""
    targets = _imports()["spectramind.training"]
    assert not any(t.startswith("spectramind.ablation") for t in targets), targets


def test_the_data_sub_packages_form_no_cycle_and_metrics_and_models_need_no_data_io():
    """sim -> (instrument, layout) <- raw -> sim; features read the layout; the spectrum's constants
    are spectramind.spectrum's, so models and the metrics import nothing of spectramind.data (but
    metrics.submission, which reads submission and label files with the layout's validating readers)."""
    edges = _imports()

    def sub_package(module: str) -> str:
        parts = module.split(".")
        return ".".join(parts[:3]) if parts[:2] == ["spectramind", "data"] and len(parts) > 3 else module

    packages: dict[str, set[str]] = defaultdict(set)
    for source, targets in edges.items():
        if source.startswith("spectramind.data"):
            packages[sub_package(source)].update(
                sub_package(t)
                for t in targets
                if t.startswith("spectramind.data") and sub_package(t) != sub_package(source)
            )
    assert _cycle(packages) is None, " -> ".join(_cycle(packages))
    assert "spectramind.data.sim" in packages["spectramind.data.raw"]  # the raw simulator renders sim's physics
    for source, targets in edges.items():
        if (
            source.startswith(("spectramind.metrics", "spectramind.models"))
            and source != "spectramind.metrics.submission"
        ):
            assert not any(t.startswith("spectramind.data") for t in targets), (source, targets)


def test_the_architecture_pages_module_table_is_the_package():
    """docs/architecture.md's "Modules" table names every module of every package, and no other:
    a row per top-level module, a row per package listing its modules (``__init__`` aside)."""
    import re

    page = (ROOT.parent / "docs" / "architecture.md").read_text()
    table = page.split("## Modules", 1)[1].split("\n## ", 1)[0]
    documented: set[str] = set()
    for folder, modules in re.findall(r"^\| `((?:spectramind|hydra_plugins)/[\w/.]+)` \| (.*) \|$", table, re.M):
        if folder.endswith(".py"):
            documented.add(folder)
        else:
            documented.update(f"{folder}{name}" for name in re.findall(r"`([\w]+\.py)`", modules))
    actual = {
        path.relative_to(ROOT.parent).as_posix()
        for base in (ROOT, ROOT.parent / "hydra_plugins")
        for path in base.rglob("*.py")
        if path.name != "__init__.py" and "conf" not in path.relative_to(ROOT.parent).parts
    }
    packages_of_many = {p for p in actual if p.count("/") > 1 or p.startswith("hydra_plugins")}
    top_level = {p for p in actual if p.count("/") == 1 and p.startswith("spectramind/")}
    assert documented == packages_of_many | top_level, (
        f"missing from the table: {sorted((packages_of_many | top_level) - documented)}; "
        f"not in the package: {sorted(documented - packages_of_many - top_level)}"
    )


MAX_MODULE_LINES = 450
MAX_FUNCTION_LINES = 60


def _oversized(roots: list[Path]) -> list[str]:
    """Modules over MAX_MODULE_LINES lines and functions (def line to last line) over MAX_FUNCTION_LINES."""
    found = []
    for path in sorted(p for root in roots for p in root.rglob("*.py")):
        source = path.read_text()
        if len(source.splitlines()) > MAX_MODULE_LINES:
            found.append(f"{path}: {len(source.splitlines())} lines")
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                length = node.end_lineno - node.lineno + 1
                if length > MAX_FUNCTION_LINES:
                    found.append(f"{path}:{node.lineno} {node.name}: {length} lines")
    return found


def test_no_module_or_function_grows_past_a_readable_size():
    """One concern per module and per function: the size bar of the architecture step, kept."""
    assert _oversized([ROOT, ROOT.parent / "hydra_plugins"]) == []


def test_the_size_check_finds_an_oversized_function(tmp_path):
    body = "\n".join(f"    x{i} = {i}" for i in range(MAX_FUNCTION_LINES))
    (tmp_path / "long.py").write_text(f"def long():\n{body}\n")
    assert _oversized([tmp_path]) == [f"{tmp_path / 'long.py'}:1 long: {MAX_FUNCTION_LINES + 1} lines"]
