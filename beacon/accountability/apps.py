from django.apps import AppConfig


class AccountabilityConfig(AppConfig):
    name = "beacon.accountability"
    label = "accountability"
    verbose_name = "Accountability: commissioner reports, strategy tracker, commission outputs"
