"""Role × page × school matrix (issue 7): no user reaches another school's data or restricted intelligence.

Every URL pattern of the project is requested (the resolver is iterated, so pages added by other apps are
covered without editing this file) by every role and by an anonymous visitor, with its parameters filled
for a school in the user's scope and for schools outside it. Out-of-scope requests must be refused
(403/404, or a sign-in redirect for anonymous visitors; POSTs write nothing), and no response, in scope
or not, may show another school's name, link or notes, or intelligence of a sensitivity the role may not
read. A URL parameter this file cannot fill fails the test: register a filler in FILLERS or PK_FILLERS.

The schools are real rows: Argyle Primary School (URN 100008, Camden) is assigned to the adviser,
headteacher and chair; Haverstock School (URN 100049, Camden) is assigned to nobody; the Westminster
school is the first (by URN) in the 2022/23 census for LA 213. The national role (read only, every school,
no LA of its own; decision 0027) sees all three and no intelligence, and every write is refused to it.
"""

from __future__ import annotations

import datetime as dt
import io
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from simple_history.models import registered_models

from tests.conftest import CAMDEN, make_user

WESTMINSTER = 213
ARGYLE, HAVERSTOCK = 100008, 100049
CENSUS = "helios-census-2022-23/spc_school_level_underlying_data_2022_23.csv"
LA_WIDE = ("commissioner", "ceo", "director", "sras", "data_manager")
ASSIGNED = ("adviser", "headteacher", "chair")
NATIONAL = "national"
ROLES = (*LA_WIDE, *ASSIGNED, NATIONAL)
SENSITIVITIES = ("general_shared", "general", "safeguarding", "personnel", "finance")

# Who may read which intelligence, written out here independently of beacon.permissions
# (docs: the table in permissions.py, "Termly risk assessment and soft intelligence").
READS: dict[str, set[str]] = {
    "commissioner": set(SENSITIVITIES),
    "ceo": set(SENSITIVITIES),
    "director": set(SENSITIVITIES),
    "adviser": {"general_shared", "general", "safeguarding"},
    "sras": {"general_shared", "general"},
    "headteacher": {"general_shared"},
    "chair": {"general_shared"},
    "data_manager": set(),
    "national": set(),
}
# Which schools each kind of role may see: A (Argyle, assigned), C (Haverstock, Camden, unassigned),
# B (Westminster).
SCOPE: dict[str, set[str]] = (
    {r: {"A", "C"} for r in LA_WIDE} | {r: {"A"} for r in ASSIGNED} | {NATIONAL: {"A", "C", "B"}}
)
PUBLIC = {
    "core:accessibility",
    "profiles:accessibility",
    "core:data_sources",
    "core:healthz",
    "accounts:login",
    "accounts:no_access",
    "accounts:oidc_start",
    "accounts:oidc_callback",
    "admin:login",
    "admin:logout",
    "admin:jsi18n",
}
# Public school profiles (published DfE/Ofsted data of the deployment's own schools, decision 0010): any
# visitor may read them, so out-of-scope refusal does not apply; intelligence must still never show.
PUBLIC_SCHOOL_PAGES = {"profiles:search", "profiles:profile", "profiles:section"}


@dataclass
class World:
    schools: dict[str, Any]  # "A" / "C" / "B" -> School
    users: dict[str, Any]
    notes: dict[tuple[str, str], Any]  # (school key, sensitivity) -> Intelligence
    cases: dict[str, Any]
    meetings: dict[str, Any]
    notices: dict[str, Any]
    assessments: dict[str, Any]
    import_run: Any
    totp_device: Any
    extra: dict[str, dict[str, Any]]
    tokens: dict[tuple[str, str], str] = field(default_factory=dict)


def _walk(resolver: URLResolver, prefix: str = "", ns: str = "") -> Iterator[tuple[str, str, URLPattern]]:
    for p in resolver.url_patterns:
        if isinstance(p, URLResolver):
            inner = f"{ns}:{p.namespace}" if ns and p.namespace else (p.namespace or ns)
            yield from _walk(p, prefix + str(p.pattern), inner or "")
        else:
            name = f"{ns}:{p.name}" if ns else (p.name or "")
            yield prefix + str(p.pattern), name, p


