from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from beacon.futureoptions.models import Partnership, SystemLeaderInterest, Threshold


@admin.register(Threshold)
class ThresholdAdmin(SimpleHistoryAdmin):
    list_display = ("code", "phase", "value", "label")
    list_editable = ("value",)
    readonly_fields = ("code", "phase")


@admin.register(Partnership)
class PartnershipAdmin(SimpleHistoryAdmin):
    list_display = ("name", "kind", "status", "started_on")
    filter_horizontal = ("schools",)


@admin.register(SystemLeaderInterest)
class SystemLeaderInterestAdmin(SimpleHistoryAdmin):
    list_display = ("headteacher", "school", "withdrawn")
