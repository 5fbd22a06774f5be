from django.contrib import admin

from beacon.earlywarning.models import RiskScore, WatchThreshold


@admin.register(WatchThreshold)
class WatchThresholdAdmin(admin.ModelAdmin):
    list_display = ("probability", "note", "created_at")


@admin.register(RiskScore)
class RiskScoreAdmin(admin.ModelAdmin):
    list_display = ("school", "as_of", "probability", "rank", "model_version")
    list_filter = ("as_of", "model_version")
