"""The shape of the package, as the README's module map promises it: small modules, imports one way,
each third-party library behind one module, pure stages free of I/O."""

from __future__ import annotations

import ast
import sys
from functools import cache
from pathlib import Path

import pytest

from tests.conftest import REPO

PACKAGE = REPO / "ingester"
MAX_LINES = 500
# Third-party libraries and the one module allowed to import each (click: the `cli` package).
OWNERS = {
    "bs4": {"ingester.clean.dom"},
    "lxml": {"ingester.clean.dom"},
    "charset_normalizer": {"ingester.charsets"},
    "ftfy": {"ingester.charsets"},
    "html2text": {"ingester.convert"},
    "imapclient": {"ingester.source"},
    "apscheduler": {"ingester.scheduler"},
    "yaml": {"ingester.frontmatter"},
    "rich": {"ingester.cli.terminal"},
    "markdown_it": {"ingester.gate"},
    "httpx": {"ingester.fill.client"},
}
PURE = (
    "tags",
    "message",
    "classify",
    "clean",
    "links",
    "convert",
    "markdown",
    "metadata",
    "render",
    "gate",
    "frontmatter",
    "compose",
    "identity",
    "privacy",
    "fidelity",
    "charsets",
    "memory",
    "parts",
    "fill.schema",
    "fill.writer",
    "textchrome",
    "textheads",
)
IMPURE = ("source", "store", "cli", "pipeline", "runs", "scheduler", "workers", "recall")


@cache
def modules() -> dict[str, Path]:
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        name = ".".join(path.relative_to(REPO).with_suffix("").parts)
        found[name.removesuffix(".__init__")] = path
    return found


@cache
def imports(module: str) -> frozenset[str]:
    """Every module `module` imports, at any level (inside functions and `if TYPE_CHECKING:` too)."""
    tree = ast.parse(modules()[module].read_text(encoding="utf-8"))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return frozenset(found)


def internal(module: str) -> set[str]:
    """The package's own modules `module` imports (not the packages it lives in)."""
    return {m for m in imports(module) if m in modules() and m != module and not module.startswith(m + ".")}


def test_no_module_is_over_the_size_guide() -> None:
    sizes = {name: len(path.read_text(encoding="utf-8").splitlines()) for name, path in modules().items()}
    assert {name: n for name, n in sizes.items() if n > MAX_LINES} == {}


def test_no_import_cycle() -> None:
    graph = {module: internal(module) for module in modules()}
    cycles = []

    def visit(module: str, path: list[str]) -> None:
        for target in graph[module]:
            if target in path:
                cycles.append([*path[path.index(target) :], target])
            elif target not in done:
                visit(target, [*path, target])
        done.add(module)

    done: set[str] = set()
    for module in graph:
        visit(module, [module])
    assert cycles == []


@pytest.mark.parametrize("library", sorted(OWNERS))
def test_each_library_has_one_importer(library: str) -> None:
    users = {m for m in modules() if any(i == library or i.startswith(library + ".") for i in imports(m))}
    assert users == OWNERS[library]


def test_click_stays_in_the_command_line() -> None:
    users = {m for m in modules() if "click" in imports(m)}
    assert users and all(m.startswith("ingester.cli") for m in users), users


@pytest.mark.parametrize("stage", PURE)
def test_pure_stages_import_no_io(stage: str) -> None:
    members = [m for m in modules() if m == f"ingester.{stage}" or m.startswith(f"ingester.{stage}.")]
    touched = {
        (m, i)
        for m in members
        for i in internal(m)
        if any(i == f"ingester.{x}" or i.startswith(f"ingester.{x}.") for x in IMPURE)
    }
    assert touched == set()


def test_the_review_side_never_imports_the_pipeline() -> None:
    review = [m for m in modules() if m.startswith(("ingester.store", "ingester.rerender", "ingester.cli.drafts"))]
    assert {m for m in review if "ingester.pipeline" in internal(m)} == set()


def test_the_package_imports_nothing_the_wheel_lacks() -> None:
    """Every third-party import is a declared dependency (or the standard library)."""
    declared = {
        "bs4",
        "lxml",
        "charset_normalizer",
        "ftfy",
        "html2text",
        "imapclient",
        "apscheduler",
        "click",
        "yaml",
        "rich",
        "markdown_it",
        "httpx",
    }
    third_party = (
        {i.split(".")[0] for m in modules() for i in imports(m) if not i.startswith("ingester")}
        - set(sys.stdlib_module_names)
        - {"__future__"}
    )
    assert third_party <= declared, third_party - declared
