"""Audit history of every change: who edited a school, which run imported each value, throttled sign-in."""

from __future__ import annotations

import csv
import hashlib
from pathlib import Path
from typing import Any

import pytest
from django.forms.models import model_to_dict
from django.test import Client

from beacon.imports.framework import run_import
from beacon.imports.models import ImportRun, RunStatus
from beacon.indicators.models import SchoolMeasure
from beacon.schools.models import School
from tests.conftest import CAMDEN, make_user

CENSUS = "helios-census-2022-23/spc_school_level_underlying_data_2022_23.csv"


def admin_post_data(school: School, **changes: Any) -> dict[str, Any]:
    """The admin change form's fields as a browser would post them."""
    data: dict[str, Any] = {}
    for name, value in {**model_to_dict(school), **changes}.items():
        if name == "id":
            continue
        if name == "has_sixth_form":
            data[name] = {None: "unknown", True: "true", False: "false"}[value]
        elif isinstance(value, bool):
            if value:
                data[name] = "on"
        elif value is None:
            data[name] = ""
        else:
            data[name] = value.isoformat() if hasattr(value, "isoformat") else value
    return data


@pytest.mark.django_db
def test_editing_a_school_in_admin_records_who_and_what(client: Client, camden_register: None) -> None:
    school = School.objects.get(urn=100005)
    before = school.history.count()
    editor = make_user("dev", "data_manager")
    editor.is_staff = editor.is_superuser = True
    editor.save()
    client.force_login(editor)
    resp = client.post(
        f"/admin/schools/school/{school.pk}/change/",
        admin_post_data(school, head_name="Ms A Example", telephone="020 7974 0000"),
    )
    assert resp.status_code == 302, resp.content.decode()[:2000]
    school.refresh_from_db()
    assert school.head_name == "Ms A Example"
    assert school.history.count() == before + 1
    latest = school.history.latest()
    assert latest.history_user == editor
    assert latest.history_type == "~"
    assert latest.head_name == "Ms A Example"
    delta = latest.diff_against(latest.prev_record)
    assert set(delta.changed_fields) == {"head_name", "telephone"}


@pytest.mark.django_db
def test_orm_edit_inside_a_request_records_the_user(rf: Any, camden_register: None) -> None:
    """HistoryRequestMiddleware puts the request here while a view runs; any save is attributed to it."""
    from simple_history.models import HistoricalRecords

    user = make_user("dana", "director")
    request = rf.post("/anything/")
    request.user = user
    HistoricalRecords.context.request = request
    try:
        school = School.objects.get(urn=100006)
        school.ward = "Somers Town"
        school.save()
    finally:
        del HistoricalRecords.context.request
    latest = school.history.latest()
    assert (latest.history_user, latest.ward) == (user, "Somers Town")


@pytest.mark.django_db
def test_import_records_its_run_and_every_value_points_to_it(data_dir: Path) -> None:
    path = data_dir / CENSUS
    run = run_import("school_census", path, la_code=CAMDEN)
    assert run.status == RunStatus.SUCCEEDED, run.message
    run = ImportRun.objects.get(pk=run.pk)
    assert run.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert run.file_size == path.stat().st_size == 31_479_217
    assert run.file_name == path.name
    with path.open(newline="", encoding="utf-8") as fh:
        reader = csv.reader(fh)
        header = next(reader)
        la = header.index("old_la_code")
        rows = list(reader)
    assert run.rows_read == len(rows) == 24_442
    camden = sum(1 for r in rows if r[la] == str(CAMDEN))
    assert (run.rows_inserted, run.rows_updated) == (camden, 0) == (90, 0)
    assert run.started_at is not None and run.finished_at is not None and run.finished_at >= run.started_at
    # Provenance: every school and every value written points at this run.
    assert School.objects.count() == School.objects.filter(source_run=run).count() == 90
    assert SchoolMeasure.objects.count() == SchoolMeasure.objects.filter(source_run=run).count() == 270
    # The register's history says which run created each school.
    created = School.history.filter(history_type="+")
    assert created.count() == 90
    assert {h.history_change_reason for h in created} == {f"Import run {run.pk}: {path.name}"}


def sign_in(client: Client, username: str, password: str) -> Any:
    return client.post("/account/sign-in/", {"username": username, "password": password})


@pytest.mark.django_db
def test_sixth_sign_in_after_five_failures_is_refused_even_with_right_password(client: Client) -> None:
    make_user("hana", "headteacher")
    for _ in range(5):
        resp = sign_in(client, "hana", "wrong-password-123")
        assert resp.status_code != 302
    resp = sign_in(client, "hana", "correct-horse-battery")
    assert resp.status_code in {403, 429}
    assert "_auth_user_id" not in client.session
    # The lockout is for that account from this address: a colleague can still sign in.
    make_user("dana", "director")
    assert sign_in(client, "dana", "correct-horse-battery").status_code == 302


@pytest.mark.django_db
def test_four_failures_then_right_password_still_signs_in(client: Client) -> None:
    make_user("hana", "headteacher")
    for _ in range(4):
        assert sign_in(client, "hana", "wrong-password-123").status_code == 200
    resp = sign_in(client, "hana", "correct-horse-battery")
    assert resp.status_code == 302
    assert client.session["_auth_user_id"]
