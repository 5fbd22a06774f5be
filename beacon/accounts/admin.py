from django.contrib import admin
from django.contrib.auth.admin import UserAdmin
from django.http import HttpRequest
from simple_history.admin import SimpleHistoryAdmin

from beacon.accounts.models import SchoolAssignment, SecurityEvent, User


class AssignmentInline(admin.TabularInline):
    model = SchoolAssignment
    extra = 0
    autocomplete_fields = ["school"]


@admin.register(User)
class BeaconUserAdmin(UserAdmin, SimpleHistoryAdmin):
    list_display = ["username", "first_name", "last_name", "role", "la_code", "is_active"]
    list_filter = ["role", "is_active"]
    fieldsets = (*(UserAdmin.fieldsets or ()), ("Beacon", {"fields": ("role", "la_code", "job_title")}))
    inlines = [AssignmentInline]


@admin.register(SecurityEvent)
class SecurityEventAdmin(admin.ModelAdmin):
    """The sign-in security log, read-only: nobody edits or deletes its rows from the admin."""

    list_display = ["at", "username", "kind", "ip_address", "detail"]
    list_filter = ["kind"]
    search_fields = ["username", "detail"]
    date_hierarchy = "at"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: SecurityEvent | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: SecurityEvent | None = None) -> bool:
        return False
