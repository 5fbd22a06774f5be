"""One optimistic-locking mechanism (issue 15, decision 0023): every versioned model uses
`beacon.core.versioning`, a stale save writes nothing and carries the stored row, and every page answers a
stale form with 409, the user's entries kept and an error summary (`beacon.core.conflicts`).

The stale-form tests of each page live with the page's other tests (test_assessments, test_profiles,
test_accountability, test_futureoptions, test_reporting, test_support_records, test_support_capacity,
test_interventions_pages, test_concurrency); this module adds the model-registry check, the mechanism's own
tests and the pages that answered a stale edit with a redirect before (the support meeting schedule and the
leadership register).

Schools: the real Camden register (GIAS/census), 100049 Haverstock School.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
from django.apps import apps
from django.test import Client
from simple_history.models import HistoricalChanges

from beacon.core.conflicts import STALE_STATUS, stale_form
from beacon.core.versioning import StaleEdit, Versioned, save_versioned, update_versioned
from beacon.futureoptions import services as fo_services
from beacon.futureoptions.models import SystemLeaderInterest
from beacon.reporting.models import SystemTarget
from beacon.schools.models import School
from beacon.support import services as support_services
from beacon.support.forms import ScheduleForm
from tests.conftest import make_user

HAVERSTOCK = 100049
BEACON = Path(__file__).resolve().parent.parent / "beacon"
# Models whose `version` is not an edit lock, with the reason.
NOT_LOCKS = {"risk.Rulebook": "numbers the editions of a rulebook (1, 2, ...); copies, never edits"}


def _versioned_models() -> list[type]:
    return [
        m
        for m in apps.get_models()
        if not issubclass(m, HistoricalChanges)  # django-simple-history's copies follow their model
        and any(f.name == "version" for f in m._meta.get_fields())
    ]


def test_every_model_with_a_version_uses_the_core_mechanism() -> None:
    found = _versioned_models()
    hand_written = [
        m._meta.label for m in found if not issubclass(m, Versioned) and m._meta.label not in NOT_LOCKS
    ]
    assert hand_written == [], (
        f"declare `version` by inheriting beacon.core.versioning.Versioned: {hand_written}"
    )
    locks = [m for m in found if issubclass(m, Versioned)]
    assert len(locks) == 15  # the records two people may edit (issue 15 counted 15 hand-written fields)
    reference = Versioned._meta.get_field("version").deconstruct()[1:]
    for model in locks:
        assert model._meta.get_field("version").deconstruct()[1:] == reference, model
        history = getattr(model, "history", None)
        assert history is not None, f"{model._meta.label} keeps no history"
        assert history.model._meta.get_field("version").deconstruct()[1:] == reference


def test_no_hand_written_locking_outside_core() -> None:
    """No per-app stale exception or version bump: they go through beacon.core.versioning."""
    offending = []
    for path in BEACON.rglob("*.py"):
        if "migrations" in path.parts or path.name == "versioning.py":
            continue
        text = path.read_text(encoding="utf-8")
        for pattern in (r"\.version\s*\+=", r"class Stale\w*\(", r"\.version\s*!=\s*expected"):
            if re.search(pattern, text):
                offending.append(f"{path.relative_to(BEACON)}: {pattern}")
    assert offending == []


# ---------------------------------------------------------------------------------------------
# The mechanism


@pytest.mark.django_db
def test_save_versioned_writes_only_at_the_expected_version_and_keeps_history() -> None:
    target = SystemTarget.objects.get(ref="CLC-11")  # seeded by reporting/0002, at version 0
    director = make_user("dli", "director")
    history_before = target.history.count()
    opened = SystemTarget.objects.get(pk=target.pk)  # a second person's copy, read at the same version

    target.threshold = 1.0
    saved = save_versioned(target, 0, reason="Tighter margin agreed", user=director)
    assert saved.version == 1 and SystemTarget.objects.get(pk=target.pk).threshold == 1.0
    latest = target.history.latest("history_date")
    assert (latest.version, latest.history_change_reason, latest.history_user) == (
        1,
        "Tighter margin agreed",
        director,
    )

    opened.threshold = 9.0
    with pytest.raises(StaleEdit) as refused:
        save_versioned(opened, 0, reason="late")
    assert refused.value.current.version == 1 and refused.value.current.threshold == 1.0
    stored = SystemTarget.objects.get(pk=target.pk)
    assert (stored.version, stored.threshold) == (1, 1.0)  # nothing written
    assert target.history.count() == history_before + 1  # and no history row for the refusal


@pytest.mark.django_db
def test_update_versioned_applies_changes_to_the_stored_row() -> None:
    target = SystemTarget.objects.get(ref="CLC-11")
    stale_copy = SystemTarget.objects.get(pk=target.pk)
    update_versioned(target, 0, {"threshold": 1.5})
    # A copy read before that save: its other fields are not written back over the stored row.
    updated = update_versioned(stale_copy, 1, {"title": "HE entry near London"})
    assert (updated.version, updated.threshold, updated.title) == (2, 1.5, "HE entry near London")
    with pytest.raises(StaleEdit) as refused:
        update_versioned(target, 1, {"threshold": 3.0})
    assert refused.value.current.version == 2


@pytest.mark.django_db
def test_a_new_record_is_created_at_version_1_only_from_a_form_opened_before_it_existed(
    camden_register: None,
) -> None:
    school = School.objects.get(urn=HAVERSTOCK)
    summary = fo_services.summary_for(school)
    assert summary.pk is None and summary.version == 0
    with pytest.raises(StaleEdit) as refused:
        save_versioned(summary, 3)
    assert refused.value.current is None
    summary.place_planning = "Consult on the PAN."
    assert save_versioned(summary, 0).version == 1
    assert summary.history.count() == 1


def test_stale_form_keeps_the_entries_and_moves_the_version() -> None:
    form = ScheduleForm({"version": "0", "next_meeting_on": "2099-02-20"})
    assert form.is_valid()
    current = type("Row", (), {"version": 4})()
    assert stale_form(form, StaleEdit(current), "case") == STALE_STATUS == 409
    assert form.data["version"] == "4" and form.data["next_meeting_on"] == "2099-02-20"
    assert "This case was changed by someone else" in " ".join(form.non_field_errors())


# ---------------------------------------------------------------------------------------------
# Pages that redirected on a stale edit before: now 409 with the entries kept


@pytest.mark.django_db
def test_stale_meeting_schedule_answers_409_with_the_chosen_date_kept(camden_register: None) -> None:
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
    url = f"/support/cases/{case.pk}/schedule/"
    assert laptop.post(url, {"version": 0, "next_meeting_on": "2099-01-15"}).status_code == 302
    stale = phone.post(url, {"version": 0, "next_meeting_on": "2099-02-20"})
    assert stale.status_code == 409
    body = stale.content.decode()
    assert "govuk-error-summary" in body and "This case was changed by someone else" in body
    assert 'value="2099-02-20"' in body  # the second user's date is still in the form
    assert "15 January 2099" in body  # what the first one scheduled is shown
    assert 'name="version" value="1"' in body  # submitting again replaces it knowingly
    case.refresh_from_db()
    assert (case.next_meeting_on, case.version) == (dt.date(2099, 1, 15), 1)
    again = phone.post(url, {"version": 1, "next_meeting_on": "2099-02-20"})
    assert again.status_code == 302
    case.refresh_from_db()
    assert (case.next_meeting_on, case.version) == (dt.date(2099, 2, 20), 2)


@pytest.mark.django_db
def test_stale_withdrawal_from_the_leadership_register_answers_409(camden_register: None) -> None:
    director = make_user("fo-dir", "director")
    entry = fo_services.record_interest(
        user=director,
        school=School.objects.get(urn=HAVERSTOCK),
        headteacher="A Head",
        interests=["mentoring"],
    )
    c = Client()
    c.force_login(director)
    url = "/future-options/system-leaders/"
    fo_services.withdraw_interest(entry, expected_version=0)  # someone else withdrew it first
    stale = c.post(url, {"withdraw": entry.pk, "version": "0"})
    assert stale.status_code == 409
    body = stale.content.decode()
    assert "govuk-error-summary" in body and "This register entry was changed by someone else" in body
    entry.refresh_from_db()
    assert entry.withdrawn and entry.version == 1 and entry.history.count() == 2
    assert SystemLeaderInterest.objects.filter(pk=entry.pk, withdrawn=True).count() == 1
