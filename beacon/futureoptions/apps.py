from django.apps import AppConfig


class FutureOptionsConfig(AppConfig):
    name = "beacon.futureoptions"
    label = "futureoptions"
    verbose_name = "School future options: rolls, places, vulnerability, partnerships"

    def ready(self) -> None:
        # The import pipeline discovers sources by import; register ours with the app.
        from beacon.futureoptions import importers  # noqa: F401
