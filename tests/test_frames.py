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
