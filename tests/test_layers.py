"""The add-on's layers import only those below them: the Graph client nothing of the add-on outside ``graph/``, the
billing rules nothing else at all (not the Graph client, which pulls msal and requests), the other plain modules
(locks, the mirror guard, the wording of Graph errors) and the synchronization nothing of the
models, wizards or controllers; and no module of the add-on imports, through others, itself."""
import ast
import os

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PACKAGE = "bookings_invoicing"
#: Each layer, and the layers it may import.
ALLOWED = {
    "graph": {"graph"},
    "rules": {"rules"},
    "locks": {"locks"},
    "mirror": {"mirror"},
    "messages": {"messages", "graph"},
    "sync": {"sync", "graph", "rules", "locks", "mirror", "messages"},
}


def module_name(path):
    parts = os.path.relpath(path, ROOT)[:-len(".py")].split(os.sep)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports():
    """``{module: {module of the add-on it imports}}`` over the add-on's code (its tests left out)."""
    graph = {}
    for folder, _dirs, files in os.walk(os.path.join(ROOT, PACKAGE)):
        if os.sep + "tests" in folder or os.sep + "migrations" in folder:
            continue
        for name in files:
            if not name.endswith(".py"):
                continue
            path = os.path.join(folder, name)
            module = module_name(path)
            package = module if name == "__init__.py" else module.rsplit(".", 1)[0]
            with open(path) as source:
                tree = ast.parse(source.read())
            found = set()
            for node in ast.walk(tree):
                if isinstance(node, ast.ImportFrom) and node.level:
                    base = package.split(".")
                    base = base[:len(base) - node.level + 1]
                    target = ".".join(base + ([node.module] if node.module else []))
                    found |= {target + "." + alias.name for alias in node.names}  # submodules, or names
                    if node.module:
                        found.add(target)
            graph[module] = {name for name in found if name.startswith(PACKAGE + ".")}
    return {module: {target for target in targets if target in graph} for module, targets in graph.items()}


def layer(module):
    return module.split(".")[1] if "." in module else None


def test_the_parser_sees_the_add_ons_imports():
    graph = imports()
    assert "bookings_invoicing.sync" in graph["bookings_invoicing.models.bookings_business"]
    assert "bookings_invoicing.mirror" in graph["bookings_invoicing.sync.importer"]


@pytest.mark.parametrize("lower", sorted(ALLOWED))
def test_a_lower_layer_imports_nothing_above_it(lower):
    upward = {(module, target) for module, targets in imports().items() if layer(module) == lower
              for target in targets if layer(target) not in ALLOWED[lower]}
    assert not upward


def test_no_module_imports_itself_through_others():
    graph = imports()
    done, cycles = set(), []

    def visit(module, path):
        for target in sorted(graph[module]):
            if target in path:
                cycles.append(path[path.index(target):] + [target])
            elif target not in done:
                visit(target, path + [target])
        done.add(module)

    for module in sorted(graph):
        if module not in done:
            visit(module, [module])
    assert not cycles
