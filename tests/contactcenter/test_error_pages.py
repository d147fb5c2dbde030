"""With debug on, an error page shows the settings, but never the services' passwords."""

from __future__ import annotations

import secrets

import pytest
from django.urls import path


def broken_view(request):
    raise RuntimeError("The view broke.")


urlpatterns = [path("broken/", broken_view)]


@pytest.mark.urls(__name__)
def test_a_debug_error_page_hides_the_passwords_of_every_service(settings, client):
    database_password, redis_password = secrets.token_hex(8), secrets.token_hex(8)
    redis_url = f"redis://:{redis_password}@redis.internal:6379/0"
    settings.DEBUG = True
    settings.DATABASE_URL = f"postgres://cc:{database_password}@db.internal:5432/cc"
    settings.REDIS_URL = redis_url
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": redis_url,
        }
    }
    settings.CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels.layers.InMemoryChannelLayer",
            "CONFIG": {"hosts": [redis_url]},
        }
    }
    client.raise_request_exception = False

    response = client.get("/broken/", headers={"Accept": "text/html"})

    page = response.content.decode()
    assert response.status_code == 500
    assert "The view broke." in page
    assert "db.internal" in page
    assert "redis.internal" in page
    assert database_password not in page
    assert redis_password not in page
