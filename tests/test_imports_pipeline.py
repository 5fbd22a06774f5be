"""The import framework itself (beacon.imports.framework), on real rows of the DfE school census.

Every test starts from the real Camden rows of the 2022/23 school-level census file (90 schools),
written to a small CSV with the registry's columns, and then breaks it in one specific way.
"""

from __future__ import annotations

import csv
import gzip
from collections.abc import Iterator
from pathlib import Path

import polars as pl
import pytest
from django.core.management import execute_from_command_line

from beacon.imports import framework
from beacon.imports.framework import Column, ImportContext, LoadResult, Source, run_import
from beacon.imports.models import ImportRun, RunStatus
from beacon.indicators.models import SchoolMeasure
from beacon.schools.models import School
from tests.conftest import CAMDEN

CENSUS = "helios-census-2022-23/spc_school_level_underlying_data_2022_23.csv"
PUPILS = "headcount of pupils"
FSM = "% of pupils known to be eligible for free school meals"
# The census registry's headers (beacon.schools.importers.CENSUS_COLUMNS) as they are in the file.
HEADERS = [
    "time_period",
    "urn",
    "old_la_code",
    "la_name",
    "region_name",
    "laestab",
    "school_name",
    "phase_type_grouping",
    "typeofestablishment_name",
    "all_through_school",
    "trust",
    "opendate",
    "denomination",
    "admissions_policy",
    "sex_of_school_description",
    "ward_name",
    "parl_con_name",
    "school_postcode",
    "academy_flag",
    PUPILS,
    FSM,
    "% of pupils whose first language is known or believed to be other than English",
]


@pytest.fixture(scope="module")
def camden_rows(data_dir: Path) -> pl.DataFrame:
    """The 90 real Camden rows, every cell as text, in file order."""
    df = pl.read_csv(data_dir / CENSUS, infer_schema_length=0).filter(pl.col("old_la_code") == str(CAMDEN))
    assert df.height == 90  # shared/data/README.md: Camden rows: 90 (old_la_code==202)
    return df.select(HEADERS)


@pytest.fixture(scope="module")
def data_dir() -> Path:  # module-scoped twin of the conftest fixture, for camden_rows
    from tests.conftest import DATA

    assert DATA.exists(), f"{DATA} is missing (set BEACON_DATA_DIR)"
    return DATA


def write(df: pl.DataFrame, path: Path) -> Path:
    df.write_csv(path)
    return path


def counts() -> tuple[int, int]:
    return School.objects.count(), SchoolMeasure.objects.count()


def file_row_of(path: Path, urn: str) -> int:
    """The file row (header = 1) holding this URN, found by reading the CSV independently of polars."""
    with path.open(newline="", encoding="utf-8") as fh:
        for number, record in enumerate(csv.reader(fh), start=1):
            if record[HEADERS.index("urn")] == urn:
                return number
    raise AssertionError(f"URN {urn} not in {path}")


@pytest.mark.django_db
def test_good_file_imports_every_camden_school_with_its_values(
    camden_rows: pl.DataFrame, tmp_path: Path
) -> None:
    path = write(camden_rows, tmp_path / "camden.csv")
    run = run_import("school_census", path)
    assert run.status == RunStatus.SUCCEEDED, run.message
    assert (run.rows_read, run.rows_inserted, run.rows_updated) == (90, 90, 0)
    assert School.objects.filter(la_code=CAMDEN).count() == 90
    # 3 context measures (pupils, fsm, eal) per school.
    assert SchoolMeasure.objects.count() == 270
    first = camden_rows.row(0, named=True)  # URN 100005, 136 pupils, 38.2% FSM in the file
    school = School.objects.get(urn=int(first["urn"]))
    assert school.name == first["school_name"]
    pupils = SchoolMeasure.objects.get(school=school, measure__code="pupils", year=2022)
    assert pupils.value == float(first[PUPILS]) == 136.0


