"""Lint (issue 7): a view never reads school data without beacon.permissions.

Every function in beacon/*/views.py (and views/*.py, views_*.py) that queries a *school-scoped model*
(School, or any project model with a foreign key leading to School: SchoolMeasure, Inspection,
TermlyAssessment, Intelligence, SupportCase, ReviewMeeting, WarningNotice, ... found from the model
graph, so new apps are covered without editing this file) through `Model.objects`, `_default_manager` or
`get_object_or_404(Model, ...)` must, in the same function, call a *scoping* helper of
beacon.permissions: one that returns a queryset/school (visible_schools, require_school,
support_schools, visible_intelligence...) or checks a particular object (can_manage_support_case(user,
case), ...). Role-only predicates such as can_see_support(user) do not count: they say who may use the
page, not which schools' rows they may read.

A justified exception carries a marker comment on the query's line (or the line above):
    # scoping: <why this query cannot leak another school's data>
"""

from __future__ import annotations

import ast
import inspect
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from django.apps import apps
from django.conf import settings
from django.db import models

MARKER = "# scoping:"
MANAGERS = {"objects", "_default_manager", "_base_manager"}
SHORTCUTS = {"get_object_or_404", "get_list_or_404"}


def school_scoped_models() -> set[str]:
    """Names of project models whose rows belong to a school (School itself and every model with a
    foreign-key path to it)."""
    from beacon.schools.models import School

    project = [m for m in apps.get_models() if m.__module__.startswith("beacon.")]
    scoped: set[type[models.Model]] = {School}
    changed = True
    while changed:
        changed = False
        for model in project:
            if model in scoped:
                continue
            for field in model._meta.get_fields():
                if (
                    isinstance(field, models.ForeignKey | models.OneToOneField)
                    and field.related_model in scoped
                ):
                    scoped.add(model)
                    changed = True
                    break
    return {m.__name__ for m in scoped}


def scoping_helpers() -> set[str]:
    """Functions of beacon.permissions that scope by school: they return a queryset or a school,
    or they take more than the user (an object-level check)."""
    from beacon import permissions

    helpers = set()
    for name, fn in inspect.getmembers(permissions, inspect.isfunction):
        if fn.__module__ != permissions.__name__ or name.startswith("_"):
            continue
        params = [p for p in inspect.signature(fn).parameters.values() if p.kind is not p.VAR_KEYWORD]
        returns = str(inspect.signature(fn).return_annotation)
        if len(params) > 1 or "QuerySet" in returns or "School" in returns:
            helpers.add(name)
    return helpers


@dataclass(frozen=True)
class Finding:
    function: str
    line: int
    model: str
    code: str


def _queried_model(node: ast.AST) -> tuple[str, int] | None:
    """`Model.objects` / `Model._default_manager` / `get_object_or_404(Model, ...)`: the model's name."""
    if isinstance(node, ast.Attribute) and node.attr in MANAGERS and isinstance(node.value, ast.Name):
        return node.value.id, node.lineno
    if isinstance(node, ast.Call):
        func = node.func
        name = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""
        if name in SHORTCUTS and node.args and isinstance(node.args[0], ast.Name):
            return node.args[0].id, node.lineno
    return None


def _helper_calls(tree: ast.AST, helpers: set[str], imported: set[str]) -> set[str]:
    """Scoping helpers called in `tree`: `permissions.x(...)` or a bare name imported from the module."""
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            func = node.func
            if (
                isinstance(func, ast.Attribute)
                and func.attr in helpers
                and isinstance(func.value, ast.Name)
                and func.value.id == "permissions"
            ) or (isinstance(func, ast.Name) and func.id in helpers and func.id in imported):
                found.add(func.attr if isinstance(func, ast.Attribute) else func.id)
    return found


def _local_calls(tree: ast.AST) -> set[str]:
    return {n.func.id for n in ast.walk(tree) if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)}


