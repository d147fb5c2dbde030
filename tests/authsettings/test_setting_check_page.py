"""The admin's "Test this setting" page: nothing fetched on GET, the findings and the checks of
a pasted token when the test is run (POST), CSRF, and no secret in the page."""

from __future__ import annotations

import re
import time

import pytest
from django.test import Client

from tests.authsettings.token_checks import TOKEN_CHECKS
from tests.identity_provider import CLIENT_SECRET, openid_setting, start_provider
from tests.keyserver import claims, kid_entry, make_token, token_for


def page_of(setting) -> str:
    return f"/admin/authsettings/authenticationsetting/{setting.pk}/test/"


def outcomes_in(html: str) -> list[tuple[str, str]]:
    """(outcome, check name) of each row of the page's check tables, in order."""
    rows = re.findall(
        r'<td class="outcome">.*?> (Pass|Fail|Not run)</td>\s*<td>(.*?)</td>', html, re.S
    )
    return [(outcome, name) for outcome, name in rows]


@pytest.fixture
def admin_client(client, alice):
    client.force_login(alice)
    return client


def test_opening_the_page_fetches_nothing_and_offers_to_run_the_test(
    admin_client, portal_setting, key_server
):
    response = admin_client.get(page_of(portal_setting))

    html = response.content.decode()
    assert response.status_code == 200
    assert key_server.hits["/publickey"] == 0
    assert "The test fetches the public keys at the key URL" in html
    assert '<form method="post"' in html
    assert 'value="Run the test"' in html
    assert 'name="token"' in html
    assert outcomes_in(html) == []


def test_running_the_test_shows_the_keys_found_at_the_key_url(
    admin_client, portal_setting, key_server, keys
):
    expiry = int(time.time()) + 86400
    key_server.serve(
        "/publickey",
        [kid_entry(keys.signing, "current", expiry), kid_entry(keys.weak, "w", expiry)],
    )

    response = admin_client.post(page_of(portal_setting))

    assert response.status_code == 200
    assert response.templates[0].name == (
        "admin/authsettings/authenticationsetting/check_setting.html"
    )
    html = response.content.decode()
    assert outcomes_in(html) == [("Pass", "key document"), ("Pass", "usable keys")]
    assert "<code>current</code>" in html
    assert "2048 bits" in html
    assert f"({expiry})" in html
    assert "no: an RSA key of 1024 bits; at least 2048 are needed" in html
    assert 'name="token"' in html
    assert key_server.hits["/publickey"] == 1


def test_the_breadcrumbs_lead_back_to_the_setting(admin_client, portal_setting):
    html = admin_client.get(page_of(portal_setting)).content.decode()

    change = f"/admin/authsettings/authenticationsetting/{portal_setting.pk}/change/"
    assert re.search(
        r'<div class="breadcrumbs">.*Home</a>.*Authentication settings</a>.*'
        rf'<a href="{change}">Portal</a>\s*&rsaquo; Test',
        html,
        re.S,
    )


def test_a_pasted_token_shows_every_check_passing(admin_client, portal_setting, keys):
    token = token_for(keys, lwicontexts={"msdyn_isvip": "TRUE"})

    response = admin_client.post(page_of(portal_setting), {"token": f"  {token}\n"})

    html = response.content.decode()
    checks = outcomes_in(html)[2:]
    assert [name for _outcome, name in checks] == [*TOKEN_CHECKS, "Web chat: msdyn_isvip"]
    assert {outcome for outcome, _name in checks} == {"Pass"}
    assert "A boolean variable: the chat gets True." in html
    assert "Everything checked passed." in html


def test_a_failing_token_shows_the_failure_its_fix_and_what_did_not_run(
    admin_client, portal_setting, keys
):
    token = make_token(keys.other, claims(time.time()))

    html = admin_client.post(page_of(portal_setting), {"token": token}).content.decode()

    checks = dict((name, outcome) for outcome, name in outcomes_in(html))
    assert (checks["key"], checks["signature"], checks["iss"]) == ("Pass", "Fail", "Not run")
    assert "Fix: Sign with the private key whose public key the key URL publishes" in html
    assert "1 check failed." in html


def test_a_key_document_with_entries_that_cannot_be_read_is_listed_not_a_crash(
    admin_client, portal_setting, key_server, keys
):
    expiry = int(time.time()) + 86400
    key_server.serve(
        "/publickey",
        [
            kid_entry(keys.signing, "\ud800", expiry),
            {"kid": "x", "publicKey": "clé", "expiry": expiry},
            kid_entry(keys.signing, "current", expiry),
        ],
    )

    response = admin_client.post(page_of(portal_setting))

    assert response.status_code == 200
    html = response.content.decode()
    assert "the kid is not valid Unicode" in html
    assert "publicKey is not base64 of a PEM" in html
    assert "<code>current</code>" in html


def test_running_the_test_without_a_token_checks_only_the_keys(admin_client, portal_setting):
    html = admin_client.post(page_of(portal_setting), {"token": "  "}).content.decode()

    assert "This field is required." not in html
    assert outcomes_in(html) == [("Pass", "key document"), ("Pass", "usable keys")]


def test_running_the_test_without_the_csrf_token_is_refused_and_fetches_nothing(
    alice, portal_setting, keys, key_server
):
    client = Client(enforce_csrf_checks=True)
    client.force_login(alice)

    refused = client.post(page_of(portal_setting))
    refused_with_token = client.post(page_of(portal_setting), {"token": token_for(keys)})
    page = client.get(page_of(portal_setting))
    csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.content.decode())
    fetched_before = key_server.hits["/publickey"]
    accepted = client.post(
        page_of(portal_setting), {"token": token_for(keys), "csrfmiddlewaretoken": csrf[1]}
    )

    assert (refused.status_code, refused_with_token.status_code) == (403, 403)
    assert fetched_before == 0
    assert accepted.status_code == 200
    assert key_server.hits["/publickey"] == 1
    assert "Web chat" not in refused_with_token.content.decode()


def test_an_openid_connect_page_shows_discovery_and_jwks_but_never_the_secret(
    admin_client, key_server, keys
):
    setting = openid_setting(start_provider(key_server, keys))

    html = admin_client.post(page_of(setting)).content.decode()

    assert ("Pass", "issuer") in outcomes_in(html)
    assert "<code>provider-key</code>" in html
    assert key_server.url("/jwks") in html
    assert 'name="token"' not in html
    assert CLIENT_SECRET not in html
    assert CLIENT_SECRET not in admin_client.post(page_of(setting), {"token": "x"}).content.decode()


def test_an_outsider_is_sent_to_the_admin_login(client, charlie, portal_setting, key_server):
    client.force_login(charlie)

    response = client.post(page_of(portal_setting))

    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")
    assert key_server.hits["/publickey"] == 0


def test_a_setting_that_does_not_exist_redirects_to_the_admin_home(admin_client, db):
    response = admin_client.get("/admin/authsettings/authenticationsetting/999999/test/")

    assert response.status_code == 302
    assert response["Location"] == "/admin/"
