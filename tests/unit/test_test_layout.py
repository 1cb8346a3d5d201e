"""The test suite's own layout: no test module imports another test module. What two test
modules share (a world, a sign-in, an HTTP or CLI helper, a mail server) lives in
``tests/support/`` or in ``onethread.demo.worlds``, so a test module can be moved, renamed or
deleted without breaking another."""

from __future__ import annotations

import ast
from pathlib import Path

TESTS = Path(__file__).resolve().parents[1]


def imported_modules(path: Path, root: Path = TESTS.parent) -> list[tuple[int, str]]:
    """Every module ``path`` imports, by absolute dotted name (relative imports resolved
    against ``root``, the folder that holds ``tests/``)."""
    package = path.relative_to(root).with_suffix("").parts[:-1]
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = list(package[: len(package) - node.level + 1])
                base = ".".join([*parent, base] if base else parent)
            found.append((node.lineno, base))
            found += [(node.lineno, f"{base}.{alias.name}") for alias in node.names]  # from pkg import test_x
    return found


def is_test_module(dotted: str) -> bool:
    parts = dotted.split(".")
    return parts[0] == "tests" and any(p.startswith("test_") or p == "conftest" for p in parts[1:])


def test_no_test_module_imports_another_test_module_or_a_conftest():
    offending = [f"{path.relative_to(TESTS.parent)}:{line} imports {name}"
                 for path in sorted(TESTS.rglob("*.py"))
                 for line, name in imported_modules(path) if is_test_module(name)]
    assert offending == []


def test_the_check_sees_each_way_of_importing_a_test_module(tmp_path):
    """The check would fail on each form: absolute, from a package, relative, and a conftest."""
    forms = {
        "from tests.api.test_cli import run": "tests.api.test_cli",
        "from tests.api import test_cli": "tests.api.test_cli",
        "import tests.scenarios.test_s3_four_eyes": "tests.scenarios.test_s3_four_eyes",
        "from .test_cli import run": "tests.api.test_cli",
        "from tests.conftest import START": "tests.conftest",
    }
    module = tmp_path / "tests" / "api" / "test_example.py"
    module.parent.mkdir(parents=True)
    for source, expected in forms.items():
        module.write_text(source + "\n", encoding="utf-8")
        names = [name for _, name in imported_modules(module, tmp_path)]
        assert expected in names and any(is_test_module(n) for n in names), source
    module.write_text("from tests.support.cli import run\nfrom onethread.demo import worlds\n", encoding="utf-8")
    assert not any(is_test_module(n) for _, n in imported_modules(module, tmp_path))
