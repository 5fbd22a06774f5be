"""The register loaders computed in polars (decision 0026): the vocabulary rules per distinct combination,
the register read straight from the cursor, updates by primary key, and the short-row check that only scans
a file when polars says it may have to. Real files or small files derived from them; no mocks."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import pytest

from beacon.imports.framework import may_have_short_rows, model_frame, read_table, run_import, update_rows
from beacon.imports.models import RunStatus
from beacon.schools.importers import mapped, phase_from_text, state_funded
from beacon.schools.models import Phase, School
from tests.conftest import CAMDEN

CENSUS = "helios-census-2022-23/spc_school_level_underlying_data_2022_23.csv"
GIAS = "clarelgibson-england-school-admissions/dim_school.csv"


def test_rules_per_distinct_combination_give_the_row_by_row_answer(data_dir: Path) -> None:
    raw = pl.read_csv(data_dir / CENSUS, infer_schema_length=0, n_rows=3000)
    rules = raw.select(
        pl.col("phase_type_grouping").alias("phase"),
        pl.col("typeofestablishment_name").alias("type"),
        pl.col("academy_flag").alias("flag"),
        (pl.col("all_through_school") == "Yes").fill_null(False).alias("through"),
    )
    phases = mapped(rules, ["phase", "type", "through"], "p", phase_from_text, pl.Utf8()).to_list()
    funded = mapped(rules, ["phase", "flag"], "f", state_funded, pl.Boolean()).to_list()
    expected = [phase_from_text(p, t, a) for p, t, _f, a in rules.iter_rows()]
    assert phases == expected
    assert funded == [state_funded(p, f) for p, _t, f, _a in rules.iter_rows()]
    assert len(set(phases)) > 2  # the sample really exercises the rule


@pytest.mark.django_db
def test_query_frame_reads_what_the_orm_reads(camden_register: None) -> None:
    fields = ["id", "urn", "name", "is_open", "open_date", "la_code", "has_sixth_form", "source_run_id"]
    frame = model_frame(School.objects.filter(la_code=CAMDEN).order_by("urn"), fields)
    orm = list(School.objects.filter(la_code=CAMDEN).order_by("urn").values_list(*fields))
    assert frame.height == len(orm) > 50
    assert [tuple(r) for r in frame.iter_rows()] == orm
    assert frame.schema["open_date"] == pl.Date and frame.schema["is_open"] == pl.Boolean
    assert model_frame(School.objects.filter(pk__in=[]), fields).columns == fields


@pytest.mark.django_db
def test_update_rows_changes_the_rows_named_and_nothing_else(camden_register: None) -> None:
    a, b, c = School.objects.filter(la_code=CAMDEN).order_by("urn")[:3]
    update_rows(
        School,
        ["name", "phase", "open_date"],
        [(a.pk, "Renamed school", Phase.SPECIAL, dt.date(2001, 2, 3)), (b.pk, b.name, b.phase, b.open_date)],
    )
    a2, b2, c2 = (School.objects.get(pk=s.pk) for s in (a, b, c))
    assert (a2.name, a2.phase, a2.open_date) == ("Renamed school", Phase.SPECIAL, dt.date(2001, 2, 3))
    assert a2.postcode == a.postcode
    assert (b2.name, b2.phase, b2.open_date, b2.updated_at) == (b.name, b.phase, b.open_date, b.updated_at)
    assert (c2.name, c2.updated_at) == (c.name, c.updated_at)


def test_the_short_row_scan_runs_only_when_polars_leaves_a_gap(data_dir: Path, tmp_path: Path) -> None:
    lines = (data_dir / GIAS).read_text(encoding="utf-8").splitlines()[:40]
    whole = tmp_path / "whole.csv"
    whole.write_text("\n".join(lines) + "\n", encoding="utf-8")
    df = pl.read_csv(whole, infer_schema_length=0)
    # Every record complete (the real extract's last column is filled): no scan needed.
    assert df[df.columns[-1]].null_count() == 0
    assert not may_have_short_rows(df)
    assert read_table(whole).height == 39
    # A blank last cell looks like a short record to polars: scanned, and found complete.
    gap = "\n".join([*lines[:-1], lines[-1].rsplit(",", 1)[0] + ","]) + "\n"
    (tmp_path / "gap.csv").write_text(gap, encoding="utf-8")
    assert may_have_short_rows(pl.read_csv(tmp_path / "gap.csv", infer_schema_length=0))
    assert read_table(tmp_path / "gap.csv").height == 39
    huge = df.with_columns(pl.lit("A" * 40_000).alias(df.columns[3]))
    assert may_have_short_rows(huge)  # a cell the csv module may refuse: scanned, so the file is refused


@pytest.mark.django_db
def test_a_file_cut_off_mid_row_is_still_refused(data_dir: Path, tmp_path: Path) -> None:
    lines = (data_dir / GIAS).read_text(encoding="utf-8").splitlines()[:40]
    cut = tmp_path / "cut.csv"
    cut.write_text("\n".join([*lines, lines[-1][: len(lines[-1]) // 3]]) + "\n", encoding="utf-8")
    run = run_import("gias_establishments", cut)
    assert run.status == RunStatus.REJECTED
    assert run.errors[0]["row"] == 41
    assert "the file looks truncated" in run.errors[0]["reason"]
    assert not School.objects.exists()


@pytest.mark.django_db
def test_ensure_measures_writes_only_what_differs_and_adds_new_codes() -> None:
    from beacon.indicators.catalogue import CATALOGUE, MeasureDef, ensure_measures
    from beacon.indicators.models import Measure

    first = CATALOGUE[0]
    ensure_measures()
    Measure.objects.filter(code=first.code).update(label="Edited by hand", decimals=5)
    extra = MeasureDef(
        "test_columnar_extra", "A measure only this test knows", "test", "%", first.polarity, 0
    )
    ids = ensure_measures(extra=(extra,))
    restored = Measure.objects.get(code=first.code)
    assert (restored.label, restored.decimals) == (first.label, first.decimals)
    added = Measure.objects.get(code="test_columnar_extra")
    assert ids["test_columnar_extra"] == added.pk and added.label == "A measure only this test knows"
    assert set(ids) >= {m.code for m in CATALOGUE}