def unscoped_queries(source: str, scoped_models: set[str], helpers: set[str]) -> list[Finding]:
    tree = ast.parse(source)
    lines = source.splitlines()
    imported = {
        alias.asname or alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.module == "beacon.permissions"
        for alias in node.names
    }

    def marked(lineno: int) -> bool:
        here = lines[lineno - 1]
        above = lines[lineno - 2] if lineno >= 2 else ""
        return MARKER in here or above.strip().startswith(MARKER)

    findings: list[Finding] = []
    # Top-level functions (views and their helpers) and methods of class-based views.
    units: list[ast.FunctionDef | ast.AsyncFunctionDef] = []
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            units.append(node)
        elif isinstance(node, ast.ClassDef):
            units.extend(n for n in node.body if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef))
    # A local helper that itself scopes (e.g. `_case(user, pk)` calling support_schools) scopes its callers.
    local_scopers: set[str] = set()
    top = [n for n in tree.body if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)]
    changed = True
    while changed:
        changed = False
        for fn in top:
            if fn.name not in local_scopers and (
                _helper_calls(fn, helpers, imported) or _local_calls(fn) & local_scopers
            ):
                local_scopers.add(fn.name)
                changed = True

    def scoped(fn: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
        return bool(_helper_calls(fn, helpers, imported) or _local_calls(fn) & local_scopers)

    # A private helper (`_name`) that only scoped functions call works on rows they have already scoped
    # (e.g. `_case_for(user, school, pk)` filtering by a school from require_school).
    callers: dict[str, list[ast.FunctionDef | ast.AsyncFunctionDef]] = {}
    for unit in units:
        for name in _local_calls(unit):
            callers.setdefault(name, []).append(unit)
    trusted = {
        fn.name
        for fn in top
        if fn.name.startswith("_")
        and callers.get(fn.name)
        and all(scoped(c) for c in callers[fn.name] if c is not fn)
    }
    covered: set[int] = set()
    for unit in units:
        has_scope = scoped(unit) or unit.name in trusted
        for node in ast.walk(unit):
            covered.add(id(node))
            hit = _queried_model(node)
            if hit and hit[0] in scoped_models and not has_scope and not marked(hit[1]):
                findings.append(Finding(unit.name, hit[1], hit[0], lines[hit[1] - 1].strip()))
    # Module-level queries (outside any function) are never scoped to a user.
    for node in ast.walk(tree):
        if id(node) in covered:
            continue
        hit = _queried_model(node)
        if hit and hit[0] in scoped_models and not marked(hit[1]):
            findings.append(Finding("<module>", hit[1], hit[0], lines[hit[1] - 1].strip()))
    return sorted(set(findings), key=lambda f: f.line)


def view_modules() -> list[Path]:
    beacon = Path(settings.BASE_DIR) / "beacon"
    return sorted({*beacon.glob("*/views.py"), *beacon.glob("*/views/*.py"), *beacon.glob("*/views_*.py")})


def findings_in(paths: Iterable[Path]) -> dict[str, list[str]]:
    scoped, helpers = school_scoped_models(), scoping_helpers()
    out = {}
    for path in paths:
        hits = unscoped_queries(path.read_text(), scoped, helpers)
        if hits:
            out[str(path.relative_to(settings.BASE_DIR))] = [
                f"line {f.line} in {f.function}(): {f.model} — {f.code}" for f in hits
            ]
    return out


# ---------------------------------------------------------------------------------------------


def test_the_school_scoped_models_are_found_from_the_model_graph() -> None:
    scoped = school_scoped_models()
    # Direct foreign keys to School, and models two steps away (a meeting belongs to a case of a school).
    assert {"School", "SchoolMeasure", "Inspection", "TermlyAssessment", "Intelligence"} <= scoped
    assert {"SupportCase", "ReviewMeeting", "WarningNotice", "SchoolAssignment"} <= scoped
    # Not school data: users, import runs, the measure catalogue, area (LA/region/England) figures.
    assert not {"User", "ImportRun", "AreaMeasure", "Term"} & scoped


def test_the_scoping_helpers_are_read_from_permissions() -> None:
    helpers = scoping_helpers()
    assert {"visible_schools", "require_school", "visible_intelligence", "support_schools"} <= helpers
    assert {"can_manage_support_case", "can_record_judgement"} <= helpers
    # Role-only predicates do not scope rows.
    assert not {"can_see_support", "can_import", "can_see_risk_register", "navigation_for"} & helpers


SCOPED = {"School", "SupportCase", "Intelligence", "ReviewMeeting"}
HELPERS = {"visible_schools", "require_school", "support_schools", "can_manage_support_case"}


def _lint(src: str) -> list[tuple[str, int, str]]:
    return [(f.function, f.line, f.model) for f in unscoped_queries(src, SCOPED, HELPERS)]


def test_lint_flags_a_direct_query_and_a_role_only_check() -> None:
    src = (
        "from beacon import permissions\n"
        "def a(request):\n"
        "    return School.objects.filter(la_code=202)\n"
        "def b(request, pk):\n"
        "    if not permissions.can_see_support(request.user):\n"
        "        raise PermissionDenied\n"
        "    return get_object_or_404(SupportCase, pk=pk)\n"
        "class V(View):\n"
        "    def get(self, request):\n"
        "        return Intelligence._default_manager.all()\n"
        "ALL = School.objects.all()\n"
    )
    assert _lint(src) == [
        ("a", 3, "School"),
        ("b", 7, "SupportCase"),
        ("get", 10, "Intelligence"),
        ("<module>", 11, "School"),
    ]


def test_lint_accepts_scoped_queries_and_marked_exceptions() -> None:
    src = (
        "from beacon import permissions\n"
        "from beacon.permissions import require_school\n"
        "def a(request, urn):\n"
        "    school = require_school(request.user, urn)\n"
        "    return SupportCase.objects.filter(school=school)\n"
        "def b(request, pk):\n"
        "    case = get_object_or_404(SupportCase, pk=pk)\n"
        "    if not permissions.can_manage_support_case(request.user, case):\n"
        "        raise PermissionDenied\n"
        "def c(request):\n"
        "    # scoping: counts only, no school is named\n"
        "    return School.objects.count()\n"
        "def d(request):\n"
        "    return Term.objects.all()  # not school data\n"
        "def _case(user, pk):\n"
        "    case = get_object_or_404(SupportCase, pk=pk)\n"
        "    if not permissions.support_schools(user).filter(pk=case.school_id).exists():\n"
        "        raise PermissionDenied\n"
        "    return case\n"
        "def _case_of(user, pk):\n"
        "    return _case(user, pk)\n"
        "def e(request, pk):\n"
        "    meeting = get_object_or_404(ReviewMeeting, pk=pk)\n"
        "    _case_of(request.user, meeting.case_id)  # a local helper that scopes, two calls deep\n"
    )
    assert _lint(src) == []
    # A bare helper name only counts when it really comes from beacon.permissions.
    fake = "def visible_schools(u):\n    return 1\ndef f(request):\n    visible_schools(request.user)\n    return School.objects.all()\n"
    assert _lint(fake) == [("f", 5, "School")]
    # A private helper is trusted only while every caller scopes; one unscoped caller and it is flagged.
    helper = (
        "from beacon import permissions\n"
        "def _open_case(school):\n"
        "    return SupportCase.objects.filter(school=school).first()\n"
        "def v(request, urn):\n"
        "    return _open_case(permissions.require_school(request.user, urn))\n"
    )
    assert _lint(helper) == []
    leaky = helper + "def w(request):\n    return _open_case(School.objects.first())\n"
    assert _lint(leaky) == [("_open_case", 3, "SupportCase"), ("w", 7, "School")]


def test_views_never_query_school_data_without_the_scoping_helpers() -> None:
    modules = view_modules()
    assert any(p.parts[-2:] == ("schools", "views.py") for p in modules)
    assert len(modules) >= 6
    found = findings_in(modules)
    assert found == {}, (
        "Views must read school data through beacon.permissions (visible_schools, require_school, "
        "support_schools, an object-level can_... check) in the same function, or carry a "
        f"'{MARKER} <reason>' comment: {found}"
    )
