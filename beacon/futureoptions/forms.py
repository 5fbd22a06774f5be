from __future__ import annotations

from typing import Any

from django import forms

from beacon.futureoptions.models import (
    SUMMARY_SECTIONS,
    LeadershipInterest,
    PartnershipKind,
    PartnershipStatus,
)
from beacon.schools.models import School

HINTS = {
    "place_planning": "Roll trend, surplus places, admissions demand, options such as reducing the published admission number.",
    "succession": "Headteacher and senior leadership succession, acting or interim arrangements.",
    "standards": "Ofsted, outcomes and improvement priorities.",
    "finances": "Budget position, deficit or reserves, recovery plan.",
    "assets": "Buildings, site, condition and alternative uses of space.",
    "collaborations": "Current and possible partnerships, federation or shared leadership.",
}


class SummaryForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput)
    next_steps = forms.CharField(label="Agreed next steps", required=False, widget=forms.Textarea)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name, label in SUMMARY_SECTIONS:
            self.fields[name] = forms.CharField(
                label=label, required=False, widget=forms.Textarea, help_text=HINTS[name]
            )
        self.order_fields([*(n for n, _ in SUMMARY_SECTIONS), "next_steps", "version"])


class PartnershipForm(forms.Form):
    name = forms.CharField(
        label="Name", max_length=200, error_messages={"required": "Enter the partnership's name"}
    )
    kind = forms.ChoiceField(
        label="Type of partnership",
        choices=PartnershipKind.choices,
        error_messages={"required": "Select the type of partnership"},
    )
    status = forms.ChoiceField(
        label="Status", choices=PartnershipStatus.choices, initial=PartnershipStatus.ACTIVE
    )
    schools = forms.ModelMultipleChoiceField(
        label="Schools in the partnership",
        queryset=School.objects.none(),
        error_messages={
            "required": "Select the schools in the partnership",
            "invalid_choice": "Select schools from the list",
        },
    )
    executive_head = forms.CharField(label="Executive headteacher", max_length=200, required=False)
    started_on = forms.DateField(
        label="Started on", required=False, error_messages={"invalid": "Enter a real date"}
    )
    notes = forms.CharField(label="Notes", required=False, widget=forms.Textarea)
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args: Any, schools: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["schools"].queryset = schools if schools is not None else School.objects.none()  # type: ignore[attr-defined]

    def clean_schools(self) -> Any:
        chosen = self.cleaned_data["schools"]
        if len(chosen) < 2:
            raise forms.ValidationError("Select at least two schools")
        return chosen


class InterestForm(forms.Form):
    school = forms.ModelChoiceField(
        label="School", queryset=School.objects.none(), empty_label="Select a school",
        error_messages={"required": "Select the headteacher's school", "invalid_choice": "Select a school from the list"},
    )  # fmt: skip
    headteacher = forms.CharField(
        label="Headteacher", max_length=200, error_messages={"required": "Enter the headteacher's name"}
    )
    interests = forms.MultipleChoiceField(
        label="Interested in",
        choices=LeadershipInterest.choices,
        error_messages={"required": "Select at least one interest"},
    )
    strengths = forms.CharField(
        label="Strengths and expertise to share", required=False, widget=forms.Textarea
    )
    available_from = forms.DateField(
        label="Available from", required=False, error_messages={"invalid": "Enter a real date"}
    )

    def __init__(self, *args: Any, schools: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["school"].queryset = schools if schools is not None else School.objects.none()  # type: ignore[attr-defined]
