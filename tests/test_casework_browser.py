"""A term's casework in a real browser (issue 13 acceptance, the casework half), on a real Camden school:
the SRAS decision's categorisation letter, a targeted support case with its initial meeting scheduled, two
review meetings with the head's pre-meeting report in Appendix D, a warning notice with Appendix C's
content, a refused future response date, the response and outcome, the letters with their text checked and
the congratulations letter refused. axe-core on every page. The steps live in tests/casework_journey.py,
shared with the whole-term test (tests/test_termly_process_browser.py).

Haverstock School (URN 100049, no religious character). Time is frozen on 20 January 2026."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import time_machine
from django.utils import timezone

from beacon.assessments.models import SRASMeeting, TermlyAssessment
from beacon.risk.models import Term
from beacon.schools.models import School
from tests.casework_journey import HAVERSTOCK, casework, categorisation_letter
from tests.conftest import make_user, sign_in_by_session


@pytest.mark.browser
@time_machine.travel(dt.datetime(2026, 1, 20, 9, 0, tzinfo=dt.UTC))
def test_a_terms_casework_with_letters(
    page: Any, live_server: Any, transactional_db: None, camden_register: None
) -> None:
    director = make_user("dli", "director")
    school = School.objects.get(urn=HAVERSTOCK)
    term = Term.objects.create(academic_year=2025, term="autumn")
    sras = SRASMeeting.objects.create(term=term, date=dt.date(2025, 10, 6))
    TermlyAssessment.objects.create(
        school=school, term=term, decided_rag="red", decided_level="targeted", meeting=sras,
        rationale="GCSE outcomes well below the floor for two years.", decided_by=director,
        decided_at=timezone.now(),
    )  # fmt: skip
    sign_in_by_session(page, live_server, "dli")
    categorisation_letter(page, live_server.url)
    casework(page, live_server.url)
