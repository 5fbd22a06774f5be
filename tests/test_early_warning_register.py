"""Early-warning scores on the register and the school's risk page (issue 12, item 2)."""

from __future__ import annotations

import datetime as dt

ARGYLE, BRECKNOCK = 100008, 100010


def test_register_sorts_by_stored_probability_and_flags_watch(camden_register: None) -> None:
    from django.test import Client

    from beacon import permissions
    from beacon.assessments import selectors, services
    from beacon.earlywarning.models import RiskScore, WatchThreshold
    from beacon.risk.models import Term
    from beacon.schools.models import School
    from tests.conftest import make_user

    director = make_user("director", "director")
    t = Term.parse("autumn-2025")
    argyle, brecknock = School.objects.get(urn=ARGYLE), School.objects.get(urn=BRECKNOCK)
    for s, p, rank in ((brecknock, 0.31, 2), (argyle, 0.72, 1)):
        RiskScore.objects.create(
            school=s,
            as_of=t.start_date,
            probability=p,
            rank=rank,
            reasons=[f"reason for {s.urn}"],
            model_version="t",
        )
    # A score dated after the term's start is not this term's.
    RiskScore.objects.create(
        school=brecknock,
        as_of=dt.date(2026, 1, 5),
        probability=0.99,
        rank=1,
        reasons=["later"],
        model_version="t",
    )
    WatchThreshold.objects.create(probability=0.6, note="test")
    services.refresh_proposals(t, permissions.risk_register_schools(director))
    rows = selectors.register_rows(permissions.current_risk_register_schools(director), t)
    assert [r.school.urn for r in rows[:2]] == [ARGYLE, BRECKNOCK]
    assert (rows[0].probability, rows[1].probability) == (0.72, 0.31)
    first = rows[0]
    assert first.watch == (first.rag == "green" or first.level == "universal")
    assert not rows[1].watch
    c = Client()
    c.force_login(director)
    page = c.get(f"/risk/{ARGYLE}/?term=autumn-2025").content.decode()
    assert 'id="early-warning-probability">72%' in page and "reason for 100008" in page
    register = c.get("/risk/?term=autumn-2025").content.decode()
    assert register.index(f'data-urn="{ARGYLE}"') < register.index(f'data-urn="{BRECKNOCK}"')


def test_judgement_recorded_by_people_lifts_the_ranking_to_the_watch_threshold(camden_register: None) -> None:
    """Issue 12 item 2: a judgement criterion recorded by people as applying counts in the ranking (the
    school ranks at least at the watch threshold), not only in the proposal; the probability shown stays
    the model's; a judgement recorded as not applying lifts nothing."""
    from beacon import permissions
    from beacon.assessments import selectors, services
    from beacon.assessments.models import JudgementRecord
    from beacon.earlywarning.models import RiskScore, WatchThreshold
    from beacon.earlywarning.selectors import ranking_probability
    from beacon.risk.models import Criterion, CriterionKind, Term
    from beacon.risk.services import active_rulebook
    from beacon.schools.models import School
    from tests.conftest import make_user

    active_rulebook()
    director = make_user("director", "director")
    t = Term.parse("autumn-2025")
    argyle, brecknock = School.objects.get(urn=ARGYLE), School.objects.get(urn=BRECKNOCK)
    judged = (
        permissions.current_risk_register_schools(director)
        .exclude(pk__in=[argyle.pk, brecknock.pk])
        .order_by("urn")
        .first()
    )
    assert judged is not None
    for s, p in ((argyle, 0.72), (brecknock, 0.31), (judged, 0.05)):
        RiskScore.objects.create(
            school=s, as_of=t.start_date, probability=p, rank=1, reasons=["r"], model_version="t"
        )
    WatchThreshold.objects.create(probability=0.6, note="test")
    criterion = Criterion.objects.filter(model="camden", kind=CriterionKind.JUDGEMENT).order_by("sort_order")[
        0
    ]
    for s, applies in ((judged, True), (brecknock, False)):
        JudgementRecord.objects.create(
            school=s,
            term=t,
            criterion=criterion,
            applies=applies,
            reason="seen on the visit",
            source="cpp_visit",
        )
    services.refresh_proposals(t, permissions.risk_register_schools(director))
    rows = selectors.register_rows(permissions.current_risk_register_schools(director), t)
    assert [r.school.urn for r in rows[:3]] == [ARGYLE, judged.urn, BRECKNOCK]
    by_urn = {r.school.urn: r for r in rows}
    assert by_urn[judged.urn].probability == 0.05 and by_urn[judged.urn].ranking_probability == 0.6
    assert by_urn[BRECKNOCK].ranking_probability == 0.31
    # The rule itself: never lowers the model's view; a judged school without a score ranks at the threshold.
    assert ranking_probability(0.8, True, 0.6) == 0.8
    assert ranking_probability(None, True, 0.6) == 0.6
    assert ranking_probability(None, False, 0.6) is None
