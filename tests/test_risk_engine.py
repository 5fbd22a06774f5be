"""Risk engine (issue 3): catalogue, rulebooks and the data-driven criteria on real Camden rows.

Expected values are read independently from the source files in ../shared/data (the KS2/KS4/absence
CSVs, the LAIT parquet, the Ofsted history), not from the database.
"""

from __future__ import annotations

import csv
import datetime as dt
import re
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import pytest
from django.conf import settings

# The seeds sit beside the data: ../shared/seeds next to ../shared/data/raw (BEACON_DATA_DIR).
SEED = Path(settings.DATA_DIR).resolve().parents[1] / "seeds"


def seed_appendix_a() -> list[str]:
    """Every bullet of Appendix A's criteria, as written in the seed (numbering stripped)."""
    lines = (SEED / "camden-school-support-and-development-strategy-2025.txt").read_text().splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("Schools would require additional"))
    end = next(i for i, line in enumerate(lines) if line.startswith("## Appendix B"))
    items = []
    for line in lines[start:end]:
        m = re.match(r"^\s*- (?:[ivx]+\. |[a-h]\. )?(.*)$", line)
        if m:
            items.append(m.group(1))
    return items


def lait(desc: str, area: int) -> dict[int, float]:
    """LAIT values for one indicator and area, by exam/label year as published ('2018' -> 2018)."""
    df = pl.read_parquet(DATA_LAIT)
    rows = df.filter((pl.col("Short Desc") == desc) & (pl.col("LA Number") == area))
    return {
        int(y): float(v)
        for y, v in rows.select("Years", "Values").iter_rows()
        if re.fullmatch(r"\d{4}", y) and v != "-"
    }


def csv_row(path: Path, urn: int) -> dict[str, str]:
    with path.open(encoding="utf-8-sig", errors="replace") as fh:
        return next(r for r in csv.DictReader(fh) if r["URN"] == str(urn))


DATA_LAIT = Path()


@pytest.fixture(autouse=True)
def _lait_path(data_dir: Path) -> None:
    global DATA_LAIT
    DATA_LAIT = data_dir / "dfe-lait" / "bds_long_0.parquet"


def result(urn: int, code: str, term: Any, rulebook: Any = None) -> Any:
    from beacon.risk.models import CriterionResult
    from beacon.risk.services import active_rulebook

    return CriterionResult.objects.get(
        school__urn=urn, criterion__code=code, term=term, rulebook=rulebook or active_rulebook()
    )


# ------------------------------------------------------------------------------------------------
# Catalogue


@pytest.mark.django_db
def test_catalogue_holds_every_appendix_a_item_verbatim() -> None:
    from beacon.risk.models import Criterion

    seed_items = seed_appendix_a()
    assert len(seed_items) == 68  # counted by hand: 3 + 6 + 6 + 2 + 4 + 6 + 6 + 5 + 6 + 1 + 3 + 8 + 9 + 3
    camden = Criterion.objects.filter(model="camden")
    assert camden.count() == 68
    assert sorted(camden.values_list("text", flat=True)) == sorted(seed_items)
    # The seed repeats "vi" where xviii is meant: recorded as xviii, said so in its notes.
    xviii = Criterion.objects.get(code="A-xviii")
    assert xviii.ref == "xviii"
    assert xviii.text == "A number of the following issues need to be addressed:"
    assert "'vi' a second time" in xviii.notes
    assert Criterion.objects.get(code="A-xviii-b").text == "Weaknesses in the School Improvement Plan."
    assert Criterion.objects.filter(ref="vi").count() == 1
    assert Criterion.objects.get(code="A-vi").text.startswith("Inadequate progress in addressing the key")
    viii = Criterion.objects.get(code="A-viii")
    assert viii.text.startswith("The school is significantly above the median for absence")
    assert viii.kind == "data" and viii.phases == ["all"]
    assert Criterion.objects.get(code="A-sec-1").phases == ["secondary"]
    assert Criterion.objects.get(code="A-pri-2").kind == "data"
    assert Criterion.objects.get(code="A-xxi-g").parent.code == "A-xxi"  # type: ignore[union-attr]
    assert Criterion.objects.get(code="A-xii").kind == "judgement"
    assert list(Criterion.objects.filter(code__startswith="A-xxii-").values_list("ref", flat=True)) == [
        f"xxii ({c})" for c in "abcdefgh"
    ]
    # Cambridgeshire Appendix 4: 16 descriptors per category for schools, 14 for EYFS.
    cambs = Criterion.objects.filter(model="cambridgeshire")
    assert cambs.count() == 3 * 16 + 3 * 14
    assert cambs.filter(rag="red", code__startswith="C-ws-").count() == 16
    assert cambs.get(code="C-ws-red-4").text.startswith("End of Key Stage outcomes are declining")


