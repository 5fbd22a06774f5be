from typing import Any

from django.apps import AppConfig


def _after_import(sender: Any, **kwargs: Any) -> None:
    from beacon.assessments.services import after_import

    after_import(**kwargs)


def _after_rulebook_activated(sender: Any, book: Any, **kwargs: Any) -> None:
    from beacon.assessments.services import after_rulebook_activated

    after_rulebook_activated(book)


class AssessmentsConfig(AppConfig):
    name = "beacon.assessments"
    label = "assessments"
    verbose_name = "Termly risk assessments, judgements and intelligence"

    def ready(self) -> None:
        from beacon.imports.framework import import_succeeded
        from beacon.risk.signals import rulebook_activated

        # Proposals follow their inputs (decision 0018): refreshed after an import, never on a GET.
        import_succeeded.connect(_after_import, dispatch_uid="beacon.assessments.after_import")
        rulebook_activated.connect(
            _after_rulebook_activated, dispatch_uid="beacon.assessments.after_rulebook_activated"
        )
