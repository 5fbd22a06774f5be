from typing import Any

from django.apps import AppConfig


def _after_import(sender: Any, **kwargs: Any) -> None:
    from beacon.assessments.services import after_import

    after_import(**kwargs)


def _after_rulebook_activated(sender: Any, book: Any, **kwargs: Any) -> None:
    from beacon.assessments.services import after_rulebook_activated

    after_rulebook_activated(book)


def _after_scores_stored(sender: Any, **kwargs: Any) -> None:
    from beacon.assessments.services import live_term, refresh_proposals

    term = live_term()
    if term is not None:
        refresh_proposals(term)


def _after_threshold_changed(sender: Any, **kwargs: Any) -> None:
    from beacon.assessments.services import rerank_judged

    rerank_judged()


class AssessmentsConfig(AppConfig):
    name = "beacon.assessments"
    label = "assessments"
    verbose_name = "Termly risk assessments, judgements and intelligence"

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save

        from beacon.earlywarning.models import WatchThreshold
        from beacon.earlywarning.signals import scores_stored
        from beacon.imports.framework import import_succeeded
        from beacon.risk.signals import rulebook_activated

        # Proposals follow their inputs (decision 0018): refreshed after an import, never on a GET.
        import_succeeded.connect(_after_import, dispatch_uid="beacon.assessments.after_import")
        rulebook_activated.connect(
            _after_rulebook_activated, dispatch_uid="beacon.assessments.after_rulebook_activated"
        )
        # The register's stored probabilities follow a model's new scores (decision 0027).
        scores_stored.connect(_after_scores_stored, dispatch_uid="beacon.assessments.after_scores_stored")
        # The register's stored ranking key of judged schools follows the watch threshold (decision 0027).
        for signal in (post_save, post_delete):
            signal.connect(
                _after_threshold_changed,
                sender=WatchThreshold,
                dispatch_uid=f"beacon.assessments.after_threshold_changed.{signal is post_save}",
            )
