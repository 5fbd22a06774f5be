"""Letter templates are edited here ({{ placeholders }}, rendered in a sandbox); changes are audited."""

from __future__ import annotations

from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from beacon.interventions.letters import PLACEHOLDERS
from beacon.interventions.models import LetterTemplate, WarningNotice


@admin.register(LetterTemplate)
class LetterTemplateAdmin(SimpleHistoryAdmin):
    list_display = ["kind", "subject"]
    readonly_fields = ["placeholders"]

    @admin.display(description="Placeholders you can use")
    def placeholders(self, obj: LetterTemplate) -> str:
        return ", ".join("{{ " + p + " }}" for p in PLACEHOLDERS)


@admin.register(WarningNotice)
class WarningNoticeAdmin(SimpleHistoryAdmin):
    list_display = ["school", "kind", "ground", "issued_on", "compliance_ends_on", "outcome"]
    raw_id_fields = ["school"]
