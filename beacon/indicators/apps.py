from typing import Any

from django.apps import AppConfig


def _area_la_lookup(model: Any, fields: dict[str, Any]) -> str | None:
    """Area figures (LAIT) tie to an LA through their area's code (beacon.imports.freshness)."""
    from beacon.indicators.models import Area

    return "area__code" if "area" in fields and fields["area"].related_model is Area else None


class IndicatorsConfig(AppConfig):
    name = "beacon.indicators"
    label = "indicators"

    def ready(self) -> None:
        # Register the recent school-level sources (2022/23-2024/25, EES absence and suspensions), so
        # `load_demo` (make run) and the imports page load them.
        from beacon.imports.freshness import la_lookup_rule
        from beacon.indicators import recent_importers  # noqa: F401
        from beacon.indicators.census import FIGURES
        from beacon.schools.figures import provide

        la_lookup_rule(_area_la_lookup)
        # The register's importers write the census figures and read headcounts through indicators.
        provide(FIGURES)
