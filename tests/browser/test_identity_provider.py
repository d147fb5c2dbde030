"""The platform's own OpenID Connect provider (/o/) signs in customers of sites on other
origins: after the sign-in form, the browser goes on to the site's redirect URI with a code."""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
from urllib.parse import urlencode

import pytest

from tests.live import platform_client

pytestmark = pytest.mark.browser

USERNAME = "erin"
PASSWORD = "erin's portal password 1"


@pytest.mark.parametrize("consent", [False, True], ids=["trusted client", "consent asked"])
def test_a_site_on_another_origin_gets_its_code_once_the_customer_signs_in(
    live_url, key_server, new_page, transactional_db, django_user_model, consent
):
    callback = f"http://localhost:{key_server.port}/callback"
    application, _ = platform_client(callback, name="Northwind sign-in")
    application.skip_authorization = not consent
    application.save()
    django_user_model.objects.create_user(USERNAME, password=PASSWORD)
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
    query = {
        "response_type": "code",
        "client_id": application.client_id,
        "redirect_uri": callback,
        "scope": "openid",
        "state": "shop-state",
        "code_challenge": challenge.rstrip(b"=").decode(),
        "code_challenge_method": "S256",
    }
    page = new_page()

    page.goto(f"{live_url}/o/authorize/?{urlencode(query)}")
    page.get_by_label("Username").fill(USERNAME)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()
    if consent:
        page.get_by_role("button", name="Authorize").click()

    page.wait_for_url(re.compile(rf"^{re.escape(callback)}\?code=[^&]+&state=shop-state"))
    arrived = [request.path for request in key_server.requests]
    assert any(path.startswith("/callback?code=") for path in arrived)