@pytest.mark.django_db
def test_file_cut_off_mid_row_is_rejected_and_nothing_written(
    camden_rows: pl.DataFrame, tmp_path: Path
) -> None:
    whole = write(camden_rows, tmp_path / "whole.csv").read_text(encoding="utf-8")
    # An interrupted download: the last record stops after its school name.
    last_line = whole.rstrip("\n").split("\n")[-1]
    cut = whole.rstrip("\n")[: -len(last_line)] + last_line[: last_line.index(camden_rows["school_name"][-1])]
    path = tmp_path / "truncated.csv"
    path.write_text(cut, encoding="utf-8")
    before = counts()
    run = run_import("school_census", path)
    assert run.status == RunStatus.REJECTED
    assert counts() == before == (0, 0)
    assert run.errors[0]["row"] == 91  # header + 90 rows: the cut row is the 91st line
    assert "truncated" in run.errors[0]["reason"]


@pytest.mark.django_db
def test_garbled_file_is_rejected_and_nothing_written(camden_rows: pl.DataFrame, tmp_path: Path) -> None:
    # A compressed file saved with a .csv name: bytes that are not a table at all.
    path = tmp_path / "garbled.csv"
    path.write_bytes(gzip.compress(write(camden_rows, tmp_path / "c.csv").read_bytes()))
    run = run_import("school_census", path)
    assert run.status == RunStatus.REJECTED
    assert run.error_count >= 1 and run.message.startswith("Rejected")
    assert counts() == (0, 0)


@pytest.mark.django_db
def test_missing_required_column_is_named_on_row_1(camden_rows: pl.DataFrame, tmp_path: Path) -> None:
    path = write(camden_rows.drop(PUPILS), tmp_path / "no_pupils.csv")
    run = run_import("school_census", path)
    assert run.status == RunStatus.REJECTED
    assert run.errors == [
        {
            "row": 1,
            "column": "pupils",
            "value": "",
            "reason": "Required column missing (accepted headers: headcount of pupils)",
        }
    ]
    assert counts() == (0, 0)


@pytest.mark.django_db
def test_bad_number_names_file_row_and_header_and_writes_nothing(
    camden_rows: pl.DataFrame, tmp_path: Path
) -> None:
    # Import the good file first so "nothing written" is checked against a non-empty database.
    assert (
        run_import("school_census", write(camden_rows, tmp_path / "good.csv")).status == RunStatus.SUCCEEDED
    )
    before = counts()
    assert before == (90, 270)
    index = 41  # the 42nd Camden school
    urn = camden_rows["urn"][index]
    bad = camden_rows.with_columns(
        pl.when(pl.int_range(pl.len()) == index).then(pl.lit("12O")).otherwise(pl.col(PUPILS)).alias(PUPILS)
    )
    path = write(bad, tmp_path / "bad.csv")
    expected_row = file_row_of(path, urn)
    assert expected_row == 43  # header is row 1, the first school row 2
    run = run_import("school_census", path)
    assert run.status == RunStatus.REJECTED
    assert run.error_count == 1
    assert run.errors[0] == {
        "row": expected_row,
        "column": PUPILS,
        "value": "12O",
        "reason": "Not a number or a recognised DfE code (c, x, z, low, SUPP, NE, NP, NA)",
    }
    assert counts() == before
    # The earlier values are untouched.
    school = School.objects.get(urn=int(urn))
    assert SchoolMeasure.objects.get(school=school, measure__code="pupils").value == float(
        camden_rows[PUPILS][index]
    )