def url_patterns() -> list[tuple[str, str, URLPattern]]:
    """Every pattern, the admin's last (its pages are checked for writes once per role)."""
    return sorted(_walk(get_resolver()), key=lambda p: p[1].startswith("admin:"))


def route_params(route: str) -> list[str]:
    """Parameter names of a route: `<int:urn>` / `<pk>` and regex groups `(?P<app_label>...)`."""
    return re.findall(r"<(?:\w+:)?(\w+)>", route)


def build_path(route: str, values: dict[str, Any]) -> str:
    path = re.sub(r"<(?:\w+:)?(\w+)>", lambda m: str(values[m.group(1)]), route)
    if path.startswith("^") or "(?P<" in path:  # a regex route (admin's app index)
        path = re.sub(r"\(\?P<(\w+)>[^)]*\)", lambda m: str(values[m.group(1)]), path)
        path = path.replace("^", "").replace("$", "")
    return "/" + path


# ---------------------------------------------------------------------------------------------
# Fillers: how each URL parameter is given a value for school variant "A", "C" or "B".
# Variant None means the URL names no school (one request per role).

Filler = Callable[[World, str], Any]


def _admin_object(world: World, name: str, variant: str) -> Any:
    """An object of the admin page's model, tied to the variant's school when the model is school data."""
    from django.contrib import admin

    school = world.schools[variant]
    for model in admin.site._registry:
        prefix = f"admin:{model._meta.app_label}_{model._meta.model_name}_"
        if not name.startswith(prefix):
            continue
        if model is type(school):
            return school.pk
        school_fk = next(
            (
                f.name
                for f in model._meta.get_fields()
                if isinstance(f, models.ForeignKey) and f.related_model is type(school)
            ),
            None,
        )
        qs = model._default_manager.all()
        if school_fk:
            qs = qs.filter(**{school_fk: school})
        obj = qs.order_by("pk").first()
        return obj.pk if obj is not None else 1
    return school.pk  # the admin's catch-all `<object_id>/` redirect: try the school itself


# Parameters that mean the same on every page.
def _first_toolkit_slug() -> str:
    from beacon.futureoptions.toolkit import DOCUMENTS

    return DOCUMENTS[0].slug


FILLERS: dict[str, Filler] = {
    "urn": lambda w, v: w.schools[v].urn,
    "fmt": lambda w, v: "docx",
    "year": lambda w, v: 2025,
    "kind": lambda w, v: "meeting_summary",
    "app_label": lambda w, v: "schools",
    "content_type_id": lambda w, v: ContentType.objects.get_for_model(type(w.schools[v])).pk,
}
# `pk`-like parameters depend on the page: the object of that page for the variant's school.
PK_FILLERS: dict[str, dict[str, Filler]] = {
    "assessments:withdraw_intelligence": {"pk": lambda w, v: w.notes[(v, "safeguarding")].pk},
    "support:case": {"pk": lambda w, v: w.cases[v].pk},
    "support:record_meeting": {"pk": lambda w, v: w.cases[v].pk},
    "support:exit": {"pk": lambda w, v: w.cases[v].pk},
    "support:letter": {"pk": lambda w, v: w.cases[v].pk},
    "support:report": {"pk": lambda w, v: w.meetings[v].pk},
    "support:meeting_letter": {"pk": lambda w, v: w.meetings[v].pk},
    "support:schedule_meeting": {"pk": lambda w, v: w.cases[v].pk},
    "interventions:notice": {"pk": lambda w, v: w.notices[v].pk},
    "interventions:notice_letter": {"pk": lambda w, v: w.notices[v].pk},
    "interventions:response": {"pk": lambda w, v: w.notices[v].pk},
    "interventions:new_notice": {"case_pk": lambda w, v: w.cases[v].pk},
    "support:brokered_edit": {"pk": lambda w, v: w.extra["brokered"][v].pk},
    "support:visit_edit": {"pk": lambda w, v: w.extra["visit"][v].pk},
    "futureoptions:partnership": {"pk": lambda w, v: w.extra["partnership"][v].pk},
    "futureoptions:edit_partnership": {"pk": lambda w, v: w.extra["partnership"][v].pk},
    "profiles:section": {"group": lambda w, v: w.extra["profile_group"]["slug"]},
}
# Pages whose parameters name something that is not a school's (one request per role, no variants).
NOT_SCHOOL: dict[str, dict[str, Filler]] = {
    "imports:detail": {"pk": lambda w, v: w.import_run.pk},
    "admin:auth_user_password_change": {"id": lambda w, v: w.users["director"].pk},
    "admin:otp_totp_totpdevice_config": {"pk": lambda w, v: w.totp_device.pk},
    "admin:otp_totp_totpdevice_qrcode": {"pk": lambda w, v: w.totp_device.pk},
    "admin:None": {"url": lambda w, v: "no-such-page/"},  # the admin's catch-all
    "support:adviser_capacity": {"adviser_id": lambda w, v: w.users["adviser"].pk},
    "support:adviser_capacity_year": {"adviser_id": lambda w, v: w.users["adviser"].pk},
    "accountability:new_action": {"pk": lambda w, v: w.extra["strategy"]["pledge"].pk},
    "accountability:action": {"pk": lambda w, v: w.extra["strategy"]["action"].pk},
    "accountability:output": {"pk": lambda w, v: w.extra["strategy"]["output"].pk},
    "futureoptions:toolkit_download": {
        "slug": lambda w, v: _first_toolkit_slug(),
        "fmt": lambda w, v: "rtf",
    },
    "reporting:target": {"ref": lambda w, v: w.extra["strategy"]["target"].ref},
    "reporting:edit_target": {"ref": lambda w, v: w.extra["strategy"]["target"].ref},
}


