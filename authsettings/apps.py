from django.apps import AppConfig


class AuthsettingsConfig(AppConfig):
    name = "authsettings"
    verbose_name = "Authentication settings"
