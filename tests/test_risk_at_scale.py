"""Risk results at scale (issue 16, items 2-3; decision 0027): the bulk write of criterion results, the bulk
refresh of proposals with the register's stored figures, the paginated register and the national role."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from tests.conftest import make_user

CAMDEN = 202


def _stored(term: Any) -> dict[tuple[int, int], tuple[int, str, Any, Any]]:
    from beacon.risk.models import CriterionResult

    return {
        (r.school_id, r.criterion_id): (r.pk, r.outcome, r.evidence, r.evaluated_at)
        for r in CriterionResult.objects.filter(term=term)
    }


@pytest.fixture
def evaluated(camden_demo: None) -> Any:
    from beacon.assessments import services
    from beacon.risk.models import Term

    term = Term.parse("autumn-2025")
    services.run_term_pass(term)
    return term


def test_bulk_write_stores_exactly_what_the_rules_produced(evaluated: Any) -> None:
    """Every stored result is the rules' own output for that school and criterion (derived by running the
    rules again on the same data), and every proposal is the one the single-school path computes."""
    from beacon.assessments import services
    from beacon.assessments.models import TermlyAssessment
    from beacon.risk.services import active_rulebook, load_frames, run_rules
    from beacon.schools.models import School

    term = evaluated
    book = active_rulebook()
    rules = list(book.rules.select_related("criterion", "rulebook"))
    fr = load_frames(data_year=term.data_year, cutoff=term.start_date)
    expected = {
        (school_id, criterion_id): (outcome, json.loads(evidence))
        for criterion_id, frame in run_rules(fr, rules, term_year=term.academic_year).items()
        for school_id, outcome, evidence in frame.iter_rows()
    }
    stored = _stored(term)
    assert len(expected) > 100
    assert {k: (v[1], v[2]) for k, v in stored.items()} == expected
    assessments = {a.school_id: a for a in TermlyAssessment.objects.filter(term=term)}
    assert set(assessments) == {s for s, _c in expected}
    scores = services.engine.risk_scores(term)
    for school in School.objects.filter(pk__in=list(assessments)[:40]):
        a = assessments[school.pk]
        assert (a.proposed_rag, a.proposed_level, a.proposal_reasons) == services.compute_proposal(
            school, term
        )
        assert a.risk_score == scores.get(school.pk)


def test_re_evaluation_is_idempotent_and_a_change_rewrites_only_its_rows(evaluated: Any) -> None:
    from beacon.assessments import services
    from beacon.assessments.models import TermlyAssessment
    from beacon.indicators.models import SchoolMeasure

    term = evaluated
    before = _stored(term)
    versions = dict(TermlyAssessment.objects.filter(term=term).values_list("school_id", "version"))
    history = TermlyAssessment.history.count()  # type: ignore[attr-defined]

    again = services.run_term_pass(term)
    assert (again.results_inserted, again.results_replaced) == (0, 0)
    assert again.results_unchanged == len(before)
    assert (again.proposals_created, again.proposals_changed, again.figures_changed) == (0, 0, 0)
    assert _stored(term) == before
    assert dict(TermlyAssessment.objects.filter(term=term).values_list("school_id", "version")) == versions
    assert TermlyAssessment.history.count() == history  # type: ignore[attr-defined]

    # One school's absence figure changes: exactly the results whose outcome or evidence changed are rewritten
    # (that school's, and others' whose benchmarks include it); every other row keeps its id and time.
    row = (
        SchoolMeasure.objects.filter(measure__code="absence_overall", status="ok", year__lte=term.data_year)
        .order_by("-year", "school__urn")
        .first()
    )
    assert row is not None
    row.value = (row.value or 0) + 7.5
    row.save()
    changed = services.run_term_pass(term)
    after = _stored(term)
    assert set(after) == set(before)
    rewritten = {k for k in before if after[k][0] != before[k][0]}
    content_changed = {k for k in before if after[k][1:3] != before[k][1:3]}
    assert rewritten == content_changed
    assert row.school_id in {school_id for school_id, _c in rewritten}
    assert 0 < len(rewritten) < len(before)
    assert changed.results_replaced == len(rewritten) and changed.results_inserted == 0
    for k in set(before) - rewritten:
        assert after[k] == before[k]


def _national(username: str = "analyst") -> Any:
    return make_user(username, "national", la_code=None)


def test_register_is_paginated_in_stored_order(evaluated: Any) -> None:
    from django.test import Client

    from beacon import permissions
    from beacon.assessments import selectors

    term = evaluated
    director = make_user("director", "director")
    everything = selectors.register_rows(permissions.current_risk_register_schools(director), term)
    assert len(everything) == permissions.current_risk_register_schools(director).count()
    # The stored order is the order the rule gives: probability, then score, then RAG, then name.
    keys = [
        (
            -(r.ranking_probability if r.ranking_probability is not None else -1.0),
            -(r.risk_score if r.risk_score is not None else -1.0),
            -selectors.RAG_SEVERITY.get(r.rag, -1),
            r.school.name,
        )
        for r in everything
    ]
    assert keys == sorted(keys)
    size = 7
    old = selectors.REGISTER_PAGE_SIZE
    selectors.REGISTER_PAGE_SIZE = size
    try:
        pages = [
            selectors.register_page(permissions.current_risk_register_schools(director), term, None, n)
            for n in (1, 2, 3)
        ]
    finally:
        selectors.REGISTER_PAGE_SIZE = old
    assert [r.school.pk for p in pages for r in p.rows] == [r.school.pk for r in everything[: 3 * size]]
    assert pages[0].page.paginator.count == len(everything)
    page_one = {r.school.pk: r for r in pages[0].rows}
    for r in everything[:size]:
        assert (page_one[r.school.pk].risk_score, page_one[r.school.pk].rag) == (r.risk_score, r.rag)

    c = Client()
    c.force_login(director)
    body = c.get(f"/risk/?term={term.slug}&page=2").content.decode()
    assert f"{len(everything)} school" in body
    if len(everything) > selectors.REGISTER_PAGE_SIZE:
        assert 'class="govuk-pagination' in body


def test_national_role_sees_every_school_read_only(evaluated: Any) -> None:
    from django.test import Client

    from beacon import permissions
    from beacon.assessments.models import Intelligence
    from beacon.schools.models import School

    analyst = _national()
    director = make_user("director", "director")
    assert permissions.visible_schools(analyst).count() == School.objects.count()
    assert set(permissions.current_risk_register_schools(analyst)) == set(School.objects.served())
    some = permissions.current_risk_register_schools(director).order_by("urn").first()
    assert some is not None
    Intelligence.objects.create(
        school=some, date=evaluated.start_date, source="other", summary="general note"
    )
    Intelligence.objects.create(
        school=some, date=evaluated.start_date, source="other", summary="s", sensitivity="safeguarding"
    )
    assert permissions.can_see_risk_register(analyst) and permissions.can_see_la_overview(analyst)
    assert not permissions.can_decide_assessment(analyst)
    assert not permissions.can_record_judgement(analyst, some)
    assert not permissions.can_record_intelligence(analyst, some)
    assert not permissions.can_see_support(analyst)
    assert not permissions.can_import(analyst)
    assert not permissions.visible_intelligence(analyst, some).exists()
    assert permissions.visible_intelligence(director, some).count() == 2

    c = Client()
    c.force_login(analyst)
    assert c.get(f"/risk/?term={evaluated.slug}").status_code == 200
    page = c.get(f"/risk/{some.urn}/?term={evaluated.slug}")
    assert page.status_code == 200 and "general note" not in page.content.decode()
    assert c.post(f"/risk/{some.urn}/judgements/", {}).status_code == 403
    assert c.post(f"/risk/{some.urn}/decide/", {}).status_code == 403
    assert c.get("/support/").status_code == 403
    overview = c.get(f"/schools/local-authority/?la={CAMDEN}")
    assert overview.status_code == 200 and some.name in overview.content.decode()
    # A director sees their own LA whatever the query says.
    c.force_login(director)
    other_la = School.objects.served().exclude(la_code=CAMDEN).first()
    if other_la is not None:
        body = c.get(f"/schools/local-authority/?la={other_la.la_code}").content.decode()
        assert other_la.name not in body


def _join_explanations_reference(texts: Any) -> str:
    """join_explanations as first written (test oracle): both regular expressions over every text."""
    from beacon.risk.checks.base import _SHARED_NOTE

    body: list[str] = []
    notes: list[str] = []
    for text in texts:
        for note in _SHARED_NOTE.findall(text):
            if note.strip() not in notes:
                notes.append(note.strip())
        body.append(_SHARED_NOTE.sub("", text).strip())
    return " ".join([b for b in body if b] + notes)


def test_evidence_helpers_equal_their_reference(evaluated: Any) -> None:
    """The pass's faster helpers give what they replaced: rows read column by column equal polars'
    iter_rows (lists, structs, nulls, dates), the explanation joining equals the regex-everywhere original
    on every stored explanation (and on texts with the shared note), one formatter per measure equals
    `_fmt`."""
    import datetime as dt

    import polars as pl

    from beacon.core.frames import tuple_rows
    from beacon.risk.checks.base import _fmt, _formatter, join_explanations, named_rows
    from beacon.risk.models import CriterionResult

    frame = pl.DataFrame(
        {
            "school_id": [1, 2, 3],
            "years": [[2021, 2022], [], None],
            "values": [[1.5, None], [float("nan")], [2.0]],
            "grades": [[{"area": "a", "grade": 2}], [], None],
            "when": [dt.date(2025, 1, 1), None, dt.date(2024, 9, 1)],
            "text": ["x", None, "z"],
        }
    )
    # repr: NaN is not equal to itself, but must come back as NaN in the same place.
    assert repr(list(tuple_rows(frame))) == repr(list(frame.iter_rows()))
    assert repr(list(named_rows(frame))) == repr(list(frame.iter_rows(named=True)))
    assert list(tuple_rows(frame.clear())) == []

    items = [
        [str(item.get("explanation", "")) for item in r["items"]]
        for r in CriterionResult.objects.filter(term=evaluated).values_list("evidence", flat=True)
        if isinstance(r, dict) and r.get("items")
    ]
    assert len(items) > 100
    note = " No progress score published for 2024, 2025 and too few schools with a similar intake to compare with."
    items += [["A was below.", f"B was below.{note}"], [f"C.{note}", f" D.{note} "], ["  ", "E."], []]
    for texts in items:
        assert join_explanations(iter(texts)) == _join_explanations_reference(texts)
    for measure in ("ks2_rwm_expected", "absence_overall", "no_such_measure"):
        fmt = _formatter(measure)
        for v in (None, 0.0, -0.05, 12.345, 1e6, float("nan")):
            assert fmt(v) == _fmt(v, measure)


def test_assessment_history_is_written_with_the_pass_and_with_the_user(evaluated: Any) -> None:
    """New assessments get one "+" history row each, changed proposals a "~" row, both with the reason
    "Proposal refreshed" and the user simple-history would record (none in the pass, the signed-in user
    when a request changes the proposal)."""
    from django.test import RequestFactory
    from simple_history.models import HistoricalRecords

    from beacon.assessments import services
    from beacon.assessments.models import TermlyAssessment
    from beacon.risk.models import Criterion

    term = evaluated
    history = TermlyAssessment.history
    current = {a.pk: a for a in TermlyAssessment.objects.filter(term=term)}
    rows = list(history.filter(term=term))
    assert sorted(h.id for h in rows) == sorted(current)
    for h in rows:
        a = current[h.id]
        assert (h.history_type, h.history_change_reason, h.history_user_id) == (
            "+",
            "Proposal refreshed",
            None,
        )
        assert (h.proposed_rag, h.proposed_level, h.proposal_reasons, h.version, h.school_id) == (
            a.proposed_rag,
            a.proposed_level,
            a.proposal_reasons,
            a.version,
            a.school_id,
        )

    adviser = make_user("history-adviser", "adviser")
    a = next(a for a in current.values() if a.proposed_rag == "green")
    request = RequestFactory().post("/")
    request.user = adviser
    HistoricalRecords.context.request = request
    try:
        services.record_judgement(
            school=a.school,
            term=term,
            criterion=Criterion.objects.get(code="A-xxii-g"),
            applies=True,
            reason="Single central record incomplete at the October visit.",
            source="cpp_visit",
            user=adviser,
        )
    finally:
        del HistoricalRecords.context.request
    latest = history.filter(id=a.pk).order_by("-history_id").first()
    refreshed = TermlyAssessment.objects.get(pk=a.pk)
    assert refreshed.proposed_rag != "green" and refreshed.version == a.version + 1
    assert (latest.history_type, latest.history_change_reason, latest.history_user_id) == (
        "~",
        "Proposal refreshed",
        adviser.pk,
    )
    assert (latest.proposed_rag, latest.version) == (refreshed.proposed_rag, refreshed.version)


def test_the_pass_leaves_postgresql_planner_statistics_current(camden_demo: None) -> None:
    """After the bulk writes the pass analyses its tables on PostgreSQL (the register's plan over its ranking
    index depends on them); SQLite is left without statistics, as its plans are chosen."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from beacon.assessments import services
    from beacon.assessments.models import TermlyAssessment
    from beacon.risk.models import CriterionResult, Term

    with CaptureQueriesContext(connection) as ran:
        services.run_term_pass(Term.parse("autumn-2025"))
    analysed = [q["sql"] for q in ran.captured_queries if q["sql"].startswith("ANALYZE")]
    if connection.vendor == "postgresql":
        q = connection.ops.quote_name
        # The results without their evidence: the columns that queries select and join on.
        assert analysed == [
            f"ANALYZE {q(TermlyAssessment._meta.db_table)}",
            f"ANALYZE {q(CriterionResult._meta.db_table)} "
            f"({q('term_id')}, {q('rulebook_id')}, {q('school_id')}, {q('criterion_id')}, {q('outcome')})",
        ]
        # ANALYZE reads a small table whole: the planner's estimate is now the row count.
        with connection.cursor() as cur:
            cur.execute(
                "SELECT reltuples FROM pg_class WHERE relname = %s", [TermlyAssessment._meta.db_table]
            )
            assert cur.fetchone()[0] > 0
    else:
        assert analysed == []


