"""Early-warning scores on the register and the school's risk page (issue 12, item 2)."""

from __future__ import annotations

import datetime as dt

ARGYLE, BRECKNOCK = 100008, 100010


def test_register_sorts_by_stored_probability_and_flags_watch(camden_register: None) -> None:
    from django.test import Client

    from beacon.assessments import selectors, services
    from beacon.core import permissions
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
    rows = selectors.register_rows(director, t)
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
