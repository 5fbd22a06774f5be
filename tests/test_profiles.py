"""The public school profile (beacon.profiles) on the real Camden data: search, figures with their years
and comparisons, suppression on real rows, the narrative workflow, and a crawl of every public URL that
proves nothing internal (RAG, support level, intelligence, judgements, advisers, notices) is ever shown.

Django test client, SQLite and PostgreSQL. Expected figures are read from the source files in the test.
"""

from __future__ import annotations

import csv
import datetime as dt
import re
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import URLPattern, reverse

from beacon.core.versioning import StaleEdit
from beacon.profiles import selectors, services
from beacon.profiles.models import NarrativeStatus, SchoolNarrative
from tests.conftest import make_user

GOSPEL_OAK = 100025  # primary, NW3 2JB
ACLAND = 100053  # Acland Burghley School, secondary, NW5 1UJ
FRANK_BARNES = 100091  # Frank Barnes School for Deaf Children, special: KS2 cohorts of 2-5 pupils
THOMAS_CORAM = 100005  # nursery
PRU = 100007  # Camden Primary Pupil Referral Unit
HAMPSTEAD = 100052  # Hampstead School, secondary
CCFL = 100092  # Camden Centre for Learning special school: KS4 cohort of 8
INDEPENDENT = 100081  # Broadhurst School: independent, no public profile
CRAWLED = (GOSPEL_OAK, ACLAND, FRANK_BARNES, THOMAS_CORAM, PRU)

PUBLIC_VIEWS = {"search", "accessibility", "profile", "section"}
SIGNED_IN_VIEWS = {"narratives", "edit", "review"}


def text_of(html: str) -> str:
    main = html[html.find("<main") : html.find("</main>")]
    return " ".join(re.sub(r"<[^>]+>", " ", main).replace("&#39;", "'").split())


def profile_patterns() -> list[URLPattern]:
    from beacon.profiles import urls

    return [p for p in urls.urlpatterns if isinstance(p, URLPattern)]


def public_urls(urns: tuple[int, ...]) -> list[str]:
    """Every public URL of the profiles app for these schools (every group), and the search with queries."""
    out: list[str] = []
    for p in profile_patterns():
        name = p.name or ""
        if name == "search":
            base = reverse("profiles:search")
            out += [base, f"{base}?name=school", f"{base}?area=NW5", f"{base}?phase=special&phase=nursery"]
            out += [f"{base}?page=2"]
        elif name == "accessibility":
            out += [reverse("profiles:accessibility")]
        elif name == "profile":
            out += [reverse("profiles:profile", args=[u]) for u in urns]
        elif name == "section":
            out += [reverse("profiles:section", args=[u, g.slug]) for u in urns for g in selectors.GROUPS]
    return out


# ---------------------------------------------------------------------------------------------
# Nothing internal on any public page


