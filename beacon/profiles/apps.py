from django.apps import AppConfig


class ProfilesConfig(AppConfig):
    name = "beacon.profiles"
    label = "profiles"
    verbose_name = "Public school profiles"
