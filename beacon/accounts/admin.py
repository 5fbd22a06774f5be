from django.contrib import admin
from django.contrib.auth.admin import UserAdmin
from simple_history.admin import SimpleHistoryAdmin

from beacon.accounts.models import SchoolAssignment, User


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
