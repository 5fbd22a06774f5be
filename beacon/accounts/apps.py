from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "beacon.accounts"
    label = "accounts"
