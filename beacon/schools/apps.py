from django.apps import AppConfig


class SchoolsConfig(AppConfig):
    name = "beacon.schools"
    label = "schools"