@pytest.mark.django_db
def test_rulebook_versions_copy_rules_and_leave_the_old_one_alone() -> None:
    from beacon.risk.models import Rule, Rulebook
    from beacon.risk.services import active_rulebook, new_rulebook_version

    v1 = active_rulebook()
    assert v1.version == 1 and v1.model == "camden"
    data_codes = set(v1.rules.values_list("criterion__code", flat=True))
    assert {"A-i", "A-ii", "A-iii", "A-viii", "A-x-e", "A-xxi-a", "A-xxi-g", "A-vii"} <= data_codes
    assert v1.rules.get(criterion__code="A-ii").params["min_cohort"] == 11
    v2 = new_rulebook_version(v1)
    assert (v2.version, v2.is_active) == (2, True)
    v1.refresh_from_db()
    assert not v1.is_active
    assert Rule.objects.filter(rulebook=v2).count() == Rule.objects.filter(rulebook=v1).count()
    rule = v2.rules.get(criterion__code="A-ii")
    rule.params["min_cohort"] = 20
    rule.save()
    assert v1.rules.get(criterion__code="A-ii").params["min_cohort"] == 11
    assert Rulebook.objects.filter(model="cambridgeshire", version=1).exists()


# ------------------------------------------------------------------------------------------------
# Data-driven criteria on the Camden demo


