"""The widget's HTTP endpoints and the agent console's pages."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.contrib.staticfiles import finders
from django.templatetags.static import static

from tests.helpers import PASSWORD

pytestmark = pytest.mark.django_db


def test_a_widgets_public_config_holds_no_secret_and_may_be_read_from_any_site(client, chat):
    widget, _ = chat
    response = client.get(f"/widget/{widget.widget_id}/config")
    assert response.json() == {
        "widget_id": str(widget.widget_id),
        "authentication": {
            "type": "oauth2_implicit",
            "javascript_client_function": "auth.getAuthenticationToken",
        },
        "require_authentication": True,
    }
    assert response["Access-Control-Allow-Origin"] == "*"


def test_the_snippet_finds_its_widget_through_the_deployment(client, chat):
    widget, deployment = chat
    response = client.get(f"/widget/deployment/{deployment.deployment_id}/config")
    assert response.json() == {
        **client.get(f"/widget/{widget.widget_id}/config").json(),
        "deployment_id": str(deployment.deployment_id),
    }
    assert response["Access-Control-Allow-Origin"] == "*"
    loader = client.get("/widget/loader.js")
    assert loader.status_code == 200
    assert loader["Content-Type"] == "text/javascript"
    assert loader["Cross-Origin-Resource-Policy"] == "cross-origin"
    for name in ("widget.css", "transport.js", "pane.js", "widget.js"):
        assert static(f"messaging/widget/{name}") in loader.text


def test_the_transport_sdk_is_served_at_a_stable_address_to_any_site(client):
    sdk = client.get("/widget/transport.js")
    assert sdk.status_code == 200
    assert sdk["Content-Type"] == "text/javascript"
    assert sdk["Access-Control-Allow-Origin"] == "*"
    assert sdk["Cross-Origin-Resource-Policy"] == "cross-origin"
    # The very file the chat widget is built on.
    assert sdk.content == Path(finders.find("messaging/widget/transport.js")).read_bytes()


def test_an_inactive_or_unknown_deployment_says_why_in_json(client, chat):
    _, deployment = chat
    deployment.status = deployment.Status.INACTIVE
    deployment.save()
    response = client.get(f"/widget/deployment/{deployment.deployment_id}/config")
    assert (response.status_code, response.json()["code"]) == (403, "deployment_inactive")
    missing = client.get("/widget/deployment/00000000-0000-0000-0000-000000000000/config")
    assert (missing.status_code, missing.json()["code"]) == (404, "not_found")


def test_agents_sign_in_on_the_consoles_own_page(client, bob):
    assert client.get("/agent/")["Location"].startswith("/agent/login/")
    response = client.post(
        "/agent/login/", {"username": "bob", "password": PASSWORD, "next": "/agent/"}
    )
    assert response["Location"] == "/agent/"
    page = client.get("/agent/")
    assert page.status_code == 200
    assert 'data-socket-path="/ws/agent/"' in page.text


def test_the_console_is_only_for_agents(client, charlie):
    client.force_login(charlie)
    assert client.get("/agent/").status_code == 403
