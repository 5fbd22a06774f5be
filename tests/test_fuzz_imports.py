"""Fuzzed imports (issue 7, reliability): malformed variants of real DfE/Ofsted files.

Each example takes a small real sample (the Camden rows of a national file, read here with the csv
module), breaks it in one way hypothesis chooses, imports it with `run_import` and checks the outcome
against an oracle that knows what the break was:

- rejected files name the row and column of the problem, and every data table has exactly the rows it
  had before (only the rejected `ImportRun`, the provenance record, is added);
- a variant that is still a valid file (an optional column dropped, a header spelt differently,
  Windows-1252 instead of UTF-8) is accepted.

Example counts are bounded (derandomised, no example database) so the module runs in well under 2 min.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from beacon.imports.parsing import SUPPRESSION_CODES

pytestmark = pytest.mark.django_db

CAMDEN = 202
FUZZ = settings(
    max_examples=120,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@dataclass(frozen=True)
class Sample:
    source: str
    rel: str
    year: int | None
    keep: Callable[[dict[str, str], set[int]], bool]
    text_column: str | None = None  # a free-text column (any text is valid there)
    rows: int = 30


SAMPLES = {
    "ofsted_inspection_history": Sample(
        "ofsted_inspection_history",
        "waiky8-schools-data/ofsted_ratings_2018.csv",
        None,
        lambda r, urns: r["URN"].isdigit() and int(r["URN"]) in urns,
    ),
    "csp_absence": Sample(
        "csp_absence",
        "kspdeveloper-csp-2018-19/england_abs.csv",
        2018,
        lambda r, _u: r["LA"] == str(CAMDEN),
        text_column="ESTAB",
    ),
    "ks4_results": Sample(
        "ks4_results",
        "waiky8-eng-schools/england_ks4final.csv",
        2018,
        lambda r, urns: r["URN"].isdigit() and int(r["URN"]) in urns,
        text_column="SCHNAME",
        rows=15,
    ),
    "gias_establishments": Sample(
        "gias_establishments",
        "clarelgibson-england-school-admissions/dim_school.csv",
        None,
        lambda r, urns: r["urn"].isdigit() and int(r["urn"]) in urns,
        text_column="establishment_name",
    ),
}


def read_sample(data_dir: Path, sample: Sample, urns: set[int]) -> tuple[list[str], list[list[str]]]:
    text = (data_dir / sample.rel).read_text(encoding="utf-8-sig")
    reader = csv.reader(io.StringIO(text))
    header = next(reader)
    rows = [r for r in reader if r and sample.keep(dict(zip(header, r, strict=False)), urns)]
    assert len(rows) >= 5, f"too few Camden rows in {sample.rel}"
    return header, rows[: sample.rows]


def to_csv(header: list[str], rows: list[list[str]]) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buf.getvalue()


def table_counts() -> dict[str, int]:
    """Rows in every Beacon table (register, values, inspections, history, risk, support...) but the runs."""
    from django.apps import apps
    from django.db import connection

    from beacon.imports.models import ImportRun

    existing = set(connection.introspection.table_names())  # apps still without migrations are left out
    return {
        m._meta.db_table: m._default_manager.count()
        for m in apps.get_models()
        if m.__module__.startswith("beacon.") and m is not ImportRun and m._meta.db_table in existing
    }


def _not_a_value(s: str) -> bool:
    """True if s is neither a number, a date nor a DfE code: the oracle for "wrong type"."""
    t = s.strip()
    if not t or t in SUPPRESSION_CODES or t in {"NULL", ""}:
        return False
    try:
        float(t.rstrip("%").replace(",", ""))
    except ValueError:
        return True
    return False


GARBAGE_WORDS = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=("Cs", "Cc", "Zs", "Zl", "Zp")),
    min_size=1,
    max_size=20,
).filter(lambda s: any(ch.isalpha() for ch in s) and _not_a_value(s))


@dataclass
class Case:
    kind: str
    data: bytes
    accept: bool
    row: int | None = None  # file row the error must name (header = 1)
    column: str | None = None  # header (or canonical name) the error must name
    reason: str = ""  # text the error reason must contain


CSV_FIELD_LIMIT = 131_072  # the csv module's limit: beyond it the reader names the row only


def mutate(draw: Any, sample: Sample, source: Any, header: list[str], rows: list[list[str]]) -> Case:
    """One malformed (or still valid) variant of the sample, with what the import must do with it."""
    registered = {h: c for h in header for c in source.columns if c.matches(h)}
    typed = [h for h, c in registered.items() if c.kind in {"int", "number", "date"}]
    strs = [h for h, c in registered.items() if c.kind == "str"]
    huge = st.one_of(st.integers(10_001, CSV_FIELD_LIMIT - 10), st.integers(CSV_FIELD_LIMIT + 1, 600_000))
    kind = draw(
        st.sampled_from(
            [
                "truncated",
                "wrong_type",
                "not_whole",
                "utf16",
                "cp1252",
                "bad_bytes",
                "missing_column",
                "renamed_column",
                "respelt_header",
                "duplicated_column",
                "garbage_line",
                "garbage_file",
                "empty",
                "header_only",
                "huge_number",
                "huge_text",
            ]
        )
    )
    width = len(header)
    r = draw(st.integers(0, len(rows) - 1))
    file_row = r + 2
    if kind == "truncated":
        # The download stopped inside row r: it has fewer fields than the header, no newline after it.
        k = draw(st.integers(0, width - 2))
        cut = [*rows[r][:k], rows[r][k][: draw(st.integers(0, len(rows[r][k])))]]
        text = to_csv(header, [*rows[:r], cut]).rstrip("\n")
        return Case(kind, text.encode(), False, file_row, "", "truncated")
    if kind in {"wrong_type", "not_whole", "bad_bytes", "huge_number"}:
        pool = [h for h in typed if registered[h].kind == "int"] if kind == "not_whole" else typed
        if not pool:
            kind, pool = "wrong_type", typed
        col = draw(st.sampled_from(pool))
        i = header.index(col)
        new = [list(x) for x in rows]
        if kind == "wrong_type":
            new[r][i] = draw(GARBAGE_WORDS)
        elif kind == "not_whole":
            new[r][i] = f"{draw(st.integers(1, 10**6))}.{draw(st.integers(1, 9))}"
        elif kind == "huge_number":
            new[r][i] = "9" * draw(huge)  # overflows a float: not a number
        else:
            new[r][i] = "\x00"  # placeholder replaced by bytes that are not UTF-8
        data = to_csv(header, new).encode()
        if kind == "bad_bytes":
            junk = draw(st.sampled_from([b"\xff\xfe", b"\x81\x8d", b"\xc3\x28", b"\xa0\xa1\x81"]))
            data = data.replace(b"\x00", junk)
        if len(new[r][i]) > CSV_FIELD_LIMIT:
            return Case(kind, data, False, file_row, "", "cannot be read")
        return Case(kind, data, False, file_row, col)
    if kind == "utf16":
        return Case(kind, to_csv(header, rows).encode("utf-16"), False)
    if kind == "cp1252":
        # A Windows-1252 export (with an accented name where the file has free text) is still valid.
        new = [list(x) for x in rows]
        if sample.text_column:
            i = header.index(sample.text_column)
            new[r][i] = (new[r][i] or "School") + " Caf\u00e9 \u2013 \u00a3"
        return Case(kind, to_csv(header, new).encode("cp1252"), True)
    if kind in {"missing_column", "renamed_column"}:
        col = draw(st.sampled_from(sorted(registered)))
        i = header.index(col)
        if kind == "missing_column":
            h2 = header[:i] + header[i + 1 :]
            r2 = [x[:i] + x[i + 1 :] for x in rows]
        else:
            h2 = [*header[:i], f"old {col} (withdrawn)", *header[i + 1 :]]
            r2 = rows
        spec = registered[col]
        if not spec.required:
            return Case(kind, to_csv(h2, r2).encode(), True)
        return Case(kind, to_csv(h2, r2).encode(), False, 1, spec.name, "Required column missing")
    if kind == "respelt_header":
        # Headers match ignoring case, spaces and punctuation: " u.r.n " is still URN.
        col = draw(st.sampled_from(sorted(registered)))
        spelt = " " + ".".join(col.upper()) + " "
        h2 = [spelt if h == col else h for h in header]
        return Case(kind, to_csv(h2, rows).encode(), True)
    if kind == "duplicated_column":
        # The same registered column twice with different values: which one is right is unknowable.
        col = draw(st.sampled_from(sorted(registered)))
        i = header.index(col)
        shifted = [rows[(j + 1) % len(rows)][i] for j in range(len(rows))]
        h2 = [*header, col]
        r2 = [[*x, s] for x, s in zip(rows, shifted, strict=True)]
        return Case(kind, to_csv(h2, r2).encode(), False, 1, registered[col].name, "more than once")
    if kind == "garbage_line":
        junk = draw(st.binary(min_size=1, max_size=200).filter(lambda b: not set(b) & set(b'\n\r,"')))
        data = to_csv(header, rows).encode() + junk + b"\n"
        return Case(kind, data, False, len(rows) + 2, "", "fields in the header row")
    if kind == "garbage_file":
        return Case(kind, draw(st.binary(min_size=1, max_size=4000)), False)
    if kind == "empty":
        return Case(kind, b"", False, 0, "", "could not be read")
    if kind == "header_only":
        return Case(kind, to_csv(header, []).encode(), False, 2, "", "no data rows")
    assert kind == "huge_text"
    col = draw(st.sampled_from(strs))
    new = [list(x) for x in rows]
    new[r][header.index(col)] = "A" * (size := draw(huge))
    if size > CSV_FIELD_LIMIT:
        return Case(kind, to_csv(header, new).encode(), False, file_row, "", "cannot be read")
    return Case(kind, to_csv(header, new).encode(), False, file_row, col, "Longer than 10,000 characters")


_SAMPLE_ROWS: dict[str, tuple[list[str], list[list[str]]]] = {}


@FUZZ
@given(data=st.data())
def test_malformed_files_are_rejected_with_row_and_column_and_nothing_written(
    data: Any, camden_register: None, data_dir: Path, tmp_path: Path
) -> None:
    from beacon.imports.framework import get_source, run_import
    from beacon.imports.models import ImportRun, RunStatus
    from beacon.schools.models import School

    key = data.draw(st.sampled_from(sorted(SAMPLES)), label="source")
    sample = SAMPLES[key]
    source = get_source(sample.source)
    if key not in _SAMPLE_ROWS:
        urns = set(School.objects.values_list("urn", flat=True))
        _SAMPLE_ROWS[key] = read_sample(data_dir, sample, urns)
    header, rows = _SAMPLE_ROWS[key]
    case = mutate(data.draw, sample, source, header, rows)
    event(case.kind)  # --hypothesis-show-statistics lists how often each break was tried
    path = tmp_path / f"fuzz-{case.kind}.csv"
    path.write_bytes(case.data)

    before, runs_before = table_counts(), ImportRun.objects.count()
    run = run_import(sample.source, path, year=sample.year, force=True)
    note = f"{key} {case.kind}: {run.status} {run.message} {run.errors[:3]}"
    assert ImportRun.objects.count() == runs_before + 1, note

    if case.accept:
        assert run.status == RunStatus.SUCCEEDED, note
        return
    assert run.status == RunStatus.REJECTED, note
    assert run.message.endswith("Nothing was written."), note
    assert run.error_count >= 1 and run.errors, note
    assert table_counts() == before, f"partial write: {note}"
    for err in run.errors:
        assert set(err) >= {"row", "column", "value", "reason"} and err["reason"], note
    if case.row is not None:
        named = [e for e in run.errors if e["row"] == case.row]
        assert named, f"no error names row {case.row}: {note}"
        if case.column:
            assert any(e["column"] == case.column for e in named), f"no error names {case.column}: {note}"
        if case.reason:
            assert any(case.reason in e["reason"] for e in named), note
    if case.kind in {"wrong_type", "not_whole", "bad_bytes", "huge_number", "huge_text"}:
        # The sample is otherwise valid: the broken cell is the only problem reported.
        assert [(e["row"], e["column"]) for e in run.errors] == [(case.row, case.column)], note
