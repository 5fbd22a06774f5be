"""The risk rules as the strategy writes them (issue 13 item 3, issue 11 items 4-5), on real Camden rows.

Each test is a worked example that failed before the change: judgement routes to red / targeted,
one data item counted under one criterion, the standard pass at grade 4, KS2 progress in criterion ii,
judgements in the risk score, attainment against schools with a similar intake where progress is not
published, graded inspections with sub-grades and no overall grade, stale evidence with its year, and
the SRAS pack's full text. Expected values are read from the source files, not from the database.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import pytest
import time_machine

from tests.conftest import make_user


def csv_row(path: Path, urn: int) -> dict[str, str]:
    with path.open(encoding="utf-8-sig", errors="replace") as fh:
        return next(r for r in csv.DictReader(fh) if r["URN"] == str(urn))


def lait(data_dir: Path, desc: str, area: int) -> dict[int, float]:
    df = pl.read_parquet(data_dir / "dfe-lait" / "bds_long_0.parquet")
    rows = df.filter((pl.col("Short Desc") == desc) & (pl.col("LA Number") == area))
    return {
        int(y): float(v)
        for y, v in rows.select("Years", "Values").iter_rows()
        if re.fullmatch(r"\d{4}", y) and v != "-"
    }


def result(urn: int, code: str, term: Any, rulebook: Any = None) -> Any:
    from beacon.risk.models import CriterionResult
    from beacon.risk.services import active_rulebook

    return CriterionResult.objects.get(
        school__urn=urn, criterion__code=code, term=term, rulebook=rulebook or active_rulebook()
    )


def item(r: Any, measure: str, comparator: str | None = None) -> dict[str, Any]:
    return next(
        i
        for i in r.evidence["items"]
        if i["measure"] == measure and (comparator is None or i.get("comparator") == comparator)
    )


# ------------------------------------------------------------------------------------------------
# (b) one data item, one criterion; (c) grade 4; (e) KS2 progress in ii


def test_grade_4_count_once_and_ks2_progress(camden_demo: None, data_dir: Path) -> None:
    from beacon.risk.models import Term
    from beacon.risk.selectors import risk_score_frame
    from beacon.risk.services import active_rulebook, evaluate, new_rulebook_version
    from beacon.schools.models import School

    term = Term.objects.create(academic_year=2019, term="autumn")  # results to 2018/19 are current
    evaluate(term)

    # (c) "English and Maths at a standard pass" = grade 4+ (PTL2BASICS_94), not grade 5.
    # Hampstead School (100052), 2018/19: 63.0% vs London 68.7% less the margin of 5 -> met.
    em4 = float(
        csv_row(data_dir / "kspdeveloper-csp-2018-19/england_ks4provisional.csv", 100052)[
            "PTL2BASICS_94"
        ].rstrip("%")
    )
    london = lait(data_dir, "EngMaths9-4", 986)[2019]
    assert (em4, london) == (63.0, 68.7) and em4 < london - 5
    r = result(100052, "A-sec-1", term)
    assert r.outcome == "met"
    it = item(r, "ks4_em_grade4", "london")
    assert (it["values"], it["benchmark"], it["outcome"]) == ([em4], [london], "met")
    assert not [i for i in r.evidence["items"] if i["measure"] == "ks4_em_grade5"]
    assert "English and maths grade 4 or above" in r.evidence["explanation"]

    # (b) Regent High School (100051), 2018/19 persistent absence 19.2%: above the median of Camden's
    # secondaries (14.15%) by more than 5, which meets viii AND secondary 5 (the same margin). The one
    # figure is counted once, under viii; secondary 5 says so and is not met, nor in the score.
    row = csv_row(data_dir / "kspdeveloper-csp-2018-19/england_abs.csv", 100051)
    assert float(row["PPERSABS10"]) == 19.2
    viii, sec5 = result(100051, "A-viii", term), result(100051, "A-sec-5", term)
    assert viii.outcome == "met"
    assert sec5.outcome == "counted_under"
    assert sec5.evidence["counted_under"] == ["viii"]
    assert item(sec5, "absence_persistent")["data_items"] == ["absence_persistent:2018"]
    assert "absence_persistent:2018" in item(viii, "absence_persistent")["data_items"]
    assert "counted once, there" in sec5.evidence["explanation"]
    scores = risk_score_frame(term)
    regent = scores.filter(pl.col("urn") == 100051).row(0, named=True)
    assert "A-viii" in regent["met_codes"] and "A-sec-5" not in regent["met_codes"]

    # (e) KS2 progress is used for ii where published: Fleet Primary (100014) writing progress 2018/19
    # (england_ks2final WRITPROG) -3.2 is below -3; one year of three, so not met under the default.
    writ = float(csv_row(data_dir / "waiky8-eng-schools/england_ks2final.csv", 100014)["WRITPROG"])
    assert writ == -3.2
    r = result(100014, "A-ii", term)
    prog = item(r, "ks2_writing_progress")
    assert prog["years"][-1] == 2018 and prog["values"][-1] == writ
    assert prog["met_years"] == [2018] and prog["outcome"] == "not_met"
    assert r.outcome == "not_met"
    # A rulebook that reads 'well below' as -2.5 finds writing below in 2017/18 (-2.9) and 2018/19: met.
    v2 = new_rulebook_version(active_rulebook())
    rule = v2.rules.get(criterion__code="A-ii")
    for spec in rule.params["measures"]:
        if spec["measure"] == "ks2_writing_progress":
            spec["threshold"] = -2.5
    rule.save()
    evaluate(term, v2)
    r = result(100014, "A-ii", term, v2)
    assert r.outcome == "met" and item(r, "ks2_writing_progress")["met_years"] == [2017, 2018]
    assert School.objects.get(urn=100014).phase == "primary"


# ------------------------------------------------------------------------------------------------
# Issue 11 item 5: attainment against schools with a similar intake where progress is not published


def test_similar_intake_schools_arithmetic_and_the_progress_absent_route(camden_demo: None) -> None:
    from beacon.indicators.models import SchoolMeasure
    from beacon.risk.catalogue import SIMILAR_SCHOOLS
    from beacon.risk.models import Term
    from beacon.risk.services import (
        active_rulebook,
        evaluate,
        intake_bands,
        load_frames,
        new_rulebook_version,
        similar_schools_frame,
    )
    from beacon.schools.models import School

    fr = load_frames(data_year=2022, cutoff=dt.date(2023, 9, 1))
    frame = similar_schools_frame(fr, "ks2_rwm_expected", SIMILAR_SCHOOLS)

    # Independently, from the imported real rows: latest FSM (census 2022/23), EAL (2022/23) and SEN
    # (support + EHC plan, 2018/19) per state-funded primary; terciles by rank; similar = same phase and
    # band distance <= 1; the median of their KS2 RWM 2017/18, the school itself left out.
    primaries = {s.pk: s.urn for s in School.objects.filter(is_state_funded=True, phase="primary")}

    def latest(codes: list[str]) -> dict[int, float]:
        per: dict[tuple[int, int], dict[str, float]] = {}
        for sid, code, year, value in SchoolMeasure.objects.filter(
            school_id__in=primaries, measure__code__in=codes, status="ok", year__lte=2022, value__isnull=False
        ).values_list("school_id", "measure__code", "year", "value"):
            per.setdefault((sid, year), {})[code] = value
        out: dict[int, tuple[int, float]] = {}
        for (sid, year), vals in per.items():
            if len(vals) == len(codes) and (sid not in out or year > out[sid][0]):
                out[sid] = (year, sum(vals.values()))
        return {sid: v for sid, (_, v) in out.items()}

    contexts = {"fsm": latest(["fsm"]), "eal": latest(["eal"]), "sen": latest(["sen_support", "sen_ehcp"])}
    bands: dict[str, dict[int, int]] = {}
    for name, vals in contexts.items():
        n = len(vals)
        bands[name] = {sid: (sum(1 for w in vals.values() if w < v) * 3) // n for sid, v in vals.items()}
    banded = [sid for sid in primaries if all(sid in bands[n] for n in bands)]
    rwm = dict(
        SchoolMeasure.objects.filter(
            measure__code="ks2_rwm_expected", year=2017, status="ok", school_id__in=primaries
        ).values_list("school_id", "value")
    )
    christ_church = next(sid for sid, urn in primaries.items() if urn == 100029)
    peers = [
        o
        for o in banded
        if o != christ_church and sum(abs(bands[n][o] - bands[n][christ_church]) for n in bands) <= 1
    ]
    values = [rwm[o] for o in peers if o in rwm]
    assert len(values) >= 3
    got = frame.filter((pl.col("school_id") == christ_church) & (pl.col("year") == 2017)).row(0, named=True)
    assert got["similar_n"] == len(values)
    assert got["similar"] == pytest.approx(float(np.median(values)))
    # And for every banded primary: the same count and median (null when fewer than 3 similar schools).
    by_school = {r["school_id"]: r for r in frame.filter(pl.col("year") == 2017).iter_rows(named=True)}
    checked = 0
    for sid in banded:
        near = [
            rwm[o]
            for o in banded
            if o != sid and o in rwm and sum(abs(bands[n][o] - bands[n][sid]) for n in bands) <= 1
        ]
        if not near:
            assert sid not in by_school
            continue
        got = by_school[sid]
        assert got["similar_n"] == len(near)
        if len(near) >= 3:
            assert got["similar"] == pytest.approx(float(np.median(near)))
            checked += 1
        else:
            assert got["similar"] is None
    assert checked >= 20
    b = intake_bands(fr, SIMILAR_SCHOOLS).filter(pl.col("school_id") == christ_church).row(0, named=True)
    assert (b["fsm_band"], b["eal_band"], b["sen_band"]) == tuple(bands[n][christ_church] for n in bands)

    # The route: KS2 progress is not published for 2023/24-2024/25. Take the 2017/18 progress rows away
    # (as for those years) and Christ Church's 2017/18 RWM (52%, England 64%) counts as below only if it is
    # also below the median of its similar-intake schools; the evidence says which was used.
    SchoolMeasure.objects.filter(
        measure__code__endswith="_progress", measure__code__startswith="ks2_", year=2017
    ).delete()
    term = Term.objects.create(academic_year=2023, term="autumn")
    v2 = new_rulebook_version(active_rulebook())
    v2.stale_after_years = 10  # the threshold is data: these 2017/18 results are then current
    v2.save()
    evaluate(term, v2)
    r = result(100029, "A-ii", term, v2)
    it = item(r, "ks2_rwm_expected")
    i2017 = it["years"].index(2017)
    assert it["progress_published"][i2017] is False and it["progress_published"][0] is True
    assert it["similar_schools"][i2017] == pytest.approx(float(np.median(values)))
    assert it["similar_schools_n"][i2017] == len(values)
    below_similar = float(np.median(values)) - 5 > 52.0
    assert (2017 in it.get("met_years", [])) == below_similar
    assert "similar intake" in it["explanation"]


# ------------------------------------------------------------------------------------------------
# Ofsted: a graded inspection from September 2024 with sub-grades and no overall grade


def test_sub_grade_only_inspection_is_read_by_the_ofsted_criteria(camden_register: None) -> None:
    from beacon.inspections.models import Framework, Inspection, InspectionGrade
    from beacon.risk.models import Term
    from beacon.risk.services import evaluate
    from beacon.schools.models import School

    argyle = School.objects.get(urn=100008)
    term = Term.objects.create(academic_year=2025, term="autumn")
    evaluate(term, school_ids=[argyle.pk])
    assert result(100008, "A-i", term).outcome == "no_evidence"  # no inspection held yet
    insp = Inspection.objects.create(
        school=argyle, framework=Framework.LEGACY, start_date=dt.date(2024, 10, 8), overall_effectiveness=None
    )
    for area, grade in (
        ("quality_of_education", 2),
        ("behaviour_and_attitudes", 2),
        ("personal_development_and_wellbeing", 2),
        ("leadership_and_management", 3),
    ):
        InspectionGrade.objects.create(inspection=insp, area=area, grade=grade)
    evaluate(term, school_ids=[argyle.pk])
    r = result(100008, "A-i", term)
    assert r.outcome == "met"
    assert r.evidence["items"][0]["overall"] is None
    assert r.evidence["items"][0]["areas_flagged"] == ["leadership_and_management"]
    assert "overall effectiveness not judged" in r.evidence["explanation"]
    assert "leadership and management requires improvement" in r.evidence["explanation"]
    # ix reads the same sub-grade: the one judgement is counted once, under i.
    ix = result(100008, "A-ix", term)
    assert ix.outcome == "counted_under" and ix.evidence["counted_under"] == ["i"]
    # All sub-grades good: not met (never an invented overall grade).
    InspectionGrade.objects.filter(inspection=insp, area="leadership_and_management").update(grade=2)
    evaluate(term, school_ids=[argyle.pk])
    assert result(100008, "A-i", term).outcome == "not_met"


# ------------------------------------------------------------------------------------------------
# Issue 11 item 4: stale evidence


def test_stale_evidence_shows_its_year_and_is_never_met(camden_demo: None, client: Any) -> None:
    from beacon.assessments.engine import risk_scores
    from beacon.risk.models import CriterionResult, Term
    from beacon.risk.services import active_rulebook, evaluate, new_rulebook_version
    from beacon.schools.models import School

    term = Term.objects.create(academic_year=2025, term="autumn")
    evaluate(term)
    # Acland Burghley's latest absence is 2018/19: more than two academic years before 2025/26.
    r = result(100053, "A-viii", term)
    assert r.outcome == "stale_evidence"
    assert r.evidence["explanation"].startswith("No current evidence (latest 2018/19)")
    assert r.evidence["latest_year"] == 2018
    # School-level absence ends in 2018/19 in the data held: no absence criterion is met in 2025/26, and a
    # stale result adds nothing to a school's score (results 2022/23-2024/25 are current and may count).
    assert not CriterionResult.objects.filter(
        term=term, criterion__code__in=["A-viii", "A-sec-5"], outcome="met"
    ).exists()
    assert CriterionResult.objects.filter(
        term=term, criterion__code="A-viii", outcome="stale_evidence"
    ).exists()
    haverstock = School.objects.get(name="Haverstock School")
    assert result(haverstock.urn, "A-viii", term).outcome == "stale_evidence"
    scored = {pk for pk, score in risk_scores(term).items() if score}
    with_met = set(
        CriterionResult.objects.filter(term=term, outcome="met").values_list("school_id", flat=True)
    )
    assert scored <= with_met  # a school whose evidence is only stale (or not met) scores nothing
    director = make_user("director", "director")
    client.force_login(director)
    page = client.get(f"/risk/{100053}/?term=autumn-2025").content.decode()
    assert "Stale evidence" in page and "No current evidence (latest 2018/19)" in page
    assert "Latest evidence: 2018/19 (not current)" in page
    # Evidence tables are captioned in words from the measure catalogue, never with a measure code.
    assert "Overall absence rate against" in page and "absence overall" not in page
    # The threshold is data: a rulebook that allows seven years treats 2018/19 as current.
    v2 = new_rulebook_version(active_rulebook())
    v2.stale_after_years = 7
    v2.save()
    evaluate(term, v2)
    assert result(100053, "A-viii", term, v2).outcome == "not_met"
    assert result(haverstock.urn, "A-viii", term, v2).outcome in {"met", "not_met"}


# ------------------------------------------------------------------------------------------------
# (a) judgement routes, (f) judgements in the score, and the SRAS pack


def test_judgement_routes_score_and_the_sras_pack(camden_demo: None) -> None:
    from pypdf import PdfReader

    from beacon import permissions
    from beacon.assessments import engine, selectors, services
    from beacon.assessments.models import Intelligence, SRASMeeting, TermlyAssessment
    from beacon.assessments.pdf import render_meeting_pack
    from beacon.risk.models import Criterion, Term
    from beacon.risk.selectors import risk_score_frame
    from beacon.risk.services import evaluate
    from beacon.schools.models import School

    spring = Term.objects.create(academic_year=2018, term="spring")  # assessed by staff (below)
    Term.objects.create(academic_year=2018, term="summer")  # exists (e.g. opened by a page), never assessed
    term = Term.objects.create(academic_year=2019, term="autumn")
    evaluate(term)
    adviser = make_user("adviser", "adviser")
    director = make_user("director", "director")
    scores = risk_score_frame(term)
    clean = scores.filter(pl.col("score") == 0)
    school = School.objects.get(pk=clean["school_id"][0])
    assert services.compute_proposal(school, term)[:2] == ("green", "universal")

    # (a) A person records i (at risk of an evaluation area at 'attention needed') and xxii (g): the
    # proposal reaches red / targeted. Before, i could not be recorded and a judgement never led to red.
    def judge(code: str, applies: bool, reason: str, who: Any = adviser) -> None:
        services.record_judgement(
            school=school,
            term=term,
            criterion=Criterion.objects.get(code=code),
            applies=applies,
            reason=reason,
            source="cpp_visit",
            user=who,
        )

    judge(
        "A-i", True, "Curriculum and teaching at risk of attention needed: three subject leads left in July."
    )
    judge("A-xxii-g", True, "Single central record incomplete at the October visit.")
    rag, level, reasons = services.compute_proposal(school, term)
    assert (rag, level) == ("red", "targeted")
    assert any(r.get("code") == "A-i" and r["source"] == "judgement" for r in reasons)
    assert Criterion.objects.get(code="A-i") in services.judgement_criteria()
    # (f) The judgements count in the score (rule weight for i, 1.0 for a judgement criterion): the school
    # now ranks above every school with a lower data score.
    scores = engine.risk_scores(term)
    weight_i = 1.0
    assert scores[school.pk] == pytest.approx(weight_i + 1.0)
    services.refresh_proposals(term, School.objects.filter(is_state_funded=True))
    rows = selectors.register_rows(permissions.current_risk_register_schools(director), term)
    position = [r.school.pk for r in rows].index(school.pk)
    assert all((r.risk_score or 0) >= 2.0 for r in rows[:position])

    from django.test import Client

    web = Client()
    web.force_login(director)
    page = web.get(f"/risk/{school.urn}/?term=autumn-2019").content.decode()
    assert "Judgement recorded: applies (used in the proposal in place of the data)" in page

    # A judgement on a data criterion: Haverstock's xxi (a) has no evidence in the register's history;
    # recorded as applying, it adds the rule's weight (0.5) to the score.
    haverstock = School.objects.get(name="Haverstock School")
    hav_before = engine.risk_scores(term)[haverstock.pk]
    services.record_judgement(
        school=haverstock,
        term=term,
        criterion=Criterion.objects.get(code="A-xxi-a"),
        applies=True,
        reason="The headteacher has been on long-term absence since September; no acting head agreed.",
        source="la_officer",
        user=director,
    )
    assert engine.risk_scores(term)[haverstock.pk] == pytest.approx(hav_before + 0.5)
    # A judgement replaces the data result: a school meeting i on its inspection, recorded (with a reason)
    # as not at risk, loses i from its proposal and its score.
    from beacon.inspections.models import Framework, Inspection

    other = School.objects.get(
        urn=100010
    )  # Brecknock Primary, given a graded inspection: requires improvement
    Inspection.objects.create(
        school=other, framework=Framework.LEGACY, start_date=dt.date(2019, 3, 5), overall_effectiveness=3
    )
    evaluate(term, school_ids=[other.pk])
    assert "A-i" in engine.met_codes_by_school(term, engine.active_rulebook(), [other.pk])[other.pk]
    before = engine.risk_scores(term)[other.pk]
    services.record_judgement(
        school=other,
        term=term,
        criterion=Criterion.objects.get(code="A-i"),
        applies=False,
        reason="Re-inspected in July: every area secure; the 2014 judgement no longer describes the school.",
        source="ofsted",
        user=director,
    )
    assert engine.risk_scores(term)[other.pk] == pytest.approx(before - 1.0)
    # The proposals' scores (read from the results met) are the register's (read from every result), for
    # every school: judgements applying and not, on data and judgement criteria.
    register = risk_score_frame(term, engine.active_rulebook(), engine.judgements_frame(term))
    assert engine.risk_scores(term) == dict(
        zip(register["school_id"].to_list(), register["score"].to_list(), strict=True)
    )
    assert len(register) > 40
    _, _, reasons = services.compute_proposal(other, term)
    assert not any("At risk of not being secure" in str(r.get("text")) for r in reasons)
    assert any(r.get("code") == "A-i" and r.get("applies") is False for r in reasons)

    # The SRAS pack. Previous real term: spring 2018/19 (decided), not summer 2018/19 (never assessed).
    a_prev = TermlyAssessment.objects.create(school=school, term=spring)
    services.decide(
        a_prev.pk,
        services.Decision(
            rag="green", level="universal", rationale="No concerns at the spring review meeting."
        ),
        user=director,
        expected_version=a_prev.version,
    )
    assert selectors.previous_real_term(term) == spring
    last = SRASMeeting.objects.create(term=spring, date=dt.date(2019, 7, 10))
    meeting = SRASMeeting.objects.create(term=term, date=dt.date(2019, 10, 16))
    with time_machine.travel(dt.datetime(2019, 7, 8, 12, tzinfo=dt.UTC), tick=False):
        Intelligence.objects.create(
            school=school, date=dt.date(2019, 7, 8), source="headteacher", summary="Before: already discussed"
        )
    with time_machine.travel(dt.datetime(2019, 7, 15, 12, tzinfo=dt.UTC), tick=False):
        Intelligence.objects.create(
            school=school,
            date=dt.date(2019, 7, 1),  # received before the July meeting, recorded after it
            source="parent_complaint",
            summary="Late-recorded parent complaint about SEN provision",
        )
    assert last.date < meeting.date
    pack = selectors.meeting_pack(
        permissions.current_risk_register_schools(director),
        term,
        meeting,
        intelligence=lambda school: permissions.visible_intelligence(director, school),
        viewer=director,
    )
    mine = next(p for p in pack.schools if p.row.school.pk == school.pk)
    assert [n.summary for n in mine.new_intelligence] == [
        "Late-recorded parent complaint about SEN provision"
    ]
    assert mine.diff.previous_term == spring
    hav = next(p for p in pack.schools if p.row.school.pk == haverstock.pk)
    ii = next(c for c in hav.met if c.ref == "ii")
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(render_meeting_pack(pack))).pages)
    flat = " ".join(text.split())
    # Full criterion text (no cut), each value and benchmark of the criteria met, the judgement reasons.
    for code in ("A-ii", "A-i", "A-xxii-g", "A-xxi-a"):
        assert " ".join(Criterion.objects.get(code=code).text.split()) in flat, code
    a8 = next(e for e in ii.evidence if e.caption.startswith("Attainment 8"))
    for year, value, bench in a8.rows:
        assert f"{year} {value} {bench}" in flat
    assert "no acting head agreed" in flat
    assert "Late-recorded parent complaint about SEN provision" in flat
    assert "Before: already discussed" not in flat
    assert "Received 1 July 2019" in flat or "received 1 July 2019" in flat
    assert "Spring 2018/19" in flat and "Summer 2018/19" not in flat


def test_a_shared_note_is_said_once() -> None:
    from beacon.risk.services import join_explanations

    note = " No progress score published for 2025 and too few schools with a similar intake to compare with."
    text = join_explanations(
        [
            "Attainment 8 score was below England by more than 3 in 1 of 1 year(s) (needs 1); exam years 2025: 41.5 vs 46.0."
            + note,
            "Attainment 8 score was below London by more than 3 in 1 of 1 year(s) (needs 1); exam years 2025: 41.5 vs 50.5."
            + note,
        ]
    )
    assert text.count("No progress score published for 2025") == 1 and text.endswith(note.strip())
    assert "41.5 vs 46.0." in text and "41.5 vs 50.5." in text
    assert join_explanations(["No data held."]) == "No data held."
