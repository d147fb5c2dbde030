"""With secure transport on, the platform speaks https only; a reverse proxy's word about the
client counts only when the proxy is a trusted one. Every page carries a content security
policy."""

from __future__ import annotations

import os
import re
import secrets
import subprocess
import sys

import pytest
from django.conf import settings
from django.test import RequestFactory

from contactcenter.middleware import believe_trusted_proxy
from tests.helpers import PASSWORD

PROXY = "10.0.0.5"
VISITOR = "203.0.113.9"
YEAR = 365 * 24 * 3600


@pytest.fixture
def secure_transport(settings):
    settings.CC_SECURE_TRANSPORT = True
    settings.SESSION_COOKIE_SECURE = settings.CSRF_COOKIE_SECURE = True
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_HSTS_SECONDS = YEAR
    settings.CC_TRUSTED_PROXIES = [PROXY]


def test_a_plain_http_request_is_sent_to_https(secure_transport, client):
    response = client.get("/admin/login/?next=/admin/")

    assert response.status_code == 301
    assert response["Location"] == "https://testserver/admin/login/?next=/admin/"


def test_over_https_browsers_are_told_to_stay_on_https_and_cookies_are_secure(
    secure_transport, client, alice
):
    login = client.get("/admin/login/", secure=True)
    assert login["Strict-Transport-Security"] == f"max-age={YEAR}; includeSubDomains"
    assert login.cookies["csrftoken"]["secure"]

    response = client.post(
        "/admin/login/?next=/admin/",
        {
            "username": "alice",
            "password": PASSWORD,
            "csrfmiddlewaretoken": login.cookies["csrftoken"].value,
        },
        secure=True,
        headers={"Referer": "https://testserver/admin/login/"},
    )
    assert response.status_code == 302
    assert response.cookies["sessionid"]["secure"]


def test_a_trusted_proxy_that_received_https_is_believed(secure_transport, client):
    response = client.get(
        "/admin/login/", REMOTE_ADDR=PROXY, headers={"X-Forwarded-Proto": "https"}
    )

    assert response.status_code == 200
    assert "Strict-Transport-Security" in response


def test_anyone_else_claiming_https_is_still_sent_to_https(secure_transport, client):
    response = client.get(
        "/admin/login/", REMOTE_ADDR="198.51.100.7", headers={"X-Forwarded-Proto": "https"}
    )

    assert response.status_code == 301


def test_a_trusted_proxy_names_the_visitor_and_nobody_else_can(settings):
    settings.CC_TRUSTED_PROXIES = [PROXY]
    factory = RequestFactory()
    through_proxy = factory.get("/", REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=f"{VISITOR}, {PROXY}")
    spoofed = factory.get("/", REMOTE_ADDR="198.51.100.7", HTTP_X_FORWARDED_FOR=VISITOR)

    believe_trusted_proxy(through_proxy)
    believe_trusted_proxy(spoofed)

    assert through_proxy.META["REMOTE_ADDR"] == VISITOR
    assert spoofed.META["REMOTE_ADDR"] == "198.51.100.7"
    assert "HTTP_X_FORWARDED_FOR" not in spoofed.META
    assert "X-Forwarded-For" not in spoofed.headers


def policy_of(response) -> dict[str, list[str]]:
    header = response["Content-Security-Policy"]
    return {
        name: values
        for name, *values in (part.split() for part in header.split(";") if part.strip())
    }


@pytest.mark.parametrize("path", ["/admin/login/", "/agent/login/", "/portal/", "/portal/login"])
def test_every_page_carries_a_strict_content_security_policy(db, client, path):
    policy = policy_of(client.get(path))

    assert policy["default-src"] == ["'self'"]
    assert policy["script-src"][0] == "'self'"
    assert "'unsafe-inline'" not in policy["script-src"]
    assert policy["connect-src"] == ["'self'"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert policy["base-uri"] == ["'none'"]
    assert policy["object-src"] == ["'none'"]


@pytest.mark.parametrize("path", ["/admin/login/", "/agent/login/", "/portal/"])
def test_forms_post_only_to_the_platform(db, client, path):
    assert policy_of(client.get(path))["form-action"] == ["'self'"]


def test_the_identity_providers_sign_in_page_may_lead_on_to_a_clients_redirect_uri(db, client):
    assert "form-action" not in policy_of(client.get("/portal/login"))


def test_the_portals_inline_scripts_run_by_the_pages_own_nonce(db, client, bob):
    client.force_login(bob)
    response = client.get("/portal/")

    nonces = set(re.findall(r'<script nonce="([^"]+)">', response.content.decode()))
    assert len(nonces) == 1
    assert f"'nonce-{nonces.pop()}'" in policy_of(response)["script-src"]


def test_the_deploy_checks_pass_but_for_the_in_memory_services_without_redis():
    environment = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "contactcenter.settings",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
    }
    for name in ("DJANGO_DEBUG", "CC_SECURE_TRANSPORT", "DATABASE_URL", "REDIS_URL"):
        environment.pop(name, None)
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy"],
        cwd=settings.BASE_DIR,
        env=environment,
        capture_output=True,
        text=True,
        check=False,
    )

    reported = set(re.findall(r"^\?: \(([\w.]+)\)", result.stderr + result.stdout, re.MULTILINE))
    assert reported == {"messaging.W001", "messaging.W002"}
