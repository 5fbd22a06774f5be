"""Letters fit to send (issue 13, item 1) on real Camden schools: 100049 Haverstock School, 100008 Argyle
Primary School. Every letter is dated, addressed to the head and the chair at the school's address, names the
right meeting, never prints an empty placeholder, and the director's templates are bounded and checked."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from docx import Document

from beacon.interventions import letters, services
from beacon.interventions.models import Ground, LetterKind, LetterTemplate, Outcome, WarningNotice
from beacon.schools.models import School
from beacon.support import services as support
from beacon.support.models import Progress
from tests.conftest import make_user

HAVERSTOCK, ARGYLE = 100049, 100008
D = dt.date
TODAY = dt.datetime(2026, 1, 20, 10, 0, tzinfo=dt.UTC)


@pytest.fixture
def director(camden_register: None) -> Any:
    return make_user("dli", "director")


def _docx(response: Any) -> str:
    assert response.status_code == 200, response.content.decode()[:500]
    doc = Document(io.BytesIO(response.content))
    return "\n".join(p.text for p in doc.paragraphs)


def _case(director: Any, urn: int = HAVERSTOCK, **kw: Any) -> Any:
    return support.open_case(
        school=School.objects.get(urn=urn), level="targeted", started_on=D(2025, 9, 8), chair=director, **kw
    )


def test_default_templates_exist_from_the_data_migration(db: None) -> None:
    assert set(LetterTemplate.objects.values_list("kind", flat=True)) == set(LetterKind.values)
    assert all(t.history.count() == 1 for t in LetterTemplate.objects.all())


@time_machine.travel(TODAY, tick=False)
def test_significant_concerns_letter_never_prints_an_empty_gap(client: Client, director: Any) -> None:
    case = _case(director)
    client.force_login(director)
    url = reverse("support:letter", args=[case.pk, LetterKind.SIGNIFICANT_CONCERNS, "docx"])
    refused = client.get(url)
    assert refused.status_code == 409
    assert "This letter needs the concerns" in refused.content.decode()
    support.add_priority(case, area="achievement", title="Key stage 4 outcomes in English and maths",
                         end_of_year_aim="Grade 4+ in English and maths at or above the LA average")  # fmt: skip
    text = _docx(client.get(url))
    school = case.school
    assert (
        "The local authority has significant concerns about Haverstock School: Key stage 4 outcomes in "
        "English and maths (achievement)" in text
    )
    assert ": ." not in text and "  " not in text
    # Dated, addressed to the head and the chair at the school's address, signed by the case chair.
    assert "20 January 2026" in text and school.postcode and school.postcode in text
    assert f"{school.head_name}, Headteacher" in text and "Chair of Governors" in text


@time_machine.travel(TODAY, tick=False)
def test_initial_meeting_letter_names_the_initial_meeting(client: Client, director: Any) -> None:
    case = _case(director, attendees="")
    client.force_login(director)
    url = reverse("support:letter", args=[case.pk, LetterKind.INITIAL_MEETING, "docx"])
    assert client.get(url).status_code == 409  # no initial meeting scheduled yet: no "on ." letter
    support.schedule_meeting(case, case.version, on=D(2025, 9, 29), today=D(2025, 9, 10))
    assert "initial meeting on 29 September 2025" in _docx(client.get(url))
    support.record_meeting(case, held_on=D(2025, 9, 30), progress=Progress.ON_TRACK)
    support.record_meeting(case, held_on=D(2025, 11, 24), progress=Progress.ON_TRACK)
    text = _docx(client.get(url))
    assert "initial meeting on 30 September 2025" in text and "24 November" not in text


@time_machine.travel(TODAY, tick=False)
def test_meeting_summary_letter_is_of_its_own_meeting(client: Client, director: Any) -> None:
    case = _case(director)
    support.add_priority(case, area="attendance_and_behaviour", title="Attendance of disadvantaged pupils",
                         end_of_year_aim="Persistent absence below 20%")  # fmt: skip
    first = support.record_meeting(case, held_on=D(2025, 9, 30), progress=Progress.ON_TRACK,
                                   next_steps="Weekly attendance panel", next_meeting_on=D(2025, 11, 24))  # fmt: skip
    client.force_login(director)
    text = _docx(client.get(reverse("support:meeting_letter", args=[first.pk, "docx"])))
    assert "meeting on 30 September 2025" in text and "Weekly attendance panel" in text
    assert "Overall progress: on track." in text and "The next meeting is on 24 November 2025." in text
    second = support.record_meeting(case, held_on=D(2025, 11, 24), progress=Progress.NOT_ON_TRACK,
                                    next_steps="Rapid improvement plan")  # fmt: skip
    refused = client.get(reverse("support:meeting_letter", args=[second.pk, "docx"]))
    assert refused.status_code == 409 and "the date of the next meeting" in refused.content.decode()
    text = _docx(client.get(reverse("support:meeting_letter", args=[first.pk, "docx"])))
    assert "The next meeting is on 24 November 2025." in text  # the meeting that followed


@time_machine.travel(TODAY, tick=False)
def test_categorisation_letter_after_the_sras_decision(client: Client, director: Any) -> None:
    from django.utils import timezone

    from beacon.assessments.models import SRASMeeting, TermlyAssessment
    from beacon.risk.models import Term

    school = School.objects.get(urn=HAVERSTOCK)
    client.force_login(director)
    url = reverse("interventions:school_letter", args=[HAVERSTOCK, LetterKind.CATEGORISATION, "docx"])
    assert client.get(url).status_code == 409  # no decision yet
    term = Term.objects.create(academic_year=2025, term="autumn")
    meeting = SRASMeeting.objects.create(term=term, date=D(2025, 10, 6))
    TermlyAssessment.objects.create(
        school=school, term=term, decided_rag="red", decided_level="targeted", meeting=meeting,
        rationale="GCSE outcomes well below the floor for two years.", decided_by=director,
        decided_at=timezone.now(),
    )  # fmt: skip
    text = _docx(client.get(url))
    assert "SRAS) meeting on 6 October 2025 considered Haverstock School in the autumn 2025/26" in text
    assert "categorised red and will receive targeted support" in text
    assert "GCSE outcomes well below the floor" in text and "review meetings every 8 to 10 weeks" in text
    client.force_login(make_user("cpp", "adviser", schools=(HAVERSTOCK,)))
    assert client.get(url).status_code == 403


@time_machine.travel(TODAY, tick=False)
def test_no_congratulations_under_an_active_or_failed_notice(client: Client, director: Any) -> None:
    school = School.objects.get(urn=ARGYLE)
    client.force_login(director)
    url = reverse("interventions:school_letter", args=[ARGYLE, LetterKind.CONGRATULATIONS, "docx"])
    assert "I am writing to congratulate you" in _docx(client.get(url))
    notice = WarningNotice.objects.create(school=school, ground=Ground.STANDARDS, concerns="KS2")
    assert client.get(url).status_code == 200  # a draft notice does not block
    services.issue_notice(notice, issued_on=D(2025, 11, 3), compliance_ends_on=D(2025, 12, 1))
    refused = client.get(url)
    assert refused.status_code == 409
    assert "under a formal warning notice issued on 3 November 2025 (it awaits its outcome)" in (
        refused.content.decode().replace("&#x27;", "'")
    )
    services.record_response(notice, response="", received_on=None, outcome=Outcome.NOT_COMPLIED,
                             today=D(2025, 12, 5))  # fmt: skip
    assert "failed to comply" in client.get(url).content.decode()


def test_template_save_refuses_placeholders_of_another_letter(director: Any) -> None:
    tpl = LetterTemplate.objects.get(kind=LetterKind.SIGNIFICANT_CONCERNS)
    body = "The local authority has significant concerns about {{ school_name }}: {{ grounds }}."
    with pytest.raises(ValidationError, match=r"\{\{ grounds \}\} is not a placeholder of this letter"):
        services.update_template(tpl, tpl.version, subject="S", body=body, today=D(2026, 1, 20))
    with pytest.raises(ValidationError, match="date"):
        services.update_template(tpl, tpl.version, subject="S", body="{{ date }}", today=D(2026, 1, 20))
    tpl.refresh_from_db()
    assert tpl.version == 0 and "{{ concerns }}" in tpl.body


def test_template_save_renders_against_real_records(director: Any) -> None:
    """The sample has two priorities; a real case with one makes this template fail: refused."""
    case = _case(director)
    support.add_priority(case, area="achievement", title="GCSE maths", end_of_year_aim="Grade 4+ 70%")
    support.record_meeting(case, held_on=D(2025, 9, 30), progress=Progress.ON_TRACK, next_steps="Plan")
    tpl = LetterTemplate.objects.get(kind=LetterKind.MEETING_SUMMARY)
    body = "Second priority: {{ priorities.split(';')[1] }}"
    assert letters.render_letter(
        LetterTemplate(kind=tpl.kind, subject="S", body=body), letters.SAMPLE_CONTEXT
    )
    with pytest.raises(ValidationError, match="could not be rendered"):
        services.update_template(tpl, tpl.version, subject="S", body=body, today=D(2026, 1, 20))
    ok = "Priorities: {{ priorities|upper }}"
    assert services.update_template(tpl, tpl.version, subject="S", body=ok, today=D(2026, 1, 20)).version == 1


@pytest.mark.parametrize(
    ("body", "why"),
    [
        ("{% for i in range(99999) %}{% for j in range(99999) %}x{% endfor %}{% endfor %}", "at most 100"),
        ("{% for i in range(9) %}{% for j in range(9) %}{% for k in range(9) %}x{% endfor %}{% endfor %}"
         "{% endfor %}", "at most 2 deep"),
        ("{% for i in range(100) %}{% for j in range(100) %}{{ 'x' * 1000 }}{% endfor %}{% endfor %}",
         "longer than 50,000"),
        ("{{ 'x' * 1000000000 }}", "repeated a value"),
        ("{{ 10 ** 100000 }}", "not allowed"),
        ("{% set s = 'x' %}{{ s }}", "cannot use"),
        ("{% macro m() %}{{ m() }}{% endmacro %}{{ m() }}", "cannot use"),
        ("{{ namespace(s='x') }}", "namespace"),
        ("{{ school_name.ljust(999999999) }}", "at most 1000|unsafe"),
        ("{{ 'x'|center(999999999) }}", "center"),
        ("{{ ''.__class__.__mro__ }}", "__class__|unsafe"),
    ],
)  # fmt: skip
def test_director_templates_are_bounded(body: str, why: str) -> None:
    tpl = LetterTemplate(kind=LetterKind.CONGRATULATIONS, subject="S", body=body)
    with pytest.raises(ValidationError, match=why):
        letters.render_letter(tpl, {k: letters.SAMPLE_CONTEXT[k] for k in letters.COMMON})


def test_template_pages_read_without_writing_and_show_a_clear_form_error(
    client: Client, director: Any
) -> None:
    before = list(LetterTemplate.objects.order_by("kind").values_list("kind", "version"))
    client.force_login(director)
    assert client.get(reverse("interventions:templates")).status_code == 200
    for kind in LetterKind.values:
        page = client.get(reverse("interventions:template", args=[kind])).content.decode()
        assert "{{ letter_date }}" in page and "{{ school_address }}" in page
    assert list(LetterTemplate.objects.order_by("kind").values_list("kind", "version")) == before
    url = reverse("interventions:template", args=[LetterKind.SIGNIFICANT_CONCERNS])
    r = client.post(
        url, {"version": "0", "subject": "S", "body": "Concerns: {{ grounds }}.", "action": "save"}
    )
    assert r.status_code == 400
    assert "{{ grounds }} is not a placeholder of this letter" in r.content.decode().replace("&#x27;", "'")


def test_letters_to_a_school_without_a_case(client: Client, director: Any) -> None:
    client.force_login(director)
    url = reverse("interventions:school_letters")
    page = client.get(url)
    assert page.status_code == 200 and "Argyle Primary School" in page.content.decode()
    r = client.get(url, {"urn": ARGYLE, "kind": LetterKind.CONGRATULATIONS, "fmt": "pdf"})
    assert r.status_code == 302
    assert r["Location"] == reverse(
        "interventions:school_letter", args=[ARGYLE, LetterKind.CONGRATULATIONS, "pdf"]
    )
    bad = client.get(url, {"urn": "999999999999999999999", "kind": "warning_notice", "fmt": "exe"})
    assert bad.status_code == 400 and "There is a problem" in bad.content.decode()
    client.force_login(make_user("cpp", "adviser", schools=(ARGYLE,)))
    assert client.get(url).status_code == 403
