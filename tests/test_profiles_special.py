"""Issue 14 on the public profile, on the real Camden data: a special school compared with the average of
Camden's special schools (not all schools) and described in context; destinations that add up (other
education included); postcode areas with sub-districts (WC1 -> WC1A...WC1X); telephone links; the
profile's accessibility statement with a contact."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse

from beacon.indicators.models import SchoolMeasure, ValueStatus
from beacon.profiles import selectors
from beacon.schools.models import School
from tests.test_profiles import ACLAND, FRANK_BARNES, csv_row, text_of

SWISS_COTTAGE = 100096  # special school with year 11 leavers


@pytest.mark.django_db
def test_special_school_compared_with_special_school_averages(client: Client, camden_demo: None) -> None:
    school = School.objects.get(urn=FRANK_BARNES)
    p = selectors.profile(school)
    assert p.context_note.startswith("This is a special school")
    assert p.area_names == ["Camden special schools (average)"]
    specials = list(
        School.objects.filter(la_code=202, phase="special", is_state_funded=True).values_list("pk", flat=True)
    )
    rated = [r for r in p.headline if r.areas]
    assert rated, "a special school with rates has a comparison"
    for row in rated:
        assert [n for n, _ in row.areas] == ["Camden special schools (average)"]
        vals = [
            float(v)
            for v in SchoolMeasure.objects.filter(
                school_id__in=specials, measure__code=row.code, year=row.year, status=ValueStatus.OK
            )
            .exclude(value__isnull=True)
            .values_list("value", flat=True)
        ]
        avg = row.areas[0][1]
        if len(vals) >= 2:
            assert avg.value == pytest.approx(sum(vals) / len(vals)), row.code
        else:
            assert avg.value is None
    page = text_of(client.get(reverse("profiles:profile", args=[FRANK_BARNES])).content.decode())
    assert "compared with the average of the other special schools" in page
    assert "England" not in page.split("How the school compares")[1].split("More about the school")[0]
    # A mainstream school keeps the LA, London and England.
    assert selectors.profile(School.objects.get(urn=ACLAND)).area_names == ["Camden", "London", "England"]
    assert (
        "This is a special school"
        not in client.get(reverse("profiles:profile", args=[ACLAND])).content.decode()
    )


@pytest.mark.django_db
def test_destinations_include_other_education_and_add_up(camden_demo: None, data_dir: Path) -> None:
    # The latest destinations held: the CSP 2024-25 release (year 11 leavers of 2022/23, destinations 2023/24).
    row = csv_row(data_dir / "calvinchankf-csp-2024-25" / "england_ks4-pupdest.csv", SWISS_COTTAGE)
    sec = selectors.section(
        School.objects.get(urn=SWISS_COTTAGE), selectors.GROUP_BY_SLUG["achievement-and-destinations"]
    )
    (snap,) = sec.snapshots
    got = {r.code: r.school.text for r in snap.rows}
    assert got["ks4dest_other_education"] == row["OTHER_EDUPER"]
    assert snap.year_label == "2023/24"  # every figure with its year

    def pct(v: str) -> int:
        return int(v.rstrip("%")) if re.fullmatch(r"\d+%", v) else 0

    parts = ("ks4dest_school_sixth", "ks4dest_sixth_college", "ks4dest_fe", "ks4dest_other_education")
    # The kinds of education now add up to "staying in education" (to rounding, one point per part).
    assert abs(sum(pct(got[c]) for c in parts) - pct(got["ks4dest_education"])) <= len(parts)
    assert pct(got["ks4dest_other_education"]) > 0


@pytest.mark.django_db
def test_postcode_area_matches_its_sub_districts(
    client: Client, camden_register: None, data_dir: Path
) -> None:
    def found(query: str) -> set[str]:
        html = client.get(f"{reverse('profiles:search')}?{query}").content.decode()
        return set(re.findall(r'href="/find-a-school/(\d+)/"', html))

    public = School.objects.filter(la_code=202, is_state_funded=True, is_open=True)
    for area in ("WC1", "EC1"):
        want = {str(s.urn) for s in public if re.match(rf"^{area}[A-Z]? ", s.postcode or "")}
        assert want, area
        assert any(re.match(rf"^{area}[A-Z] ", s.postcode) for s in public if str(s.urn) in want)
        got = found(f"area={area}")
        assert got == want or (len(got) == 10 and got <= want), area  # first page of results
    assert found("area=WC1H") <= found("area=WC1") and found("area=WC1H")
    # NW1 still does not match NW10 / NW1x districts that do not exist.
    assert all(School.objects.get(urn=int(u)).postcode.startswith("NW1 ") for u in found("area=NW1"))


@pytest.mark.django_db
def test_phone_links_and_accessibility_contact(client: Client, camden_register: None) -> None:
    school = School.objects.filter(la_code=202, is_state_funded=True).exclude(telephone="").first()
    if school is None:  # the register (GIAS 2022) holds telephone numbers for Camden schools
        pytest.fail("no telephone numbers in the register")
    html = client.get(reverse("profiles:profile", args=[school.urn])).content.decode()
    assert f'href="tel:{school.telephone.replace(" ", "")}"' in html
    assert reverse("profiles:accessibility") in html  # the footer links to the profile's own statement
    page = client.get(reverse("profiles:accessibility")).content.decode()
    assert 'href="mailto:families@camden.gov.uk"' in page and "Feedback and contact information" in page
