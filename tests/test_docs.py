"""The documentation names only things that exist: paths, links, commands, modules and routes.

Read: ``README.md``, ``CHANGES.md`` and every ``docs/*.md``. In each, the rules are:

- a repository path in a code span or a code block (``mhfa/…``, ``tests/…``, ``scripts/…``,
  ``templates/…``, ``static/…``, ``migrations/…``, ``benchmarks/…``, ``docs/…``, ``.ci/…`` and the
  top-level files) exists; ``<area>`` in a path matches any name;
- a dotted name of the package (``mhfa.locks.lock_certificate``) is a module or an attribute of one;
- a relative Markdown link resolves to a file, and its ``#anchor`` to a heading of that file;
- ``flask --app wsgi mhfa <command>`` (or ``mhfa <command>``, ``flask … db <command>``) is a command of
  the CLI group, and every ``--option`` after it on that line is one of that command's options;
- a URL path in a code span (``/manage/courses/<id>``) whose first segment is one the app serves
  matches a rule of the app's URL map, placeholders matched loosely, or is the prefix of one (``/api/v1``);
- a string the package itself uses (a logger name) counts as a name that exists;
- no document speaks of the history of the work: no "issue 12", no "this session".
"""
from __future__ import annotations

import importlib
import re
from pathlib import Path

import click
import pytest
from flask_migrate.cli import db as db_group

from mhfa import create_app
from mhfa.cli import mhfa_cli

ROOT = Path(__file__).resolve().parent.parent
DOCUMENTS = [ROOT / "README.md", ROOT / "CHANGES.md", *sorted((ROOT / "docs").glob("*.md"))]

ROOTS = ("mhfa/", "tests/", "scripts/", "templates/", "static/", "migrations/", "benchmarks/", "docs/", ".ci/")
TOP_FILES = {"README.md", "CHANGES.md", "setup.cfg", "wsgi.py", "pyproject.toml"}
FENCE = re.compile(r"^```.*?$(.*?)^```", re.MULTILINE | re.DOTALL)
SPAN = re.compile(r"`([^`\n]+)`")
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
HEADING = re.compile(r"^#{1,6}\s+(.+?)\s*$", re.MULTILINE)
COMMAND = re.compile(r"(?:^|\s)(mhfa|db) ([a-z][a-z-]*)((?:\s+\S+)*)")
DOTTED = re.compile(r"^mhfa(?:\.\w+)+")
ROUTE = re.compile(r"^(?:(?:GET|POST|PUT|PATCH|DELETE)\s+)?(/\S*)$")
#: "session" alone is a course's session or a signed-in user's: only the work's own sessions are history.
HISTORY = re.compile(r"\bissues?\s*#?\d+|\b(?:this|that|a|the|previous|last|next|earlier|each|every) session'?s? "
                     r"(?:machine|work|note|brief)|\bthis session\b|\bin a (?:later|new) session\b", re.IGNORECASE)
#: Names the package uses as strings (logger names such as ``mhfa.database``) count as existing.
PACKAGE_SOURCE = "\n".join(path.read_text(encoding="utf-8") for path in (ROOT / "mhfa").rglob("*.py"))


def code_of(text: str) -> tuple[list[str], list[str]]:
    """(code spans outside code blocks, lines of code blocks)."""
    blocks = [line for block in FENCE.findall(text) for line in block.splitlines()]
    prose = FENCE.sub("", text)
    return SPAN.findall(prose), blocks


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def anchors(text: str) -> set[str]:
    seen: dict[str, int] = {}
    found = set()
    for heading in HEADING.findall(FENCE.sub("", text)):
        base = slug(heading)
        count = seen.get(base, 0)
        found.add(base if count == 0 else f"{base}-{count}")
        seen[base] = count + 1
    return found


def path_problems(token: str) -> list[str]:
    token = token.strip("()[],;:'\"").rstrip(".").removeprefix("./")
    if "…" in token or "$" in token:
        return []
    if not (token.startswith(ROOTS) or token in TOP_FILES):
        return []
    pattern = re.sub(r"<[^>]+>", "*", token.rstrip("/"))
    matches = list(ROOT.glob(pattern)) if "*" in pattern else [ROOT / pattern] if (ROOT / pattern).exists() else []
    if token.endswith("/"):
        matches = [m for m in matches if m.is_dir()]
    return [] if matches else [f"no such path: {token}"]


def dotted_problems(token: str) -> list[str]:
    name = DOTTED.match(token)
    if not name:
        return []
    parts = name.group(0).split(".")
    for cut in range(len(parts), 0, -1):
        try:
            target = importlib.import_module(".".join(parts[:cut]))
        except ModuleNotFoundError:
            continue
        for attribute in parts[cut:]:
            if not hasattr(target, attribute):
                return [] if f'"{name.group(0)}"' in PACKAGE_SOURCE else [f"no such name: {name.group(0)}"]
            target = getattr(target, attribute)
        return []
    return [] if f'"{name.group(0)}"' in PACKAGE_SOURCE else [f"no such module: {name.group(0)}"]


