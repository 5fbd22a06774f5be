"""Entitlements, adviser capacity, visits and brokered support are edited in the admin (audited)."""

from __future__ import annotations

from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from beacon.support.models import AdviserCapacity, BrokeredSupport, Entitlement, Visit


class BrokeredInline(admin.TabularInline):
    model = BrokeredSupport
    extra = 0


@admin.register(Entitlement)
class EntitlementAdmin(SimpleHistoryAdmin):
    list_display = ["school", "academic_year", "level", "adviser"]
    list_filter = ["academic_year", "level"]
    raw_id_fields = ["school", "adviser"]
    inlines = [BrokeredInline]


@admin.register(AdviserCapacity)
class AdviserCapacityAdmin(SimpleHistoryAdmin):
    list_display = ["adviser", "academic_year", "day_budget"]


@admin.register(Visit)
class VisitAdmin(SimpleHistoryAdmin):
    list_display = ["school", "visited_on", "visit_type", "days", "adviser"]
    list_filter = ["visit_type"]
    raw_id_fields = ["school", "adviser"]
