"""Every row lock is written in ``mhfa/locks.py``, where the order they are taken in can be read in one place."""
from __future__ import annotations

import re
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "mhfa"
LOCKING = re.compile(r"with_for_update|FOR\s+(NO\s+KEY\s+)?UPDATE|FOR\s+(KEY\s+)?SHARE|pg_advisory|BEGIN\s+IMMEDIATE",
                     re.IGNORECASE)


def _locking_lines(source: str) -> list[int]:
    lines = []
    in_docstring = False
    for number, line in enumerate(source.splitlines(), 1):
        stripped = line.strip()
        quotes = stripped.count('"""')
        if in_docstring or stripped.startswith("#") or stripped.startswith('"""'):
            in_docstring = in_docstring != (quotes % 2 == 1)
            continue
        if LOCKING.search(line.split("#")[0]):
            lines.append(number)
    return lines


def test_no_module_but_locks_takes_a_lock():
    found = {str(path.relative_to(PACKAGE.parent)): lines
             for path in PACKAGE.rglob("*.py") if path.name != "locks.py" or path.parent != PACKAGE
             if (lines := _locking_lines(path.read_text(encoding="utf-8")))}
    assert found == {}, f"locks written outside mhfa/locks.py: {found}"


def test_the_check_finds_a_lock_written_elsewhere():
    assert _locking_lines("rows = db.session.execute(select(X).with_for_update())\n") == [1]
    assert _locking_lines('db.session.execute(sa.text("SELECT id FROM course WHERE id = 1 FOR UPDATE"))\n') == [1]
    assert _locking_lines('"""A docstring that speaks of FOR UPDATE."""\n# or a comment: with_for_update\n') == []