def command_problems(line: str) -> list[str]:
    problems = []
    for match in COMMAND.finditer(line):
        group, name, rest = match.groups()
        if group == "db" and not re.search(r"(?:^|flask\b.*\s)db $", line[: match.start(2)]):
            continue
        command = (mhfa_cli if group == "mhfa" else db_group).commands.get(name)
        if command is None:
            problems.append(f"no such command: {group} {name}")
            continue
        options = {opt for param in command.params if isinstance(param, click.Option)
                   for opt in (*param.opts, *param.secondary_opts)}
        for option in re.findall(r"(?:^|[\s\[])(--[a-z][\w-]*)", rest):
            if option not in options:
                problems.append(f"{group} {name} has no option {option}")
    return problems


def route_problems(span: str, rules: list[str]) -> list[str]:
    match = ROUTE.match(re.sub(r"<[^>]+>", "X", span.strip()))
    if not match:
        return []
    route = re.split(r"[?#]", match.group(1))[0].rstrip(".,;:")
    first = route.lstrip("/").split("/")[0]
    if first not in {rule.lstrip("/").split("/")[0] for rule in rules if rule != "/"}:
        return []
    for rule in rules:
        pattern = "".join("[^/]+" if part.startswith("<") else re.escape(part)
                          for part in re.split(r"(<[^>]+>)", rule))
        if re.fullmatch(pattern, route) or rule.startswith(route.rstrip("/") + "/"):
            return []
    return [f"no such route: {span.strip()}"]


def link_problems(target: str, where: Path, text: str) -> list[str]:
    if re.match(r"^[a-z]+:", target):
        return []
    file_part, _, anchor = target.partition("#")
    if not file_part:
        return [] if anchor in anchors(text) else [f"no heading for the anchor: {target}"]
    linked = (where.parent / file_part).resolve()
    if not linked.exists():
        return [f"broken link: {target}"]
    if anchor and linked.suffix == ".md" and anchor not in anchors(linked.read_text(encoding="utf-8")):
        return [f"no heading for the anchor: {target}"]
    return []


def problems(text: str, where: Path, rules: list[str]) -> list[str]:
    """Everything a document names that does not exist, and every mention of the work's history."""
    found = [f"speaks of history: {m.group(0)!r}" for m in HISTORY.finditer(text)]
    spans, block_lines = code_of(text)
    for span in spans:
        for token in span.split():
            found += path_problems(token) + dotted_problems(token.split("(")[0])
        found += command_problems(span) + route_problems(span, rules)
    for line in block_lines:
        for token in line.split():
            found += path_problems(token)
        found += command_problems(line)
    for target in LINK.findall(FENCE.sub("", text)):
        found += link_problems(target, where, text)
    return found


@pytest.fixture(scope="module")
def rules(tmp_path_factory) -> list[str]:
    instance = tmp_path_factory.mktemp("docs-instance")
    app = create_app({"TESTING": True, "INSTANCE_PATH": str(instance), "SECRET_KEY": "docs",
                      "SQLALCHEMY_DATABASE_URI": f"sqlite:///{instance / 'docs.db'}"})
    return [rule.rule for rule in app.url_map.iter_rules()]


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_path_link_command_and_route_a_document_names_exists(document, rules):
    assert problems(document.read_text(encoding="utf-8"), document, rules) == []


def test_the_readme_stays_a_short_guide_and_links_every_doc():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert len(readme.splitlines()) <= 160
    linked = {(ROOT / target.partition("#")[0]).resolve() for target in LINK.findall(readme)}
    assert [d for d in DOCUMENTS if d.resolve() not in linked and d.name != "README.md"] == []


# --- the test of the test: a made-up document that breaks every rule -------------------------------

BROKEN = """# A page

See `mhfa/courses/services.py`, `tests/<area>/nothing_here.py` and `./scripts/deploy`, call
`mhfa.locks.lock_everything`, run `flask --app wsgi mhfa make-coffee` and
`flask --app wsgi mhfa backup DIR --compress`, open `/manage/coffee/<id>`, follow [the guide](nowhere.md)
and [a heading](architecture.md#no-such-heading). This was done in issue 21, on this session's machine.

```sh
python scripts/missing.py
```
"""

SOUND = """# A page

See `mhfa/bookings/services.py`, `tests/<area>/` and `./scripts/serve`, call `mhfa.locks.lock_certificate`,
run `flask --app wsgi mhfa backup DIR` and `flask --app wsgi db upgrade`, open `/manage/courses/<id>`,
`POST /api/v1/courses/<id>/bookings`, `/reach/download/all.xlsx` and `/usr/bin/chromium`, read
[the architecture](architecture.md#counted-toward-the-target) and [this page](#a-page). A course has
sessions; a signed-in user's session ends when they sign out.

```sh
python scripts/bench.py --people 20000
```
"""


def test_a_made_up_document_with_broken_names_fails(rules):
    found = problems(BROKEN, ROOT / "docs" / "made-up.md", rules)
    for expected in ("no such path: mhfa/courses/services.py", "no such path: tests/<area>/nothing_here.py",
                     "no such path: scripts/deploy", "no such name: mhfa.locks.lock_everything",
                     "no such command: mhfa make-coffee", "mhfa backup has no option --compress",
                     "no such route: /manage/coffee/<id>", "broken link: nowhere.md",
                     "no heading for the anchor: architecture.md#no-such-heading",
                     "speaks of history: 'issue 21'", "speaks of history: \"this session's machine\"",
                     "no such path: scripts/missing.py"):
        assert expected in found, (expected, found)


def test_a_made_up_document_with_sound_names_passes(rules):
    assert problems(SOUND, ROOT / "docs" / "made-up.md", rules) == []
