"""The sample portal: who gets a token, what the token says, and the keys it is checked with."""

from __future__ import annotations

import base64
import io
import json
import stat
import time

import jwt
import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command

from authsettings import tokens as platform_tokens
from authsettings.models import AuthenticationSetting
from contactcenter.portal import CUSTOMERS_GROUP, keys, tokens
from messaging.models import Contact
from tests.helpers import PASSWORD
from tests.keyserver import setting_for, verify_for

CONTACT_ID = "87b4d06c-abc2-e811-a9b0-000d3a10e09e"


@pytest.fixture(autouse=True)
def _keys_in_a_temporary_directory(settings, tmp_path):
    settings.VAR_DIR = tmp_path


@pytest.fixture
def contact(db):
    return Contact.objects.create(id=CONTACT_ID, full_name="Dana Demo", email="dana@example.com")


@pytest.fixture
def customer(django_user_model, contact):
    user = django_user_model.objects.create_user("dana", "dana@example.com", PASSWORD)
    user.groups.add(Group.objects.get_or_create(name=CUSTOMERS_GROUP)[0])
    return user


def published(client) -> dict[str, dict]:
    response = client.get("/portal/auth/keys")
    assert response.status_code == 200
    return {entry["kid"]: entry for entry in response.json()}


def decode(client, token: str) -> dict:
    kid = jwt.get_unverified_header(token)["kid"]
    pem = base64.b64decode(published(client)[kid]["publicKey"])
    return jwt.decode(
        token, pem, algorithms=["RS256"], options={"verify_aud": False, "require": ["exp"]}
    )


def test_a_visitor_who_is_not_signed_in_gets_no_token(client, db):
    response = client.get("/portal/auth/token")
    assert response.status_code == 401
    assert "token" in response.content.decode()


@pytest.mark.parametrize("who", ["alice", "charlie"])
def test_staff_and_other_users_outside_the_customers_group_get_no_token(client, request, who):
    client.force_login(request.getfixturevalue(who))
    assert client.get("/portal/auth/token").status_code == 401


def test_a_customer_without_a_contact_record_gets_no_token(client, customer, contact):
    contact.status = Contact.Status.INACTIVE
    contact.save()
    client.force_login(customer)
    assert client.get("/portal/auth/token").status_code == 403


def test_a_customer_gets_a_ten_minute_rs256_token_naming_their_contact(client, customer):
    client.force_login(customer)
    before = int(time.time())
    response = client.get("/portal/auth/token")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    assert "no-store" in response["Cache-Control"]
    token = response.content.decode()

    header = jwt.get_unverified_header(token)
    assert header["alg"] == "RS256"
    assert header["kid"] == keys.current_key().kid
    claims = decode(client, token)
    assert claims["iss"] == tokens.ISSUER
    assert claims["sub"] == CONTACT_ID
    assert before <= claims["iat"] == claims["nbf"] <= time.time()
    assert claims["exp"] == claims["iat"] + 600
    assert isinstance(claims["lwicontexts"], str)
    assert json.loads(claims["lwicontexts"]) == {
        "msdyn_cartvalue": "10000",
        "msdyn_isvip": "false",
        "portalcontactid": CONTACT_ID,
    }


def test_the_customer_chooses_the_cart_value_and_vip_status_their_token_carries(client, customer):
    client.force_login(customer)
    response = client.post("/portal/", {"cart_value": "250", "vip": "on"})
    assert response.status_code == 302
    claims = decode(client, client.get("/portal/auth/token").content.decode())
    context = json.loads(claims["lwicontexts"])
    assert context["msdyn_cartvalue"] == "250"
    assert context["msdyn_isvip"] == "true"


def test_the_home_page_shows_who_is_signed_in(client, customer):
    page = client.get("/portal/").content.decode()
    assert "browsing as a guest" in page
    client.force_login(customer)
    page = client.get("/portal/").content.decode()
    assert "signed in as Dana Demo" in page
    assert "auth.getAuthenticationToken" in page


def test_the_customer_signs_in_and_out_on_the_portal(client, customer):
    response = client.post("/portal/login", {"username": "dana", "password": PASSWORD})
    assert response.status_code == 302
    assert response["Location"] == "/portal/"
    assert client.get("/portal/auth/token").status_code == 200
    assert client.post("/portal/logout").status_code == 302
    assert client.get("/portal/auth/token").status_code == 401


