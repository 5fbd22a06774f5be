from django.apps import AppConfig


class EarlyWarningConfig(AppConfig):
    name = "beacon.earlywarning"
    label = "earlywarning"
    verbose_name = "Early warning (predictive risk model)"
