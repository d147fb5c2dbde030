"""The messaging app's WebSocket routes.

The widget socket checks origins itself, against deployments, so it can tell the page why it
refuses; the agent console's socket takes Django's session and only the platform's own origin.
"""

from __future__ import annotations

from channels.sessions import SessionMiddlewareStack
from django.urls import path

from messaging import origins
from messaging.agent_socket import AgentConsumer
from messaging.frames import CLOSE_FORBIDDEN, FrameConsumer, scope_header
from messaging.widget_socket import VisitorConsumer


class OwnOriginRefused(FrameConsumer):
    """Answers a socket from elsewhere than the platform's own pages: an error frame, then
    close code 4403."""

    async def connect(self):
        await self.accept()
        await self.refuse("origin_not_allowed", "Open the console from this platform's own pages.")
        await self.close(code=CLOSE_FORBIDDEN)


class OwnOriginValidator:
    """Lets a socket through to the application only with a Host in ALLOWED_HOSTS and an
    Origin that is the platform's own, by host and port."""

    def __init__(self, application):
        self.application = application
        self.refused = OwnOriginRefused.as_asgi()

    async def __call__(self, scope, receive, send):
        own = origins.socket_own_origin(scope)
        page = origins.parse_origin(scope_header(scope, "origin"))
        if page is not None and page.same_place(own):
            return await self.application(scope, receive, send)
        return await self.refused(scope, receive, send)


websocket_urlpatterns = [
    path("ws/widget/<uuid:widget_id>/", VisitorConsumer.as_asgi()),
    path("ws/agent/", OwnOriginValidator(SessionMiddlewareStack(AgentConsumer.as_asgi()))),
]
