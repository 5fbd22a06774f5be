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


@pytest.mark.django_db
def test_columns_go_in_as_the_rows_would() -> None:
    """`insert_columns` stores what `insert_rows` stores for the same values, over several statements."""
    from beacon.core.bulk import ROWS_PER_STATEMENT, insert_columns

    n = ROWS_PER_STATEMENT * 2 + 7
    columns = [
        list(range(n)),
        [i / 4 for i in range(n)],
        [f"t{i} 'q' ?" for i in range(n)],
        [i % 2 == 0 for i in range(n)],
    ]
    with transaction.atomic(), connection.cursor() as cur:
        _table(cur)
        assert insert_columns(cur, "bulk_probe", ["n", "x", "t", "b"], columns) == n
        cur.execute("SELECT n, x, t, b FROM bulk_probe ORDER BY n")
        stored = [(a, b, c, bool(d)) for a, b, c, d in cur.fetchall()]
        cur.execute("DROP TABLE bulk_probe")
    assert stored == list(zip(*columns, strict=True))
    with transaction.atomic(), connection.cursor() as cur:
        _table(cur)
        with pytest.raises(ValueError, match="different lengths"):
            insert_columns(cur, "bulk_probe", ["n", "x", "t", "b"], [[1], [1.0], ["a"], []])
        with pytest.raises(ValueError, match="4 columns, 3 given"):
            insert_columns(cur, "bulk_probe", ["n", "x", "t", "b"], [[1], [1.0], ["a"]])
        cur.execute("DROP TABLE bulk_probe")


@pytest.mark.django_db
def test_a_prototype_makes_the_instances_init_makes() -> None:
    """`Prototype.new()` gives what `Model(**same values)` gives, field by field, each with its own state and
    its own mutable defaults, and the copies save as separate rows."""
    from beacon.assessments.models import TermlyAssessment
    from beacon.core.bulk import Prototype
    from beacon.risk.models import Term
    from beacon.schools.models import School

    term = Term.parse("autumn-2025")
    schools = [School.objects.create(urn=990001 + i, name=f"Probe {i}") for i in range(3)]
    unsaved = Prototype(TermlyAssessment(term=term, version=1))
    made = []
    for school in schools:
        a = unsaved.new()
        a.school_id = school.pk
        made.append(a)
    for a, school in zip(made, schools, strict=True):
        expected = TermlyAssessment(school_id=school.pk, term=term, version=1)
        for f in TermlyAssessment._meta.concrete_fields:
            assert getattr(a, f.attname) == getattr(expected, f.attname), f.name
        assert a.term is term and a._state.adding and a._state.db == expected._state.db
    assert len({id(a._state) for a in made} | {id(unsaved.template._state)}) == 4
    # Each state its own cache of related objects: a state clears its cache when it is collected.
    assert len({id(a._state.fields_cache) for a in made} | {id(unsaved.template._state.fields_cache)}) == 4
    spare = unsaved.new()
    del spare
    assert all(a.term is term for a in made)
    reasons = [a.proposal_reasons for a in made] + [unsaved.template.proposal_reasons]
    assert len({id(r) for r in reasons}) == 4  # a list each, not one shared
    made[0].proposal_reasons.append({"text": "only mine"})
    assert made[1].proposal_reasons == [] and unsaved.template.proposal_reasons == []
    TermlyAssessment.objects.bulk_create(made)
    stored = TermlyAssessment.objects.filter(term=term, school__in=schools)
    assert sorted(stored.values_list("school_id", flat=True)) == sorted(s.pk for s in schools)
    assert stored.get(school=schools[0]).proposal_reasons == [{"text": "only mine"}]