def test_term_schools_are_those_with_results_or_an_assessment(evaluated: Any) -> None:
    """The schools a term's proposals are for: each school with a criterion result this term or an assessment
    this term, once each; not a school with neither, nor one with results of another term only."""
    from beacon.assessments import services
    from beacon.assessments.models import TermlyAssessment
    from beacon.risk.models import CriterionResult, Term
    from beacon.schools.models import School

    term = evaluated
    with_results = set(CriterionResult.objects.filter(term=term).values_list("school_id", flat=True))
    others = School.objects.exclude(pk__in=with_results).order_by("pk")
    assessed_only, neither = others[0], others[1]
    TermlyAssessment.objects.create(school=assessed_only, term=term, version=1)
    later = Term.parse("spring-2026")
    TermlyAssessment.objects.create(school=neither, term=later, version=1)

    listed = list(services.term_schools(term).values_list("pk", flat=True))
    assert len(listed) == len(set(listed))
    assert set(listed) == with_results | {assessed_only.pk}
    assert list(services.term_schools(later).values_list("pk", flat=True)) == [neither.pk]


def test_results_write_keeps_evidence_text_exactly(evaluated: Any) -> None:
    """Evidence holding backslashes, quotes, escaped control characters and non-ASCII text is stored as given
    (PostgreSQL writes the rows as COPY text, which escapes backslashes; SQLite binds them)."""
    import polars as pl
    from django.utils import timezone

    from beacon.core.bulk import copy_text
    from beacon.risk.checks.base import _dumps
    from beacon.risk.models import CriterionResult
    from beacon.risk.services import active_rulebook
    from beacon.risk.store import write_results

    term = evaluated
    book = active_rulebook()
    stored = CriterionResult.objects.filter(term=term, rulebook=book).order_by("pk").first()
    assert stored is not None
    evidence = {
        "explanation": 'Back\\slash \\N "quoted"\ttab\nline\rreturn école £ \u2013 done',
        "items": [{"values": [1.5, None], "path": "C:\\data\\file"}],
    }
    text = _dumps(evidence)
    counts = write_results(
        term.pk, book.pk, [(stored.school_id, stored.criterion_id, "met", text)], now=timezone.now()
    )
    assert (counts.inserted, counts.replaced) == (0, 1)
    again = CriterionResult.objects.get(
        term=term, rulebook=book, school_id=stored.school_id, criterion_id=stored.criterion_id
    )
    assert (again.outcome, again.evidence) == ("met", evidence)
    # The COPY text escaping itself, for values JSON text never holds (raw tab, newline, return).
    escaped = pl.select(copy_text(pl.lit(pl.Series(["a\\b\tc\nd\re", "plain"]))))
    assert escaped.to_series().to_list() == ["a\\\\b\\tc\\nd\\re", "plain"]