def _internal_records(urns: tuple[int, ...]) -> dict[str, Any]:
    """Real rows of the internal process for each crawled school, with distinctive values."""
    from beacon.accounts.models import SchoolAssignment
    from beacon.assessments.engine import active_rulebook
    from beacon.assessments.models import Intelligence, JudgementRecord, Sensitivity, TermlyAssessment
    from beacon.interventions.models import WarningNotice
    from beacon.risk.models import Criterion, CriterionKind, Term
    from beacon.schools.models import School
    from beacon.support.models import SupportCase

    active_rulebook()
    term = Term.parse("autumn-2025")
    criterion = Criterion.objects.filter(model="camden", kind=CriterionKind.JUDGEMENT).first()
    assert criterion is not None
    adviser = make_user("oquill", "adviser", schools=urns)
    adviser.first_name, adviser.last_name = "Ottoline", "Quillfeather"
    adviser.save()
    director = make_user("ddirect", "director")
    director.first_name, director.last_name = "Desdemona", "Directorson"
    director.save()
    rags = ["red", "amber", "red", "amber", "red"]
    for i, urn in enumerate(urns):
        school = School.objects.get(urn=urn)
        assert SchoolAssignment.objects.filter(user=adviser, school=school).exists()
        TermlyAssessment.objects.create(
            school=school,
            term=term,
            proposed_rag="amber",
            proposed_level="focused",
            decided_rag=rags[i],
            decided_level="targeted",
            rationale="Rationale-zq81 the leadership has lost grip",
            decided_by=director,
            decided_at=dt.datetime(2025, 10, 1, tzinfo=dt.UTC),
        )
        for sensitivity in (Sensitivity.GENERAL, Sensitivity.SAFEGUARDING):
            Intelligence.objects.create(
                school=school,
                date=dt.date(2025, 10, 2),
                source="cpp_visit",
                summary=f"Intel-zq81 {sensitivity} concern",
                detail="Detail-zq81 governors in dispute",
                sensitivity=sensitivity,
                shared_with_school=True,
                recorded_by=adviser,
            )
        JudgementRecord.objects.create(
            school=school,
            term=term,
            criterion=criterion,
            applies=True,
            reason="Judgement-zq81 weak middle leadership",
            source="cpp_visit",
            recorded_by=adviser,
        )
        SupportCase.objects.create(
            school=school, level="targeted", started_on=dt.date(2025, 9, 1), chair=director
        )
        WarningNotice.objects.create(
            school=school, ground="standards", concerns="Notice-zq81 standards too low"
        )
    return {"adviser": adviser, "director": director}


FORBIDDEN_VALUES = (
    "zq81",  # every internal free text above carries this marker
    "Ottoline",
    "Quillfeather",
    "oquill",
    "Desdemona",
    "Directorson",
    "DRAFT-ONLY-qx",
    "REVIEW-NOTE-qx",
)
FORBIDDEN_WORDS = re.compile(
    r"\b(red|amber|green|rag|risk|intelligence|targeted|focused|universal|adviser|advisers|cpp|sras|"
    r"judgement record|warning notice|support case|support level|rationale|proposal|intervention|"
    r"safeguarding concern)\b",
    re.IGNORECASE,
)


@pytest.mark.django_db
def test_no_internal_data_on_any_public_page(client: Client, camden_demo: None) -> None:
    people = _internal_records(CRAWLED)
    head = make_user("head", "headteacher", schools=(GOSPEL_OAK,))
    school = selectors.School.objects.get(urn=GOSPEL_OAK)
    n = services.save_draft(
        school,
        {"atmosphere": "Published-words-qx: a warm, busy school."},
        user=head,
        expected_version=0,
        submit=True,
    )
    n = services.publish(school, user=people["director"], expected_version=n.version)
    # A later draft and a review note stay private.
    n = services.save_draft(
        school, {"atmosphere": "DRAFT-ONLY-qx new words"}, user=head, expected_version=n.version, submit=True
    )
    services.return_for_changes(
        school, user=people["director"], expected_version=n.version, note="REVIEW-NOTE-qx"
    )

    # The markers are really there to be found (the crawl below must not find them on public pages).
    from beacon.assessments.models import Intelligence, TermlyAssessment

    assert Intelligence.objects.filter(school__urn__in=CRAWLED, summary__contains="zq81").count() == 10
    assert set(
        TermlyAssessment.objects.filter(school__urn__in=CRAWLED).values_list("decided_rag", flat=True)
    ) == {
        "red",
        "amber",
    }
    for sample in ("RAG: Red", "Amber", "Targeted support", "adviser", "Warning notice", "Risk register"):
        assert FORBIDDEN_WORDS.search(sample), sample
    names = {p.name for p in profile_patterns()}
    assert names == PUBLIC_VIEWS | SIGNED_IN_VIEWS, "classify every new profiles URL as public or signed-in"
    urls = public_urls(CRAWLED)
    assert len(urls) == 6 + len(CRAWLED) * (1 + len(selectors.GROUPS))
    staff = Client()
    staff.force_login(people["director"])
    for c, who in ((client, "anonymous"), (staff, "signed-in director")):
        for url in urls:
            resp = c.get(url)
            assert resp.status_code == 200, (who, url)
            html = resp.content.decode()
            for value in FORBIDDEN_VALUES:
                assert value not in html, (who, url, value)
            hit = FORBIDDEN_WORDS.search(html)
            assert hit is None, (
                who,
                url,
                hit.group(0) if hit else "",
                html[max(0, hit.start() - 80) : hit.end() + 80] if hit else "",
            )
            # The light public layout: no staff navigation, no account.
            assert "govuk-service-navigation" not in html and "Sign out" not in html, (who, url)
    assert "Published-words-qx" in client.get(reverse("profiles:profile", args=[GOSPEL_OAK])).content.decode()

    # Signed-in pages send an anonymous visitor to sign in.
    for name, args in (("narratives", []), ("edit", [GOSPEL_OAK]), ("review", [GOSPEL_OAK])):
        resp = client.get(reverse(f"profiles:{name}", args=args))
        assert resp.status_code == 302 and resp["Location"].startswith("/account/sign-in/"), name
    # No public profile for independent schools or unknown URNs, nor unknown groups.
    assert client.get(reverse("profiles:profile", args=[INDEPENDENT])).status_code == 404
    assert client.get(reverse("profiles:profile", args=[999999])).status_code == 404
    assert client.get(f"/find-a-school/{ACLAND}/risk/").status_code == 404


