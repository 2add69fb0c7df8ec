"""Imports flow one way: from the areas that know more to the areas that know less, and never in a circle.

The order (``docs/architecture.md``, "Imports flow one way"), from the top down::

    reach / forecast / privacy / outcomes → certificates → attendance → employers → bookings → courses → api
    → auth → people → areas → the shared pieces (notify, audit, errors, flow, locks, extensions, db_types, timeutil,
    pagination, config, auth.access, security, dates, names, money, history, shares, pdf)

Every ``import`` in ``mhfa/`` is read with ``ast``: at the top of a module, inside functions and under
``if TYPE_CHECKING:``. The rules:

- a module of an area never imports a module of an area above it, with one exception: a
  ``models`` module may be named from anywhere (models name each other's classes for relationships,
  and a service may read another area's table). Imports under ``TYPE_CHECKING`` obey the same rule
  (so in practice they name models only);
- the application shell (``mhfa`` itself, ``mhfa.cli``, ``mhfa.models``, ``mhfa.reminders`` and the
  ``main``, ``admin`` and ``demo`` pages) may import anything and is imported by nothing in an area;
- no cycle between modules, counting every import that runs (those under ``TYPE_CHECKING`` never do);
- no ``mhfa`` import inside a function, except in the app factory and the CLI, which import the
  areas late on purpose (Flask's pattern): an import hidden in a function hides the dependency.
"""
from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "mhfa"

#: Top to bottom. An area may import areas on its own line or below it.
LAYERS: list[tuple[str, ...]] = [
    ("reach", "forecast", "privacy", "outcomes"),
    ("certificates",),
    ("attendance",),
    ("employers",),
    ("bookings",),
    ("courses",),
    ("api",),
    ("auth",),
    ("people",),
    ("areas",),
    ("notify", "audit", "errors", "flow", "locks", "extensions", "db_types", "timeutil", "pagination", "config",
     "auth.access", "security", "dates", "names", "money", "history", "shares", "pdf"),
]
#: The application shell: it wires the areas together and may import any of them.
SHELL = {"mhfa", "mhfa.cli", "mhfa.models", "mhfa.reminders", "main", "admin", "demo"}
#: Where ``mhfa`` imports inside functions are the pattern, not a dodge.
LATE_IMPORTS_ALLOWED = {"mhfa", "mhfa.cli"}

RANK = {name: len(LAYERS) - index for index, names in enumerate(LAYERS) for name in names}
TOP = len(LAYERS) + 1


@dataclass(frozen=True)
class Edge:
    importer: str
    imported: str
    line: int
    type_checking: bool
    in_function: bool


