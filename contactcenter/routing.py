"""WebSocket routes of the whole platform."""

from messaging.routing import websocket_urlpatterns as messaging_routes

websocket_urlpatterns = [*messaging_routes]