# ---------------------------------------------------------------------------------------------
# Figures: real values, their year, and the same year's comparisons


def lait(short_desc: str, year_end: str, data_dir: Path) -> dict[str, float]:
    """LAIT values for Camden, London and England, read from the parquet file (Years = end year)."""
    df = pl.read_parquet(data_dir / "dfe-lait" / "bds_long_0.parquet").filter(
        (pl.col("Short Desc") == short_desc)
        & (pl.col("Years") == year_end)
        & pl.col("LA and Regions").is_in(["Camden", "London", "England"])
    )
    return {r["LA and Regions"]: float(r["Values"]) for r in df.iter_rows(named=True)}


def csv_row_by(path: Path, column: str, urn: int) -> dict[str, str]:
    with path.open(newline="", encoding="utf-8-sig") as fh:
        return next(r for r in csv.DictReader(fh) if r[column] == str(urn))


def csv_row(path: Path, urn: int, encoding: str = "utf-8-sig") -> dict[str, str]:
    with path.open(newline="", encoding=encoding) as fh:
        return next(r for r in csv.DictReader(fh) if r["URN"] == str(urn))


@pytest.mark.django_db
def test_profile_figures_years_comparisons_and_suppression(
    client: Client, camden_demo: None, data_dir: Path
) -> None:
    # Acland Burghley: Attainment 8 2024/25 from the CSP KS4 final file (charleskk6, re-keyed by URN);
    # areas from LAIT (Years 2025 = 2024/25). Progress 8 was not published for 2024/25: the latest is
    # 2023/24 (P8MEA_PREV of the CSP 2024/25 file, hemaleed transcription).
    ks4 = csv_row_by(
        data_dir / "charleskk6-ks2-ks4-2023-25" / "ks4_2024-2025_school_level_with_urn.csv", "urn", ACLAND
    )
    prev = csv_row(
        data_dir / "hemaleed-ks4-2024-25-camden" / "camden_ks4_prev_years_from_ks4_2025.csv", ACLAND
    )
    areas = lait("AVG_Attain8_Score", "2025", data_dir)
    assert (ks4["ATT8SCR"], prev["P8MEA_PREV"]) == ("49.9", "-0.3")
    assert areas == {"Camden": 46.9, "London": 50.5, "England": 46.0}
    p = selectors.profile(selectors.School.objects.get(urn=ACLAND))
    a8 = next(r for r in p.headline if r.code == "ks4_attainment8")
    assert a8.year_label == "2024/25"
    assert a8.school.text == f"{float(ks4['ATT8SCR']):.1f}"
    assert [n for n, _f in a8.areas] == ["Camden", "London", "England"]
    assert {n: f.text for n, f in a8.areas} == {k: f"{v:.1f}" for k, v in areas.items()}
    p8 = next(r for r in p.headline if r.code == "ks4_progress8")
    assert p8.school.text == "-0.30" and p8.year_label == "2023/24"
    assert not any(r.code.startswith("ks2") for r in p.headline)  # a secondary: no KS2 comparison

    html = client.get(reverse("profiles:profile", args=[ACLAND])).content.decode()
    text = text_of(html)
    assert "Attainment 8 score, 2024/25" in text
    assert "Acland Burghley School 49.9 Camden 46.9 London 50.5 England 46.0" in text
    assert "Every figure shows the school year it is for." in text
    # Every comparison table names its year.
    for caption in re.findall(r'<caption class="govuk-table__caption[^"]*">(.*?)</caption>', html):
        assert re.search(r"\d{4}/\d{2}", caption), caption

    # Frank Barnes: KS2 cohorts of 5, 2 and 4 pupils (2015/16-2017/18) are counts below 6: suppressed;
    # the 2018/19 progress scores the DfE withheld stay "Suppressed" (never 0 or blank).
    cohorts = {
        y: csv_row(data_dir / "waiky8-schools-data" / f"ks2_perf_{y + 1}.csv", FRANK_BARNES)["KS2 Pupils"]
        for y in (2015, 2016, 2017)
    }
    assert cohorts == {2015: "5", 2016: "2", 2017: "4"}
    s = selectors.section(
        selectors.School.objects.get(urn=FRANK_BARNES),
        selectors.GROUP_BY_SLUG["achievement-and-destinations"],
    )
    trends = {t.code: t for _h, ts in s.trends for t in ts}
    assert [(r.year_label, r.school.text) for r in trends["ks2_pupils"].rows] == [
        ("2015/16", "Suppressed"),
        ("2016/17", "Suppressed"),
        ("2017/18", "Suppressed"),
    ]
    # gieffeemme ks2_by_urn 2022/23: "100091,0,0,-3.4,7.2,-2.9,2022/23" (progress is a score, not a count)
    assert [(r.year_label, r.school.text) for r in trends["ks2_reading_progress"].rows] == [
        ("2018/19", "Suppressed"),
        ("2022/23", "-3.4"),
    ]
    page = text_of(
        client.get(
            reverse("profiles:section", args=[FRANK_BARNES, "achievement-and-destinations"])
        ).content.decode()
    )
    assert (
        "KS2 cohort (pupils at end of KS2) Year This school 2015/16 Suppressed 2016/17 Suppressed 2017/18 Suppressed"
        in page
    )
    assert " 2 " not in page.split("KS2 cohort")[1].split("KS2 reading")[0]

    # Destinations are Camden-wide (LAIT), labelled as such and by year.
    assert "These are figures for all young people in Camden, not for this school." in page

    # School destinations after year 11 (DfE KS4 destinations, CSP 2024-2025 release: pupils who finished
    # year 11 in 2022/23, destinations in 2023/24): Acland's overall figure as published; Harmood School
    # (formerly CCfL, a special school) has its disadvantaged cohort and figure 'SUPP': "Suppressed", never 0.
    dest_file = data_dir / "calvinchankf-csp-2024-25" / "england_ks4-pupdest.csv"
    acland, hampstead, ccfl = (csv_row(dest_file, u) for u in (ACLAND, HAMPSTEAD, CCFL))
    assert (acland["OVERALL_DESTPER"], hampstead["APPRENPER"], ccfl["COHORT_DIS"]) == ("92%", "1%", "SUPP")

    def snapshot(urn: int) -> dict[str, str]:
        sec = selectors.section(
            selectors.School.objects.get(urn=urn), selectors.GROUP_BY_SLUG["achievement-and-destinations"]
        )
        (snap,) = sec.snapshots
        assert snap.year_label == "2023/24" and "finished year 11 in 2022/23" in snap.caption
        return {r.code: r.school.text for r in snap.rows}

    assert snapshot(ACLAND)["ks4dest_overall"] == acland["OVERALL_DESTPER"]
    assert snapshot(ACLAND)["ks4dest_cohort"] == acland["COHORT"] == "178"
    assert snapshot(HAMPSTEAD)["ks4dest_apprenticeship"] == "1%"
    ccfl_dest = snapshot(CCFL)
    assert ccfl_dest["ks4dest_cohort"] == ccfl["COHORT"] == "15"
    assert ccfl_dest["ks4dest_overall"] == ccfl["OVERALL_DESTPER"] == "47%"
    assert (
        ccfl_dest["ks4dest_cohort_disadvantaged"]
        == ccfl_dest["ks4dest_overall_disadvantaged"]
        == "Suppressed"
    )
    home = next(
        r
        for r in selectors.profile(selectors.School.objects.get(urn=ACLAND)).headline
        if r.code == "ks4dest_overall"
    )
    assert (home.year_label, home.school.text, home.areas) == ("2023/24", "92%", [])