@pytest.mark.django_db
def test_dfe_codes_are_kept_as_status_not_silent_nulls(camden_rows: pl.DataFrame, tmp_path: Path) -> None:
    codes = {"c": "suppressed", "x": "not_available", "z": "not_applicable", "low": "low"}
    codes |= {"SUPP": "suppressed", "NE": "no_entries", "NP": "not_published"}
    # Real rows already carrying a code in the FSM column (the census uses z for not applicable).
    real_z = set(camden_rows.filter(pl.col(FSM) == "z")["urn"].to_list())
    candidates = [u for u in camden_rows["urn"].to_list() if u not in real_z]
    chosen = dict(zip(candidates[:7], codes, strict=True))
    df = camden_rows.with_columns(
        pl.col("urn").replace_strict(chosen, default=pl.col(FSM), return_dtype=pl.Utf8).alias(FSM)
    )
    run = run_import("school_census", write(df, tmp_path / "codes.csv"))
    assert run.status == RunStatus.SUCCEEDED, run.errors
    for urn, code in chosen.items():
        value = SchoolMeasure.objects.get(school__urn=int(urn), measure__code="fsm", year=2022)
        assert (value.value, value.status) == (None, codes[code]), code
    for urn in real_z:
        value = SchoolMeasure.objects.get(school__urn=int(urn), measure__code="fsm", year=2022)
        assert (value.value, value.status) == (None, "not_applicable")
    # Every other school has its published figure.
    ok = SchoolMeasure.objects.filter(measure__code="fsm", status="ok")
    assert ok.count() == 90 - 7 - len(real_z)
    assert not ok.filter(value__isnull=True).exists()


@pytest.mark.django_db
def test_same_file_twice_is_a_duplicate_and_changes_nothing(
    camden_rows: pl.DataFrame, tmp_path: Path
) -> None:
    path = write(camden_rows, tmp_path / "camden.csv")
    first = run_import("school_census", path)
    assert first.status == RunStatus.SUCCEEDED
    after_first = counts()
    second = run_import("school_census", path)
    assert second.status == RunStatus.DUPLICATE
    assert second.duplicate_of_id == first.pk
    assert second.sha256 == first.sha256
    assert counts() == after_first == (90, 270)
    assert not SchoolMeasure.objects.filter(source_run=second).exists()


@pytest.mark.django_db
def test_force_reimport_updates_rather_than_duplicates(camden_rows: pl.DataFrame, tmp_path: Path) -> None:
    path = write(camden_rows, tmp_path / "camden.csv")
    first = run_import("school_census", path)
    forced = run_import("school_census", path, force=True)
    assert forced.status == RunStatus.SUCCEEDED
    assert (forced.rows_inserted, forced.rows_updated) == (0, 90)
    assert counts() == (90, 270)
    # Every value now points at the newer run; none is left on the first.
    assert SchoolMeasure.objects.filter(source_run=forced).count() == 270
    assert not SchoolMeasure.objects.filter(source_run=first).exists()
    assert School.objects.filter(source_run=forced).count() == 90


@pytest.fixture
def keep_test_connection(monkeypatch: pytest.MonkeyPatch) -> None:
    """`manage.py` closes every connection when a command ends; inside a test transaction on
    PostgreSQL that would drop the test's own connection, so keep it open."""
    from django.db import connections

    monkeypatch.setattr(connections, "close_all", lambda: None)