def module_name(path: Path, root: Path = PACKAGE) -> str:
    parts = list(path.relative_to(root.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def read_package(root: Path = PACKAGE) -> dict[str, str]:
    return {module_name(path, root): path.read_text(encoding="utf-8") for path in sorted(root.rglob("*.py"))}


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _resolve(name: str, modules: set[str]) -> str | None:
    """The module of ``mhfa`` an import names (the longest existing prefix), or None for a third party."""
    if name != "mhfa" and not name.startswith("mhfa."):
        return None
    parts = name.split(".")
    while parts:
        candidate = ".".join(parts)
        if candidate in modules:
            return candidate
        parts.pop()
    return None


def import_edges(sources: dict[str, str]) -> list[Edge]:
    """Every import between the modules of ``sources`` ({module name: source text})."""
    modules = set(sources)
    edges: list[Edge] = []

    def record(statement: ast.AST, importer: str, package: str, type_checking: bool, in_function: bool) -> None:
        targets: list[str] = []
        if isinstance(statement, ast.Import):
            targets = [alias.name for alias in statement.names]
        elif isinstance(statement, ast.ImportFrom):
            base = statement.module or ""
            if statement.level:
                anchor = package.split(".")[: len(package.split(".")) - statement.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            targets = [f"{base}.{alias.name}" for alias in statement.names]
        for target in targets:
            resolved = _resolve(target, modules)
            if resolved is not None and resolved != importer:
                edges.append(Edge(importer, resolved, statement.lineno, type_checking, in_function))

    def walk(node: ast.AST, importer: str, package: str, type_checking: bool, in_function: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and _is_type_checking(child.test):
                for statement in child.body:
                    record(statement, importer, package, True, in_function)
                    walk(statement, importer, package, True, in_function)
                for statement in child.orelse:
                    record(statement, importer, package, type_checking, in_function)
                    walk(statement, importer, package, type_checking, in_function)
                continue
            inner = in_function or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda))
            record(child, importer, package, type_checking, in_function)
            walk(child, importer, package, type_checking, inner)

    for importer, source in sources.items():
        tree = ast.parse(source)
        is_package = importer == "mhfa" or any(m.startswith(importer + ".") for m in modules)
        package = importer if is_package else importer.rpartition(".")[0]
        walk(tree, importer, package, False, False)
    return edges


def area_of(module: str) -> str:
    """``mhfa.courses.services`` → ``courses``; shared modules by their own name; the shell as itself."""
    if module in SHELL:
        return module
    parts = module.split(".")[1:]
    if ".".join(parts[:2]) in RANK:
        return ".".join(parts[:2])
    return parts[0] if parts else module


def rank(module: str) -> int:
    area = area_of(module)
    if area in SHELL or module in SHELL:
        return TOP
    if area not in RANK:
        raise AssertionError(f"{module} belongs to no layer: add its area to LAYERS (or SHELL) in tests/test_layers.py")
    return RANK[area]


def is_models(module: str) -> bool:
    return module.endswith(".models") and module != "mhfa.models"


def upward_imports(edges: list[Edge]) -> list[str]:
    problems = []
    for edge in edges:
        if is_models(edge.imported):
            continue
        if rank(edge.imported) > rank(edge.importer):
            where = (" (under TYPE_CHECKING)" if edge.type_checking
                     else " (inside a function)" if edge.in_function else "")
            problems.append(f"{edge.importer}:{edge.line} imports {edge.imported}{where}, an area above it")
    return problems


def late_imports(edges: list[Edge]) -> list[str]:
    return [f"{edge.importer}:{edge.line} imports {edge.imported} inside a function"
            for edge in edges if edge.in_function and edge.importer not in LATE_IMPORTS_ALLOWED]


def cycles(edges: list[Edge]) -> list[list[str]]:
    """Every strongly connected group of two or more modules (Tarjan), over the imports that run."""
    graph: dict[str, set[str]] = {}
    for edge in edges:
        if not edge.type_checking:
            graph.setdefault(edge.importer, set()).add(edge.imported)
            graph.setdefault(edge.imported, set())
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []

    def strongconnect(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for other in sorted(graph[node]):
            if other not in index:
                strongconnect(other)
                low[node] = min(low[node], low[other])
            elif other in on_stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            strongconnect(node)
    return groups


# --- the rules, on the real package -------------------------------------------------------------

@pytest.fixture(scope="module")
def edges() -> list[Edge]:
    return import_edges(read_package())


def test_every_module_belongs_to_a_layer(edges):
    for module in read_package():
        rank(module)


def test_no_area_imports_an_area_above_it(edges):
    assert upward_imports(edges) == []


def test_no_cycle_between_modules(edges):
    assert cycles(edges) == []


def test_no_import_is_hidden_inside_a_function(edges):
    assert late_imports(edges) == []


def test_the_walk_sees_imports_in_functions_and_type_checking_blocks(edges):
    assert any(e.in_function for e in edges if e.importer == "mhfa")  # the factory's blueprints
    assert any(e.type_checking for e in edges)


# --- the test of the test: synthetic packages that break each rule ---------------------------------

def test_an_upward_import_is_caught_wherever_it_hides():
    for body in (
        "from mhfa.bookings import services\n",
        "def f():\n    from mhfa.bookings.services import book\n",
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from mhfa.bookings.services import book\n",
        "import mhfa.bookings.services\n",
    ):
        sources = {"mhfa.courses.services": body, "mhfa.bookings.services": "", "mhfa.bookings": ""}
        assert upward_imports(import_edges(sources)) != [], body


def test_downward_and_model_imports_pass():
    sources = {
        "mhfa.bookings.services": "from mhfa.courses.services import places\nfrom mhfa.extensions import db\n",
        "mhfa.courses.services": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n"
                                 "    from mhfa.bookings.models import Booking\n",
        "mhfa.courses.models": "from mhfa.employers.models import Employer\n",
        "mhfa.employers.models": "", "mhfa.bookings.models": "", "mhfa.extensions": "",
    }
    assert upward_imports(import_edges(sources)) == []


def test_a_cycle_is_caught_but_not_one_through_type_checking_only():
    looping = {
        "mhfa.auth.services": "from mhfa.people import services\n",
        "mhfa.people.services": "def f():\n    import mhfa.auth.services\n",
        "mhfa.auth": "", "mhfa.people": "",
    }
    assert cycles(import_edges(looping)) == [["mhfa.auth.services", "mhfa.people.services"]]
    annotated = {
        "mhfa.people.models": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n"
                              "    from mhfa.employers.models import Employer\n",
        "mhfa.employers.models": "from mhfa.people.models import Person\n",
    }
    assert cycles(import_edges(annotated)) == []


def test_an_import_inside_a_function_is_caught_outside_the_factory():
    sources = {"mhfa.courses.services": "def f():\n    from mhfa.extensions import db\n", "mhfa.extensions": "",
               "mhfa": "def create_app():\n    from mhfa.courses import services\n", "mhfa.courses": ""}
    assert late_imports(import_edges(sources)) == ["mhfa.courses.services:2 imports mhfa.extensions inside a function"]


def test_the_real_package_fails_when_an_upward_import_is_added():
    sources = read_package()
    sources["mhfa.people.services"] += "\nfrom mhfa.bookings import services as _bookings\n"
    assert any("mhfa.people.services" in p and "mhfa.bookings.services" in p
               for p in upward_imports(import_edges(sources)))


# --- forms parse; the rules and the queries are the services' -------------------------------------

#: Form modules that still read the database to parse: none (each view passes its choices in).
FORMS_STILL_READING: set[str] = set()
RULES_OR_QUERIES = ("mhfa.extensions", "sqlalchemy", "mhfa.courses.rules", "mhfa.locks")


def _form_imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_forms_only_parse():
    """A form reads what was typed; which rows it names and which rules it breaks are the services'."""
    reading = {str(path.relative_to(PACKAGE.parent)) for path in PACKAGE.rglob("*forms.py")
               if any(name.startswith(RULES_OR_QUERIES) for name in _form_imports(path))}
    assert reading == FORMS_STILL_READING, "a form imports the database or the rules: pass choices in from a service"
