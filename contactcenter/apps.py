from django.apps import AppConfig


class ContactCenterConfig(AppConfig):
    name = "contactcenter"
    verbose_name = "Contact center"

    def ready(self) -> None:
        from contactcenter.api import schema  # noqa: F401 (registers the schema extension)