def test_the_pass_pauses_the_garbage_collector_and_restores_it(camden_demo: None) -> None:
    """The pass runs with the cyclic collector off (beacon.core.gcpause) and leaves it as it found it, also
    when the block fails; nested pauses keep it off until the outermost ends."""
    import gc

    from beacon.assessments import services
    from beacon.core.gcpause import collector_paused
    from beacon.risk.models import Term

    seen: list[bool] = []
    real = services._run_term_pass

    def spy(*args: Any, **kwargs: Any) -> Any:
        seen.append(gc.isenabled())
        return real(*args, **kwargs)

    assert gc.isenabled()
    services._run_term_pass = spy  # type: ignore[assignment]
    try:
        services.run_term_pass(Term.parse("autumn-2025"))
    finally:
        services._run_term_pass = real  # type: ignore[assignment]
    assert seen == [False] and gc.isenabled()

    with pytest.raises(RuntimeError), collector_paused():
        with collector_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()
        raise RuntimeError("fails inside")
    assert gc.isenabled()
    gc.disable()
    try:
        with collector_paused():
            pass
        assert not gc.isenabled()  # it was off before: left off
    finally:
        gc.enable()


def test_results_frame_equals_the_joined_query(evaluated: Any) -> None:
    """The risk scores' frame (results read from the covering index, URNs and codes joined in polars) is the
    frame the ORM's joined query gives, for every school and for a list of schools."""
    import polars as pl

    from beacon.core.frames import query_frame
    from beacon.risk.models import CriterionResult
    from beacon.risk.selectors import results_frame
    from beacon.risk.services import active_rulebook

    term, book = evaluated, active_rulebook()
    weights = dict(book.rules.values_list("criterion_id", "weight"))
    some = sorted(set(CriterionResult.objects.filter(term=term).values_list("school_id", flat=True)))[::3]
    for ids in (None, some):
        qs = CriterionResult.objects.filter(term=term, rulebook=book)
        if ids is not None:
            qs = qs.filter(school_id__in=ids)
        expected = query_frame(
            qs.values_list(
                "school_id",
                "school__urn",
                "criterion_id",
                "criterion__code",
                "criterion__evaluation_area",
                "outcome",
            ),
            {
                "school_id": pl.Int64,
                "urn": pl.Int64,
                "criterion_id": pl.Int64,
                "code": pl.Utf8,
                "evaluation_area": pl.Utf8,
                "outcome": pl.Utf8,
            },
        ).with_columns(
            pl.col("criterion_id")
            .replace_strict(weights, default=1.0, return_dtype=pl.Float64)
            .alias("weight")
        )
        got = results_frame(term, book, ids)
        assert got.height > 0 and got.schema == expected.schema
        assert got.sort("school_id", "criterion_id").equals(expected.sort("school_id", "criterion_id"))


