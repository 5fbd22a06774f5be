from __future__ import annotations

from typing import Any

from django import forms

from beacon.interventions.models import Ground, NoticeKind, Outcome


class NewNoticeForm(forms.Form):
    kind = forms.ChoiceField(label="Kind of notice", choices=NoticeKind.choices)
    ground = forms.ChoiceField(label="Grounds", choices=Ground.choices)
    concerns = forms.CharField(label="Concerns", widget=forms.Textarea)
    required_action = forms.CharField(label="Action required of the governing body", required=False,
                                      widget=forms.Textarea)  # fmt: skip
    consequences = forms.CharField(
        label="Consequences of not complying", required=False, widget=forms.Textarea,
        help_text="Leave empty for the statutory wording for the grounds (Appendix C)",
    )  # fmt: skip
    diocese_informed_on = forms.DateField(label="Date the diocese was informed", required=False)
    issued_on = forms.DateField(label="Issue date", required=False)
    compliance_ends_on = forms.DateField(label="Compliance period ends", required=False)


class IssueForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput)
    diocese_informed_on = forms.DateField(label="Date the diocese was informed", required=False)
    issued_on = forms.DateField(label="Issue date")
    compliance_ends_on = forms.DateField(label="Compliance period ends")


class ResponseForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput)
    response = forms.CharField(label="The governing body's response", required=False, widget=forms.Textarea)
    response_received_on = forms.DateField(label="Date the response was received", required=False)
    outcome = forms.ChoiceField(label="Outcome", choices=Outcome.choices)
    outcome_recorded_on = forms.DateField(label="Date of the outcome decision", required=False)


class TemplateForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput)
    subject = forms.CharField(label="Subject", max_length=255)
    body = forms.CharField(label="Body", widget=forms.Textarea(attrs={"rows": 16}))


class SchoolLetterForm(forms.Form):
    """Choose a school and a letter (no support case): read with GET, writes nothing."""

    urn = forms.TypedChoiceField(label="School", coerce=int)
    kind = forms.ChoiceField(label="Letter")
    fmt = forms.ChoiceField(label="Format", choices=[("docx", "Word"), ("pdf", "PDF")], initial="docx")

    def __init__(self, *args: Any, schools: list[tuple[int, str]], kinds: list[tuple[str, str]], **kw: Any):
        super().__init__(*args, **kw)
        urn, kind = self.fields["urn"], self.fields["kind"]
        assert isinstance(urn, forms.ChoiceField) and isinstance(kind, forms.ChoiceField)
        urn.choices = [("", "Choose a school"), *schools]
        kind.choices = kinds
