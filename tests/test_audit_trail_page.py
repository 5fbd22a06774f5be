from __future__ import annotations

import pytest
from django.test import Client

from beacon.schools.models import School
from tests.conftest import make_user


@pytest.mark.django_db
def test_audit_trail_lists_register_changes_without_values(client: Client, camden_register: None) -> None:
    director = make_user("dana", "director")
    school = School.objects.get(urn=100025)
    school.head_name = "Ms Example Changed"
    school._change_reason = "Headteacher change reported by CPP"  # type: ignore[attr-defined]
    school.save()
    client.force_login(director)
    html = client.get("/audit/").content.decode()
    assert "Gospel Oak Primary School" in html
    assert "head_name" in html
    assert "Headteacher change reported by CPP" in html
    assert "Ms Example Changed" not in html  # names of fields only, never values


@pytest.mark.django_db
def test_audit_trail_is_for_la_leaders_only(client: Client, camden_register: None) -> None:
    head = make_user("hana", "headteacher", schools=(100025,))
    client.force_login(head)
    assert client.get("/audit/").status_code == 403
