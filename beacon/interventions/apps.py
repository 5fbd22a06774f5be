from django.apps import AppConfig


class InterventionsConfig(AppConfig):
    name = "beacon.interventions"
    label = "interventions"
    verbose_name = "Warning notices and letters"
