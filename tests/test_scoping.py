"""Per-school scoping, in one place: beacon.permissions decides who sees which schools.

Expected sets are read from the census file itself (the Camden and Westminster rows), never from the
database the code under test filters.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import polars as pl
import pytest
from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.test import Client

from beacon.accounts.models import SchoolAssignment
from beacon.imports.framework import run_import
from beacon.imports.models import RunStatus
from beacon.permissions import can_import, require_school, visible_schools
from beacon.schools.models import School
from tests.conftest import CAMDEN, make_user
from tests.replay import load_once

WESTMINSTER = 213
CENSUS = "helios-census-2022-23/spc_school_level_underlying_data_2022_23.csv"
LA_WIDE = ("commissioner", "ceo", "director", "sras", "data_manager")
ASSIGNED = ("adviser", "headteacher", "chair")


def census_urns(data_dir: Path, la_code: int) -> set[int]:
    df = pl.read_csv(data_dir / CENSUS, columns=["urn", "old_la_code"], infer_schema_length=0)
    return {int(u) for u in df.filter(pl.col("old_la_code") == str(la_code))["urn"]}


@pytest.fixture
def camden_urns(data_dir: Path) -> list[int]:
    urns = sorted(census_urns(data_dir, CAMDEN))
    assert len(urns) == 90  # shared/data/README.md: 90 Camden rows in the 2022/23 census
    return urns


@pytest.fixture
def westminster(camden_register: None, data_dir: Path) -> set[int]:
    """Westminster's schools too, so that 'another LA' is a real register and not an empty one."""

    def load() -> set[int]:
        run = run_import("school_census", data_dir / CENSUS, la_code=WESTMINSTER)
        assert run.status == RunStatus.SUCCEEDED, run.message
        urns = census_urns(data_dir, WESTMINSTER)
        assert len(urns) == run.rows_inserted > 0
        return urns

    return load_once("scoping:westminster", load)


def urns_of(user: object) -> set[int]:
    return set(visible_schools(user).values_list("urn", flat=True))


@pytest.mark.parametrize("role", LA_WIDE)
@pytest.mark.django_db
def test_la_wide_roles_see_exactly_their_las_schools(
    role: str, camden_register: None, westminster: set[int], camden_urns: list[int]
) -> None:
    camden_user = make_user(f"camden-{role}", role, la_code=CAMDEN)
    assert urns_of(camden_user) == set(camden_urns)
    other = make_user(f"westminster-{role}", role, la_code=WESTMINSTER)
    assert urns_of(other) == westminster
    assert not urns_of(other) & set(camden_urns)


@pytest.mark.parametrize("role", ASSIGNED)
@pytest.mark.django_db
def test_assigned_roles_see_only_their_assigned_schools(
    role: str, camden_register: None, camden_urns: list[int]
) -> None:
    mine = (camden_urns[3], camden_urns[40], camden_urns[77])
    user = make_user(role, role, schools=mine)
    assert urns_of(user) == set(mine)
    # The LA code on an assigned role grants nothing on its own.
    assert urns_of(make_user(f"{role}-unassigned", role)) == set()


@pytest.mark.time_machine(dt.datetime(2026, 11, 30, 12, 0, tzinfo=dt.UTC), tick=False)
@pytest.mark.django_db
def test_ended_assignments_stop_access(camden_register: None, camden_urns: list[int]) -> None:
    today = dt.date.today()
    head = make_user("head", "headteacher", schools=(camden_urns[0], camden_urns[1], camden_urns[2]))
    SchoolAssignment.objects.filter(user=head, school__urn=camden_urns[0]).update(
        ended_on=today - dt.timedelta(days=1)
    )
    SchoolAssignment.objects.filter(user=head, school__urn=camden_urns[1]).update(ended_on=today)
    # Ended yesterday: gone. Ends today: still theirs today. Open-ended: theirs.
    assert urns_of(head) == {camden_urns[1], camden_urns[2]}
    with pytest.raises(Exception, match="do not have access"):
        require_school(head, camden_urns[0])


@pytest.mark.time_machine(dt.datetime(2026, 11, 30, 12, 0, tzinfo=dt.UTC), tick=False)
@pytest.mark.django_db
def test_assignment_that_has_not_started_gives_no_access_yet(
    camden_register: None, camden_urns: list[int]
) -> None:
    today = dt.date.today()
    adviser = make_user("adv", "adviser", schools=(camden_urns[10], camden_urns[11]))
    SchoolAssignment.objects.filter(user=adviser, school__urn=camden_urns[10]).update(
        started_on=today + dt.timedelta(days=30)
    )
    SchoolAssignment.objects.filter(user=adviser, school__urn=camden_urns[11]).update(started_on=today)
    assert urns_of(adviser) == {camden_urns[11]}


