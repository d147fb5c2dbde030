from django.apps import AppConfig


class MessagingConfig(AppConfig):
    name = "messaging"

    def ready(self) -> None:
        from messaging import agent_rights, checks, start_cache  # noqa: F401  (checks registers)

        agent_rights.connect_receivers()
        start_cache.connect_receivers()
