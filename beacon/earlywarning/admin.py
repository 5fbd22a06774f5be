from typing import Any

from django.contrib import admin

from beacon.earlywarning.models import RiskScore, WatchThreshold


@admin.register(WatchThreshold)
class WatchThresholdAdmin(admin.ModelAdmin):
    list_display = ("probability", "note", "created_at")


@admin.register(RiskScore)
class RiskScoreAdmin(admin.ModelAdmin):
    """The model's output, read only: a pass keeps a stored score whose fingerprint (`inputs`) is unchanged,
    so a score edited by hand would stand (decision 0027)."""

    list_display = ("school", "as_of", "probability", "rank", "model_version")
    list_filter = ("as_of", "model_version")

    def has_add_permission(self, request: Any) -> bool:
        return False

    def has_change_permission(self, request: Any, obj: Any = None) -> bool:
        return False
