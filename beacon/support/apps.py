from django.apps import AppConfig
from django.db.models.signals import post_save


class SupportConfig(AppConfig):
    name = "beacon.support"
    label = "support"
    verbose_name = "School support: entitlements, visits, support cases and meetings"

    def ready(self) -> None:
        from beacon.support.signals import assessment_saved

        post_save.connect(
            assessment_saved, sender="assessments.TermlyAssessment", dispatch_uid="support-entitlement-level"
        )
