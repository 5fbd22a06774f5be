"""`core.bulk.insert_rows`: many rows a statement, every value as given, on the database the suite runs on."""

from __future__ import annotations

import pytest
from django.db import connection, transaction


def _table(cur: object) -> None:
    cur.execute(  # type: ignore[attr-defined]
        "CREATE TEMPORARY TABLE bulk_probe (n integer, x double precision, t text, b boolean)"
    )


@pytest.mark.django_db
def test_rows_go_in_in_order_with_every_value_as_given() -> None:
    from beacon.core.bulk import ROWS_PER_STATEMENT, insert_rows

    texts = ["plain", "it's", 'say "%s"', "a ? mark", "%%", "", "line\nbreak", "tab\there", "£ and é"]
    rows = [
        (i, None if i % 7 == 0 else i / 3, None if i % 11 == 0 else texts[i % len(texts)], i % 2 == 0)
        for i in range(2 * ROWS_PER_STATEMENT + 345)
    ]
    seen: list[int] = []
    with connection.cursor() as cur:
        _table(cur)
        done = insert_rows(cur, "bulk_probe", ["n", "x", "t", "b"], iter(rows), on_statement=seen.append)
        cur.execute("SELECT n, x, t, b FROM bulk_probe ORDER BY n")
        back = [(n, x, t, bool(b)) for n, x, t, b in cur.fetchall()]
        cur.execute("DROP TABLE bulk_probe")
    assert done == len(rows)
    assert back == rows
    # One statement per thousand rows, the last one shorter.
    assert seen == [ROWS_PER_STATEMENT, 2 * ROWS_PER_STATEMENT, len(rows)]


@pytest.mark.django_db
def test_a_row_of_the_wrong_width_is_refused_before_its_statement_runs() -> None:
    from beacon.core.bulk import insert_rows

    with connection.cursor() as cur:
        _table(cur)
        with pytest.raises(ValueError, match="every row needs 4 values"), transaction.atomic():
            # Flattened without the check, the short row and the long one would give the right count of
            # values, each in the wrong column.
            insert_rows(
                cur, "bulk_probe", ["n", "x", "t", "b"], [(1, 1.0, "a"), (2, 2.0, "b", True, "extra")]
            )
        cur.execute("SELECT count(*) FROM bulk_probe")
        assert cur.fetchone()[0] == 0
        cur.execute("DROP TABLE bulk_probe")


@pytest.mark.django_db
def test_no_rows_write_nothing_and_no_columns_is_an_error() -> None:
    from beacon.core.bulk import insert_rows

    with connection.cursor() as cur:
        _table(cur)
        assert insert_rows(cur, "bulk_probe", ["n"], []) == 0
        cur.execute("SELECT count(*) FROM bulk_probe")
        assert cur.fetchone()[0] == 0
        with pytest.raises(ValueError):
            insert_rows(cur, "bulk_probe", [], [(1,)])
        cur.execute("DROP TABLE bulk_probe")
