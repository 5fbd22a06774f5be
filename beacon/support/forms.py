from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.core.exceptions import ValidationError

from beacon.assessments.models import SupportLevel
from beacon.inspections.models import EvaluationArea
from beacon.support import services
from beacon.support.models import FundingSource, Priority, Progress, SupportCase, VisitType


class PriorityForm(forms.Form):
    area = forms.ChoiceField(label="Ofsted evaluation area", choices=EvaluationArea.choices)
    title = forms.CharField(label="Priority", max_length=255)
    end_of_year_aim = forms.CharField(label="Measurable end-of-year aim", widget=forms.Textarea)

    def __init__(self, *args: Any, case: SupportCase, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.case = case

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if self.case.priorities.count() >= self.case.max_priorities:
            raise ValidationError(
                f"{self.case.get_level_display()} support has at most {self.case.max_priorities} priorities."
            )
        area = data.get("area")
        if area and not services.priority_area_allowed(self.case, area):
            self.add_error("area", "Sixth form is only a priority for schools with a sixth form.")
        return data

    def save(self) -> Priority:
        d = self.cleaned_data
        return services.add_priority(
            self.case, area=d["area"], title=d["title"], end_of_year_aim=d["end_of_year_aim"]
        )


LEVEL_CHOICES = [("focused", "Focused"), ("targeted", "Targeted")]


class NewCaseForm(forms.Form):
    level = forms.ChoiceField(label="Level of additional support", choices=LEVEL_CHOICES)
    started_on = forms.DateField(label="Start date", widget=forms.DateInput(attrs={"type": "date"}))
    planned_exit_on = forms.DateField(label="Planned exit date", required=False)
    next_meeting_on = forms.DateField(
        label="Date of the initial meeting", required=False, help_text="Within four weeks of the start"
    )
    attendees = forms.CharField(label="Usual attendees", required=False, widget=forms.Textarea)


class MeetingForm(forms.Form):
    held_on = forms.DateField(label="Date of meeting")
    attendees = forms.CharField(label="Present", required=False, widget=forms.Textarea)
    head_report = forms.CharField(
        label="Headteacher's pre-meeting report", required=False, widget=forms.Textarea
    )
    previous_actions = forms.CharField(label="Previous actions", required=False, widget=forms.Textarea)
    context_and_impact = forms.CharField(
        label="Current context and impact", required=False, widget=forms.Textarea
    )
    next_steps = forms.CharField(label="Next steps", required=False, widget=forms.Textarea)
    key_aims = forms.CharField(label="Key aims", required=False, widget=forms.Textarea)
    progress = forms.ChoiceField(label="Overall progress", choices=Progress.choices)
    next_meeting_on = forms.DateField(label="Date of the next meeting", required=False)


class ScheduleForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput)
    next_meeting_on = forms.DateField(label="Date of the next review meeting")


class ExitForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput)
    agreed_on = forms.DateField(label="Date agreed")
    agreed_with = forms.MultipleChoiceField(
        label="Agreed with",
        required=False,
        choices=[
            ("head", "The headteacher"),
            ("chair_of_governors", "The chair of governors"),
            ("cpp", "The CPP"),
        ],
    )
    recategorise_to = forms.ChoiceField(label="Re-categorise to", choices=SupportLevel.choices)
    reduction_plan = forms.CharField(label="Planned reduction of support", widget=forms.Textarea)


class EntitlementForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput)
    flags = forms.MultipleChoiceField(
        label="Additional half days",
        required=False,
        choices=[
            ("new_headteacher", "New headteacher (orientation visit)"),
            ("new_adviser", "New adviser (orientation visit)"),
            ("has_post16", "Post-16 provision"),
            ("has_arp", "Additionally resourced provision (ARP)"),
        ],
    )
    targeted_extra_days = forms.DecimalField(
        label="Additional targeted days", required=False, min_value=0, max_value=6, decimal_places=1
    )
    adviser = forms.ChoiceField(label="Adviser (CPP)", required=False)

    def __init__(self, *args: Any, advisers: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["adviser"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [("", "Not allocated"), *advisers]


class BrokeredForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)
    provider = forms.CharField(label="Provider", max_length=200)
    description = forms.CharField(label="What is provided", required=False, widget=forms.Textarea)
    cost = forms.DecimalField(label="Cost (£)", min_value=0, max_digits=10, decimal_places=2)
    funding_source = forms.ChoiceField(label="Funding source", choices=FundingSource.choices)


class VisitForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)
    visited_on = forms.DateField(label="Date of visit")
    visit_type = forms.ChoiceField(label="Type of visit", choices=VisitType.choices)
    days = forms.DecimalField(label="Days", min_value=Decimal("0.5"), max_value=5, decimal_places=1)
    adviser = forms.ChoiceField(label="Adviser (CPP)", required=False)
    notes = forms.CharField(label="Notes", required=False, widget=forms.Textarea)
    report_to_head_on = forms.DateField(label="Report sent to the headteacher", required=False)
    report_to_chair_on = forms.DateField(label="Report sent to the chair of governors", required=False)
    report_to_director_on = forms.DateField(
        label="Report sent to the Director of Learning and Impact", required=False
    )
    report_to_ceo_on = forms.DateField(label="Report sent to the CEO", required=False)

    def __init__(self, *args: Any, advisers: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["adviser"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [("", "Not recorded"), *advisers]


class CapacityForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)
    day_budget = forms.DecimalField(
        label="Day budget for school visits", min_value=0, max_value=220, decimal_places=1
    )
