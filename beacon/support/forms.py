from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError

from beacon.inspections.models import EvaluationArea
from beacon.support import services
from beacon.support.models import Priority, SupportCase


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