def test_evidence_is_plain_text_and_the_pass_reads_results_from_the_index(evaluated: Any) -> None:
    """The evidence column is JSON text the database does not parse (PostgreSQL `text`, no SQLite JSON_VALID
    check), and on SQLite the pass's read-back of fingerprints and the risk scores' read use the covering
    index, not the rows holding the evidence."""
    from django.db import connection

    from beacon.risk.models import CriterionResult
    from beacon.risk.services import active_rulebook

    table = CriterionResult._meta.db_table
    with connection.cursor() as cur:
        if connection.vendor == "postgresql":
            cur.execute(
                "SELECT data_type FROM information_schema.columns WHERE table_name = %s AND column_name = %s",
                [table, "evidence"],
            )
            assert cur.fetchone()[0] == "text"
            # Compressed with lz4 where the server has it (decision 0034), else PostgreSQL's default.
            cur.execute(
                "SELECT 'lz4' = ANY(enumvals) FROM pg_settings WHERE name = 'default_toast_compression'"
            )
            has_lz4 = cur.fetchone()[0]
            cur.execute(
                "SELECT attcompression FROM pg_attribute WHERE attrelid = %s::regclass AND attname = %s",
                [table, "evidence"],
            )
            assert cur.fetchone()[0] == ("l" if has_lz4 else "")
            return
        cur.execute("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = %s", [table])
        assert "JSON_VALID" not in cur.fetchone()[0].upper()
        for columns in ("id, school_id, criterion_id, fingerprint", "school_id, criterion_id, outcome"):
            cur.execute(
                f"EXPLAIN QUERY PLAN SELECT {columns} FROM {table} WHERE term_id = %s AND rulebook_id = %s",  # noqa: S608
                [evaluated.pk, active_rulebook().pk],
            )
            plan = " ".join(str(row[-1]) for row in cur.fetchall())
            assert "COVERING INDEX risk_result_term_book_cover" in plan, plan


