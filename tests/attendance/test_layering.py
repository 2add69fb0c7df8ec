"""Attendance knows less than certificates: no module of it imports certificates, not even inside a function."""
import ast
from pathlib import Path

import mhfa

HIGHER = ("mhfa.certificates", "mhfa.reach", "mhfa.forecast")


def _imports(path: Path):
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            yield node.module
            yield from (f"{node.module}.{alias.name}" for alias in node.names)


def test_attendance_never_imports_certificates_or_anything_above_it():
    area = Path(mhfa.__file__).parent / "attendance"
    wrong = sorted({f"{path.name}: {name}" for path in area.rglob("*.py") for name in _imports(path)
                    if name.startswith(HIGHER)})
    assert not wrong, wrong
    assert list(area.rglob("*.py")), "the attendance package was not found"