@pytest.mark.django_db
@pytest.mark.usefixtures("keep_test_connection")
def test_cli_exits_non_zero_and_prints_row_and_column(
    camden_rows: pl.DataFrame, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    index = 5
    bad = camden_rows.with_columns(
        pl.when(pl.int_range(pl.len()) == index).then(pl.lit("n/k")).otherwise(pl.col(FSM)).alias(FSM)
    )
    path = write(bad, tmp_path / "bad.csv")
    with pytest.raises(SystemExit) as exit_info:
        execute_from_command_line(["manage.py", "import_data", "school_census", str(path)])
    assert exit_info.value.code == 1
    out = capsys.readouterr()
    assert f"row {index + 2}, column '{FSM}'" in out.out
    assert "'n/k'" in out.out
    assert "Rejected: 1 problem(s). Nothing was written." in out.err
    assert counts() == (0, 0)
    assert ImportRun.objects.get().status == RunStatus.REJECTED


@pytest.mark.django_db
@pytest.mark.usefixtures("keep_test_connection")
def test_cli_succeeds_with_exit_status_0(camden_rows: pl.DataFrame, tmp_path: Path) -> None:
    path = write(camden_rows, tmp_path / "camden.csv")
    execute_from_command_line(["manage.py", "import_data", "school_census", str(path), "--la", str(CAMDEN)])
    assert counts() == (90, 270)


# ----------------------------------------------------------------------------------------------
# A loader that fails half-way must leave nothing behind.

EXPLODING = "test_exploding_loader"


def exploding_loader(df: pl.DataFrame, ctx: ImportContext) -> LoadResult:
    schools = [
        School(urn=r["urn"], name=r["name"], la_code=CAMDEN, source_run=ctx.run)
        for r in df.iter_rows(named=True)
    ]
    framework.bulk_upsert(School, schools, unique_fields=["urn"], update_fields=["name", "source_run"])
    from beacon.indicators.services import save_school_measures, wide_to_long

    save_school_measures(wide_to_long(df, {"pupils": "pupils"}, year=2022), ctx)
    assert School.objects.count() == 90 and SchoolMeasure.objects.count() == 90  # really written
    raise RuntimeError("disk full half-way through")


@pytest.fixture
def exploding_source() -> Iterator[Source]:
    framework.load_all_sources()
    source = framework.register(
        Source(
            key=EXPLODING,
            label="Test: writes then raises",
            description="",
            columns=(
                Column("urn", ("urn",), "int"),
                Column("name", ("school_name",)),
                Column("pupils", (PUPILS,), "number"),
            ),
            loader=exploding_loader,
        )
    )
    try:
        yield source
    finally:
        framework.REGISTRY.pop(EXPLODING, None)


@pytest.mark.django_db
def test_exception_inside_loader_rolls_back_everything(
    exploding_source: Source, camden_rows: pl.DataFrame, tmp_path: Path
) -> None:
    run = run_import(EXPLODING, write(camden_rows, tmp_path / "camden.csv"))
    assert run.status == RunStatus.FAILED
    assert "RuntimeError: disk full half-way through" in run.message
    assert counts() == (0, 0)
    # The run itself is kept as the record of what happened.
    assert ImportRun.objects.filter(pk=run.pk, status=RunStatus.FAILED).exists()


def test_exploding_source_is_unregistered_after_use() -> None:
    assert EXPLODING not in framework.load_all_sources()


@pytest.mark.django_db
def test_a_county_school_is_named_by_its_la_not_its_district(data_dir: Path) -> None:
    """The renamed GIAS extract names each school's district (Cambridge, Fenland, Huntingdonshire...), not
    its LA. Cambridgeshire's schools keep the LA name the census gave them; the district names only a school
    the register holds no LA name for."""
    cambridgeshire = 873
    census = run_import("school_census", data_dir / CENSUS, la_code=cambridgeshire)
    assert census.status == RunStatus.SUCCEEDED, census.message
    schools = School.objects.filter(la_code=cambridgeshire)
    assert set(schools.values_list("la_name", flat=True)) == {"Cambridgeshire"}
    dim_school = data_dir / "clarelgibson-england-school-admissions/dim_school.csv"
    held = set(schools.values_list("urn", flat=True))
    with dim_school.open(encoding="utf-8-sig") as fh:
        district_of = {
            int(r["urn"]): r["administrative_district"]
            for r in csv.DictReader(fh)
            if r["urn"].isdigit() and int(r["urn"]) in held
        }
    # What the extract would have written over the census's name.
    assert {"Cambridge", "Fenland", "Huntingdonshire"} <= set(district_of.values())

    gias = run_import("gias_establishments", dim_school, la_code=cambridgeshire)
    assert gias.status == RunStatus.SUCCEEDED, gias.message
    assert set(schools.values_list("la_name", flat=True)) == {"Cambridgeshire"}

    # A school the register holds no LA name for takes the district (all the extract says).
    urn = min(u for u, d in district_of.items() if d and d != "Cambridgeshire")
    School.objects.filter(urn=urn).update(la_name="")
    again = run_import("gias_establishments", dim_school, la_code=cambridgeshire, force=True)
    assert again.status == RunStatus.SUCCEEDED, again.message
    assert School.objects.get(urn=urn).la_name == district_of[urn]
