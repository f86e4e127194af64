"""The package tree is the architecture: imports flow one way, with no circles.

Every import in `publisher/` (at module level or inside a function) is read with `ast` and checked
against `MAY_IMPORT`: the command line on top; building and the mailing list below it; rendering
below building; reading digests below rendering; `errors`, `text` and `config` at the bottom. The
mailing list reads what a build wrote through three modules of `render` only.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "publisher"

FOUNDATION = {"publisher", "errors", "text", "config"}
# What each part (a subpackage, or a module at the top) may import besides itself.
MAY_IMPORT = {
    "publisher": set(),  # __init__.py: the version only
    "__main__": {"cli"},
    "errors": set(),
    "text": {"errors"},
    "config": {"errors", "text"},
    "digests": {"publisher", "errors", "text", "config"},
    "render": FOUNDATION | {"digests"},
    "build": FOUNDATION | {"digests", "render"},
    "mailing": FOUNDATION | {"render"},
    "cli": FOUNDATION | {"digests", "render", "build", "mailing"},
}
# The built files' formats: all the mailing list may know of rendering.
MAILING_READS = {"publisher.render.paths", "publisher.render.assemble", "publisher.render.message"}


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules() -> dict[str, Path]:
    return {module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


def part(module: str) -> str:
    """`publisher.render.feeds` → `render`; `publisher.config` → `config`; `publisher` → `publisher`."""
    pieces = module.split(".")
    return pieces[1] if len(pieces) > 1 else "publisher"


def imported(module: str, path: Path, known: dict[str, Path]) -> Iterator[tuple[int, str]]:
    """(line, module) for every publisher module that `module` imports, wherever the import stands."""
    is_package = path.name == "__init__.py"
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == "publisher":
                    yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = module.split(".")[: len(module.split(".")) - node.level + (1 if is_package else 0)]
                target = ".".join(base + ([node.module] if node.module else []))
            elif node.module and node.module.split(".")[0] == "publisher":
                target = node.module
            else:
                continue
            for alias in node.names:  # `from . import paths` names a module; `from .x import y` a value
                candidate = f"{target}.{alias.name}"
                yield node.lineno, candidate if candidate in known else target


def import_graph() -> dict[str, set[str]]:
    known = modules()
    return {name: {target for _, target in imported(name, path, known)} - {name} for name, path in known.items()}


def test_the_tree_is_what_the_layers_name():
    parts = {part(name) for name in modules()}
    assert parts == set(MAY_IMPORT), "a new package or top-level module needs its place in MAY_IMPORT"


def test_imports_flow_one_way():
    known = modules()
    wrong = []
    for name, path in known.items():
        for line, target in imported(name, path, known):
            assert target in known, f"{path}:{line}: imports {target}, which does not exist"
            source_part, target_part = part(name), part(target)
            if source_part == target_part:
                continue
            if target_part not in MAY_IMPORT[source_part]:
                wrong.append(f"{path.relative_to(PACKAGE.parent)}:{line}: {source_part} may not import {target}")
            elif source_part == "mailing" and target_part == "render" and target not in MAILING_READS:
                wrong.append(f"{path.relative_to(PACKAGE.parent)}:{line}: the mailing list may not import {target}")
    assert not wrong, "\n".join(wrong)


def test_no_module_imports_itself_in_a_circle():
    graph = import_graph()
    circles = []
    state: dict[str, int] = {}  # 1: on the path being walked, 2: done
    stack: list[str] = []

    def visit(name: str) -> None:
        state[name] = 1
        stack.append(name)
        for target in sorted(graph[name]):
            if target.startswith(name + "."):
                continue  # a package importing its own modules (cli/__init__.py) is not a circle
            if state.get(target) == 1:
                circles.append(" → ".join([*stack[stack.index(target) :], target]))
            elif target not in state:
                visit(target)
        stack.pop()
        state[name] = 2

    for name in sorted(graph):
        if name not in state:
            visit(name)
    assert not circles, "\n".join(circles)


@pytest.mark.parametrize("package", sorted(p.parent.name for p in PACKAGE.glob("*/__init__.py")))
def test_each_package_says_its_job_and_names_every_module(package: str):
    folder = PACKAGE / package
    docstring = ast.get_docstring(ast.parse((folder / "__init__.py").read_text(encoding="utf-8"))) or ""
    assert docstring, f"publisher/{package}/__init__.py has no docstring"
    unnamed = [p.name for p in sorted(folder.glob("*.py")) if p.name != "__init__.py" and p.name not in docstring]
    assert not unnamed, f"publisher/{package}/__init__.py does not say what {unnamed} do"


def test_the_checker_sees_a_wrong_import(tmp_path: Path):
    """The rules above would catch a renderer that imported the mailing list, or a circle."""
    path = tmp_path / "issues.py"
    path.write_text("from ..mailing import send\nfrom . import paths\n\ndef f():\n    from .. import cli\n")
    known = {"publisher.mailing.send": path, "publisher.render.paths": path, "publisher.cli": path}
    found = [target for _, target in imported("publisher.render.issues", path, known)]
    assert found == ["publisher.mailing.send", "publisher.render.paths", "publisher.cli"]
    assert "mailing" not in MAY_IMPORT["render"] and "cli" not in MAY_IMPORT["render"]


MOST_LINES = 400  # a module past this does more than one job: split it


def test_no_module_is_a_god_module():
    long = {
        str(path.relative_to(PACKAGE.parent)): n
        for path in modules().values()
        if (n := len(path.read_text(encoding="utf-8").splitlines())) > MOST_LINES
    }
    assert not long, f"modules over {MOST_LINES} lines: {long}"