def fill(world: World, name: str, route: str, variant: str) -> dict[str, Any] | str:
    """The parameter values for this page and variant, or an error message naming what is missing."""
    values: dict[str, Any] = {}
    for param in route_params(route) + re.findall(r"\(\?P<(\w+)>", route):
        filler = (
            PK_FILLERS.get(name, {}).get(param)
            or NOT_SCHOOL.get(name, {}).get(param)
            or (FILLERS.get(param) if param not in {"pk", "id"} else None)
        )
        if filler is None and name.startswith("admin:") and param == "object_id":
            values[param] = _admin_object(world, name, variant)
            continue
        if filler is None:
            return (
                f"{name} ({route}): no filler for parameter {param!r}. Register one in "
                "tests/test_access_matrix.py (FILLERS for a parameter that means the same everywhere, "
                "PK_FILLERS[url name] for an object of a school, NOT_SCHOOL for anything else)."
            )
        values[param] = filler(world, variant)
    return values


def names_a_school(name: str, route: str) -> bool:
    """Whether the page's parameters pick out one school's data (its URN, or an object of a school)."""
    params = set(route_params(route) + re.findall(r"\(\?P<(\w+)>", route))
    if name in NOT_SCHOOL:
        return False
    return "urn" in params or bool(params & set(PK_FILLERS.get(name, {}))) or "object_id" in params


# ---------------------------------------------------------------------------------------------