@pytest.mark.django_db
def test_public_search_by_name_area_and_phase(client: Client, camden_register: None) -> None:
    def found(query: str) -> list[str]:
        html = client.get(f"{reverse('profiles:search')}?{query}").content.decode()
        return re.findall(r'href="/find-a-school/(\d+)/"', html)

    # Secondary schools in the NW5 postcode district (NW5 1UJ, 1RP, 1RL, 2DB, 1RN in the register).
    assert set(found("area=NW5&phase=secondary")) == {"100053", "100059", "100050", "100054", "100056"}
    assert set(found("area=nw5+1r&phase=secondary")) == {"100059", "100050", "100056"}  # partial postcode
    assert found("name=gospel") == [str(GOSPEL_OAK)]
    assert found("name=burghley+acland") == [str(ACLAND)]  # every word, in any order
    # A place name: Kentish Town is the locality of Torriano (NW5 2SJ) in the register.
    assert str(100023) in found("area=Kentish+Town&phase=primary")
    # Independent schools (Broadhurst, NW6 3LP) have no public profile.
    assert str(INDEPENDENT) not in found("area=NW6")
    assert found("name=Broadhurst") == []
    assert "0 schools found" in text_of(
        client.get(f"{reverse('profiles:search')}?name=zzzz").content.decode()
    )