def test_attainment_absence_rolls_and_missing_data(camden_demo: None, data_dir: Path) -> None:
    from beacon.risk.models import CriterionResult, Term
    from beacon.risk.services import evaluate

    # Autumn 2019: results to 2018/19 are current (issue 11: older evidence is stale, tested below).
    term = Term.parse("autumn-2019")
    summary = evaluate(term)
    assert summary.results == CriterionResult.objects.count() > 0

    # A-ii, Christ Church School (100029): KS2 RWM expected 2016-2018 vs England (LAIT), margin 5.
    ks2 = {
        year: float(
            csv_row(data_dir / f"waiky8-schools-data/ks2_perf_{year}.csv", 100029)["Overall Meet Std"][:-1]
        )
        for year in (2016, 2017, 2018)
    }
    england = lait("KS2RWM_Expected_STD", 970)
    below = [y for y in ks2 if ks2[y] < england[y] - 5]
    assert ks2 == {2016: 43.0, 2017: 71.0, 2018: 52.0} and len(below) == 2  # 43<54-5, 52<65-5
    r = result(100029, "A-ii", term)
    assert r.outcome == "met"
    item = next(i for i in r.evidence["items"] if i["measure"] == "ks2_rwm_expected")
    assert item["values"] == [ks2[2016], ks2[2017], ks2[2018]]
    assert item["benchmark"] == [england[2016], england[2017], england[2018]]
    assert item["years"] == [2015, 2016, 2017] and item["cohort"] == [28.0, 28.0, 29.0]
    assert "2 of 3 year(s)" in r.evidence["explanation"]

    # A-pri-1: latest KS2 year (2018) against England and London. The 2018 result is the same data item
    # that already meets A-ii (2 of 3 years below), so it is counted once, under ii (issue 13).
    london = lait("KS2RWM_Expected_STD", 986)
    r = result(100029, "A-pri-1", term)
    assert r.outcome == "counted_under"
    assert {i["comparator"]: i["benchmark"] for i in r.evidence["items"]} == {
        "national": [england[2018]],
        "london": [london[2018]],
    }
    assert r.evidence["counted_under"] == ["ii"]
    assert all(i["data_items"] == ["ks2_rwm_expected:2017"] for i in r.evidence["items"])
    assert "counted once, there" in r.evidence["explanation"]

    # A-sec-1, Haverstock School (100049? no: look up by name): Attainment 8 2018/19 vs England, margin 3.
    from beacon.schools.models import School

    haverstock = School.objects.get(name="Haverstock School")
    a8 = float(csv_row(data_dir / "waiky8-eng-schools/england_ks4final.csv", haverstock.urn)["ATT8SCR"])
    a8_england = lait("AVG_Attain8_Score", 970)[2019]
    assert a8 < a8_england - 3
    r = result(haverstock.urn, "A-sec-1", term)
    assert r.outcome == "met"
    item = next(
        i for i in r.evidence["items"] if i["measure"] == "ks4_attainment8" and i["comparator"] == "national"
    )
    assert item["values"] == [a8] and item["benchmark"] == [a8_england] and item["years"] == [2018]

    # A-viii, Acland Burghley (100053): 2018/19 absence vs the MEDIAN of the state-funded secondary
    # schools held (issue 13: "median" means median, not England's mean rate), read from the CSP file.
    row = csv_row(data_dir / "kspdeveloper-csp-2018-19/england_abs.csv", 100053)
    overall, persistent = float(row["PERCTOT"]), float(row["PPERSABS10"])
    secondaries = set(
        School.objects.filter(is_state_funded=True, phase="secondary").values_list("urn", flat=True)
    )
    with (data_dir / "kspdeveloper-csp-2018-19/england_abs.csv").open(encoding="utf-8-sig") as fh:
        sec_rows = [r for r in csv.DictReader(fh) if r["URN"].isdigit() and int(r["URN"]) in secondaries]
    sec_overall = sorted(float(r["PERCTOT"]) for r in sec_rows if re.fullmatch(r"[\d.]+", r["PERCTOT"]))
    sec_pa = sorted(float(r["PPERSABS10"]) for r in sec_rows if re.fullmatch(r"[\d.]+", r["PPERSABS10"]))
    median_overall, median_pa = float(np.median(sec_overall)), float(np.median(sec_pa))
    abs_england, pa_england = lait("TotAbs", 970)[2019], lait("TotPerAbNew", 970)[2019]
    # Before (England's rate as the benchmark) Acland Burghley met viii; against the median of Camden's
    # secondaries (5.4% overall, 14.15% persistent) it does not: 6.3 <= 5.4 + 1 and 18.5 <= 14.15 + 5.
    assert overall > abs_england + 1.0 and persistent > pa_england + 5.0
    assert overall <= median_overall + 1.0 and persistent <= median_pa + 5.0
    r = result(100053, "A-viii", term)
    assert r.outcome == "not_met"
    items = {i["measure"]: i for i in r.evidence["items"]}
    assert items["absence_overall"]["values"] == [overall]
    assert items["absence_overall"]["benchmark"] == pytest.approx(median_overall)
    assert items["absence_overall"]["benchmark_kind"] == "median_same_phase"
    assert items["absence_overall"]["median_schools"] == len(sec_overall)
    assert items["absence_overall"]["england"] == pytest.approx(abs_england)
    assert items["absence_overall"]["la"] == pytest.approx(lait("TotAbs", 202)[2019])
    assert items["absence_persistent"]["benchmark"] == pytest.approx(median_pa)
    assert f"the median of {len(sec_overall)} secondary schools in the LA" in r.evidence["explanation"]

    # Suppressed persistent absence (a real 'x' in the CSP file) is no evidence, never worst case.
    with (data_dir / "kspdeveloper-csp-2018-19/england_abs.csv").open(encoding="utf-8-sig") as fh:
        suppressed = [
            r for r in csv.DictReader(fh) if r["LA"] == "202" and r["PPERSABS10"] in {"x", "c", "SUPP"}
        ]
    camden_urns = set(School.objects.filter(is_state_funded=True).values_list("urn", flat=True))
    suppressed = [r for r in suppressed if int(r["URN"]) in camden_urns]
    assert suppressed, "expected a suppressed persistent absence figure for a Camden school"
    for srow in suppressed:
        r = result(int(srow["URN"]), "A-viii", term)
        items = {i["measure"]: i for i in r.evidence["items"]}
        assert items["absence_persistent"]["status"] == "suppressed"
        overall = float(srow["PERCTOT"])
        bench = items["absence_overall"]["benchmark"]
        assert r.outcome == ("met" if overall > bench + 1.0 else "not_met")

    # A-xxi-g falling rolls, Brecknock Primary (100010): January 2023 to January 2025 (CSP NOR), the two
    # latest censuses since the demo loads the January 2025 census (issue 11).
    with (data_dir / "helios-census-2022-23/spc_school_level_underlying_data_2022_23.csv").open() as fh:
        nor_2023 = float(next(r for r in csv.DictReader(fh) if r["urn"] == "100010")["headcount of pupils"])
    nor_2025 = float(csv_row(data_dir / "calvinchankf-csp-2024-25/england_census.csv", 100010)["NOR"])
    fall = (nor_2023 - nor_2025) / nor_2023 * 100
    assert fall >= 10
    autumn_2025 = Term.parse("autumn-2025")  # the January 2025 census is current then
    evaluate(autumn_2025)
    r = result(100010, "A-xxi-g", autumn_2025)
    assert r.outcome == "met"
    assert r.evidence["items"][0]["values"] == [nor_2023, nor_2025]
    assert r.evidence["items"][0]["fall_pct"] == pytest.approx(fall)

    # A-iii declining, Acland Burghley (100053): Attainment 8 in 2017, 2018 (CSP) and 2019 (final).
    a8s = [
        float(csv_row(data_dir / "waiky8-schools-data/ks4_perf_2017.csv", 100053)["Attainment 8"]),
        float(csv_row(data_dir / "waiky8-schools-data/ks4_perf_2018.csv", 100053)["Attainment 8"]),
        float(csv_row(data_dir / "waiky8-eng-schools/england_ks4final.csv", 100053)["ATT8SCR"]),
    ]
    assert a8s[0] > a8s[1] > a8s[2] and a8s[0] - a8s[2] >= 3  # 51.2 > 48.0 > 47.5: down 3.7
    r = result(100053, "A-iii", term)
    assert r.outcome == "met"
    item = next(i for i in r.evidence["items"] if i["measure"] == "ks4_attainment8")
    assert item["values"] == a8s and item["drop"] == pytest.approx(a8s[0] - a8s[2])
    # Christ Church's KS2 RWM rose then fell (43, 71, 52): not a decline.
    assert next(
        i for i in result(100029, "A-iii", term).evidence["items"] if i["measure"] == "ks2_rwm_expected"
    )["values"] == [43.0, 71.0, 52.0]
    assert result(100029, "A-iii", term).outcome == "not_met"

    # No school-level phonics or suspensions are held, nor disadvantaged results up to 2018/19 (those of
    # 2022/23 on are in the demo, after this term): no evidence for all in autumn 2019.
    for code in ("A-pri-2", "A-pri-3", "A-vii", "A-sec-3"):
        outcomes = set(
            CriterionResult.objects.filter(term=term, criterion__code=code).values_list("outcome", flat=True)
        )
        assert outcomes == {"no_evidence"}, code
    assert "No school-level suspension data" in result(100029, "A-vii", term).evidence["explanation"]
    # Independent schools are not assessed; special schools are not judged on national benchmarks.
    assert not CriterionResult.objects.filter(school__is_state_funded=False).exists()
    assert not CriterionResult.objects.filter(school__phase="special", criterion__code="A-ii").exists()
    assert CriterionResult.objects.filter(school__phase="special", criterion__code="A-viii").exists()
    # Secondary criteria are not evaluated for primaries and vice versa.
    assert not CriterionResult.objects.filter(school__urn=100029, criterion__code="A-sec-1").exists()

    # Idempotent: a second run rewrites the same rows with the same outcomes.
    before = sorted(CriterionResult.objects.values_list("school_id", "criterion_id", "outcome"))
    again = evaluate(term)
    assert again.results == summary.results
    assert sorted(CriterionResult.objects.values_list("school_id", "criterion_id", "outcome")) == before