@pytest.fixture
def world(camden_register: None, data_dir: Any) -> World:
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from beacon.accountability.models import Action, CommissionOutput, Pledge
    from beacon.accountability.seed import load_seed
    from beacon.assessments.models import Intelligence
    from beacon.assessments.services import refresh_proposal
    from beacon.futureoptions.models import Partnership
    from beacon.imports.framework import run_import
    from beacon.imports.models import ImportRun, RunStatus
    from beacon.interventions.models import Ground, WarningNotice
    from beacon.profiles.selectors import GROUPS
    from beacon.reporting.models import SystemTarget
    from beacon.risk.models import Term
    from beacon.schools.models import School
    from beacon.support import services as support
    from beacon.support.models import BrokeredSupport, Entitlement, Visit

    run = run_import("school_census", data_dir / CENSUS, la_code=WESTMINSTER)
    assert run.status == RunStatus.SUCCEEDED, run.message
    westminster = School.objects.filter(la_code=WESTMINSTER).order_by("urn").first()
    assert westminster is not None
    schools = {"A": School.objects.get(urn=ARGYLE), "C": School.objects.get(urn=HAVERSTOCK), "B": westminster}
    assert schools["A"].name == "Argyle Primary School" and schools["C"].name == "Haverstock School"
    # Out-of-scope names must be unique, or "not shown" could not be told from a namesake.
    for key, school in schools.items():
        assert School.objects.filter(name__icontains=school.name).count() == 1, (key, school.name)

    users = {
        role: make_user(
            role,
            role,
            schools=(ARGYLE,) if role in ASSIGNED else (),
            la_code=None if role == NATIONAL else CAMDEN,
        )
        for role in ROLES
    }
    users["data_manager"].is_staff = True  # as in the demo: staff, without model permissions
    users["data_manager"].save()
    author = make_user("author", "director")
    term = Term.parse("autumn-2025")
    notes, cases, meetings, notices, assessments, tokens = {}, {}, {}, {}, {}, {}
    brokered, visits, partnerships = {}, {}, {}
    for key, school in schools.items():
        for sens in SENSITIVITIES:
            token = f"MATRIX-{key}-{sens}-TOKEN"
            tokens[(key, sens)] = token
            notes[(key, sens)] = Intelligence.objects.create(
                school=school,
                date=dt.date(2025, 10, 6),
                source="cpp_visit",
                summary=token,
                detail=f"Detail {token}",
                sensitivity="general" if sens == "general_shared" else sens,
                shared_with_school=sens == "general_shared",
                recorded_by=author,
            )
        cases[key] = support.open_case(
            school=school, level="targeted", started_on=dt.date(2025, 9, 8), chair=author
        )
        meetings[key] = support.record_meeting(
            cases[key], held_on=dt.date(2025, 9, 22), progress="on_track", next_steps=f"Steps {key}"
        )
        notices[key] = WarningNotice.objects.create(
            school=school,
            ground=Ground.STANDARDS,
            issued_on=dt.date(2026, 2, 1),
            compliance_ends_on=dt.date(2026, 3, 1),
        )
        assessments[key] = refresh_proposal(school, term)
        entitlement = Entitlement.objects.create(school=school, academic_year=2025, level="targeted")
        brokered[key] = BrokeredSupport.objects.create(
            entitlement=entitlement, provider=f"Provider {key}", cost=Decimal("500"), funding_source="la"
        )
        visits[key] = Visit.objects.create(school=school, visited_on=dt.date(2025, 10, 1), visit_type="cpp")
        partnership = Partnership.objects.create(name=f"Partnership {key}", kind="collaboration")
        partnership.schools.add(school)
        partnerships[key] = partnership
    load_seed()  # the accountability strategy and commission outputs (not school data)
    pledge = Pledge.objects.order_by("pk").first()
    assert pledge is not None
    strategy = {
        "pledge": pledge,
        "action": Action.objects.create(
            pledge=pledge, title="Matrix action", owner="Director", milestone_on=dt.date(2026, 3, 31)
        ),
        "output": CommissionOutput.objects.order_by("pk").first(),
        "target": SystemTarget.objects.order_by("pk").first(),
    }
    assert all(strategy.values()), strategy
    return World(
        schools=schools,
        users=users,
        notes=notes,
        cases=cases,
        meetings=meetings,
        notices=notices,
        assessments=assessments,
        import_run=ImportRun.objects.order_by("pk").first(),
        totp_device=TOTPDevice.objects.create(user=author, name="author's app", confirmed=True),
        extra={
            "brokered": brokered,
            "visit": visits,
            "partnership": partnerships,
            "strategy": strategy,
            "profile_group": {"slug": GROUPS[0].slug},
        },
        tokens=tokens,
    )


def forbidden_strings(world: World, role: str | None) -> dict[str, str]:
    """Strings that must never appear in a response to `role` (None: anonymous), with why."""
    scope = SCOPE.get(role, set()) if role else set()
    reads = READS.get(role, set()) if role else set()
    out: dict[str, str] = {}
    for (key, sens), token in world.tokens.items():
        if key not in scope:
            out[token] = f"intelligence about out-of-scope school {key}"
        elif sens not in reads:
            out[token] = f"{sens} intelligence, which a {role} may not read"
    for key, school in world.schools.items():
        if key not in scope:
            out[school.name] = f"the name of out-of-scope school {key}"
            out[f"/{school.urn}/"] = f"a link to out-of-scope school {key}"
    return out