def test_postcode_district_does_not_match_a_longer_district() -> None:
    q = str(selectors.area_q("NW1"))
    assert "NW1 " in q and "startswith" in q and "NW10" not in q
    assert "postcode_compact__startswith" in str(selectors.area_q("NW1 0"))
    assert "locality__icontains" in str(selectors.area_q("Hampstead"))


# ---------------------------------------------------------------------------------------------
# The narrative: headteacher writes and submits, director publishes; history and optimistic locking


@pytest.mark.django_db
def test_narrative_workflow_history_and_locking(camden_register: None) -> None:
    from beacon.schools.models import School

    school = School.objects.get(urn=GOSPEL_OAK)
    head = make_user("head", "headteacher", schools=(GOSPEL_OAK,))
    director = make_user("dana", "director")
    assert selectors.published_narrative(school) == {}

    n = services.save_draft(
        school, {"atmosphere": "First words.\r\n\r\nSecond para."}, user=head, expected_version=0
    )
    assert (n.status, n.version, n.atmosphere) == (NarrativeStatus.DRAFT, 1, "First words.\n\nSecond para.")
    with pytest.raises(StaleEdit):  # a form opened before that save
        services.save_draft(school, {"atmosphere": "Lost update"}, user=head, expected_version=0)
    assert SchoolNarrative.objects.get(school=school).atmosphere == "First words.\n\nSecond para."
    with pytest.raises(ValidationError) as exc:
        services.publish(school, user=director, expected_version=1)  # not submitted yet
    assert "status" in exc.value.message_dict
    with pytest.raises(ValidationError) as exc:
        services.save_draft(school, {"atmosphere": ""}, user=head, expected_version=1, submit=True)
    assert "atmosphere" in exc.value.message_dict
    with pytest.raises(ValidationError):
        services.save_draft(school, {"atmosphere": "x" * 2001}, user=head, expected_version=1)

    n = services.save_draft(
        school,
        {"atmosphere": "First words.\n\nSecond para.", "support": "We know every child."},
        user=head,
        expected_version=1,
        submit=True,
    )
    assert (n.status, n.version, n.submitted_by) == (NarrativeStatus.SUBMITTED, 2, head)
    assert selectors.published_narrative(school) == {}  # submitted is not public
    with pytest.raises(ValidationError):
        services.return_for_changes(school, user=director, expected_version=2, note="  ")
    n = services.publish(school, user=director, expected_version=2)
    assert n.status == NarrativeStatus.PUBLISHED and n.published_by == director
    assert selectors.published_narrative(school) == {
        "atmosphere": ["First words.", "Second para."],
        "support": ["We know every child."],
    }
    # The head edits again: the published text stays public until the next publication.
    n = services.save_draft(
        school, {"atmosphere": "Newer words."}, user=head, expected_version=3, submit=True
    )
    assert selectors.published_narrative(school)["atmosphere"] == ["First words.", "Second para."]
    n = services.return_for_changes(
        school, user=director, expected_version=4, note="Say more about the arts."
    )
    assert (n.status, n.review_note) == (NarrativeStatus.RETURNED, "Say more about the arts.")
    n = services.unpublish(school, user=director, expected_version=5)
    assert selectors.published_narrative(school) == {}

    reasons = [h.what for h in selectors.narrative_history(n)]
    assert reasons == [
        "Unpublished",
        "Returned for changes",
        "Submitted for review",
        "Published",
        "Submitted for review",
        "Draft saved",
    ]
    assert [h.who for h in selectors.narrative_history(n)][-1] == str(head)  # audited with the user