def test_small_cohorts_versions_and_proposals(camden_demo: None, data_dir: Path) -> None:
    from beacon.risk.models import CriterionResult, Term
    from beacon.risk.selectors import (
        proposed_rag,
        proposed_support_level,
        results_for_school,
        risk_score_frame,
    )
    from beacon.risk.services import active_rulebook, evaluate, new_rulebook_version
    from beacon.schools.models import School

    term = Term.parse("autumn-2019")
    v1 = active_rulebook()
    evaluate(term, v1)
    # St Luke's CE School (136807): 13 pupils at KS2 in 2018 (its latest year) per the CSP file.
    cohort = float(csv_row(data_dir / "waiky8-schools-data/ks2_perf_2018.csv", 136807)["KS2 Pupils"])
    assert cohort == 13
    old = result(136807, "A-pri-1", term, v1)
    assert old.outcome in {"met", "not_met"}  # 13 >= 11: judged under v1
    v2 = new_rulebook_version(v1)
    rule = v2.rules.get(criterion__code="A-pri-1")
    rule.params["min_cohort"] = 15
    rule.save()
    evaluate(term)  # the active rulebook is now v2
    new = result(136807, "A-pri-1", term, v2)
    assert new.outcome == "low_confidence"
    assert "cohort of 13 pupils is under 15" in new.evidence["explanation"]
    # v1's results are untouched.
    old_again = result(136807, "A-pri-1", term, v1)
    assert (old_again.outcome, old_again.evidence) == (old.outcome, old.evidence)
    assert (
        CriterionResult.objects.filter(rulebook=v1).count()
        == CriterionResult.objects.filter(rulebook=v2).count()
    )

    # Ranking and proposals (v2 active).
    scores = risk_score_frame(term)
    assert scores["score"].to_list() == sorted(scores["score"].to_list(), reverse=True)
    christ_church = School.objects.get(urn=100029)
    met = [r.criterion.code for r in results_for_school(christ_church, term) if r.outcome == "met"]
    assert "A-ii" in met and "A-pri-1" not in met  # pri-1's data item is counted under ii
    orders = [r.criterion.sort_order for r in results_for_school(christ_church, term)]
    assert orders == sorted(orders)
    rag, level, reasons = proposed_support_level(christ_church, term)
    assert (rag, level) == ("amber", "focused") and reasons
    rag, level, reasons = proposed_rag(christ_church, term, extra_met=["A-i"])
    assert (rag, level) == ("red", "targeted")
    assert any("Ofsted evaluation area" in r for r in reasons)
    # The Cambridgeshire model runs on the same engine; its RAG is the worst category met.
    cambs = active_rulebook("cambridgeshire")
    evaluate(term, cambs)
    assert result(100053, "C-ws-red-4", term, cambs).outcome == "met"  # A8 declining 3 years
    assert proposed_rag(School.objects.get(urn=100053), term, cambs)[0] == "red"
    clean = scores.filter(pl.col("met") == 0)["urn"].to_list()
    assert clean, "some Camden school meets no data criterion"
    assert proposed_rag(School.objects.get(urn=clean[0]), term)[:2] == ("green", "universal")


