from django.apps import AppConfig


class SchoolsConfig(AppConfig):
    name = "beacon.schools"
    label = "schools"

    def ready(self) -> None:
        from beacon.imports.framework import rerun_duplicates_when
        from beacon.imports.freshness import la_lookup_rule
        from beacon.schools.lookup import la_lookup, register_changed_since

        # A file already imported is imported again once the register changed (decision 0014).
        rerun_duplicates_when(register_changed_since)
        la_lookup_rule(la_lookup)  # the data-freshness page scopes school rows to the LA
