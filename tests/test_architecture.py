"""The layout's rules, checked on the source: which part may import which, and where roles live.

Directions (design.md): web/api/cli -> pathways/queries/monitoring -> auth -> models -> rules.
A change that crosses a forbidden line fails here, naming the module and the import.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from divert.auth.policy import ABILITIES
from divert.models.user import ROLES

PACKAGE = Path(__file__).resolve().parents[1] / "divert"

# part -> parts of the app it must never import ("app" is the plumbing every part but rules may use)
FORBIDDEN: dict[str, set[str]] = {
    "rules": {"app", "models", "auth", "pathways", "queries", "monitoring", "web", "api", "cli", "seeding"},
    "models": {"auth", "pathways", "queries", "monitoring", "web", "api", "cli", "seeding"},
    "auth": {"pathways", "queries", "monitoring", "api", "cli", "seeding"},
    "monitoring": {"pathways", "queries", "web", "api", "cli", "seeding"},
    "pathways": {"web", "api", "cli", "queries"},
    "queries": {"pathways", "web", "api", "cli"},
    "web": {"api", "cli"},
    "api": {"web", "cli"},
    # Tasks are entry points like commands (they commit), started from web, api and cli; an export
    # task reads through the same read models (queries) as the page it came from.
    "background": {"web", "api", "cli"},
    # The plumbing knows nothing of the domain beyond the rules' plain constants (limits, codes).
    "app": {"models", "auth", "pathways", "queries", "monitoring", "web", "api", "cli", "seeding", "notify"},
    # Senders are plumbing too; only the worker (background) and commands send. Operations write
    # to the outbox instead, so nothing is sent before their transaction commits.
    "notify": {"app", "background"}
    | {"models", "auth", "pathways", "queries", "monitoring", "web"}
    | {"api", "cli", "seeding"},
}
for _part_name in ("rules", "models", "auth", "pathways", "queries", "monitoring", "web", "api"):
    FORBIDDEN[_part_name].add("notify")
# Only the rules engine's own, plain libraries: nothing that does I/O or knows about the web.
RULES_MAY_IMPORT = {"__future__", "dataclasses", "datetime", "typing", "collections", "functools", "re"}


def _modules() -> list[Path]:
    return sorted(p for p in PACKAGE.rglob("*.py") if "static" not in p.parts)


def _part(path: Path) -> str:
    rel = path.relative_to(PACKAGE)
    return rel.parts[0] if len(rel.parts) > 1 else rel.stem


def _imports(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            assert node.level == 0, f"{path}: relative import (imports are absolute)"
            found.append(node.module)
    return found


def test_no_import_crosses_a_forbidden_line() -> None:
    crossings = []
    for path in _modules():
        part = _part(path)
        for module in _imports(path):
            pieces = module.split(".")
            if pieces[0] == "divert" and len(pieces) > 1 and pieces[1] in FORBIDDEN.get(part, set()):
                crossings.append(f"{path.relative_to(PACKAGE.parent)} imports {module}")
    assert crossings == []


def test_the_rules_import_nothing_of_the_app_or_the_web() -> None:
    offenders = []
    for path in (PACKAGE / "rules").rglob("*.py"):
        for module in _imports(path):
            top = module.split(".")[0]
            if top in {"flask", "sqlalchemy", "flask_login", "werkzeug", "click"}:
                offenders.append(f"{path.name} imports {module}")
    assert offenders == []


def test_no_module_sits_loose_under_the_package() -> None:
    loose = sorted(p.name for p in PACKAGE.glob("*.py") if p.name != "__init__.py")
    assert loose == []


def test_the_parts_the_readme_names_are_the_parts_there_are() -> None:
    parts = {p.name for p in PACKAGE.iterdir() if p.is_dir() and (p / "__init__.py").exists()}
    assert parts == {
        "app", "rules", "models", "auth", "pathways", "queries", "monitoring", "web", "api", "cli", "seeding",
        "background", "notify",
    }  # fmt: skip


TEMPLATES = PACKAGE / "web" / "templates"
CAN = re.compile(r"""can\(\s*["']([a-z_]+)["']""")


def test_every_permission_check_in_a_template_names_an_ability() -> None:
    named = {m for t in TEMPLATES.rglob("*.html") for m in CAN.findall(t.read_text(encoding="utf-8"))}
    assert named, "templates ask can(...) somewhere"
    assert named - set(ABILITIES) == set()


@pytest.mark.parametrize("template", sorted(TEMPLATES.rglob("*.html")), ids=lambda p: p.name)
def test_no_role_name_in_a_template(template: Path) -> None:
    text = template.read_text(encoding="utf-8")
    assert "current_user.role " not in text and "current_user.role)" not in text
    quoted = {m for m in re.findall(r"""["']([a-z_]+)["']""", text) if m in ROLES}
    assert quoted == set(), f"{template.name} decides by role; ask can(...) instead"


def _role_literals(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    # A blueprint's name is a URL namespace, not a role, even when both are "admin".
    names = {
        id(node.args[0])
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and getattr(node.func, "id", "") == "Blueprint" and node.args
    }
    return [
        f"{path.name}:{node.lineno} {node.value!r}"
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and node.value in ROLES and id(node) not in names
    ]


def test_no_role_name_in_a_view_or_api_handler() -> None:
    paths = [
        *(PACKAGE / "web").rglob("*.py"),
        *(PACKAGE / "api").rglob("*.py"),
        *(PACKAGE / "pathways").rglob("*.py"),
    ]
    found = [hit for path in paths for hit in _role_literals(path)]
    assert found == []


# Operations and reads are given their actor; only the request layer knows about requests.
NO_REQUEST = ("pathways", "queries", "monitoring", "models", "rules", "seeding")


def test_no_operation_reads_the_request_or_the_signed_in_user() -> None:
    readers = []
    for part in NO_REQUEST:
        for path in (PACKAGE / part).rglob("*.py"):
            modules = _imports(path)
            if any(m.split(".")[0] in {"flask", "flask_login", "werkzeug"} for m in modules):
                readers.append(str(path.relative_to(PACKAGE.parent)))
    assert readers == []
