"""The messaging app's WebSocket routes.

The widget socket checks origins itself, against deployments, so it can tell the page why it
refuses; the agent console's socket takes Django's session and only this platform's origins.
"""

from channels.auth import AuthMiddlewareStack
from channels.security.websocket import AllowedHostsOriginValidator
from django.urls import path

from messaging.agent_socket import AgentConsumer
from messaging.widget_socket import VisitorConsumer

websocket_urlpatterns = [
    path("ws/widget/<uuid:widget_id>/", VisitorConsumer.as_asgi()),
    path(
        "ws/agent/",
        AllowedHostsOriginValidator(AuthMiddlewareStack(AgentConsumer.as_asgi())),
    ),
]
