from django.apps import AppConfig


class IndicatorsConfig(AppConfig):
    name = "beacon.indicators"
    label = "indicators"
