"""Backtest (issue 3, item 7) on the Camden demo: rules on 2017/18 data, outcomes from later inspections."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from django.core.management import call_command


def test_backtest_2017_counts_later_inspections(
    camden_demo: None, data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from beacon.risk.backtest import run_backtest
    from beacon.risk.models import CriterionResult, Term
    from beacon.schools.models import School

    bt = run_backtest(2017, horizon_years=1)
    assert (str(bt.cutoff), str(bt.until)) == ("2018-09-01", "2019-09-01")
    # Independently: first graded inspection per state-funded Camden school in the window, from the
    # Ofsted history file (the only file with inspections dated in 2018/19).
    state = set(School.objects.filter(is_state_funded=True).values_list("urn", flat=True))
    first: dict[int, tuple[str, str]] = {}
    with (data_dir / "waiky8-schools-data/ofsted_ratings_2018.csv").open(
        encoding="utf-8", errors="replace"
    ) as fh:
        for row in csv.DictReader(fh):
            urn, when = int(row["URN"]), row["Inspection Date"]
            if (
                urn in state
                and "20180901" <= when <= "20190901"
                and (urn not in first or when < first[urn][0])
            ):
                first[urn] = (when, row["Rating"].lower())
    below = {u for u, (_, r) in first.items() if r in {"requires improvement", "inadequate"}}
    assert bt.inspected == len(first) > 0
    assert bt.below_good == len(below)
    # The rules only saw results up to 2017/18 (exam 2018) and inspections before the cutoff.
    term = Term.objects.get(academic_year=2018, term="autumn")
    assert CriterionResult.objects.filter(term=term).count() == bt.summary.results > 0
    for r in CriterionResult.objects.filter(term=term):
        for item in r.evidence.get("items", []):
            assert all(y <= 2017 for y in item.get("years", []) if isinstance(y, int))
            if "inspection_date" in item:
                assert item["inspection_date"] < "2018-09-01"
    top10 = bt.rows[0]
    assert top10.label.startswith("top 10%") and top10.flagged == round(bt.schools * 0.10)
    assert 0 <= top10.hits <= min(top10.inspected_flagged, bt.below_good)
    call_command("backtest_risk", "--year", "2017", "--horizon", "1")
    out = capsys.readouterr().out
    assert "precision" in out and "recall" in out and f"inspected afterwards: {len(first)}" in out
