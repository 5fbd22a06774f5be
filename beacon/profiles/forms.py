from __future__ import annotations

from django import forms

from beacon.profiles.models import MAX_SECTION_CHARS, SECTIONS


class NarrativeForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=0)

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        for name, label, hint in SECTIONS:
            self.fields[name] = forms.CharField(
                label=label, help_text=hint, required=False, max_length=MAX_SECTION_CHARS, strip=True
            )


class ReviewForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=0)
    action = forms.ChoiceField(
        choices=[("publish", "Publish"), ("return", "Return"), ("unpublish", "Unpublish")]
    )
    review_note = forms.CharField(required=False, max_length=2000)
