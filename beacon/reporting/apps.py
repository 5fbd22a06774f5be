from django.apps import AppConfig


class ReportingConfig(AppConfig):
    name = "beacon.reporting"
    label = "reporting"
    verbose_name = "Reporting: system targets and group gaps"

    def ready(self) -> None:
        # Register the reporting import sources, so `load_demo` (make run) and the imports page load them.
        from beacon.reporting import importers  # noqa: F401