@pytest.mark.django_db
def test_narrative_pages_are_scoped(client: Client, camden_register: None) -> None:
    head = make_user("head", "headteacher", schools=(GOSPEL_OAK,))
    other_head = make_user("other", "headteacher", schools=(ACLAND,))
    adviser = make_user("adv", "adviser", schools=(GOSPEL_OAK,))
    director = make_user("dana", "director")
    edit = reverse("profiles:edit", args=[GOSPEL_OAK])
    review = reverse("profiles:review", args=[GOSPEL_OAK])

    client.force_login(other_head)
    assert client.get(edit).status_code == 403
    assert client.post(edit, {"version": 0, "atmosphere": "Hijack", "action": "submit"}).status_code == 403
    client.force_login(adviser)
    assert client.get(edit).status_code == 403 and client.get(review).status_code == 403
    assert client.get(reverse("profiles:narratives")).status_code == 403
    client.force_login(head)
    assert client.get(review).status_code == 403  # a school does not publish itself
    assert "School profiles" in client.get(edit).content.decode()  # nav item

    resp = client.post(edit, {"version": 0, "atmosphere": "Our words.", "action": "submit"})
    assert resp.status_code == 302
    # A stale form is refused and says so; nothing is overwritten.
    resp = client.post(edit, {"version": 0, "atmosphere": "Stale words.", "action": "save"})
    assert resp.status_code == 409 and "This profile was changed by someone else" in resp.content.decode()
    assert "Stale words." in resp.content.decode() and "Our words." in resp.content.decode()  # both texts
    assert SchoolNarrative.objects.get(school__urn=GOSPEL_OAK).atmosphere == "Our words."

    client.force_login(director)
    listing = client.get(reverse("profiles:narratives")).content.decode()
    assert f'data-urn="{GOSPEL_OAK}"' in listing and "Submitted for review" in listing
    assert f'data-urn="{INDEPENDENT}"' not in listing  # no public profile, nothing to review
    assert client.post(review, {"version": 0, "action": "publish"}).status_code == 409  # stale version
    assert not SchoolNarrative.objects.get(school__urn=GOSPEL_OAK).published
    assert client.post(review, {"version": 1, "action": "publish"}).status_code == 302
    assert "Our words." in client.get(reverse("profiles:profile", args=[GOSPEL_OAK])).content.decode()