@pytest.mark.django_db
def test_anonymous_inactive_and_unknown_roles_see_nothing(camden_register: None) -> None:
    assert School.objects.count() == 90
    assert urns_of(AnonymousUser()) == set()
    assert urns_of(None) == set()
    director = make_user("gone", "director")
    director.is_active = False
    director.save()
    assert urns_of(director) == set()
    odd = make_user("odd", "director")
    odd.role = "visitor"
    assert urns_of(odd) == set()


@pytest.mark.django_db
def test_superuser_sees_every_school(
    camden_register: None, westminster: set[int], camden_urns: list[int]
) -> None:
    admin = make_user("root", "data_manager", la_code=None)
    admin.is_superuser = True
    assert urns_of(admin) == set(camden_urns) | westminster


@pytest.mark.django_db
def test_school_page_is_403_for_other_schools_and_200_for_own(
    client: Client, camden_register: None, camden_urns: list[int]
) -> None:
    own, other = camden_urns[5], camden_urns[6]
    for role in ASSIGNED:
        user = make_user(role, role, schools=(own,))
        client.force_login(user)
        assert client.get(f"/schools/{other}/").status_code == 403, role
        assert client.get(f"/schools/{own}/").status_code == 200, role
        client.logout()
    client.force_login(make_user("director", "director"))
    assert client.get(f"/schools/{other}/").status_code == 200
    # Not in the register at all: the same refusal, so URNs cannot be probed.
    client.force_login(make_user("head2", "headteacher", schools=(own,)))
    assert client.get("/schools/999999/").status_code == 403


@pytest.mark.django_db
def test_school_list_shows_only_visible_schools(
    client: Client, camden_register: None, camden_urns: list[int]
) -> None:
    own = School.objects.get(urn=camden_urns[20])
    other = School.objects.exclude(name=own.name).filter(is_state_funded=True).first()
    assert other is not None
    client.force_login(make_user("head", "headteacher", schools=(own.urn,)))
    html = client.get("/schools/").content.decode()
    assert f"/schools/{own.urn}/" in html
    assert f"/schools/{other.urn}/" not in html


@pytest.mark.django_db
def test_only_import_roles_reach_imports(client: Client) -> None:
    data = make_user("data", "data_manager")
    head = make_user("head", "headteacher")
    assert can_import(data) and not can_import(head) and not can_import(AnonymousUser())
    client.force_login(data)
    assert client.get("/imports/").status_code == 200
    assert client.get("/imports/upload/").status_code == 200
    client.force_login(head)
    assert client.get("/imports/").status_code == 403
    assert client.get("/imports/upload/").status_code == 403
    client.logout()
    assert client.get("/imports/").status_code in {302, 403}


# ----------------------------------------------------------------------------------------------
# Lint: views must not query school data without the scoping helpers.

SCHOOL_DATA = re.compile(
    r"\b(School|SchoolMeasure|Inspection\w*)\s*\.\s*(objects|_default_manager|_base_manager)\b"
)


def unscoped_queries(source: str) -> list[tuple[int, str]]:
    return [
        (number, line.strip())
        for number, line in enumerate(source.splitlines(), start=1)
        if SCHOOL_DATA.search(line.split("#", 1)[0])
    ]


def view_modules() -> list[Path]:
    beacon = Path(settings.BASE_DIR) / "beacon"
    return sorted({*beacon.glob("**/views.py"), *beacon.glob("**/views/*.py"), *beacon.glob("**/views_*.py")})


def test_lint_catches_a_direct_query() -> None:
    sample = "def v(request):\n    return School.objects.filter(la_code=202)\n# School.objects in a comment is fine\n"
    assert unscoped_queries(sample) == [(2, "return School.objects.filter(la_code=202)")]
    assert unscoped_queries("x = SchoolMeasure.objects.all()")
    assert unscoped_queries("x = InspectionGrade._default_manager.all()")
    assert not unscoped_queries("x = permissions.visible_schools(request.user)")


def test_views_never_query_school_data_directly() -> None:
    modules = view_modules()
    assert any(p.parts[-2:] == ("schools", "views.py") for p in modules)
    found = {
        str(path.relative_to(settings.BASE_DIR)): hits
        for path in modules
        if (hits := unscoped_queries(path.read_text()))
    }
    assert found == {}, (
        "Views must read schools through beacon.permissions (visible_schools/require_school) "
        f"or selectors that take the user: {found}"
    )
