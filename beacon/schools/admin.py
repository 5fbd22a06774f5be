from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from beacon.schools.models import School


@admin.register(School)
class SchoolAdmin(SimpleHistoryAdmin):
    list_display = ["urn", "name", "la_name", "phase", "establishment_type", "is_open"]
    list_filter = ["phase", "is_open", "is_state_funded"]
    search_fields = ["name", "urn", "postcode"]