def response_text(resp: Any) -> str:
    ctype = resp.get("Content-Type", "")
    body = b"".join(resp.streaming_content) if getattr(resp, "streaming", False) else resp.content
    if "pdf" in ctype:
        from pypdf import PdfReader

        return "\n".join(page.extract_text() or "" for page in PdfReader(io.BytesIO(body)).pages)
    if "wordprocessingml" in ctype:
        from docx import Document

        doc = Document(io.BytesIO(body))
        cells = [c.text for t in doc.tables for row in t.rows for c in row.cells]
        return "\n".join([p.text for p in doc.paragraphs] + cells)
    return body.decode("utf-8", errors="replace")


def history_rows() -> int:
    return sum(
        m.history.model._default_manager.count() for m in registered_models.values() if hasattr(m, "history")
    )


# Pages about a national user's own account (sign-in, second factor): a POST there may record the user's
# own security event (a failed attempt). Every other page writes nothing for a national user's POST.
OWN_ACCOUNT_TABLES = {"accounts_securityevent"}
NATIONAL_OWN_ACCOUNT = {
    "accounts:login",
    "accounts:oidc_start",
    "accounts:oidc_callback",
    "accounts:security",
    "accounts:two_factor",
    "accounts:two_factor_setup",
}


def _signin_redirect(resp: Any) -> bool:
    return resp.status_code == 302 and resp["Location"].startswith(("/account/sign-in/", "/admin/login/"))


# Tables a GET may touch: signing in refreshes the client's own session, which is not recorded data.
UNRECORDED_TABLES = {"django_session"}


def _tables() -> list[tuple[str, type[models.Model]]]:
    from django.apps import apps

    out = []
    for model in apps.get_models(include_auto_created=True):
        table = model._meta.db_table
        if table not in UNRECORDED_TABLES and not model._meta.proxy and model._meta.managed:
            out.append((table, model))
    return sorted(set(out), key=lambda t: t[0])


def counts() -> dict[str, int]:
    """Per table (sessions aside), a number that moves when the table is written, in one query. On
    PostgreSQL: the rows this transaction inserted, updated or deleted (`pg_stat_xact_user_tables`, which
    sees an update too, and costs nothing per row); on SQLite: the row count."""
    from django.db import connection

    tables = [t for t, _ in _tables()]
    if connection.vendor == "postgresql":
        with connection.cursor() as cur:
            cur.execute(
                "SELECT relname, n_tup_ins + n_tup_upd + n_tup_del FROM pg_stat_xact_user_tables "
                "WHERE schemaname = current_schema()"
            )
            written = dict(cur.fetchall())
        return {t: written.get(t, 0) for t in tables}
    q = connection.ops.quote_name
    # Table names come from Django's model registry, quoted: nothing user-supplied.
    sql = "SELECT " + ", ".join(f"(SELECT COUNT(*) FROM {q(t)})" for t in tables)  # noqa: S608
    with connection.cursor() as cur:
        cur.execute(sql)
        row = cur.fetchone()
    return dict(zip(tables, row, strict=True))


def checksums() -> dict[str, str]:
    """A digest of every row (every column) of every table (sessions aside)."""
    import hashlib

    from django.db import connection

    out = {}
    q = connection.ops.quote_name
    for table, model in _tables():
        digest = hashlib.sha256()
        cols = ", ".join(q(f.column) for f in model._meta.concrete_fields)
        with connection.cursor() as cur:
            cur.execute(f"SELECT {cols} FROM {q(table)} ORDER BY {q(model._meta.pk.column)}")  # noqa: S608
            for row in cur.fetchall():
                digest.update(repr(row).encode())
        out[table] = digest.hexdigest()
    return out


