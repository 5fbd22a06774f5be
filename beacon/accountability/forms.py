from __future__ import annotations

from django import forms

from beacon.accountability.models import DeliveryStatus, Rag


class ActionForm(forms.Form):
    title = forms.CharField(label="Action", max_length=255)
    owner = forms.CharField(label="Owner", max_length=200)
    milestone_on = forms.DateField(label="Milestone date")
    rag = forms.ChoiceField(label="Progress (RAG)", choices=Rag.choices, initial=Rag.NOT_STARTED)
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)


class UpdateForm(forms.Form):
    term_rag = forms.ChoiceField(label="Progress this term (RAG)", choices=Rag.choices)
    progress = forms.CharField(label="What has happened this term", widget=forms.Textarea)
    version = forms.IntegerField(widget=forms.HiddenInput)


class EvidenceForm(forms.Form):
    text = forms.CharField(label="Evidence of delivery", widget=forms.Textarea)
    link = forms.CharField(label="Link to the evidence", required=False, max_length=500)
    evidenced_on = forms.DateField(label="Date of the evidence")


class StatusForm(forms.Form):
    status = forms.ChoiceField(label="Delivery status", choices=DeliveryStatus.choices)
    version = forms.IntegerField(widget=forms.HiddenInput)


class AcknowledgeForm(forms.Form):
    key = forms.CharField(max_length=64)
    note = forms.CharField(label="Note (optional)", required=False, widget=forms.Textarea)
