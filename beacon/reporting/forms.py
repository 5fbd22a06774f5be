from __future__ import annotations

from django import forms

from beacon.reporting.models import Comparator, Direction


class TargetForm(forms.Form):
    title = forms.CharField(label="Title", max_length=200, error_messages={"required": "Enter a title"})
    comparators = forms.MultipleChoiceField(
        label="Comparators the LA must beat", choices=Comparator.choices, required=False
    )
    direction = forms.ChoiceField(label="Direction", choices=Direction.choices)
    threshold = forms.FloatField(
        label="Threshold (or, for 'better than comparators', the margin within which it counts as met)",
        required=False,
        error_messages={"invalid": "Enter the threshold as a number, like 88 or 2.5"},
    )
    gap_change_points = forms.FloatField(
        label="Gap change (points) that counts as widening or narrowing",
        required=False,
        min_value=0,
        error_messages={
            "invalid": "Enter the gap change as a number, like 2",
            "min_value": "The gap change must be 0 or more",
        },
    )
    no_data_reason = forms.CharField(label="Why there is no data (if so)", max_length=255, required=False)
    is_active = forms.BooleanField(label="Show this target on the dashboard", required=False)
    reason = forms.CharField(
        label="Reason for the change",
        max_length=100,
        error_messages={"required": "Enter the reason for the change"},
    )
    version = forms.IntegerField(widget=forms.HiddenInput)
