from django.apps import AppConfig


class AssessmentsConfig(AppConfig):
    name = "beacon.assessments"
    label = "assessments"
    verbose_name = "Termly risk assessments, judgements and intelligence"