# A fixed start date, the clock moving on from it (history rows are ordered by their time).
@pytest.mark.time_machine(dt.datetime(2026, 11, 30, 12, 0, tzinfo=dt.UTC), tick=True)
def test_ofsted_safeguarding_and_head_change(camden_demo: None, data_dir: Path) -> None:
    from beacon.risk.models import Term
    from beacon.risk.services import evaluate
    from beacon.schools.models import School

    # Autumn 2013: the latest graded inspection before 1 September 2013, from the Ofsted history file.
    term = Term.parse("autumn-2013")
    evaluate(term)
    state = {s.urn: s for s in School.objects.filter(is_state_funded=True)}
    latest: dict[int, tuple[str, str]] = {}
    with (data_dir / "waiky8-schools-data/ofsted_ratings_2018.csv").open(
        encoding="utf-8", errors="replace"
    ) as fh:
        for row in csv.DictReader(fh):
            urn, when = int(row["URN"]), row["Inspection Date"]
            if urn in state and when < "20130901" and (urn not in latest or when > latest[urn][0]):
                latest[urn] = (when, row["Rating"])
    below = {
        u
        for u, (_, rating) in latest.items()
        if rating.lower() in {"requires improvement", "inadequate", "satisfactory"}
    }
    assert below, "some Camden school was below good in 2013"
    for urn in latest:
        r = result(urn, "A-i", term)
        assert r.outcome == ("met" if urn in below else "not_met"), (urn, latest[urn], r.evidence)
        assert r.evidence["items"][0]["inspection_date"].replace("-", "") == latest[urn][0]

    # Summer 2026: Gospel Oak's January 2026 report card (MI sample) - safeguarding met, no area below.
    summer = Term.parse("summer-2026")
    evaluate(summer)
    r = result(100025, "A-i", summer)
    assert r.outcome == "not_met" and "report card 2026-01-13" in r.evidence["explanation"]
    assert result(100025, "A-x-e", summer).outcome == "not_met"

    # Head change: one observation of the head's name is no evidence; a change in the register's
    # history (as a later GIAS import would record) within 24 months is met.
    school = School.objects.get(urn=100029)
    assert result(100029, "A-xxi-a", summer).outcome == "no_evidence"
    first_head = school.head_name
    assert first_head
    school.head_name = "Ms A New-Head"
    school.save()
    later = Term.objects.create(academic_year=dt.date.today().year + 1, term="autumn")
    evaluate(later)
    r = result(100029, "A-xxi-a", later)
    assert r.outcome == "met"
    assert r.evidence["items"][0]["names"] == [first_head, "Ms A New-Head"]


