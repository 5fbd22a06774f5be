from django.apps import AppConfig


class ImportsConfig(AppConfig):
    name = "beacon.imports"
    label = "imports"
