from django.apps import AppConfig


class IndicatorsConfig(AppConfig):
    name = "beacon.indicators"
    label = "indicators"

    def ready(self) -> None:
        # Register the recent school-level sources (2022/23-2024/25, EES absence and suspensions), so
        # `load_demo` (make run) and the imports page load them.
        from beacon.indicators import recent_importers  # noqa: F401
