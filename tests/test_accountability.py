"""Accountability (issue 5, items 3-5): commissioner reports, significant concerns, the Building Back Stronger
tracker and the Commission's Table 1 outputs, on the real Camden register and Ofsted history.

Worked values from ../shared/data/raw:
* waiky8-schools-data/ofsted_ratings_2018.csv row `138777,Inadequate,20130618`: La Petite Ecole Bilingue was
  judged inadequate on 18 June 2013 (summer second half-term of 2012/13), and `100048,Inadequate,20091125`:
  Our Lady Roman Catholic Primary School on 25 November 2009. No other Camden inspection in 2012/13 was
  inadequate.
* clarelgibson-england-school-admissions/dim_school.csv row for URN 100049: Haverstock School's head is
  Mr James Hadley (read from the file below).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
from pathlib import Path
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.test import Client
from django.utils import timezone
from docx import Document
from pypdf import PdfReader

from beacon import permissions
from beacon.accountability import documents, seed, selectors, services
from beacon.accountability.models import (
    Action,
    ActionUpdate,
    Ambition,
    CommissionArea,
    CommissionOutput,
    ConcernAcknowledgement,
    Goal,
    Pledge,
    Rag,
)
from beacon.accountability.periods import parse_half_term, previous_half_term
from beacon.core.versioning import StaleEdit
from beacon.schools.models import School
from tests.conftest import CAMDEN, make_user
from tests.replay import load_once

SEEDS = Path(__file__).resolve().parents[1].parent / "shared" / "seeds"
HAVERSTOCK, GOSPEL_OAK, NETLEY, PETITE_ECOLE = 100049, 100025, 100018, 138777


def _scope(user: Any) -> tuple[QuerySet[School], QuerySet[Any]]:
    """What the views pass: the schools the user may see and the restricted intelligence about them."""
    schools = permissions.visible_schools(user)
    return schools, permissions.significant_intelligence(user, schools)


def _docx_text(data: bytes) -> str:
    doc = Document(io.BytesIO(data))
    parts = [p.text for p in doc.paragraphs]
    for table in doc.tables:
        for row in table.rows:
            parts.extend(c.text for c in row.cells)
    return "\n".join(parts)


def _pdf_text(data: bytes) -> str:
    return " ".join((p.extract_text() or "") for p in PdfReader(io.BytesIO(data)).pages)


def _squash(text: str) -> str:
    return " ".join(text.split())


def _seed_dir(data_dir: Path) -> Path:
    for candidate in (data_dir.parent.parent / "seeds", SEEDS):
        if candidate.exists():
            return candidate
    pytest.fail("../shared/seeds not found")


@pytest.fixture
def camden_ofsted(camden_register: None, data_dir: Path) -> None:
    """The Camden register plus its Ofsted inspection history (the three Ofsted demo sources)."""
    from beacon.imports.framework import run_import
    from beacon.imports.models import RunStatus

    def load() -> None:
        for source, rel in (
            ("ofsted_inspection_history", "waiky8-schools-data/ofsted_ratings_2018.csv"),
            ("ofsted_latest", "pvhee-london-schools/schools_london_complete.csv"),
            (
                "ofsted_management_information",
                "hemaleed-ofsted-mi-2026-sample/ofsted_mi_state_funded_schools_2026_first18rows.csv",
            ),
        ):
            run = run_import(source, data_dir / rel, la_code=CAMDEN)
            assert run.status == RunStatus.SUCCEEDED, run.message

    load_once("accountability:camden_ofsted", load)


# --- seed ---------------------------------------------------------------------------------------------


def test_seed_loads_the_real_strategy_and_table_1(db: None, data_dir: Path) -> None:
    counts = seed.load_seed()
    assert (counts.ambitions, counts.goals, counts.pledges) == (3, 19, 70)
    assert (counts.areas, counts.outputs) == (18, 39)
    again = seed.load_seed()  # idempotent
    assert again == counts and Pledge.objects.count() == 70 and CommissionOutput.objects.count() == 39

    assert list(Ambition.objects.values_list("title", flat=True)) == [
        "A Fair Start",
        "An Excellent School Experience",
        "Flourishing Lives",
    ]
    # "we set out ten Goals ... but early in 2023 added an eleventh Goal: Improving school attendance"
    excellent = Ambition.objects.get(number=2)
    assert excellent.goals.count() == 11
    assert excellent.goals.get(number=11).title == "Improving school attendance"
    assert Goal.objects.get(ambition__number=2, number=2).title == "Every child a reader by 7 (ECR7)"
    assert (
        Ambition.objects.get(number=1).goals.count() == 3
        and Ambition.objects.get(number=3).goals.count() == 5
    )

    # Every pledge is the report's own words (markdown emphasis removed), found in the seed text.
    text = (_seed_dir(data_dir) / "camden-building-back-stronger-year1-report.txt").read_text(
        encoding="utf-8"
    )
    plain = _squash(re.sub(r"\*\*|\*", "", text)).lower()
    for pledge in Pledge.objects.exclude(goal__ambition__number=2, goal__number__in=(10, 11)):
        assert _squash(pledge.text).lower()[:60] in plain, pledge.text
    assert Pledge.objects.get(goal__ambition__number=1, goal__number=1, number=1).text == (
        "Focus on building the common skillset of the early years workforce across all settings"
    )

    # Table 1: areas 1 to 16 (the table numbers two areas 1 and two areas 2).
    areas = list(CommissionArea.objects.values_list("number", "title"))
    assert sorted({n for n, _ in areas}) == list(range(1, 17))
    assert areas[0] == (1, "School Improvement") and areas[-1] == (16, "PHSE")
    first = CommissionOutput.objects.get(area__sort_order=1, number=1)
    assert first.output.startswith("No new school fails or is judged to 'Require Improvement'")
    table1 = (_seed_dir(data_dir) / "camden-learning-commission-targets.txt").read_text(encoding="utf-8")
    assert (
        "Half-termly update for the Commissioner"
        in CommissionOutput.objects.get(area__sort_order=1, number=3).delivery
    )
    for output in CommissionOutput.objects.all():
        assert _squash(output.output)[:50] in _squash(re.sub(r"</?p>", " ", table1)), output.output
    assert CommissionOutput.objects.filter(area__number=16).count() == 3


def test_seed_files_are_small_and_derived(db: None) -> None:
    data = json.loads((seed.SEED_DIR / "building_back_stronger.json").read_text(encoding="utf-8"))
    assert "camden-building-back-stronger-year1-report.txt" in data["source"]
    assert sum((seed.SEED_DIR / n).stat().st_size for n in ("building_back_stronger.json",
               "commission_outputs.json")) < 60_000  # fmt: skip


# --- periods ------------------------------------------------------------------------------------------


def test_half_terms() -> None:
    p = parse_half_term("summer-2-2012")
    assert (p.start, p.end, str(p)) == (
        dt.date(2013, 6, 1),
        dt.date(2013, 8, 31),
        "Summer second half-term 2012/13",
    )
    assert previous_half_term(p).slug == "summer-1-2012"
    assert previous_half_term(parse_half_term("autumn-1-2025")).slug == "summer-2-2024"
    assert parse_half_term("nonsense", today=dt.date(2026, 2, 21)).slug == "spring-2-2025"


# --- commissioner reports ----------------------------------------------------------------------------


def _decide(school: Any, term: Any, rag: str, level: str, user: Any) -> None:
    from beacon.assessments.models import TermlyAssessment

    TermlyAssessment.objects.create(
        school=school, term=term, decided_rag=rag, decided_level=level, rationale="Worked example decision",
        decided_by=user, decided_at=timezone.now(),
    )  # fmt: skip


@pytest.mark.time_machine(dt.datetime(2026, 11, 30, 12, 0, tzinfo=dt.UTC), tick=False)
def test_half_termly_update_on_camden(camden_ofsted: None) -> None:
    from beacon.assessments.models import Intelligence
    from beacon.inspections.models import Inspection, InspectionGrade
    from beacon.interventions.models import WarningNotice
    from beacon.risk.models import Term
    from beacon.schools.models import School
    from beacon.support.models import CaseStatus, SupportCase

    commissioner = make_user("cora", "commissioner")
    director = make_user("dli", "director")
    haverstock, gospel, netley = (School.objects.get(urn=u) for u in (HAVERSTOCK, GOSPEL_OAK, NETLEY))
    autumn, spring = Term.parse("autumn-2025"), Term.parse("spring-2025")
    _decide(haverstock, autumn, "green", "universal", director)
    _decide(haverstock, spring, "red", "targeted", director)
    _decide(gospel, autumn, "amber", "focused", director)
    _decide(gospel, spring, "amber", "focused", director)
    _decide(netley, spring, "amber", "focused", director)
    SupportCase.objects.create(
        school=haverstock, level="targeted", started_on=dt.date(2026, 1, 12), chair=director
    )
    SupportCase.objects.create(
        school=gospel, level="focused", started_on=dt.date(2025, 1, 6), chair=director,
        status=CaseStatus.CLOSED, exit_agreed_on=dt.date(2026, 2, 2), recategorised_to="universal",
    )  # fmt: skip
    WarningNotice.objects.create(school=haverstock, ground="standards", issued_on=dt.date(2026, 2, 3))
    WarningNotice.objects.create(
        school=netley, ground="standards", issued_on=dt.date(2026, 3, 3)
    )  # next half-term
    # A report card with safeguarding not met and an urgent-improvement grade, inside the half-term.
    rc = Inspection.objects.create(
        school=netley, framework="report_card", start_date=dt.date(2026, 2, 10), safeguarding_met=False
    )
    InspectionGrade.objects.create(inspection=rc, area="leadership_and_governance", grade=1)
    Intelligence.objects.create(
        school=gospel, date=dt.date(2026, 1, 20), source="la_officer", summary="Allegation against a member of staff",
        sensitivity="personnel", recorded_by=director,
    )  # fmt: skip
    Intelligence.objects.create(
        school=gospel,
        date=dt.date(2026, 1, 21),
        source="cpp_visit",
        summary="General note",
        sensitivity="general",
    )

    period = parse_half_term("spring-1-2025")  # 1 January to 20 February 2026
    report = selectors.half_termly_report(*_scope(commissioner), period)
    assert report.term == spring and report.previous_term == autumn
    assert [(c.urn, c.level, c.rag, c.change) for c in report.categories] == [
        (HAVERSTOCK, "targeted", "red", "More concern"),
        (GOSPEL_OAK, "focused", "amber", "No change"),
        (NETLEY, "focused", "amber", "First decision"),
    ]
    assert [c.urn for c in report.changes] == [HAVERSTOCK, NETLEY]
    assert dict(report.level_counts) == {"Universal": 0, "Focused": 2, "Targeted": 1}
    # Gospel Oak's real report card of 13 January 2026 (safeguarding met, no urgent improvement) is no concern.
    assert sorted((c.urn, c.kind) for c in report.concerns) == [
        (NETLEY, "safeguarding"),
        (NETLEY, "urgent_improvement"),
        (GOSPEL_OAK, "intelligence"),
    ]
    assert [r.urn for r in report.cases_opened] == [HAVERSTOCK]
    assert [(r.urn, r.detail) for r in report.cases_closed] == [(GOSPEL_OAK, "Re-categorised to universal")]
    assert [(r.urn, r.on) for r in report.notices] == [(HAVERSTOCK, dt.date(2026, 2, 3))]

    doc = documents.commissioner_document(report)
    for data, to_text in (
        (documents.document_pdf(doc), _pdf_text),
        (documents.document_docx(doc), _docx_text),
    ):
        text = _squash(to_text(data))
        assert "Half-termly update to the commissioner: Spring first half-term 2025/26" in text
        assert "Haverstock School" in text and "More concern" in text
        assert "Safeguarding not met" in text and "Allegation against a member of staff" in text
        assert "Formal warning notice" in text and "Re-categorised to universal" in text
        assert "General note" not in text

    # Web page, PDF and Word downloads for the commissioner; nobody outside the leadership roles.
    client = Client()
    client.force_login(commissioner)
    page = client.get("/accountability/commissioner/?period=spring-1-2025")
    assert page.status_code == 200 and b"Haverstock School" in page.content
    pdf = client.get("/accountability/commissioner/update.pdf?period=spring-1-2025")
    assert pdf["Content-Type"] == "application/pdf" and "Haverstock School" in _pdf_text(pdf.content)
    docx = client.get("/accountability/commissioner/update.docx?period=spring-1-2025")
    assert "Allegation against a member of staff" in _docx_text(docx.content)
    assert client.get("/accountability/commissioner/update.txt?period=spring-1-2025").status_code == 404
    categories_csv = client.get("/accountability/commissioner/?period=spring-1-2025&table=0&format=csv")
    lines = categories_csv.content.decode("utf-8-sig").splitlines()
    assert lines[0] == "School,URN,Support level,RAG,Last term,Change"
    assert lines[1] == "Haverstock School,100049,Targeted,Red,Universal / Green,More concern"
    assert len(lines) == 4
    concerns_csv = client.get("/accountability/notifications/?show=all&format=csv").content.decode(
        "utf-8-sig"
    )
    today = dt.date.today()
    window = selectors.significant_concerns(*_scope(commissioner), today - dt.timedelta(days=365), today)
    csv_rows = list(csv.reader(io.StringIO(concerns_csv)))
    assert csv_rows[0] == ["Date", "School", "URN", "Concern", "Detail", "Acknowledged by", "Acknowledged at"]
    assert [r[4] for r in csv_rows[1:]] == [c.summary for c in window]
    assert (
        client.get("/accountability/commissioner/?period=spring-1-2025&table=9&format=csv").status_code == 404
    )
    for role in ("sras", "adviser", "data_manager"):
        other = Client()
        other.force_login(make_user(f"u-{role}", role, schools=(HAVERSTOCK,) if role == "adviser" else ()))
        assert other.get("/accountability/commissioner/?period=spring-1-2025").status_code == 403
        assert other.get("/accountability/commissioner/update.pdf").status_code == 403
        assert other.get("/accountability/notifications/").status_code == 403


def test_annual_report_and_real_inadequate_judgement(camden_ofsted: None) -> None:
    ceo = make_user("ceo", "ceo")
    report = selectors.annual_report(*_scope(ceo), 2012)
    # The only significant concern of 2012/13 in Camden's real Ofsted history.
    assert [(c.urn, c.kind, c.on) for c in report.concerns] == [
        (PETITE_ECOLE, "ofsted_category", dt.date(2013, 6, 18))
    ]
    assert report.concerns[0].summary == "Ofsted: Inadequate (inspection of 18 June 2013)"
    half = selectors.half_termly_report(*_scope(ceo), parse_half_term("summer-2-2012"))
    assert [c.urn for c in half.concerns] == [PETITE_ECOLE]
    assert selectors.half_termly_report(*_scope(ceo), parse_half_term("summer-1-2012")).concerns == []
    older = selectors.annual_report(*_scope(ceo), 2009)
    assert [(c.school_name, c.on) for c in older.concerns] == [
        ("Our Lady Roman Catholic Primary School", dt.date(2009, 11, 25))
    ]
    client = Client()
    client.force_login(ceo)
    # Issue 11: the report pages cover the schools the LA serves (open, state-funded): La Petite Ecole
    # Bilingue is an independent school (SCHOOLTYPE 'Independent school'), so it is not in them.
    response = client.get("/accountability/commissioner/annual.docx?year=2012")
    text = _docx_text(response.content)
    assert "Annual report to the commissioner: 2012/13" in text and "La Petite Ecole Bilingue" not in text
    response = client.get("/accountability/commissioner/annual.docx?year=2009")
    text = _docx_text(response.content)
    assert "Annual report to the commissioner: 2009/10" in text and "Our Lady Roman Catholic" in text
    assert "Our Lady" in _pdf_text(client.get("/accountability/commissioner/annual.pdf?year=2009").content)
    assert client.get("/accountability/commissioner/annual/?year=2012").status_code == 200


@pytest.mark.time_machine(dt.datetime(2026, 11, 30, 12, 0, tzinfo=dt.UTC), tick=False)
def test_head_change_from_the_register_and_acknowledgement(camden_ofsted: None, data_dir: Path) -> None:
    from beacon.assessments.models import Intelligence
    from beacon.schools.models import School

    with (data_dir / "clarelgibson-england-school-admissions/dim_school.csv").open(encoding="utf-8") as f:
        row = next(r for r in csv.DictReader(f) if r["urn"] == str(HAVERSTOCK))
    head = f"{row['head_title']} {row['head_first_name']} {row['head_last_name']}"
    school = School.objects.get(urn=HAVERSTOCK)
    assert school.head_name == head == "Mr James Hadley"
    school.head_name = "Ms Ada Example"
    school.save()
    commissioner, director = make_user("cora", "commissioner"), make_user("dli", "director")
    sras = make_user("sam", "sras")
    note = Intelligence.objects.create(
        school=school, date=dt.date.today(), source="la_officer", summary="Safeguarding referral",
        sensitivity="safeguarding", recorded_by=director,
    )  # fmt: skip
    today = dt.date.today()
    concerns = selectors.significant_concerns(*_scope(commissioner), today, today)
    assert [(c.kind, c.summary) for c in concerns if c.kind == "head_change"] == [
        ("head_change", "Headteacher change: Mr James Hadley to Ms Ada Example")
    ]
    assert f"intelligence:{note.pk}" in {c.key for c in concerns}
    # SRAS members read general intelligence only: the restricted note never reaches them.
    assert not permissions.significant_intelligence(sras, permissions.visible_schools(sras)).exists()

    head_key = next(c.key for c in concerns if c.kind == "head_change")
    client = Client()
    client.force_login(director)
    listing = client.get("/accountability/notifications/")
    assert b"Ms Ada Example" in listing.content and b"Safeguarding referral" in listing.content
    assert b'name="key"' not in listing.content  # only the commissioner acknowledges
    assert client.post("/accountability/notifications/", {"key": head_key}).status_code == 403

    client.force_login(commissioner)
    assert client.post("/accountability/notifications/", {"key": "head:999999999"}).status_code == 404
    response = client.post("/accountability/notifications/", {"key": head_key, "note": "Spoke to the chair"})
    assert response.status_code == 302
    ack = ConcernAcknowledgement.objects.get(key=head_key)
    assert ack.acknowledged_by == commissioner and ack.school == school and ack.note == "Spoke to the chair"
    assert ack.history.first().history_change_reason == "Concern acknowledged"
    acked = selectors.find_concern(*_scope(commissioner), head_key, today, today)
    assert acked is not None and acked.acknowledged_by == "cora"
    with pytest.raises(ValidationError):
        services.acknowledge(acked, user=commissioner)
    # The default list shows only what is not yet acknowledged.
    assert b"Ms Ada Example" not in client.get("/accountability/notifications/").content
    assert b"Ms Ada Example" in client.get("/accountability/notifications/?show=all").content


def _term_now() -> str:
    from beacon.accountability.periods import academic_year_of, season_of

    today = dt.date.today()
    year = academic_year_of(today)
    return f"{season_of(today).capitalize()} {year}/{(year + 1) % 100:02d}"


# --- strategy tracker ---------------------------------------------------------------------------------


def test_strategy_actions_updates_locking_and_board_report(db: None) -> None:
    from beacon.risk.models import Term

    seed.load_strategy()
    director = make_user("dli", "director")
    pledge = Pledge.objects.get(goal__ambition__number=2, goal__number=2, number=1)
    action = services.add_action(
        pledge, title="Phonics audit in all primary schools", owner="ECR7 lead",
        milestone_on=dt.date(2026, 3, 31), user=director,
    )  # fmt: skip
    assert action.version == 0 and action.rag == Rag.NOT_STARTED
    with pytest.raises(ValidationError) as err:
        services.add_action(pledge, title=" ", owner="", milestone_on=dt.date(2026, 1, 1), user=director)
    assert set(err.value.message_dict) == {"title", "owner"}

    term = Term.parse("autumn-2025")
    services.record_update(
        action.pk, term=term, rag=Rag.AMBER, progress="27 schools engaged", user=director, expected_version=0
    )
    action.refresh_from_db()
    assert (action.rag, action.version) == (Rag.AMBER, 1)
    with pytest.raises(StaleEdit):  # a form opened before the update
        services.edit_action(action.pk, expected_version=0, title="x", owner="y",
                             milestone_on=dt.date(2026, 4, 1), rag=Rag.GREEN)  # fmt: skip
    services.edit_action(action.pk, expected_version=1, title="Phonics audit in all primary schools",
                         owner="ECR7 lead", milestone_on=dt.date(2026, 4, 30), rag=Rag.GREEN)  # fmt: skip
    action.refresh_from_db()
    assert (action.milestone_on, action.rag, action.version) == (dt.date(2026, 4, 30), Rag.GREEN, 2)
    assert [h.history_change_reason for h in action.history.order_by("history_date")] == [
        "Action added", "Termly update (Autumn 2025/26)", "Action changed",
    ]  # fmt: skip
    second = services.add_action(
        Pledge.objects.get(goal__ambition__number=1, goal__number=1, number=1), title="Workforce screening tool",
        owner="Early Years Service", milestone_on=dt.date(2025, 7, 31), user=director,
    )  # fmt: skip
    assert ActionUpdate.objects.count() == 1

    report = selectors.board_report(term, today=dt.date(2025, 12, 1))
    assert len(report.rows) == 2 and report.pledges == 70
    assert report.pledges_without_actions == Pledge.objects.count() - 2
    assert dict(report.rag_counts)["Green"] == 1 and dict(report.rag_counts)["Not started"] == 1
    assert [r.action for r in report.overdue] == [second.title]
    row = next(r for r in report.rows if r.action == action.title)
    assert (row.term_rag, row.progress) == ("Amber", "27 schools engaged")
    assert row.goal == "Goal 2: Every child a reader by 7 (ECR7)"
    doc = documents.board_document(report)
    for text in (_pdf_text(documents.document_pdf(doc)), _docx_text(documents.document_docx(doc))):
        text = _squash(text)
        assert "Education Strategy Board" in text and "27 schools engaged" in text
        assert "Workforce screening tool" in text and "(overdue)" in text
        assert f"{Pledge.objects.count() - 2} pledges have no action yet" in text


@pytest.mark.time_machine(dt.datetime(2026, 11, 30, 12, 0, tzinfo=dt.UTC), tick=False)
def test_strategy_pages_and_roles(db: None) -> None:
    seed.load_strategy()
    director, adviser, head = (
        make_user("dli", "director"),
        make_user("ada", "adviser"),
        make_user("hed", "headteacher"),
    )
    pledge = Pledge.objects.get(goal__ambition__number=3, goal__number=5, number=1)
    client = Client()
    client.force_login(director)
    tracker = client.get("/accountability/strategy/")
    assert tracker.status_code == 200 and b"Young people are empowered to play their part" in tracker.content
    bad = client.post(
        f"/accountability/strategy/pledges/{pledge.pk}/actions/new/", {"title": "", "owner": ""}
    )
    assert bad.status_code == 400 and b"There is a problem" in bad.content
    created = client.post(
        f"/accountability/strategy/pledges/{pledge.pk}/actions/new/",
        {"title": "Climate Charter refresh", "owner": "Sustainability team", "milestone_on": "2026-06-30",
         "rag": "not_started"},
    )  # fmt: skip
    action = Action.objects.get(title="Climate Charter refresh")
    assert created.status_code == 302 and action.created_by == director
    assert action.history.first().history_user == director
    ok = client.post(f"/accountability/strategy/actions/{action.pk}/",
                     {"form": "update", "term_rag": "green", "progress": "Charter relaunched", "version": "0"})  # fmt: skip
    assert ok.status_code == 302
    stale = client.post(f"/accountability/strategy/actions/{action.pk}/",
                        {"form": "edit", "title": "Other", "owner": "Me", "milestone_on": "2026-07-01",
                         "rag": "red", "version": "0"})  # fmt: skip
    assert stale.status_code == 409 and b"This action was changed by someone else" in stale.content
    assert b"Other" in stale.content  # the entries are kept
    action.refresh_from_db()
    assert (action.title, action.rag, action.version) == ("Climate Charter refresh", "green", 1)
    tracker_csv = list(
        csv.reader(
            io.StringIO(client.get("/accountability/strategy/?format=csv").content.decode("utf-8-sig"))
        )
    )
    assert len(tracker_csv) == 1 + 70  # one row per pledge here: one pledge has one action
    climate = next(r for r in tracker_csv if r[3] == "Climate Charter refresh")
    assert climate[:2] == [
        "3. Flourishing Lives",
        "5. Young people are empowered to play their part in tackling the climate crisis",
    ]
    assert climate[5:] == ["2026-06-30", "Green", f"{_term_now()}: Charter relaunched"]
    board = client.get("/accountability/strategy/board-report.docx")
    assert "Charter relaunched" in _docx_text(board.content)

    client.force_login(adviser)  # reads the tracker, cannot change it
    assert client.get("/accountability/strategy/").status_code == 200
    assert client.get(f"/accountability/strategy/actions/{action.pk}/").status_code == 200
    assert client.post(f"/accountability/strategy/actions/{action.pk}/",
                       {"form": "update", "term_rag": "red", "progress": "x", "version": "1"}).status_code == 403  # fmt: skip
    assert client.get(f"/accountability/strategy/pledges/{pledge.pk}/actions/new/").status_code == 403
    assert client.get("/accountability/commission/").status_code == 403
    client.force_login(head)
    assert client.get("/accountability/strategy/").status_code == 403
    assert client.get("/accountability/").status_code == 403


# --- Commission outputs -------------------------------------------------------------------------------


def test_commission_output_evidence_and_status(db: None) -> None:
    seed.load_commission_outputs()
    commissioner, ceo = make_user("cora", "commissioner"), make_user("ceo", "ceo")
    output = CommissionOutput.objects.get(area__number=4, area__title="Safeguarding", number=1)
    with pytest.raises(ValidationError) as err:
        services.record_evidence(output, text="", link="javascript:alert(1)", evidenced_on=None, user=ceo)
    assert set(err.value.message_dict) == {"text", "link", "evidenced_on"}
    client = Client()
    client.force_login(ceo)
    response = client.post(
        f"/accountability/commission/outputs/{output.pk}/",
        {"form": "evidence", "text": "Section 11 audit returned by all schools",
         "link": "https://example.org/s11-2025.pdf", "evidenced_on": "2025-11-14"},
    )  # fmt: skip
    assert response.status_code == 302
    ev = output.evidence.get()
    assert (ev.recorded_by, ev.evidenced_on, ev.link) == (
        ceo,
        dt.date(2025, 11, 14),
        "https://example.org/s11-2025.pdf",
    )
    assert client.post(f"/accountability/commission/outputs/{output.pk}/",
                       {"form": "status", "status": "delivered", "version": "0"}).status_code == 302  # fmt: skip
    stale = client.post(f"/accountability/commission/outputs/{output.pk}/",
                        {"form": "status", "status": "at_risk", "version": "0"})  # fmt: skip
    assert stale.status_code == 409 and b"This output was changed by someone else" in stale.content
    output.refresh_from_db()
    assert (output.status, output.version) == ("delivered", 1)
    xlsx = client.get("/accountability/commission/?format=xlsx")
    from openpyxl import load_workbook

    ws = load_workbook(io.BytesIO(xlsx.content)).active
    rows = list(ws.iter_rows(values_only=True))
    assert len(rows) == 40 and rows[0][:3] == ("Area", "Area title", "Output")
    safeguarding = next(r for r in rows if r[2] == output.output)
    assert (safeguarding[4], safeguarding[5]) == ("Delivered", 1)
    listing = client.get("/accountability/commission/")
    assert b"Area 16: PHSE" in listing.content and b"1 item, latest 14 November 2025" in listing.content
    client.force_login(commissioner)
    page = client.get(f"/accountability/commission/outputs/{output.pk}/")
    assert b"Section 11 audit returned by all schools" in page.content and b"recorded by ceo" in page.content
