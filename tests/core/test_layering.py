"""The layering of ARCHITECTURE.md, read from the source with ``ast``.

- ``roster/domain`` imports neither Flask, SQLAlchemy nor the app's models, extensions or services;
- services never commit (the view or command that called them commits once);
- views never build queries: no SQLAlchemy import, no ``db.session.scalars/scalar/execute/query``,
  no ``Model.query``. A view module is ``roster/<blueprint>/views.py`` or any other module outside
  the domain and the services that declares a route (``@bp.route``, ``@bp.get``, ...).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ROSTER = ROOT / "roster"

FORBIDDEN_IN_DOMAIN = (
    "flask", "flask_sqlalchemy", "flask_login", "flask_wtf", "sqlalchemy",
    "roster.models", "roster.extensions", "roster.services",
)
QUERY_CALLS = {"scalars", "scalar", "execute", "query"}
ROUTE_DECORATORS = {"route", "get", "post", "put", "patch", "delete"}


def _imported_modules(tree: ast.AST, package: str) -> list[tuple[int, str]]:
    """Every module a file imports, anywhere in it (also inside functions), as dotted names."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: resolve against the file's package
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            found.append((node.lineno, module))
            # ``from roster import models`` imports roster.models
            found += [(node.lineno, f"{module}.{alias.name}") for alias in node.names]
    return found


def _forbidden(module: str, prefixes: tuple[str, ...]) -> bool:
    return any(module == p or module.startswith(p + ".") for p in prefixes)


def domain_violations(source: str, package: str = "roster.domain") -> list[str]:
    tree = ast.parse(source)
    return [
        f"line {line}: imports {module}"
        for line, module in _imported_modules(tree, package)
        if _forbidden(module, FORBIDDEN_IN_DOMAIN)
    ]


def service_violations(source: str) -> list[str]:
    return [
        f"line {node.lineno}: calls commit()"
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "commit"
    ]


def _is_db_session(node: ast.AST) -> bool:
    return isinstance(node, ast.Attribute) and node.attr == "session"


def view_violations(source: str, package: str = "roster.blueprint") -> list[str]:
    tree = ast.parse(source)
    problems = [
        f"line {line}: imports {module}"
        for line, module in _imported_modules(tree, package)
        if _forbidden(module, ("sqlalchemy",))
    ]
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and node.attr in QUERY_CALLS and _is_db_session(node.value):
            problems.append(f"line {node.lineno}: db.session.{node.attr}")
        elif isinstance(node, ast.Attribute) and node.attr == "query" and isinstance(node.value, ast.Name) \
                and node.value.id[:1].isupper():
            problems.append(f"line {node.lineno}: {node.value.id}.query")
    return problems


def declares_routes(source: str) -> bool:
    return any(
        isinstance(deco, ast.Call) and isinstance(deco.func, ast.Attribute) and deco.func.attr in ROUTE_DECORATORS
        for node in ast.walk(ast.parse(source)) if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
        for deco in node.decorator_list
    )


def _view_modules() -> list[Path]:
    outside = [p for p in sorted(ROSTER.rglob("*.py"))
               if p.relative_to(ROSTER).parts[0] not in ("domain", "services")]
    views = [p for p in outside if p.name == "views.py" or declares_routes(p.read_text())]
    assert len(views) >= 7, "the blueprints' view modules were not found: the test would check nothing"
    return views


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _package_of(path: Path) -> str:
    name = _module_name(path)
    return name if path.name == "__init__.py" else name.rsplit(".", 1)[0]


def _sources(pattern: str) -> list[Path]:
    files = sorted(ROSTER.glob(pattern))
    assert files, f"no files match roster/{pattern}: the layering test would check nothing"
    return files


# --------------------------------------------------------------------------- the guard can fail


def test_the_checks_catch_what_they_forbid():
    assert domain_violations("import flask\n")
    assert domain_violations("from sqlalchemy.orm import Session\n")
    assert domain_violations("def f():\n    from roster.models import Patient\n")
    assert domain_violations("from roster import extensions\n")
    assert domain_violations("from ..services import billing\n", package="roster.domain")
    assert domain_violations("from ...services import audit\n", package="roster.domain.billing")
    assert not domain_violations("from datetime import date\nfrom roster.domain.npi import npi_is_valid\n")
    assert not domain_violations("from .facts import SessionFacts\n", package="roster.domain.billing")

    assert service_violations("def f():\n    db.session.commit()\n")
    assert service_violations("session.commit()\n")
    assert not service_violations("db.session.flush()\n")

    assert view_violations("import sqlalchemy as sa\n")
    assert view_violations("def v():\n    return db.session.scalars(stmt).all()\n")
    assert view_violations("def v():\n    return db.session.execute(stmt)\n")
    assert view_violations("def v():\n    return Patient.query.all()\n")
    assert not view_violations("def v():\n    db.session.commit()\n    return db.get_or_404(Patient, 1)\n")

    assert declares_routes("@bp.route('/x')\n@requires('a')\ndef x():\n    pass\n")
    assert declares_routes("@bp.get('/x')\ndef x():\n    pass\n")
    assert not declares_routes("@requires('a')\ndef x():\n    pass\n")


# --------------------------------------------------------------------------- the house keeps the rules


@pytest.mark.parametrize("path", _sources("domain/**/*.py"), ids=lambda p: str(p.relative_to(ROOT)))
def test_domain_is_pure(path):
    assert domain_violations(path.read_text(), _package_of(path)) == []


@pytest.mark.parametrize("path", _sources("services/**/*.py"), ids=lambda p: str(p.relative_to(ROOT)))
def test_services_never_commit(path):
    assert service_violations(path.read_text()) == []


@pytest.mark.parametrize("path", _view_modules(), ids=lambda p: str(p.relative_to(ROOT)))
def test_views_build_no_queries(path):
    assert view_violations(path.read_text(), _package_of(path)) == []
