from django.apps import AppConfig


class SupportConfig(AppConfig):
    name = "beacon.support"
    label = "support"
    verbose_name = "School support: entitlements, visits, support cases and meetings"