def test_results_keep_only_the_unique_key_and_the_covering_index(evaluated: Any) -> None:
    """A national pass writes 270,000 results through every index of their table: beside the primary key it
    has only the unique key and the covering index, and a criterion or rulebook with results still cannot
    be deleted (PROTECT needs no index of its own)."""
    from django.db import connection
    from django.db.models import ProtectedError

    from beacon.risk.models import CriterionResult

    table = CriterionResult._meta.db_table
    with connection.cursor() as cur:
        constraints = connection.introspection.get_constraints(cur, table)
    indexed = sorted(
        tuple(c["columns"])
        for c in constraints.values()
        if (c["index"] or c["unique"]) and not c["primary_key"] and c["columns"]
    )
    assert indexed == [
        ("school_id", "term_id", "criterion_id", "rulebook_id"),
        ("term_id", "rulebook_id", "school_id", "criterion_id", "outcome", "fingerprint"),
    ]
    result = CriterionResult.objects.filter(term=evaluated).select_related("criterion", "rulebook").first()
    assert result is not None
    for protected in (result.criterion, result.rulebook):
        with pytest.raises(ProtectedError):
            protected.delete()
    assert CriterionResult.objects.filter(pk=result.pk).exists()


def test_assessments_index_school_and_term_only_through_their_keys(evaluated: Any) -> None:
    """A national pass writes 23,000 proposals through every index of their table: school and term have no
    single-column index (decision 0034). A school's assessments are read through the unique key (school
    first), a term's through the register's ranking index (term first)."""
    from django.db import connection

    from beacon.assessments.models import TermlyAssessment

    table = TermlyAssessment._meta.db_table
    with connection.cursor() as cur:
        constraints = connection.introspection.get_constraints(cur, table)
    indexed = {
        tuple(c["columns"])
        for c in constraints.values()
        if (c["index"] or c["unique"]) and not c["primary_key"] and c["columns"]
    }
    assert ("school_id",) not in indexed and ("term_id",) not in indexed
    assert ("school_id", "term_id") in indexed
    assert next(c for c in indexed if c[0] == "term_id")[:2] == ("term_id", "rank_probability")
    school_id = TermlyAssessment.objects.filter(term=evaluated).values_list("school_id", flat=True).first()
    assert TermlyAssessment.objects.filter(school_id=school_id).count() >= 1
    if connection.vendor == "sqlite":
        with connection.cursor() as cur:
            # SQLite names a unique constraint's index sqlite_autoindex_<table>_N.
            for where, index in (
                ("school_id", f"sqlite_autoindex_{table}_"),
                ("term_id", "assessment_register_rank"),
            ):
                cur.execute(f"EXPLAIN QUERY PLAN SELECT id FROM {table} WHERE {where} = %s", [1])  # noqa: S608
                plan = " ".join(str(row[-1]) for row in cur.fetchall())
                assert f"INDEX {index}" in plan and f"({where}=?)" in plan, plan


