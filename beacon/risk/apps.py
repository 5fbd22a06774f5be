from typing import Any

from django.apps import AppConfig
from django.db.models.signals import post_migrate


def _seed_catalogue(sender: AppConfig, **kwargs: Any) -> None:
    from beacon.risk.catalogue import ensure_catalogue

    ensure_catalogue()


class RiskConfig(AppConfig):
    name = "beacon.risk"
    label = "risk"
    verbose_name = "Risk criteria and rulebooks"

    def ready(self) -> None:
        # The criteria and rulebook v1 are reference data: loaded after every migrate (idempotent).
        post_migrate.connect(_seed_catalogue, sender=self, dispatch_uid="beacon.risk.seed_catalogue")
