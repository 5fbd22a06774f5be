"""Concurrent edits of the same record (issue 7, reliability): the second writer gets a clear conflict and
nothing is silently overwritten.

Single-session stale-form tests already exist for each edit form (decisions in test_assessments, support
records in test_support_records, notices and letter templates in test_interventions_pages, ...). This
module adds what they do not cover:

- the support case exit form, submitted from two sessions that opened it at the same version;
- real races: two threads, each with its own database connection, both holding the same version and
  released together by a barrier, write the same termly assessment decision / support case / letter
  template at once. The conditional `UPDATE ... WHERE version = expected` of `beacon.core.versioning` makes
  the second writer wait for the first to commit, then match no row and refuse. Exactly one write wins, the loser is told, the stored row is the
  winner's and the history has exactly one new entry.

The races run on the PostgreSQL pass of the suite (`make test-postgres`), the multi-user deployment.
pytest-django's SQLite test database is in memory with a shared cache, where a second writer gets
"database table is locked" at once instead of waiting; a file-backed SQLite database (the demo) opens
every write with BEGIN IMMEDIATE and a 20 s busy timeout, so writers queue there as well.

Schools: the real Camden register (GIAS/census), 100008 Argyle Primary School, 100049 Haverstock School.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.conf import settings
from django.db import connection, connections
from django.test import Client

from beacon.assessments import services as assessment_services
from beacon.assessments.models import TermlyAssessment
from beacon.core.versioning import StaleEdit
from beacon.interventions import letters
from beacon.interventions import services as intervention_services
from beacon.interventions.models import LetterKind, LetterTemplate
from beacon.risk.models import Term
from beacon.schools.models import School
from beacon.support import services as support_services
from beacon.support.models import CaseStatus, SupportCase
from tests.conftest import make_user

ARGYLE, HAVERSTOCK = 100008, 100049
ON_POSTGRESQL = settings.DATABASES["default"]["ENGINE"].endswith("postgresql")


def race(*writers: Callable[[], Any]) -> list[tuple[str, Any]]:
    """Run the writers at the same moment in their own threads (own DB connections); their outcomes."""
    barrier = threading.Barrier(len(writers))
    outcomes: list[tuple[str, Any]] = [("", None)] * len(writers)

    def run(i: int, write: Callable[[], Any]) -> None:
        try:
            barrier.wait(timeout=30)
            outcomes[i] = ("saved", write())
        except StaleEdit as exc:
            outcomes[i] = ("conflict", exc)
        except Exception as exc:  # reported by the assertion below
            outcomes[i] = ("error", exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i, w)) for i, w in enumerate(writers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not any(t.is_alive() for t in threads), "a writer is stuck"
    assert [o[0] for o in outcomes if o[0] == "error"] == [], outcomes
    return outcomes


# ---------------------------------------------------------------------------------------------
# The support case exit form from two sessions


@pytest.mark.django_db
def test_exit_form_submitted_twice_second_session_gets_a_conflict(camden_register: None) -> None:
    director = make_user("dli", "director")
    case = support_services.open_case(
        school=School.objects.get(urn=HAVERSTOCK),
        level="targeted",
        started_on=dt.date(2024, 9, 2),
        chair=director,
    )
    laptop, phone = Client(), Client()
    laptop.force_login(director)
    phone.force_login(director)
    url = f"/support/cases/{case.pk}/exit/"
    assert f'name="version" value="{case.version}"' in laptop.get(url).content.decode()
    assert f'name="version" value="{case.version}"' in phone.get(url).content.decode()
    form = {
        "version": case.version,
        "agreed_on": "2026-07-10",
        "agreed_with": ["head", "chair_of_governors", "cpp"],
        "recategorise_to": "focused",
        "reduction_plan": "Fortnightly to half-termly visits by Christmas",
    }
    assert laptop.post(url, form).status_code == 302
    stale = phone.post(url, {**form, "recategorise_to": "universal", "reduction_plan": "Stop all visits now"})
    assert stale.status_code == 409
    body = stale.content.decode()
    assert "changed by someone else" in body
    assert "Stop all visits now" in body  # the second user's entries are kept in the form
    case.refresh_from_db()
    assert (case.status, case.recategorised_to) == (CaseStatus.CLOSED, "focused")
    assert case.support_reduction_plan == "Fortnightly to half-termly visits by Christmas"
    assert case.version == 1 and case.history.count() == 2  # opened, exit agreed: nothing else


# ---------------------------------------------------------------------------------------------
# Real races: two threads, two connections (collected on PostgreSQL only, see the module docstring)


if ON_POSTGRESQL:

    @pytest.mark.django_db(transaction=True)
    def test_two_decisions_at_once_one_wins_the_other_is_refused(camden_register: None) -> None:
        ceo, director = make_user("ceo", "ceo"), make_user("director", "director")
        a = assessment_services.refresh_proposal(School.objects.get(urn=ARGYLE), Term.parse("autumn-2025"))
        opened, history_before = a.version, a.history.count()
        decisions = {
            ceo.pk: assessment_services.Decision(
                "amber", "focused", "CEO: attendance plan agreed with the head."
            ),
            director.pk: assessment_services.Decision(
                "red", "targeted", "Director: leadership capacity is a worry."
            ),
        }
        outcomes = race(
            *[
                (
                    lambda u=u: assessment_services.decide(
                        a.pk, decisions[u.pk], user=u, expected_version=opened
                    )
                )
                for u in (ceo, director)
            ]
        )
        assert sorted(o[0] for o in outcomes) == ["conflict", "saved"], outcomes
        winner: TermlyAssessment = next(o[1] for o in outcomes if o[0] == "saved")
        loser = next(o[1] for o in outcomes if o[0] == "conflict")
        assert loser.current.version == opened + 1  # the refusal carries the record as it now is
        stored = TermlyAssessment.objects.get(pk=a.pk)
        won = decisions[winner.decided_by_id]
        assert (stored.decided_rag, stored.decided_level, stored.rationale) == (
            won.rag,
            won.level,
            won.rationale,
        )
        assert stored.version == opened + 1
        assert stored.history.count() == history_before + 1

    @pytest.mark.django_db(transaction=True)
    def test_two_case_edits_at_once_one_wins_the_other_is_refused(camden_register: None) -> None:
        director = make_user("dli", "director")
        case = support_services.open_case(
            school=School.objects.get(urn=HAVERSTOCK),
            level="targeted",
            started_on=dt.date(2024, 9, 2),
            chair=director,
        )
        dates = [dt.date(2026, 7, 17), dt.date(2026, 12, 18)]
        outcomes = race(
            *[(lambda d=d: support_services.update_case(case, 0, planned_exit_on=d)) for d in dates]
        )
        assert sorted(o[0] for o in outcomes) == ["conflict", "saved"], outcomes
        winner: SupportCase = next(o[1] for o in outcomes if o[0] == "saved")
        stored = SupportCase.objects.get(pk=case.pk)
        assert stored.planned_exit_on == winner.planned_exit_on and stored.planned_exit_on in dates
        assert stored.version == 1 and stored.history.count() == 2

    @pytest.mark.django_db(transaction=True)
    def test_two_template_edits_at_once_one_wins_the_other_is_refused() -> None:
        tpl = letters.template_for(LetterKind.WARNING_NOTICE)
        if tpl.pk is None:  # the data migration's row is flushed by an earlier transactional test
            tpl.save()
        opened, history_before = tpl.version, tpl.history.count()
        subjects = ["Warning notice (edited by A)", "Warning notice (edited by B)"]
        outcomes = race(
            *[
                (
                    lambda s=s: intervention_services.update_template(
                        tpl, opened, subject=s, body=tpl.body, today=dt.date(2026, 1, 20)
                    )
                )
                for s in subjects
            ]
        )
        assert sorted(o[0] for o in outcomes) == ["conflict", "saved"], outcomes
        winner: LetterTemplate = next(o[1] for o in outcomes if o[0] == "saved")
        stored = LetterTemplate.objects.get(pk=tpl.pk)
        assert stored.subject == winner.subject and stored.subject in subjects
        assert stored.version == opened + 1 and stored.history.count() == history_before + 1


def test_race_helper_uses_separate_connections() -> None:
    """The writers really are separate sessions: each thread has its own connection object."""
    seen: list[int] = []
    race(lambda: seen.append(id(connections["default"])), lambda: seen.append(id(connections["default"])))
    assert len(set(seen)) == 2 and id(connection) not in seen
