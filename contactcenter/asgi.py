"""ASGI entry point: static files, then HTTP through Django, WebSockets through Channels."""

from __future__ import annotations

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "contactcenter.settings")

# Build the Django application first: it sets up the apps that the routing imports need.
django_application = get_asgi_application()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from django.conf import settings  # noqa: E402
from servestatic import ServeStaticASGI  # noqa: E402

from contactcenter import daphne_sockets  # noqa: E402
from contactcenter.routing import websocket_urlpatterns  # noqa: E402
from messaging.sweeps import StartSweeps  # noqa: E402

# `collectstatic` names each file after its content (`widget.dc3ec882735c.js`): such a name
# never changes meaning, so browsers may keep it for good.
HASHED_NAME = r"^.+\.[0-9a-f]{12}\..+$"


def cross_origin_headers(headers, path: str, url: str) -> None:
    """The widget's script and styles load into customers' pages, from another origin: allow
    that even where the page demands it (`Cross-Origin-Embedder-Policy: require-corp`), and
    never let a browser guess another type than the one sent."""
    headers["Cross-Origin-Resource-Policy"] = "cross-origin"
    headers["X-Content-Type-Options"] = "nosniff"


# The files `collectstatic` put in STATIC_ROOT, hashed and compressed, answered before Django.
static_files = ServeStaticASGI(
    django_application,
    root=settings.STATIC_ROOT,
    prefix=settings.STATIC_URL,
    immutable_file_test=HASHED_NAME,
    add_headers_function=cross_origin_headers,
)

daphne_sockets.install()

application = StartSweeps(
    ProtocolTypeRouter(
        {
            "http": static_files,
            "websocket": URLRouter(websocket_urlpatterns),
        }
    )
)