@pytest.mark.django_db
def test_register_history_counts_before_the_cutoff_day_in_london_time(camden_register: None) -> None:
    """The head-teacher history the rules read is what was recorded before the cutoff day began in the
    service's time zone (as `history_date__date__lt` selects): at 23:30 UTC on 31 August it is already
    1 September in London (BST), so that record is after a 1 September cutoff; at 22:30 UTC it is before."""
    from beacon.risk.services import load_frames
    from beacon.schools.models import School

    school = School.objects.filter(is_state_funded=True).exclude(head_name="").order_by("urn").first()
    assert school is not None
    history = School.history.filter(id=school.pk)  # type: ignore[attr-defined]
    assert history.exclude(head_name="").exists()
    stamps = {
        "before": dt.datetime(2025, 8, 31, 22, 30, tzinfo=dt.UTC),
        "after": dt.datetime(2025, 8, 31, 23, 30, tzinfo=dt.UTC),
    }
    for label, when in stamps.items():
        history.update(history_date=when)
        heads = load_frames(data_year=2024, cutoff=dt.date(2025, 9, 1), school_ids=[school.pk]).heads
        expected = set(
            School.history.filter(  # type: ignore[attr-defined]
                id=school.pk, history_date__date__lt=dt.date(2025, 9, 1)
            )
            .exclude(head_name="")
            .values_list("history_date", flat=True)
        )
        assert set(heads["history_date"].to_list()) == expected
        assert (when in expected) == (label == "before")
