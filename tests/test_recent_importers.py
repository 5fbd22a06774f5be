"""Recent school-level files (2022/23-2024/25) and DfE's current absence / suspensions format (issue 11).

Real rows of the shared files, loaded over the real Camden register; worked values are copied from the files.
The EES absence and suspensions fixtures are built to the published column specification with illustrative
values (tests/fixtures/ees_school_level/README.md).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from beacon.imports.framework import run_import
from beacon.imports.models import ImportRun, RunStatus
from beacon.indicators.models import SchoolMeasure
from beacon.schools.models import School

CAMDEN = 202
CK = "charleskk6-ks2-ks4-2023-25"
GF = "gieffeemme-school-data-by-urn"
CALVIN = "calvinchankf-csp-2024-25"
HEMALEED = "hemaleed-ks4-2024-25-camden/camden_ks4_prev_years_from_ks4_2025.csv"
FIXTURES = Path(__file__).parent / "fixtures" / "ees_school_level"

ARGYLE, ACLAND, CSG, HARMOOD, WEST_HAMPSTEAD = 100008, 100053, 100054, 100092, 100009

RECENT_SOURCES = ("ks2_results_matched", "absence_school_ees")

pytestmark = pytest.mark.django_db


def imported(source: str, path: Path, *, year: int | None = None, la: int | None = CAMDEN) -> ImportRun:
    run = run_import(source, path, year=year, la_code=la)
    assert run.status == RunStatus.SUCCEEDED, (run.message, run.errors[:3])
    return run


def value(urn: int, code: str, year: int) -> SchoolMeasure:
    return SchoolMeasure.objects.select_related("source_run").get(
        school__urn=urn, measure__code=code, year=year
    )


def notes(run: ImportRun) -> str:
    return "\n".join(run.notes)


# ---------------------------------------------------------------------------------------------
# KS2


def test_argyle_ks2_2024_25_from_the_shared_file(camden_register: None, data_dir: Path) -> None:
    # charleskk6 ks2_2024-2025: "2024/25,100008,matched,...,Argyle Primary School,...,202,london,81.0,11.0,106.0,107.0,109.0"
    run = imported(
        "ks2_results_matched", data_dir / CK / "ks2_2024-2025_school_level_with_urn.csv", year=2024
    )
    rwm = value(ARGYLE, "ks2_rwm_expected", 2024)
    assert (rwm.value, rwm.status, rwm.source_run_id) == (81.0, "ok", run.pk)
    assert value(ARGYLE, "ks2_rwm_higher", 2024).value == 11.0
    assert value(ARGYLE, "ks2_reading_score", 2024).value == 106.0
    assert value(ARGYLE, "ks2_maths_score", 2024).value == 107.0
    assert value(ARGYLE, "ks2_gps_score", 2024).value == 109.0
    # Only Camden (lea 202) rows, and no progress score: none is published for 2024/25.
    assert not SchoolMeasure.objects.filter(year=2024).exclude(school__la_code=CAMDEN).exists()
    assert not SchoolMeasure.objects.filter(measure__code__endswith="_progress", year=2024).exists()
    assert run.rows_read == 15056


def test_year_comes_from_the_file_not_the_run(camden_register: None, data_dir: Path) -> None:
    run = imported(
        "ks2_results_matched", data_dir / CK / "ks2_2023-2024_school_level_with_urn.csv", year=2024
    )
    # "2023/24,100008,...,85.0,23.0,107.0,108.0,108.0"
    assert value(ARGYLE, "ks2_rwm_expected", 2023).value == 85.0
    assert not SchoolMeasure.objects.filter(year=2024).exists()
    assert "The file's own academic year (2023) was used, not 2024." in run.notes


def test_ks2_2022_23_progress_from_gieffeemme(camden_register: None, data_dir: Path) -> None:
    imported("ks2_results_by_urn", data_dir / GF / "ks2_by_urn.csv", year=2022)
    # "100008,71,22,1.6,2.6,1.3,2022/23"
    assert value(ARGYLE, "ks2_rwm_expected", 2022).value == 71.0
    assert value(ARGYLE, "ks2_rwm_higher", 2022).value == 22.0
    assert [value(ARGYLE, f"ks2_{s}_progress", 2022).value for s in ("reading", "writing", "maths")] == [
        1.6,
        2.6,
        1.3,
    ]


def test_ambiguous_and_unmatched_urns_are_reported_not_guessed(camden_register: None, data_dir: Path) -> None:
    # Southwark (210), KS2 2024/25: file row 656 is St Joseph's Catholic Primary School, urn empty,
    # urn_match 'ambiguous', candidates 100833;149346. Southwark schools are not in the Camden register.
    run = imported(
        "ks2_results_matched", data_dir / CK / "ks2_2024-2025_school_level_with_urn.csv", year=2024, la=210
    )
    text = notes(run)
    assert (
        "row 656: 'St Joseph's Catholic Primary School' (LA 210): URN ambiguous, candidates 100833;149346; "
        "not imported" in text
    )
    assert "rows have no single matched URN (reported, not guessed)" in text
    assert "rows are for URNs not in the register" in text
    assert not SchoolMeasure.objects.filter(year=2024).exists()


def test_ks4_matched_file_reports_ambiguous_and_unmatched_rows(camden_register: None, data_dir: Path) -> None:
    run = imported(
        "ks4_results_matched", data_dir / CK / "ks4_2024-2025_school_level_with_urn.csv", year=2024, la=213
    )
    # Westminster rows 214 and 215: two 'Francis Holland School' rows, candidates 101158;101161.
    assert "row 214: 'Francis Holland School' (LA 213): URN ambiguous, candidates 101158;101161" in notes(run)
    assert "row 215: 'Francis Holland School' (LA 213): URN ambiguous" in notes(run)
    unmatched = imported(
        "ks4_results_matched", data_dir / CK / "ks4_2024-2025_school_level_with_urn.csv", year=2024, la=211
    )
    assert "row 187: 'New City College' (LA 211): no URN matched; not imported" in notes(unmatched)


# ---------------------------------------------------------------------------------------------
# KS4 and precedence


@pytest.mark.parametrize(
    "few_schools", [0, 2000], ids=["every school's values read", "the file's schools only"]
)
def test_final_beats_provisional_when_provisional_loads_last(
    camden_register: None, data_dir: Path, monkeypatch: pytest.MonkeyPatch, few_schools: int
) -> None:
    """The same outcome whether the values already held are read for every school (a national file) or for
    the file's schools only (an LA's file)."""
    monkeypatch.setattr("beacon.indicators.precedence.FEW_SCHOOLS", few_schools)
    final = imported(
        "ks4_results_matched", data_dir / CK / "ks4_2024-2025_school_level_with_urn.csv", year=2024
    )
    provisional = imported(
        "ks4_results_provisional", data_dir / CALVIN / "secondary_ks4_2024-25_provisional.csv", year=2024
    )
    # Acland Burghley A8 2024/25: final 49.9 (charleskk6), provisional 49.7 (calvinchankf).
    a8 = value(ACLAND, "ks4_attainment8", 2024)
    assert (a8.value, a8.source_run_id, a8.source_run.source) == (49.9, final.pk, "ks4_results_matched")
    assert "already holds them and this file is provisional" in notes(provisional)
    # English and maths 9-4 is only in the provisional file: stored, and it says so.
    em4 = value(ACLAND, "ks4_em_grade4", 2024)
    assert (em4.value, em4.source_run.source) == (68.2, "ks4_results_provisional")


def test_final_replaces_provisional_when_final_loads_last(camden_register: None, data_dir: Path) -> None:
    imported(
        "ks4_results_provisional", data_dir / CALVIN / "secondary_ks4_2024-25_provisional.csv", year=2024
    )
    assert value(ACLAND, "ks4_attainment8", 2024).value == 49.7
    final = imported(
        "ks4_results_matched", data_dir / CK / "ks4_2024-2025_school_level_with_urn.csv", year=2024
    )
    a8 = value(ACLAND, "ks4_attainment8", 2024)
    assert (a8.value, a8.source_run_id) == (49.9, final.pk)
    assert (
        "values from 'ks4_results_provisional' (provisional) were replaced by this file (final, which "
        "outranks them)" in notes(final)
    )
    # Camden School for Girls EBacc entry: provisional 64.1, final 64.1; A8 provisional 63.9, final 64.0.
    assert value(CSG, "ks4_attainment8", 2024).value == 64.0


def test_camden_p8_2023_24_from_the_csp_transcription(camden_register: None, data_dir: Path) -> None:
    run = imported("ks4_results_csp_prev_years", data_dir / HEMALEED, year=2024)
    # The Camden School for Girls: P8MEA_PREV 0.62 (2023/24), P8MEA_PREV2 0.77 (2022/23), CI 0.36..0.89.
    assert value(CSG, "ks4_progress8", 2023).value == 0.62
    assert value(CSG, "ks4_progress8", 2022).value == 0.77
    assert value(CSG, "ks4_progress8_ci_lower", 2023).value == 0.36
    assert value(CSG, "ks4_progress8_ci_upper", 2023).value == 0.89
    assert value(CSG, "ks4_progress8_pupils", 2023).value == 109
    assert value(CSG, "ks4_attainment8", 2023).value == 65.4
    # '42.30%' -> 42.3 (PTEBACC_E_PTQ_EE_PREV of Acland Burghley)
    assert value(ACLAND, "ks4_ebacc_entry", 2023).value == 42.3
    # CSP codes are kept as a status: Harmood School P8MEA_PREV 'NE', P8MEA_PREV2 -2.22.
    ne = value(HARMOOD, "ks4_progress8", 2023)
    assert (ne.value, ne.status) == (None, "no_entries")
    assert value(HARMOOD, "ks4_progress8", 2022).value == -2.22
    # No 2024/25 values (the file's own-year columns are not in it) and the Camden LA row is a summary.
    assert not SchoolMeasure.objects.filter(year=2024).exists()
    assert "1 national or LA summary rows (no URN) were not imported." in run.notes


def test_original_columns_beat_the_rounded_rekeyed_file_either_order(
    camden_register: None, data_dir: Path
) -> None:
    imported("ks4_results_by_urn", data_dir / GF / "ks4_by_urn.csv", year=2022)
    # gieffeemme 2022/23 Acland Burghley: "100053,-0.16,50.3,57,68,42,34,-0.99" (percentages rounded)
    assert value(ACLAND, "ks4_em_grade5", 2022).value == 57.0
    assert value(ACLAND, "ks4_progress8_disadvantaged", 2022).value == -0.99
    hemaleed = imported("ks4_results_csp_prev_years", data_dir / HEMALEED, year=2024)
    em5 = value(ACLAND, "ks4_em_grade5", 2022)
    assert em5.source_run_id == hemaleed.pk and em5.value != 57.0 and round(em5.value) == 57
    p8 = value(ACLAND, "ks4_progress8", 2022)
    assert (p8.value, p8.source_run.source) == (-0.16, "ks4_results_csp_prev_years")
    # Loading the rounded file again (forced) does not overwrite the DfE-column values.
    again = run_import(
        "ks4_results_by_urn", data_dir / GF / "ks4_by_urn.csv", year=2022, la_code=CAMDEN, force=True
    )
    assert value(ACLAND, "ks4_em_grade5", 2022).source_run_id == hemaleed.pk
    assert "'ks4_results_csp_prev_years' (final, DfE published columns) already holds them" in notes(again)
    # A measure only the rounded file has stays from it.
    assert value(ACLAND, "ks4_progress8_disadvantaged", 2022).source_run.source == "ks4_results_by_urn"


# ---------------------------------------------------------------------------------------------
# Idempotency, register changes, bad files


def test_same_file_twice_is_a_duplicate(camden_register: None, data_dir: Path) -> None:
    path = data_dir / CK / "ks2_2024-2025_school_level_with_urn.csv"
    imported("ks2_results_matched", path, year=2024)
    before = list(SchoolMeasure.objects.order_by("pk").values_list("pk", "value", "status", "source_run"))
    again = run_import("ks2_results_matched", path, year=2024, la_code=CAMDEN)
    assert again.status == RunStatus.DUPLICATE
    assert (
        list(SchoolMeasure.objects.order_by("pk").values_list("pk", "value", "status", "source_run"))
        == before
    )


def test_reimport_picks_up_a_school_that_joined_the_register(camden_register: None, data_dir: Path) -> None:
    path = data_dir / CK / "ks2_2024-2025_school_level_with_urn.csv"
    first = imported("ks2_results_matched", path, year=2024, la=210)
    # Southwark's URNs are unknown to the Camden register; one school joins it.
    import csv

    with path.open(encoding="utf-8") as fh:
        row = next(r for r in csv.DictReader(fh) if r["lea"] == "210" and r["urn_match"] == "matched")
    assert f"URN {row['urn']}" in notes(first)
    School.objects.create(urn=int(row["urn"]), name=row["name"], la_code=210)
    second = run_import("ks2_results_matched", path, year=2024, la_code=210)
    assert second.status == RunStatus.SUCCEEDED
    assert value(int(row["urn"]), "ks2_rwm_expected", 2024).value == float(row["PTRWM_EXP"])
    # With the register unchanged since, the next attempt is a duplicate again.
    assert run_import("ks2_results_matched", path, year=2024, la_code=210).status == RunStatus.DUPLICATE


def test_bad_file_is_rejected_with_row_and_column_and_nothing_written(
    camden_register: None, data_dir: Path, tmp_path: Path
) -> None:
    import csv

    with (data_dir / CK / "ks2_2024-2025_school_level_with_urn.csv").open(encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        header = list(reader.fieldnames or [])
        camden = [r for r in reader if r["lea"] == "202"]
    camden[2]["PTRWM_EXP"] = "eighty"  # file row 4
    bad = tmp_path / "ks2_bad.csv"

    def write(rows: list[dict[str, str]]) -> None:
        with bad.open("w", encoding="utf-8", newline="") as out:
            w = csv.DictWriter(out, fieldnames=header)
            w.writeheader()
            w.writerows(rows)

    write(camden)
    run = run_import("ks2_results_matched", bad, year=2024, la_code=CAMDEN)
    assert run.status == RunStatus.REJECTED
    assert (run.errors[0]["row"], run.errors[0]["column"], run.errors[0]["value"]) == (
        4,
        "PTRWM_EXP",
        "eighty",
    )
    assert not SchoolMeasure.objects.filter(source_run__source__in=RECENT_SOURCES).exists()
    camden[2]["PTRWM_EXP"] = "81.0"
    camden[3]["academic_year"] = "2024-2o25"  # file row 5
    write(camden)
    run = run_import("ks2_results_matched", bad, year=2024, la_code=CAMDEN)
    assert run.status == RunStatus.REJECTED
    assert (run.errors[0]["row"], run.errors[0]["column"], run.errors[0]["value"]) == (
        5,
        "academic_year",
        "2024-2o25",
    )
    assert not SchoolMeasure.objects.filter(source_run__source__in=RECENT_SOURCES).exists()


# ---------------------------------------------------------------------------------------------
# Context, finance, workforce, 16-18, destinations


def test_census_context_january_2023(camden_register: None, data_dir: Path) -> None:
    run = imported("census_context_by_urn", data_dir / GF / "census_by_urn.csv", year=2022)
    # "100008,56.4,87.4,3.4,17.4": FSM6, EAL, EHCP, SEN support
    got = [value(ARGYLE, c, 2022).value for c in ("fsm_ever6", "sen_ehcp", "sen_support")]
    assert got == [56.4, 3.4, 17.4]
    # % EAL is also in the SPC census file the register came from (DfE's own columns, unrounded): it stays.
    eal = value(ARGYLE, "eal", 2022)
    assert eal.source_run.source == "school_census" and round(eal.value, 1) == 87.4
    assert "'school_census' (final, DfE published columns) already holds them" in notes(run)


def test_finance_workforce_and_ks5(camden_register: None, data_dir: Path) -> None:
    imported("finance_by_urn", data_dir / GF / "finance_by_urn.csv")
    imported("workforce_by_urn", data_dir / GF / "workforce_by_urn.csv")
    imported("ks5_results_by_urn", data_dir / GF / "ks5_by_urn.csv")
    # finance "100008,13157,339117,-292656,2024/25"; workforce "100008,18.4,16.2,38.17,2023/24"
    assert value(ARGYLE, "finance_spend_per_pupil", 2024).value == 13157
    assert value(ARGYLE, "finance_revenue_reserve", 2024).value == 339117
    assert value(ARGYLE, "finance_in_year_balance", 2024).value == -292656
    assert value(ARGYLE, "workforce_pupil_teacher_ratio", 2023).value == 18.4
    assert value(ARGYLE, "workforce_staff_fte", 2023).value == 38.17
    # ks5 "100053,C,30.99,5.7,106,2022/23"
    assert value(ACLAND, "alevel_aps_per_entry", 2022).value == 30.99
    assert value(ACLAND, "alevel_aab_facilitating", 2022).value == 5.7
    assert value(ACLAND, "alevel_cohort", 2022).value == 106


def test_destinations_csp_headers_and_rekeyed(camden_register: None, data_dir: Path) -> None:
    imported("ks4_destinations", data_dir / CALVIN / "england_ks4-pupdest.csv", year=2023)
    imported("ks5_destinations", data_dir / CALVIN / "england_ks5-studest.csv", year=2023)
    imported("ks5_destinations", data_dir / CALVIN / "england_ks5-studest-he.csv", year=2023)
    imported("destinations_by_urn", data_dir / GF / "destinations_by_urn.csv", year=2021)
    # ks4-pupdest Acland Burghley: COHORT 178, OVERALL_DESTPER 92%
    assert value(ACLAND, "ks4dest_cohort", 2023).value == 178
    assert value(ACLAND, "ks4dest_overall", 2023).value == 92
    # ks5-studest: TOT_COHORT 138, TOT_OVERALLPER 78%, TOT_HEPER 36%; ks5-studest-he: ALL_PROGRESSED 73%
    assert value(ACLAND, "ks5dest_cohort", 2023).value == 138
    assert value(ACLAND, "ks5dest_overall", 2023).value == 78
    assert value(ACLAND, "ks5dest_he", 2023).value == 36
    assert value(ACLAND, "ks5dest_he_progressed", 2023).value == 73
    # gieffeemme "100053,95,94,1,1,4,85,52,5,2,26"
    assert value(ACLAND, "ks4dest_overall", 2021).value == 95
    assert value(ACLAND, "ks5dest_he", 2021).value == 52


# ---------------------------------------------------------------------------------------------
# DfE's current school-level absence and suspensions files (fixtures built to the specification)


def test_ees_absence_file_maps_to_the_risk_measures(camden_register: None) -> None:
    run = imported("absence_school_ees", FIXTURES / "absence_school_sample.csv")
    overall = value(ARGYLE, "absence_overall", 2023)
    assert (overall.value, overall.status) == (5.5, "ok")  # the full year, not the autumn term's 5.0
    assert value(ARGYLE, "absence_persistent", 2023).value == 15.0
    assert value(ARGYLE, "absence_unauthorised", 2023).value == 1.5
    assert value(ACLAND, "absence_persistent", 2023).value == 30.0
    text = notes(run)
    # The LA filter (old_la_code 202) leaves out the national row; Camden's LA row is not a school.
    assert "1 national, regional or LA rows were not imported" in text
    assert "1 termly rows were not imported" in text
    assert "URN 199999 (Illustrative School Not In The Register)" in text
    # The Islington row is left out by the LA filter (old_la_code 206).
    assert not SchoolMeasure.objects.exclude(school__la_code=CAMDEN).exists()


def test_ees_absence_bad_value_rejected(camden_register: None, tmp_path: Path) -> None:
    text = (
        (FIXTURES / "absence_school_sample.csv")
        .read_text(encoding="utf-8")
        .replace(",5.5,4.0,1.5,", ",5.5,4.0,1.5%%,")
    )
    bad = tmp_path / "absence.csv"
    bad.write_text(text, encoding="utf-8")
    run = run_import("absence_school_ees", bad, la_code=CAMDEN)
    assert run.status == RunStatus.REJECTED
    assert (run.errors[0]["row"], run.errors[0]["column"]) == (4, "sess_unauthorised_percent")
    assert not SchoolMeasure.objects.filter(source_run__source__in=RECENT_SOURCES).exists()


def test_ees_suspensions_termly_and_full_year(camden_register: None) -> None:
    run = imported("suspensions_school_ees", FIXTURES / "suspensions_school_sample.csv")
    # Acland Burghley, three terms: (30 + 25 + 22) suspensions per 100 of the spring headcount 1,100 = 7.0
    assert value(ACLAND, "suspension_rate", 2023).value == pytest.approx(7.0)
    assert value(ACLAND, "permanent_exclusion_rate", 2023).value == pytest.approx(100 / 1100)
    # Argyle's full-year row as published
    assert value(ARGYLE, "suspension_rate", 2023).value == 0.95238
    assert value(ARGYLE, "suspension_one_plus_rate", 2023).value == 0.71429
    # West Hampstead has two terms only: no annual rate, reported
    assert not SchoolMeasure.objects.filter(school__urn=WEST_HAMPSTEAD, measure__topic="behaviour").exists()
    assert "1 school-years have fewer than three terms" in notes(run)


def test_demo_plan_loads_recent_results_after_every_register_source() -> None:
    from beacon.imports.demo import LATE_ORDER, demo_plan

    plan = [key for key, _rel, _year in demo_plan()]
    first_late = min(plan.index(k) for k in LATE_ORDER)
    assert set(LATE_ORDER) <= set(plan)
    assert plan.index("school_census") < first_late and plan.index("gias_establishments") < first_late
    assert set(plan[first_late:]) == set(LATE_ORDER)
    assert ("ks2_results_matched", f"{CK}/ks2_2024-2025_school_level_with_urn.csv", 2024) in demo_plan()