def changed_tables(before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    return [t for t in before if before[t] != after[t]]


@dataclass
class Crawl:
    """What one role's crawl saw: the status of every (page, school variant) and what went wrong."""

    statuses: dict[tuple[str, str], int] = field(default_factory=dict)
    posts: dict[str, int] = field(default_factory=dict)  # the national role's POST to each page
    problems: list[str] = field(default_factory=list)
    unfillable: list[str] = field(default_factory=list)
    gets: int = 0


def crawl(world: World, role: str | None) -> Crawl:
    """Every page for `role` (None: anonymous), for each school variant the page can name.

    First every GET: each is checked for its status, for what it shows (no other school's name, link or
    notes, no intelligence the role may not read) and for writing nothing (every table's row count after
    each GET, every row's checksum after the whole crawl: decision 0018). Then the POSTs: to every page of
    an out-of-scope school (refused, nothing recorded) and, for the read-only national role, to every page
    (refused or ignored, no row written)."""
    out = Crawl()
    client = Client()
    if role:
        client.force_login(world.users[role])
    who = role or "anonymous"
    forbidden = forbidden_strings(world, role)
    tokens_only = dict.fromkeys(world.tokens.values(), "intelligence on a public page")
    scope = SCOPE.get(role, set()) if role else set()
    posts: list[tuple[str, str, str, bool]] = []  # (path, name, variant, out of scope)
    sums = checksums()
    for route, name, _pattern in url_patterns():
        if name in {"accounts:logout", "admin:logout"}:
            continue  # signing out ends this client's session; covered by tests/test_security.py
        is_admin = name.startswith("admin:")
        if not names_a_school(name, route):
            variants: tuple[str, ...] = ("A",)
        elif is_admin:
            variants = ("B",)  # the admin scopes by model permission, not by school: one school is enough
        else:
            variants = ("A", "C", "B")
        for variant in variants:
            values = fill(world, name, route, variant)
            if isinstance(values, str):
                out.unfillable.append(values)
                break
            path = build_path(route, values)
            before = counts()
            resp = client.get(path)
            out.gets += 1
            where = f"{who} GET {path} ({name}, school {variant})"
            written = changed_tables(before, counts())
            if written:
                out.problems.append(f"{where} -> {resp.status_code} changed {written}")
            out.statuses[(name, variant)] = resp.status_code
            if resp.status_code >= 500:
                out.problems.append(f"{where}: server error {resp.status_code}")
                continue
            text = response_text(resp) if resp.status_code == 200 else resp.content.decode(errors="replace")
            public_page = name in PUBLIC_SCHOOL_PAGES
            for needle, why in (tokens_only if public_page else forbidden).items():
                if needle in text:
                    out.problems.append(f"{where}: shows {why} ({needle!r})")
            if (
                role is None
                and name not in PUBLIC | PUBLIC_SCHOOL_PAGES
                and not _signin_redirect(resp)
                and resp.status_code not in {403, 404, 405}
            ):
                out.problems.append(f"{where}: anonymous got {resp.status_code}, not a sign-in redirect")
            out_of_scope = names_a_school(name, route) and variant not in scope and not public_page
            if out_of_scope and role is not None:
                if is_admin:
                    ok = resp.status_code in {302, 403, 404} or "MATRIX" not in text
                else:
                    ok = resp.status_code in {403, 404, 405}
                if not ok:
                    out.problems.append(f"{where}: out-of-scope school answered {resp.status_code}")
            national_post = role == NATIONAL and not is_admin and variant == variants[0]
            if (out_of_scope and role is not None) or national_post:
                posts.append((path, name, variant, out_of_scope))
    written = changed_tables(sums, checksums())
    if written:
        out.problems.append(f"{who}: the GETs changed rows of {written}")

    admin_before = history_rows()
    for path, name, variant, out_of_scope in posts:
        where = f"{who} POST {path} ({name}, school {variant})"
        is_admin = name.startswith("admin:")
        before = counts()
        post = client.post(path, {})
        written = changed_tables(before, counts())
        if role == NATIONAL and not is_admin:
            # Read only: a POST to any page (its school in scope) is refused and writes nothing.
            out.posts.setdefault(name, post.status_code)
            if name in NATIONAL_OWN_ACCOUNT:
                written = [t for t in written if t not in OWN_ACCOUNT_TABLES]
            if written:
                out.problems.append(f"{where}: a national user's POST wrote to {written}")
        if out_of_scope:
            if not is_admin and written:
                out.problems.append(f"{where}: POST to out-of-scope school changed {written}")
            if post.status_code not in {302, 400, 403, 404, 405} or (
                post.status_code == 302 and not is_admin
            ):
                out.problems.append(f"{where}: POST to out-of-scope school answered {post.status_code}")
    if history_rows() != admin_before:
        out.problems.append(f"{who}: a POST changed recorded data")
    return out


# The whole matrix is every role's crawl; these are its worked expectations for the main pages: status by
# (role, page, school variant).
EXPECTED: dict[tuple[str, str, str], int | set[int]] = {
    **{(r, "schools:detail", "A"): 200 for r in ROLES},
    **{(r, "schools:list", "A"): 200 for r in ROLES},
    **{(r, "schools:detail", "C"): 200 for r in LA_WIDE},
    **{(r, "schools:detail", "C"): 403 for r in ASSIGNED},
    **{(r, "schools:detail", "B"): 403 for r in set(ROLES) - {NATIONAL}},
    # The risk register and a school's assessment: the risk roles, for schools in their scope only.
    **{(r, "assessments:school", "A"): 200 for r in ("commissioner", "ceo", "director", "sras", "adviser")},
    **{(r, "assessments:register", "A"): 403 for r in ("data_manager", "headteacher", "chair")},
    ("adviser", "support:case", "A"): 200,
    ("adviser", "support:case", "C"): 403,
    ("director", "interventions:notice", "C"): 200,
    ("director", "interventions:notice", "B"): {403, 404},
    ("anonymous", "schools:detail", "A"): 302,
    # The national role reads every school, the register and any LA's overview; it has no support, no
    # interventions, no imports, no audit trail and no intelligence (decision 0027; the tokens above).
    **{(NATIONAL, p, v): 200 for p in ("schools:detail", "assessments:school") for v in ("A", "C", "B")},
    **{(NATIONAL, p, "A"): 200 for p in ("schools:list", "schools:la_overview", "assessments:register")},
    **{
        (NATIONAL, p, "A"): 403
        for p in (
            "support:caseload",
            "support:case",
            "interventions:list",
            "interventions:notice",
            "imports:list",
        )
    },
}
# Every write refused to the national role: no POST wrote a row (read pages that ignore a POST render as
# for a GET), and the write pages refuse before reading the form.
NATIONAL_REFUSED_POSTS = (
    "assessments:decide",
    "assessments:add_intelligence",
    "support:new_case",
    "imports:upload",
)


def check_role(world: World, role: str | None) -> None:
    """One role's crawl passes: no problem, every page fillable, and the worked expectations met."""
    seen = crawl(world, role)
    assert not seen.unfillable, "\n".join(sorted(set(seen.unfillable)))
    assert not seen.problems, f"{len(seen.problems)} problems:\n" + "\n".join(seen.problems[:80])
    assert seen.gets > 100  # the project's pages and the admin's
    who = role or "anonymous"
    for (r, page, variant), expected in EXPECTED.items():
        if r == who:
            allowed = expected if isinstance(expected, set) else {expected}
            assert seen.statuses[(page, variant)] in allowed, (
                who,
                page,
                variant,
                seen.statuses[(page, variant)],
            )
    if role == NATIONAL:
        assert len(seen.posts) > 80  # every page of the project, not the admin's
        for page in NATIONAL_REFUSED_POSTS:
            assert seen.posts[page] == 403, page


# The roles are crawled in two files (this one and test_access_matrix_more.py) so that the parallel suite
# runs them on both workers.
FIRST_ROLES: tuple[str | None, ...] = (None, "commissioner", "ceo", "director", "sras")
OTHER_ROLES: tuple[str, ...] = ("data_manager", "adviser", "headteacher", "chair", NATIONAL)


def test_the_two_files_crawl_every_role_once() -> None:
    assert sorted(map(str, FIRST_ROLES + OTHER_ROLES)) == sorted(map(str, (None, *ROLES)))


@pytest.mark.parametrize("role", FIRST_ROLES)
def test_every_page_for_every_role_and_school(world: World, role: str | None) -> None:
    check_role(world, role)


def test_an_unknown_parameter_fails_with_a_clear_message(world: World) -> None:
    message = fill(world, "newapp:thing", "newapp/<int:widget_id>/", "A")
    assert isinstance(message, str) and "no filler for parameter 'widget_id'" in message
    assert "PK_FILLERS" in message
    # A bare `pk` is never guessed: it depends on the page.
    assert isinstance(fill(world, "newapp:case", "newapp/<int:pk>/", "A"), str)
    assert fill(world, "schools:detail", "schools/<int:urn>/", "C") == {"urn": HAVERSTOCK}