def test_the_write_refuses_a_result_for_a_school_or_criterion_that_does_not_exist(evaluated: Any) -> None:
    """The results' references are checked by the write, once per table (PostgreSQL has no constraint on them
    any more): a result for a school or a criterion that does not exist is refused with an IntegrityError
    naming it, and nothing of that write is kept, not even the valid row beside it."""
    from django.db import IntegrityError, connection
    from django.utils import timezone

    from beacon.risk.models import Criterion, CriterionResult
    from beacon.risk.services import active_rulebook
    from beacon.risk.store import write_results
    from beacon.schools.models import School

    term = evaluated
    book = active_rulebook()
    stored = CriterionResult.objects.filter(term=term, rulebook=book).order_by("pk").first()
    assert stored is not None
    before = _stored(term)
    no_school = (School.objects.order_by("-pk").values_list("pk", flat=True).first() or 0) + 1
    no_criterion = (Criterion.objects.order_by("-pk").values_list("pk", flat=True).first() or 0) + 1
    valid = (stored.school_id, stored.criterion_id, "met", '{"explanation": "changed"}')
    for bad, what in (
        ((no_school, stored.criterion_id, "met", "{}"), f"1 school id(s) that do not exist: {no_school}"),
        (
            (stored.school_id, no_criterion, "met", "{}"),
            f"1 criterion id(s) that do not exist: {no_criterion}",
        ),
    ):
        with pytest.raises(IntegrityError, match=re.escape(what)):
            write_results(term.pk, book.pk, [valid, bad], now=timezone.now())
        assert _stored(term) == before
    with pytest.raises(IntegrityError, match="term id"):
        write_results(term.pk + 1000, book.pk, [valid], now=timezone.now())
    # PostgreSQL: no foreign key constraint on the results (a trigger per row); SQLite keeps its own.
    with connection.cursor() as cur:
        constraints = connection.introspection.get_constraints(cur, CriterionResult._meta.db_table)
    references = sorted(c["columns"][0] for c in constraints.values() if c["foreign_key"])
    if connection.vendor == "postgresql":
        assert references == []
    else:
        assert references == ["criterion_id", "rulebook_id", "school_id", "term_id"]


