"""`core.frames.query_frame`: a queryset read through the cursor gives the same values as the ORM, typed."""

from __future__ import annotations

import polars as pl
import pytest


@pytest.mark.django_db
def test_query_frame_matches_the_orm_on_dates_booleans_and_aware_datetimes(camden_register: None) -> None:
    from beacon.core.frames import query_frame
    from beacon.schools.models import School

    qs = School.objects.filter(la_code=202).order_by("pk")
    fields = ("id", "urn", "name", "is_open", "open_date", "capacity")
    df = query_frame(
        qs.values_list(*fields),
        {
            "id": pl.Int64,
            "urn": pl.Int64,
            "name": pl.Utf8,
            "is_open": pl.Boolean,
            "open_date": pl.Date,
            "capacity": pl.Int64,
        },
    )
    expected = list(qs.values_list(*fields))
    assert len(expected) > 50
    assert df.rows() == expected
    assert df.schema["open_date"] == pl.Date and df["open_date"].null_count() < len(expected)

    history = School.history.filter(la_code=202).order_by("history_id")
    frame = query_frame(
        history.values_list("id", "history_date"), {"id": pl.Int64, "history_date": pl.Datetime("us", "UTC")}
    )
    assert frame.rows() == list(history.values_list("id", "history_date"))
    assert frame.schema["history_date"] == pl.Datetime("us", "UTC")


@pytest.mark.django_db
def test_query_frame_of_an_empty_in_list_is_empty() -> None:
    from beacon.core.frames import query_frame
    from beacon.schools.models import School

    df = query_frame(School.objects.filter(pk__in=[]).values_list("id"), {"id": pl.Int64})
    assert df.height == 0 and df.schema == pl.Schema({"id": pl.Int64})


@pytest.mark.django_db
def test_query_frame_of_numbers_and_text_equals_the_rows(camden_register: None) -> None:
    """Numbers and text (read on PostgreSQL as CSV): floats to the last bit, NaN and infinities, NULL apart
    from an empty text, and text holding commas, quotes and line breaks, as the cursor gives them."""
    import math

    from django.db.models import CharField, Value

    from beacon.core.frames import fetch_rows, query_frame
    from beacon.imports.framework import upsert_rows
    from beacon.indicators.models import Measure, SchoolMeasure
    from beacon.schools.models import School

    school = School.objects.order_by("pk").first()
    assert school is not None
    measure = Measure.objects.order_by("pk").first() or Measure.objects.create(
        code="test_measure", label="Test"
    )
    values = [0.1 + 0.2, 1 / 3, None, 1e-300, -2.5e17, math.nan, math.inf, -math.inf]
    statuses = ["ok", 'a, "b"\nc', "", "ok", "ok", "ok", "ok", "ok"]
    upsert_rows(
        SchoolMeasure,
        ["school", "measure", "year", "value", "status"],
        [
            (school.pk, measure.pk, 1990 + i, v, s)
            for i, (v, s) in enumerate(zip(values, statuses, strict=True))
        ],
        unique_fields=["school", "measure", "year"],
        update_fields=["value", "status"],
    )
    qs = (
        SchoolMeasure.objects.filter(school=school, year__lt=2000)
        .annotate(nothing=Value(None, output_field=CharField()))
        .order_by("year")
        .values_list("school_id", "year", "value", "status", "nothing")
    )
    schema = {
        "school_id": pl.Int64,
        "year": pl.Int64,
        "value": pl.Float64,
        "status": pl.Utf8,
        "nothing": pl.Utf8,
    }
    frame = query_frame(qs, schema)
    rows = fetch_rows(qs)
    assert len(rows) == len(values) and frame.schema == pl.Schema(schema)
    for got, expected in zip(frame.rows(), rows, strict=True):
        assert got[:2] == expected[:2] and got[3:] == expected[3:]
        assert got[2] == expected[2] or (math.isnan(got[2]) and math.isnan(expected[2]))
    assert frame["status"].to_list()[1:3] == ['a, "b"\nc', ""]
    assert frame["nothing"].null_count() == len(values)
    assert frame["value"].to_list()[:2] == [0.1 + 0.2, 1 / 3]