def test_the_keys_are_published_as_a_pem_and_as_a_kid_list(client, db):
    current = keys.current_key()
    pem = client.get("/portal/auth/publickey")
    assert pem.status_code == 200
    assert pem.content.decode() == current.public_key_pem
    assert pem.content.startswith(b"-----BEGIN PUBLIC KEY-----")

    (entry,) = published(client).values()
    assert entry["kid"] == current.kid
    assert base64.b64decode(entry["publicKey"]).decode() == current.public_key_pem
    assert isinstance(entry["expiry"], int)
    assert entry["expiry"] > time.time() + 30 * 24 * 3600
    assert "PRIVATE" not in json.dumps(entry)


def test_the_private_keys_are_kept_readable_by_their_owner_only(settings, db):
    keys.current_key()
    key_file = settings.VAR_DIR / "portal" / "keys.json"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600


def test_rotation_makes_a_new_current_key_and_keeps_the_old_one_listed(client, customer):
    old = keys.current_key()
    out = io.StringIO()
    call_command("rotate_portal_key", stdout=out)
    new = keys.current_key()
    assert new.kid != old.kid
    assert f"New current key: {new.kid}" in out.getvalue()
    assert set(published(client)) == {old.kid, new.kid}

    client.force_login(customer)
    token = client.get("/portal/auth/token").content.decode()
    assert jwt.get_unverified_header(token)["kid"] == new.kid


def test_a_day_before_the_signing_key_expires_a_new_one_takes_over(db):
    old = keys.current_key()
    assert keys.current_key(now=old.expiry - 2 * 24 * 3600) == old
    eve = old.expiry - 3600
    renewed = keys.current_key(now=eve)
    assert renewed.kid != old.kid
    assert [key.kid for key in keys.published_keys(now=eve)] == [old.kid, renewed.kid]
    assert [key.kid for key in keys.published_keys(now=old.expiry)] == [renewed.kid]


def test_the_demo_signs_in_its_customer_and_points_its_setting_at_the_kid_list(
    client, db, monkeypatch, settings
):
    settings.CC_OUTBOUND_ALLOWED_HOSTS = ["127.0.0.1"]
    monkeypatch.setenv("DEMO_CUSTOMER_PASSWORD", "a customer password 123")
    out = io.StringIO()
    call_command("demo", base_url="http://127.0.0.1:8000/", stdout=out)
    report = out.getvalue()
    assert "Sample portal:  http://127.0.0.1:8000/portal/" in report
    assert "Agent console:  http://127.0.0.1:8000/agent/" in report
    assert "customer password: a customer password 123" in report

    setting = AuthenticationSetting.objects.get(name="Sample portal")
    assert setting.public_key_url == "http://127.0.0.1:8000/portal/auth/keys"
    assert setting.expected_issuer == tokens.ISSUER
    assert client.login(username="customer", password="a customer password 123")
    claims = decode(client, client.get("/portal/auth/token").content.decode())
    assert claims["sub"] == CONTACT_ID


@pytest.mark.django_db(transaction=True)
def test_the_platform_verifies_portal_tokens_by_kid_also_after_a_rotation(
    live_server, settings, customer
):
    settings.CC_OUTBOUND_ALLOWED_HOSTS = ["localhost", "127.0.0.1"]
    issuer = tokens.ISSUER
    setting = setting_for(f"{live_server.url}/portal/auth/keys", expected_issuer=issuer)
    context = {"msdyn_cartvalue": "10000", "msdyn_isvip": "false", "portalcontactid": CONTACT_ID}
    first = tokens.issue(issuer=issuer, subject=CONTACT_ID, context=context)
    assert verify_for(setting, first, now=time.time()).sub == CONTACT_ID

    rotated = keys.rotate()
    second = tokens.issue(issuer=issuer, subject=CONTACT_ID, context=context)
    verified = verify_for(setting, second, now=time.time())
    assert verified.kid == rotated.kid
    assert verify_for(setting, first, now=time.time()).sub == CONTACT_ID

    expired = tokens.issue(
        issuer=issuer, subject=CONTACT_ID, context=context, now=time.time() - 3600
    )
    with pytest.raises(platform_tokens.TokenRefused) as refused:
        verify_for(setting, expired, now=time.time())
    assert refused.value.code == "token_expired"