def test_the_rules_stream_each_criterion_once_with_its_final_results(evaluated: Any) -> None:
    """`stream_rules` (the pass writes each criterion while the next rules run) hands over every criterion
    once, with the results `run_rules` returns for it, those `count_once` changes included."""
    from polars.testing import assert_frame_equal

    from beacon.risk.services import active_rulebook, load_frames, run_rules, stream_rules

    term = evaluated
    rules = list(active_rulebook().rules.select_related("criterion", "rulebook"))
    fr = load_frames(data_year=term.data_year, cutoff=term.start_date)
    expected = run_rules(fr, rules, term_year=term.academic_year)
    streamed = list(stream_rules(fr, rules, term_year=term.academic_year))
    assert [c for c, _f in streamed] != [] and len({c for c, _f in streamed}) == len(streamed)
    assert {c for c, _f in streamed} == set(expected)
    assert any(r.params.get("counted_under") for r in rules)  # the held-back path is exercised
    for criterion_id, frame in streamed:
        assert_frame_equal(frame, expected[criterion_id])


@pytest.mark.parametrize("failing", ["rule", "write"])
def test_a_failing_rule_or_write_keeps_nothing_and_stops_the_rules(
    evaluated: Any, monkeypatch: pytest.MonkeyPatch, failing: str
) -> None:
    """A rule that raises, or a write that fails part-way, fails the whole evaluation: what was already
    written for earlier criteria is rolled back, and the rules' thread has ended when the error reaches the
    caller."""
    import threading

    from beacon.risk import services
    from beacon.risk.models import CriterionResult, Term
    from beacon.risk.store import ResultWriter

    term = Term.parse("spring-2026")
    assert not CriterionResult.objects.filter(term=term).exists()
    book = services.active_rulebook()
    rules = [r for r in book.rules.select_related("criterion") if r.enabled and r.params.get("check")]
    ran: list[str] = []
    for name in {r.params["check"] for r in rules}:
        real = services.CHECKS[name]

        def counted(*args: Any, _real: Any = real, _name: str = name, **kwargs: Any) -> Any:
            ran.append(_name)
            if failing == "rule" and len(ran) == 3:
                raise RuntimeError("rule failed")
            return _real(*args, **kwargs)

        monkeypatch.setitem(services.CHECKS, name, counted)
    written: list[int] = []
    real_add = ResultWriter.add

    def add(self: ResultWriter, rows: Any) -> None:
        real_add(self, rows)
        written.append(1)
        if failing == "write" and len(written) == 2:
            raise RuntimeError("write failed")

    monkeypatch.setattr(ResultWriter, "add", add)

    with pytest.raises(RuntimeError, match=f"{failing} failed"):
        services.evaluate(term, book)
    assert written  # earlier criteria had been written in the transaction...
    assert not CriterionResult.objects.filter(term=term).exists()  # ...and none is kept
    assert not [t for t in threading.enumerate() if t.name == "risk-rules"]


