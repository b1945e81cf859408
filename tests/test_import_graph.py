"""The package's import structure: no module imports another that (directly or not) imports it back, and
the service layer can be imported without the heavy or UI libraries."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PACKAGE = REPO / "hfdash"
HEAVY = ("torch", "transformers", "streamlit")


def module_files() -> dict[str, Path]:
    modules = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = list(path.relative_to(REPO).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        modules[".".join(parts)] = path
    return modules


def _runtime_imports(tree: ast.Module):
    """Every import statement, at any depth (functions included), except those under `if TYPE_CHECKING:`."""
    stack: list[ast.AST] = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            stack.extend(node.orelse)
            continue
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            yield node
        stack.extend(ast.iter_child_nodes(node))


def import_graph() -> dict[str, set[str]]:
    """module -> the hfdash modules it imports. `from pkg import name` counts as pkg.name when that is a
    module, else as pkg (its __init__)."""
    modules = module_files()

    def owner(name: str) -> str | None:
        while name and name not in modules:
            name = name.rpartition(".")[0]
        return name or None

    graph: dict[str, set[str]] = {name: set() for name in modules}
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        for node in _runtime_imports(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            else:
                base = node.module or ""
                if node.level:
                    anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join(anchor + ([base] if base else []))
                targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in modules else base for a in node.names]
            for target in targets:
                found = owner(target) if target.startswith("hfdash") else None
                if found and found != name:
                    graph[name].add(found)
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                return path[path.index(nxt):] + [nxt]
            if nxt not in state and (cycle := visit(nxt)):
                return cycle
        path.pop()
        state[node] = 2
        return None

    for start in sorted(graph):
        if start not in state and (cycle := visit(start)):
            return cycle
    return None


def test_the_graph_sees_function_level_and_relative_imports():
    graph = import_graph()
    assert "hfdash.hubcall" in graph["hfdash.auth"]  # imported inside check_token
    assert "hfdash.inference.local.loading" in graph["hfdash.inference.local"]
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]


def test_the_package_import_graph_has_no_cycles():
    assert find_cycle(import_graph()) is None


# tests/support modules that stand in for an outside service (the Hub, a provider, a server): built from
# recordings and documentation, never from the app's own parsing.
OUTSIDE_SERVICE_FAKES = ("loopback_hub", "hub_models", "hub_repos", "hub_auth", "fault_server", "key_proxy",
                         "openai_server", "recorded_page")


def support_imports(name: str) -> set[str]:
    """Every module a tests/support module imports, following the tests/support modules it imports."""
    seen: set[str] = set()
    todo = [f"tests.support.{name}"]
    while todo:
        module = todo.pop()
        path = REPO / (module.replace(".", "/") + ".py")
        for node in _runtime_imports(ast.parse(path.read_text(), str(path))):
            for target in ([a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]):
                if target not in seen:
                    seen.add(target)
                    if target.startswith("tests.support.") and (REPO / (target.replace(".", "/") + ".py")).exists():
                        todo.append(target)
    return seen


def test_the_fakes_of_outside_services_never_use_the_apps_code():
    assert "tests.support.loopback_hub" in support_imports("hub_repos")  # followed through tests/support
    for name in OUTSIDE_SERVICE_FAKES:
        assert not [m for m in support_imports(name) if m.split(".")[0] == "hfdash"], name


CHILD = """
import importlib, json, os, sys
modules, heavy = json.loads(sys.argv[1]), tuple(json.loads(sys.argv[2]))
for name in modules:
    pid = os.fork()
    if pid == 0:  # a fresh import of this one module, from an interpreter that imported no hfdash module
        try:
            importlib.import_module(name)
        except BaseException as exc:
            print(json.dumps([name, f"import failed: {exc!r}"]), flush=True)
            os._exit(1)
        if not name.startswith("hfdash.ui"):
            pulled = sorted(m for m in sys.modules if m.split(".")[0] in heavy)
            if pulled:
                print(json.dumps([name, f"imports {', '.join(p for p in pulled if '.' not in p)}"]), flush=True)
        os._exit(0)
    os.waitpid(pid, 0)
"""


def test_every_module_imports_on_its_own_and_only_the_ui_brings_streamlit_torch_or_transformers():
    modules = [m for m in sorted(module_files()) if m != "hfdash.__main__"]  # a script: importing it runs the CLI
    done = subprocess.run([sys.executable, "-c", CHILD, json.dumps(modules), json.dumps(HEAVY)], cwd=REPO,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    problems = dict(json.loads(line) for line in done.stdout.splitlines() if line.startswith("["))
    assert problems == {}
    assert len(modules) > 40 and "hfdash.ui.layout" in modules
