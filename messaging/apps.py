from django.apps import AppConfig


class MessagingConfig(AppConfig):
    name = "messaging"

    def ready(self) -> None:
        from messaging import agent_rights, checks  # noqa: F401  (checks registers itself)

        agent_rights.connect_receivers()
