from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.db.models import Q

from beacon.assessments.models import Rag, Sensitivity, Source, SRASMeeting, SupportLevel
from beacon.risk.models import Criterion, CriterionKind


class DecisionForm(forms.Form):
    decided_rag = forms.ChoiceField(
        label="RAG rating", choices=Rag.choices, error_messages={"required": "Select a RAG rating"}
    )
    decided_level = forms.ChoiceField(
        label="Support level",
        choices=SupportLevel.choices,
        error_messages={"required": "Select a support level"},
    )
    school_requested_focused = forms.BooleanField(
        label="The school has requested focused support", required=False
    )
    rationale = forms.CharField(
        label="Rationale",
        help_text="Why this category and level: the evidence weighed, and why it differs from the proposal if it does.",
        widget=forms.Textarea,
        error_messages={"required": "Enter the rationale for this decision"},
    )
    meeting = forms.ModelChoiceField(
        label="Decided at",
        queryset=SRASMeeting.objects.none(),
        required=False,
        empty_label="Not at a meeting",
    )
    version = forms.IntegerField(widget=forms.HiddenInput)

    def __init__(self, *args: Any, term: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        qs = SRASMeeting.objects.all()
        if term is not None:
            qs = qs.filter(term=term)
        self.fields["meeting"].queryset = qs  # type: ignore[attr-defined]


class JudgementForm(forms.Form):
    criterion = forms.ModelChoiceField(
        label="Criterion",
        queryset=Criterion.objects.filter(model="camden")
        .filter(Q(kind=CriterionKind.JUDGEMENT) | Q(judgement_route=True))
        .order_by("sort_order"),
        empty_label="Select a criterion",
        error_messages={"required": "Select a criterion", "invalid_choice": "Select a criterion"},
    )
    applies = forms.TypedChoiceField(
        label="Does this criterion apply to the school?",
        choices=[("yes", "Yes, it applies"), ("no", "No, it does not apply")],
        coerce=lambda v: v == "yes",
        error_messages={"required": "Select whether the criterion applies"},
    )
    reason = forms.CharField(
        label="Reason",
        widget=forms.Textarea,
        error_messages={"required": "Enter the reason for this judgement"},
    )
    source = forms.ChoiceField(
        label="Source", choices=Source.choices, error_messages={"required": "Select the source"}
    )

    def __init__(self, *args: Any, school: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if school is not None:
            # Only the criteria that apply to the school's phase (the secondary list for secondaries...).
            phases = {school.phase}
            if school.phase == "all_through":
                phases |= {"primary", "secondary"}
            field = self.fields["criterion"]
            ids = [c.pk for c in field.queryset if c.applies_to(phases)]  # type: ignore[attr-defined]
            field.queryset = field.queryset.filter(pk__in=ids)  # type: ignore[attr-defined]


def combine_date(data: Any, name: str) -> Any:
    """GOV.UK date input posts name-day, name-month and name-year: join them into one ISO value."""
    if data is None or name in data:
        return data
    parts = [str(data.get(f"{name}-{p}", "")).strip() for p in ("day", "month", "year")]
    data = data.copy()
    if not any(parts):
        data[name] = ""
        return data
    try:
        data[name] = dt.date(int(parts[2]), int(parts[1]), int(parts[0])).isoformat()
    except ValueError:
        data[name] = "not-a-date"
    return data


class IntelligenceForm(forms.Form):
    date = forms.DateField(
        label="Date received",
        help_text="For example, 27 3 2026",
        error_messages={"required": "Enter the date received", "invalid": "Enter a real date"},
    )
    source = forms.ChoiceField(
        label="Source", choices=Source.choices, error_messages={"required": "Select the source"}
    )
    summary = forms.CharField(label="Summary", max_length=200, error_messages={"required": "Enter a summary"})
    detail = forms.CharField(label="Detail", widget=forms.Textarea, required=False)
    sensitivity = forms.ChoiceField(
        label="Sensitivity",
        choices=Sensitivity.choices,
        initial=Sensitivity.GENERAL,
        error_messages={"required": "Select the sensitivity"},
    )
    shared_with_school = forms.BooleanField(
        label="Share with the school's headteacher and chair of governors (general notes only)",
        required=False,
    )

    def __init__(self, data: Any = None, **kwargs: Any) -> None:
        super().__init__(combine_date(data, "date"), **kwargs)

    def clean_date(self) -> dt.date:
        value: dt.date = self.cleaned_data["date"]
        if value > dt.date.today():
            raise forms.ValidationError("The date received must be today or in the past")
        return value

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("shared_with_school") and data.get("sensitivity") != Sensitivity.GENERAL:
            self.add_error("shared_with_school", "Only general notes can be shared with the school")
        return data


class WithdrawForm(forms.Form):
    withdrawn_reason = forms.CharField(
        label="Why is this note being withdrawn?",
        widget=forms.Textarea,
        error_messages={"required": "Enter why this note is withdrawn"},
    )


class MeetingForm(forms.Form):
    date = forms.DateField(
        label="Meeting date",
        error_messages={"required": "Enter the meeting date", "invalid": "Enter a real date"},
    )
    attendees = forms.CharField(label="Attendees", widget=forms.Textarea, required=False)
    notes = forms.CharField(label="Notes", widget=forms.Textarea, required=False)

    def __init__(self, data: Any = None, **kwargs: Any) -> None:
        super().__init__(combine_date(data, "date"), **kwargs)
