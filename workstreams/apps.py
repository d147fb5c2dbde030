from django.apps import AppConfig


class WorkstreamsConfig(AppConfig):
    name = "workstreams"
