from django.apps import AppConfig


class ProfilesConfig(AppConfig):
    name = "beacon.profiles"
    label = "profiles"
    verbose_name = "Public school profiles"

    def ready(self) -> None:
        # Register the KS4 destinations source, so `load_demo` (make run) and the imports page load it.
        from beacon.profiles import importers  # noqa: F401
