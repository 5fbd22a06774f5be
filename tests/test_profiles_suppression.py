"""Small-number suppression for the public profile (beacon/profiles/suppression.py): the rules, and their
agreement with the DfE's own suppression on every row of the real 2016/17 KS2 and KS4 performance files."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from beacon.indicators.catalogue import BY_CODE
from beacon.indicators.models import ValueStatus
from beacon.profiles import suppression as s
from beacon.profiles.suppression import Shown


def test_counts_of_one_to_five_are_suppressed_zero_and_six_are_shown() -> None:
    assert s.COUNT_THRESHOLD == 6
    for n in (1, 2, 5):
        f = s.public_count(float(n), year=2017)
        assert f.shown == Shown.SUPPRESSED and f.text == "Suppressed" and f.value is None
        assert f.reason == "Fewer than 6 pupils" and f.year_label == "2017/18"
    assert s.public_count(0.0).text == "0"  # a real zero is not disclosive
    six = s.public_count(6.0, year=2022)
    assert (six.shown, six.text, six.value, six.year_label) == (Shown.PUBLISHED, "6", 6.0, "2022/23")
    assert s.public_count(1163.0).text == "1,163"


def test_rates_on_cohorts_of_five_or_fewer_are_suppressed() -> None:
    assert s.COHORT_THRESHOLD == 6
    assert s.public_rate(72.0, cohort=5).shown == Shown.SUPPRESSED
    assert s.public_rate(72.0, cohort=1).text == "Suppressed"
    assert s.public_rate(72.0, cohort=6).text == "72.0%"
    assert s.public_rate(47.5, unit="score", decimals=1, cohort=150).text == "47.5"
    assert s.public_rate(-0.08, unit="score", decimals=2, cohort=150).text == "-0.08"
    assert s.public_rate(0.25, unit="score", decimals=2).text == "+0.25"
    # No cohort held (whole-school census percentages): the DfE's status decides.
    assert s.public_rate(32.2).text == "32.2%"
    # A figure whose cohort was itself withheld as small is withheld too.
    assert s.public_rate(50.0, cohort=None, cohort_status=ValueStatus.SUPPRESSED).shown == Shown.SUPPRESSED


@pytest.mark.parametrize(
    ("code", "status", "shown", "text"),
    [
        ("c", ValueStatus.SUPPRESSED, Shown.SUPPRESSED, "Suppressed"),
        ("SUPP", ValueStatus.SUPPRESSED, Shown.SUPPRESSED, "Suppressed"),
        ("low", ValueStatus.LOW, Shown.LOW, "Low (under 0.5)"),
        ("x", ValueStatus.NOT_AVAILABLE, Shown.NOT_AVAILABLE, "Not available"),
        ("z", ValueStatus.NOT_APPLICABLE, Shown.NOT_APPLICABLE, "Not applicable"),
        ("NE", ValueStatus.NO_ENTRIES, Shown.NO_ENTRIES, "No entries"),
        ("NP", ValueStatus.NOT_PUBLISHED, Shown.NOT_AVAILABLE, "Not available"),
    ],
)
def test_dfe_codes_are_kept_as_a_status(code: str, status: str, shown: Shown, text: str) -> None:
    assert s.status_for_code(code) == status
    for measure in ("ks2_rwm_expected", "ks2_pupils", "ks4_progress8"):
        f = s.public_figure(BY_CODE[measure], None, status, 2018)
        assert (f.shown, f.text, f.value, f.year) == (shown, text, None, 2018)
    # A DfE code is never turned into a number, even when a stray value sits beside it.
    assert s.public_rate(0.0, status).text == text


def test_unknown_code_is_an_error() -> None:
    with pytest.raises(ValueError, match="Not a DfE status code"):
        s.status_for_code("7%")


def test_public_figure_picks_the_rule_by_unit() -> None:
    assert s.public_figure(BY_CODE["ks2_pupils"], 4.0, year=2016).shown == Shown.SUPPRESSED
    assert s.public_figure(BY_CODE["ks2_rwm_expected"], 4.0, year=2016).text == "4.0%"
    assert s.public_figure(BY_CODE["ks2_rwm_expected"], 80.0, year=2016, cohort=4).shown == Shown.SUPPRESSED


@pytest.mark.parametrize(
    ("rel", "cohort_col", "value_col", "unit"),
    [
        ("waiky8-schools-data/ks2_perf_2017.csv", "KS2 Pupils", "Overall Meet Std", "%"),
        ("waiky8-schools-data/ks4_perf_2017.csv", "KS4 Pupils", "Attainment 8", "score"),
    ],
)
def test_rule_agrees_with_dfe_suppression_on_real_files(
    data_dir: Path, rel: str, cohort_col: str, value_col: str, unit: str
) -> None:
    """Every school with 1-5 pupils in the cohort has its result withheld by the DfE (blank) and by our
    rule; every school with 6 or more and a published result keeps it. Counts verified by hand with awk:
    KS2 2016/17 503 small cohorts, 15,168 published; KS4 2016/17 400 small, 4,430 published."""
    small = published = 0
    with (data_dir / rel).open(newline="", encoding="utf-8-sig") as fh:
        for row in csv.DictReader(fh):
            cohort_text, raw = row[cohort_col].strip(), row[value_col].strip().rstrip("%")
            if not cohort_text:
                continue
            cohort = float(cohort_text)
            value = float(raw) if raw else None
            ours = s.public_rate(
                value, ValueStatus.OK if raw else ValueStatus.SUPPRESSED, cohort=cohort, unit=unit
            )
            if 0 < cohort < 6:
                small += 1
                assert value is None, f"DfE published a result for a cohort of {cohort}: {row['URN']}"
                assert ours.shown == Shown.SUPPRESSED
                assert s.public_rate(50.0, cohort=cohort).shown == Shown.SUPPRESSED
            elif value is not None:
                published += 1
                assert ours.is_published and ours.value == value, row["URN"]
    expected = {"ks2_perf_2017.csv": (503, 15168), "ks4_perf_2017.csv": (400, 4430)}[Path(rel).name]
    assert (small, published) == expected