def test_closing_the_stream_stops_the_rules_after_the_current_one(
    evaluated: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The caller gives up after the first criterion (its write failed): closing the stream tells the thread
    to stop, waits for the rule it is running, and no further rule runs."""
    import threading

    from beacon.risk import services

    term = evaluated
    rules = list(services.active_rulebook().rules.select_related("criterion", "rulebook"))
    cancelled = threading.Event()
    ran: list[str] = []
    for name in {r.params.get("check") for r in rules} - {None}:
        real = services.CHECKS[name]

        def counted(*args: Any, _real: Any = real, _name: str = name, **kwargs: Any) -> Any:
            ran.append(_name)
            if len(ran) == 2:  # the second rule is still running when the caller gives up
                assert cancelled.wait(timeout=60)
            return _real(*args, **kwargs)

        monkeypatch.setitem(services.CHECKS, name, counted)
    fr = services.load_frames(data_year=term.data_year, cutoff=term.start_date)
    stream = services.stream_rules(fr, rules, term_year=term.academic_year, cancelled=cancelled)
    first = next(stream)
    assert first[0] == rules[0].criterion_id
    stream.close()
    assert cancelled.is_set()
    assert len(ran) == 2
    assert not [t for t in threading.enumerate() if t.name == "risk-rules"]
