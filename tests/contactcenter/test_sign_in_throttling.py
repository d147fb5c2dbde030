"""Guessing passwords does not pay: after 10 wrong ones in a row a sign-in form refuses that
username from that address, even with the right password, for 15 minutes; the token endpoint
refuses an address that failed 10 times. Client ids are not secret, so failures naming one
never lock that client out from its own address."""

from __future__ import annotations

import base64

import pytest
from django.contrib.auth.models import Group
from django.test import Client

from contactcenter.portal import CUSTOMERS_GROUP
from tests.api_clients import create_api_client
from tests.helpers import PASSWORD

LIMIT = 10
PROXY = "10.0.0.5"
FORMS = [("/admin/login/", "alice"), ("/agent/login/", "bob"), ("/portal/login", "dana")]


@pytest.fixture
def dana(django_user_model):
    user = django_user_model.objects.create_user("dana", "dana@example.com", PASSWORD)
    user.groups.add(Group.objects.get_or_create(name=CUSTOMERS_GROUP)[0])
    return user


@pytest.fixture
def people(alice, bob, dana):
    return {"alice": alice, "bob": bob, "dana": dana}


def sign_in(path: str, username: str, password: str, address: str = "203.0.113.9", **headers):
    client = Client(REMOTE_ADDR=address, headers=headers)
    response = client.post(path, {"username": username, "password": password})
    return response, client.session.get("_auth_user_id")


@pytest.mark.parametrize(("path", "username"), FORMS)
def test_ten_wrong_passwords_lock_the_form_even_for_the_right_one(people, path, username):
    answers = [sign_in(path, username, "wrong guess")[0].status_code for _ in range(LIMIT)]
    response, signed_in = sign_in(path, username, PASSWORD)

    assert answers == [200] * (LIMIT - 1) + [429]
    assert response.status_code == 429
    assert "Too many failed sign-ins" in response.content.decode()
    assert signed_in is None


@pytest.mark.parametrize(("path", "username"), FORMS)
def test_the_lock_holds_that_username_from_that_address_only(people, path, username):
    for _ in range(LIMIT):
        sign_in(path, username, "wrong guess")

    response, signed_in = sign_in(path, username, PASSWORD, address="198.51.100.7")

    assert response.status_code == 302
    assert signed_in == str(people[username].pk)


def test_behind_a_trusted_proxy_each_visitor_is_counted_on_their_own(settings, people):
    settings.CC_TRUSTED_PROXIES = [PROXY]
    for _ in range(LIMIT):
        sign_in("/agent/login/", "bob", "wrong guess", PROXY, **{"X-Forwarded-For": "192.0.2.1"})

    locked, _ = sign_in("/agent/login/", "bob", PASSWORD, PROXY, **{"X-Forwarded-For": "192.0.2.1"})
    other, signed_in = sign_in(
        "/agent/login/", "bob", PASSWORD, PROXY, **{"X-Forwarded-For": "192.0.2.2"}
    )

    assert locked.status_code == 429
    assert other.status_code == 302
    assert signed_in == str(people["bob"].pk)


@pytest.fixture
def api_clients(db, settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

    def make(name: str) -> dict[str, str]:
        return create_api_client(name, "config:read")

    return make


def token(credentials: dict[str, str], address: str = "203.0.113.9"):
    return Client(REMOTE_ADDR=address).post(
        "/o/token/", {"grant_type": "client_credentials", **credentials}
    )


def test_ten_refused_token_requests_from_an_address_lock_it_with_retry_after(api_clients):
    credentials = api_clients("Provisioning")
    wrong = {**credentials, "client_secret": "guess"}
    refused = [token(wrong).status_code for _ in range(LIMIT)]

    response = token(credentials)

    assert refused == [401] * LIMIT
    assert response.status_code == 429
    assert 0 < int(response["Retry-After"]) <= 15 * 60
    assert response.json()["error"] == "temporarily_unavailable"


def test_guesses_at_every_client_id_lock_the_guessing_address(api_clients):
    for n in range(LIMIT):
        token({"client_id": f"guess-{n}", "client_secret": "guess"})
    credentials = api_clients("Provisioning")

    assert token(credentials).status_code == 429
    assert token(credentials, address="198.51.100.7").status_code == 200


def test_failures_naming_a_client_from_other_addresses_never_lock_it_out(api_clients):
    credentials = api_clients("Provisioning")
    wrong = {**credentials, "client_secret": "guess"}
    refused = [token(wrong, f"198.51.100.{n}").status_code for n in range(3 * LIMIT)]
    basic = base64.b64encode(f"{credentials['client_id']}:guess".encode()).decode()
    for n in range(LIMIT):
        Client(REMOTE_ADDR=f"192.0.2.{n}").post(
            "/o/token/",
            {"grant_type": "client_credentials"},
            headers={"Authorization": f"Basic {basic}"},
        )

    assert refused == [401] * (3 * LIMIT)
    assert token(credentials).status_code == 200
