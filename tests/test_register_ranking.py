"""The risk register's stored ranking key (issue 16 item 3; decision 0027, addendum): the register reads its
pages in the order of `TermlyAssessment.rank_*` (an index), which must give exactly the order the register
has always had, and the key must follow the figures, decisions, judgements and the watch threshold through
the services that write them."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.conftest import make_user


def _expected_order(scope: Any, term: Any) -> list[int]:
    """The register's order computed in Python from the stored figures, independently of the stored key:
    ranking probability (lifted to the watch threshold where judged), score, RAG severity (each -1 where
    there is none, or no assessment), then name, then id."""
    from beacon.assessments.models import RAG_SEVERITY, TermlyAssessment
    from beacon.earlywarning.selectors import ranking_probability, watch_probability

    threshold = watch_probability()
    held = {a.school_id: a for a in TermlyAssessment.objects.filter(term=term)}

    def key(school: Any) -> tuple[float, float, int, str, int]:
        a = held.get(school.pk)
        if a is None:
            return (1.0, 1.0, 1, school.name, school.pk)
        p = ranking_probability(a.probability, a.judged, threshold)
        return (
            -(p if p is not None else -1.0),
            -(a.risk_score if a.risk_score is not None else -1.0),
            -RAG_SEVERITY.get(a.decided_rag or a.proposed_rag, -1),
            school.name,
            school.pk,
        )

    return [s.pk for s in sorted(scope, key=key)]


@pytest.fixture
def ranked(camden_register: None) -> dict[str, Any]:
    """Camden's register with stored proposals and a mix of figures: probabilities with a tie, a judgement
    lifting a low probability, a decision, an assessment with nothing known, schools with no assessment
    this term and a negative score."""
    from beacon import permissions
    from beacon.assessments import services
    from beacon.assessments.models import JudgementRecord, TermlyAssessment
    from beacon.earlywarning.models import RiskScore, WatchThreshold
    from beacon.risk.models import Criterion, CriterionKind, Term
    from beacon.risk.services import active_rulebook

    active_rulebook()
    director = make_user("director", "director")
    term = Term.parse("autumn-2025")
    schools = list(permissions.current_risk_register_schools(director).order_by("urn"))
    assert len(schools) > 20
    for s, p in zip(schools[:6], (0.72, 0.31, 0.31, 0.05, 0.9, 0.5), strict=True):
        RiskScore.objects.create(
            school=s, as_of=term.start_date, probability=p, rank=1, reasons=["r"], model_version="t"
        )
    WatchThreshold.objects.create(probability=0.6, note="test")
    criterion = Criterion.objects.filter(model="camden", kind=CriterionKind.JUDGEMENT).order_by("sort_order")[
        0
    ]
    JudgementRecord.objects.create(
        school=schools[3], term=term, criterion=criterion, applies=True, reason="seen", source="cpp_visit"
    )
    services.refresh_proposals(term, permissions.risk_register_schools(director))
    # A decision breaks the 0.31 tie against the name order.
    tied = sorted(schools[1:3], key=lambda s: (s.name, s.pk))[1]
    a = TermlyAssessment.objects.get(school=tied, term=term)
    services.decide(
        a.pk,
        services.Decision("red", "targeted", "Seen on the visit: leadership has changed twice."),
        user=director,
        expected_version=a.version,
    )
    # Nothing known: no proposal, no figures (ranks with the schools that have no assessment, by name).
    blank = TermlyAssessment.objects.get(school=schools[6], term=term)
    blank.proposed_rag = ""
    blank.save()
    TermlyAssessment.objects.filter(school__in=schools[7:9], term=term).delete()
    negative = TermlyAssessment.objects.get(school=schools[9], term=term)
    negative.risk_score = -2.0  # a rulebook weight below zero: ranks after the schools with nothing known
    negative.save()
    return {"director": director, "term": term, "schools": schools, "criterion": criterion}


# Both ways of reading the ranked part: the scope joined (fewer than WIDE_SCOPE schools) and the scope checked
# per school as the index is read (a national user's).
BOTH_SCOPES = pytest.mark.parametrize("wide_scope", [10**9, 0], ids=["joined-scope", "wide-scope"])


@BOTH_SCOPES
def test_register_order_and_pages_follow_the_stored_key(
    ranked: dict[str, Any], monkeypatch: pytest.MonkeyPatch, wide_scope: int
) -> None:
    from django.test import Client

    from beacon import permissions
    from beacon.assessments import selectors

    monkeypatch.setattr(selectors, "WIDE_SCOPE", wide_scope)
    director, term, schools = ranked["director"], ranked["term"], ranked["schools"]
    scope = permissions.current_risk_register_schools(director)
    expected = _expected_order(scope, term)
    assert [r.school.pk for r in selectors.register_rows(scope, term)] == expected
    # The parts meet where the test expects: the judged school at the threshold, the decision breaking
    # the tie, the schools with nothing known by name among the ranked ones, the negative score last.
    by_pk = {s.pk: s for s in schools}
    assert expected[:2] == [schools[4].pk, schools[0].pk]
    assert expected[2:4] == [schools[3].pk, schools[5].pk]
    tied = sorted(schools[1:3], key=lambda s: (s.name, s.pk))
    assert expected[4:6] == [tied[1].pk, tied[0].pk]  # the red decision before the name
    assert expected[-1] == schools[9].pk
    tail = [pk for pk in expected if pk in {s.pk for s in schools[6:9]}]
    assert tail == sorted(tail, key=lambda pk: (by_pk[pk].name, pk))

    # Pages of 4 read part by part (including pages that straddle two parts) give the same order.
    monkeypatch.setattr(selectors, "REGISTER_PAGE_SIZE", 4)
    pages = []
    number = 1
    while True:
        page = selectors.register_page(scope, term, None, number)
        assert page.page.paginator.count == len(expected)
        pages.append([r.school.pk for r in page.rows])
        if not page.page.has_next():
            break
        number += 1
    assert [pk for p in pages for pk in p] == expected
    assert all(len(p) == 4 for p in pages[:-1])
    # A page past the end is the last page, as Django's get_page gives it.
    assert [r.school.pk for r in selectors.register_page(scope, term, None, number + 5).rows] == pages[-1]

    # The page itself lists the same schools in the same order.
    c = Client()
    c.force_login(director)
    body = c.get(f"/risk/?term={term.slug}&page=2").content.decode()
    positions = [body.index(f'data-urn="{by_pk[pk].urn}"') for pk in pages[1]]
    assert positions == sorted(positions)
    assert f"{len(expected)} schools" in body


@BOTH_SCOPES
def test_filters_count_and_order_with_the_stored_key(
    ranked: dict[str, Any], monkeypatch: pytest.MonkeyPatch, wide_scope: int
) -> None:
    from beacon import permissions
    from beacon.assessments import selectors
    from beacon.assessments.models import TermlyAssessment

    monkeypatch.setattr(selectors, "WIDE_SCOPE", wide_scope)
    director, term = ranked["director"], ranked["term"]
    scope = permissions.current_risk_register_schools(director)
    expected = _expected_order(scope, term)
    held = {a.school_id: a for a in TermlyAssessment.objects.filter(term=term)}
    for filters, keep in (
        (selectors.RegisterFilters(rags=["red"]), lambda a: a is not None and a.rag == "red"),
        (selectors.RegisterFilters(rags=["green"]), lambda a: a is not None and a.rag == "green"),
        (selectors.RegisterFilters(levels=["universal"]), lambda a: a is not None and a.level == "universal"),
        (selectors.RegisterFilters(phases=["primary"]), None),
    ):
        rows = selectors.register_rows(scope, term, filters)
        if keep is None:
            want = [
                pk for pk in expected if pk in set(scope.filter(phase="primary").values_list("pk", flat=True))
            ]
        else:
            want = [pk for pk in expected if keep(held.get(pk))]
        assert want and [r.school.pk for r in rows] == want, filters
        assert selectors.register_page(scope, term, filters).page.paginator.count == len(want)


def test_ranking_key_follows_figures_decisions_judgements_and_the_threshold(ranked: dict[str, Any]) -> None:
    from beacon import permissions
    from beacon.assessments import selectors, services
    from beacon.assessments.models import TermlyAssessment
    from beacon.earlywarning.models import RiskScore, WatchThreshold

    director, term, schools = ranked["director"], ranked["term"], ranked["schools"]
    scope = permissions.current_risk_register_schools(director)

    def key(school: Any) -> tuple[float, float, int]:
        a = TermlyAssessment.objects.get(school=school, term=term)
        return (a.rank_probability, a.rank_score, a.rank_severity)

    def consistent() -> None:
        for a in TermlyAssessment.objects.filter(term=term):
            assert (a.rank_probability, a.rank_score, a.rank_severity) == a.ranking(), a.school_id

    consistent()
    assert key(schools[3])[0] == 0.6  # judged: the model's 0.05 lifted to the watch threshold
    assert key(schools[6]) == (-1.0, -1.0, -1)

    # The threshold moves: every judged school's key follows (and only theirs), both ways.
    before = {a.school_id: a.rank_probability for a in TermlyAssessment.objects.filter(term=term)}
    newer = WatchThreshold.objects.create(probability=0.8, note="raised")
    assert key(schools[3])[0] == 0.8
    assert {a.school_id: a.rank_probability for a in TermlyAssessment.objects.filter(term=term)} == before | {
        schools[3].pk: 0.8
    }
    assert [r.school.pk for r in selectors.register_rows(scope, term)][:2] == [schools[4].pk, schools[3].pk]
    newer.delete()
    assert key(schools[3])[0] == 0.6
    consistent()

    # A decision (through the service) moves the RAG part of the key.
    a = TermlyAssessment.objects.get(school=schools[5], term=term)
    services.decide(
        a.pk,
        services.Decision("amber", "focused", "Attendance has fallen for three terms running now."),
        user=director,
        expected_version=a.version,
    )
    assert key(schools[5])[2] == 1
    # A judgement recorded through the service lifts the school to the threshold.
    services.record_judgement(
        school=schools[1],
        term=term,
        criterion=ranked["criterion"],
        applies=True,
        reason="seen on the visit",
        source="cpp_visit",
        user=director,
    )
    assert key(schools[1])[0] == 0.6
    # New scores stored, then the proposals refreshed (as after scoring): the key follows the probability.
    RiskScore.objects.create(
        school=schools[0],
        as_of=term.start_date,
        probability=0.97,
        rank=1,
        reasons=["newer"],
        model_version="t2",
    )
    # A key that has gone stale (written outside the services) is put right by the next refresh.
    TermlyAssessment.objects.filter(school=schools[2], term=term).update(rank_probability=0.99)
    services.refresh_proposals(term, permissions.risk_register_schools(director))
    assert key(schools[0])[0] == 0.97
    assert key(schools[2])[0] == 0.31
    consistent()
    assert [r.school.pk for r in selectors.register_rows(scope, term)] == _expected_order(scope, term)


@BOTH_SCOPES
def test_national_register_reads_its_first_page_in_index_order(
    ranked: dict[str, Any], monkeypatch: pytest.MonkeyPatch, wide_scope: int
) -> None:
    """The first part of the register (the schools ranked above 'nothing known') is read through the
    ranking index, sorting only the name ties: no sort of every school. SQLite's plan without statistics
    is fixed; PostgreSQL's depends on statistics a test database does not have, so there the index must
    at least be able to give the order (with sequential scans and full sorts made expensive)."""
    from django.db import connection, transaction

    from beacon import permissions
    from beacon.assessments import selectors

    monkeypatch.setattr(selectors, "WIDE_SCOPE", wide_scope)
    national = make_user("analyst", "national", la_code=None)
    schools = selectors.register_schools(permissions.current_risk_register_schools(national), ranked["term"])
    sql, params = schools.parts[0][:100].query.sql_with_params()
    with transaction.atomic(), connection.cursor() as cur:
        if connection.vendor == "sqlite":
            cur.execute("EXPLAIN QUERY PLAN " + sql, params)
            plan = [str(row[-1]) for row in cur.fetchall()]
            assert any("USING INDEX assessment_register_rank" in step for step in plan), plan
            assert not any(step == "USE TEMP B-TREE FOR ORDER BY" for step in plan), plan
        else:
            cur.execute("SET LOCAL enable_seqscan = off")
            cur.execute("SET LOCAL enable_sort = off")
            cur.execute("EXPLAIN " + sql, params)
            plan = [str(row[0]) for row in cur.fetchall()]
            assert any("assessment_register_rank" in step for step in plan), plan
            # A plan node "Sort (cost=...)" sorts every row; "Incremental Sort" only the ties of the index order.
            assert not any(re.match(r"\s*(->\s+)?Sort\s+\(", step) for step in plan), plan
