"""Code-flow sign-in (CONTRACT.md "Code-flow sign-in"): redeeming a code with a real identity
provider on loopback, the id token and token action checks, refresh rotation and logout."""

from __future__ import annotations

import socket
import time
from collections.abc import Callable

import pytest

from authsettings import codeflow, sessions
from authsettings.models import AuthenticationSetting, WidgetSignIn
from authsettings.oauth import Grant
from authsettings.tokens import TokenRefused
from tests.helpers import Type, make_setting
from tests.identity_provider import (
    ACCESS_TOKEN,
    CLIENT_ID,
    CLIENT_SECRET,
    CODE,
    CODE_VERIFIER,
    DISCOVERY,
    NONCE,
    REDIRECT_URI,
    SUBJECT,
    IdentityProvider,
    basic_credentials,
    form_of,
    openid_setting,
    start_provider,
)
from tests.keyserver import NOW, send

pytestmark = pytest.mark.django_db

WIDGET_ID = "0b6f1c52-6a57-4d8e-9f3e-1c2d3e4f5a6b"
OTHER_WIDGET_ID = "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d"
GRANT = Grant(code=CODE, redirect_uri=REDIRECT_URI, code_verifier=CODE_VERIFIER, nonce=NONCE)


@pytest.fixture
def provider(key_server, keys):
    provider = start_provider(key_server, keys)
    provider.answer_code_with_id_token(NOW)
    return provider


@pytest.fixture
def setting(provider):
    return openid_setting(provider)


def exchange(setting, grant: Grant = GRANT, *, now: float = NOW) -> codeflow.SessionPair:
    return codeflow.exchange(setting, WIDGET_ID, grant, now=now)


def refused(call: Callable[[], object]) -> TokenRefused:
    with pytest.raises(TokenRefused) as caught:
        call()
    return caught.value


def oauth2_setting(provider, action: str, **fields) -> AuthenticationSetting:
    """A saved OAuth 2.0 setting that redeems codes at `provider` and turns the token response
    into a user id with the token action `action`."""
    return make_setting(
        Type.OAUTH2,
        token_url=provider.server.url("/token"),
        redirect_url=REDIRECT_URI,
        token_custom_action=action,
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        **fields,
    )


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


# OpenID Connect


def test_a_redeemed_code_signs_the_visitor_in_with_a_session_and_a_refresh_token(setting):
    pair = exchange(setting)

    assert pair.expires_in == sessions.SESSION_SECONDS
    verified = sessions.verify(setting, pair.session_token, now=NOW + 1, widget_id=WIDGET_ID)
    assert verified.sub == SUBJECT
    sign_in = WidgetSignIn.objects.get()
    assert (sign_in.subject, str(sign_in.widget_id), sign_in.setting) == (
        SUBJECT,
        WIDGET_ID,
        setting,
    )
    secret = pair.refresh_token.rsplit(".", 1)[1]
    assert secret not in sign_in.refresh_hash
    assert sign_in.revoked_at is None


def test_the_code_is_redeemed_with_the_client_secret_over_http_basic(setting, provider):
    exchange(setting)

    (request,) = provider.token_requests()
    assert basic_credentials(request) == (CLIENT_ID, CLIENT_SECRET)
    assert form_of(request) == {
        "grant_type": "authorization_code",
        "code": CODE,
        "redirect_uri": REDIRECT_URI,
        "code_verifier": CODE_VERIFIER,
    }


def test_a_provider_taking_only_client_secret_post_gets_the_secret_in_the_form(setting, provider):
    provider.publish(token_endpoint_auth_methods_supported=["client_secret_post"])

    exchange(setting)

    (request,) = provider.token_requests()
    assert basic_credentials(request) is None
    assert form_of(request)["client_id"] == CLIENT_ID
    assert form_of(request)["client_secret"] == CLIENT_SECRET


def test_the_discovery_document_is_fetched_once_and_kept(setting, provider):
    exchange(setting)
    exchange(setting)

    assert provider.server.hits[DISCOVERY] == 1
    assert provider.server.hits["/token"] == 2


@pytest.mark.parametrize(
    ("claims", "code"),
    [
        ({"aud": "someone-else"}, "claims_invalid"),
        ({"aud": [CLIENT_ID, "someone-else"]}, "claims_missing"),
        ({"aud": [CLIENT_ID, "someone-else"], "azp": "someone-else"}, "claims_invalid"),
        ({"aud": None}, "claims_missing"),
        ({"iss": "https://impostor.example.com"}, "issuer_mismatch"),
        ({"iat": int(NOW) - 7200, "exp": int(NOW) - 3600}, "token_expired"),
        ({"iat": int(NOW) + 3600, "exp": int(NOW) + 4000}, "token_not_yet_valid"),
        ({"nonce": "another-nonce"}, "claims_invalid"),
        ({"nonce": None}, "claims_missing"),
        ({"sub": None}, "claims_missing"),
    ],
)
def test_an_id_token_that_fails_a_check_gives_its_code_and_signs_nobody_in(
    setting, provider, claims, code
):
    provider.answer_code_with_id_token(NOW, **claims)

    assert refused(lambda: exchange(setting)).code == code
    assert not WidgetSignIn.objects.exists()


def test_an_id_token_signed_with_another_key_is_invalid(setting, provider, keys):
    provider.answer_code_with_id_token(NOW, key=keys.other)

    assert refused(lambda: exchange(setting)).code == "token_invalid"


def test_an_id_token_with_several_audiences_is_taken_when_azp_is_the_client(setting, provider):
    provider.answer_code_with_id_token(NOW, aud=[CLIENT_ID, "api"], azp=CLIENT_ID)

    assert exchange(setting).session_token


def test_without_a_nonce_in_the_request_the_id_tokens_nonce_is_not_checked(setting):
    grant = Grant(code=CODE, redirect_uri=REDIRECT_URI)

    assert exchange(setting, grant).session_token


def test_a_provider_key_that_cannot_be_fetched_is_key_unavailable(setting, provider):
    provider.server.serve("/jwks", "down", status=503, content_type="text/plain")

    assert refused(lambda: exchange(setting)).code == "key_unavailable"


@pytest.mark.parametrize(
    ("status", "body", "content_type"),
    [
        (400, {"error": "invalid_grant"}, "application/json"),
        (401, {"error": "invalid_client"}, "application/json"),
        (500, "Internal Server Error", "text/plain"),
        (200, "<html><body>Sign in</body></html>", "text/html"),
        (200, ["not", "an", "object"], "application/json"),
        (200, {"token_type": "Bearer"}, "application/json"),
        (200, {"access_token": ACCESS_TOKEN, "token_type": "Bearer"}, "application/json"),
    ],
)
def test_a_token_endpoint_that_does_not_redeem_the_code_is_token_invalid(
    setting, provider, status, body, content_type
):
    provider.server.serve("/token", body, status=status, content_type=content_type)

    error = refused(lambda: exchange(setting))

    assert error.code == "token_invalid"
    assert CODE not in error.detail
    assert CLIENT_SECRET not in error.detail
    assert not WidgetSignIn.objects.exists()


def test_a_token_endpoint_that_is_not_listening_is_token_invalid(setting, provider):
    provider.publish(token_endpoint=f"http://127.0.0.1:{closed_port()}/token")

    assert refused(lambda: exchange(setting)).code == "token_invalid"


@pytest.mark.parametrize(
    ("document", "code"),
    [
        (None, "key_unavailable"),
        ("<html></html>", "key_unavailable"),
        ({"issuer": "{issuer}"}, "key_unavailable"),
        ({"issuer": "https://id.example.com"}, "issuer_mismatch"),
    ],
)
def test_a_discovery_document_that_cannot_be_used_is_refused(key_server, keys, document, code):
    provider = IdentityProvider(key_server, keys)
    if document is not None:
        if isinstance(document, dict):
            document = {"issuer": document["issuer"].format(issuer=provider.issuer)}
        key_server.serve(DISCOVERY, document)
    setting = openid_setting(provider)

    assert refused(lambda: exchange(setting)).code == code


def test_an_unreachable_discovery_uri_is_key_unavailable(provider):
    setting = openid_setting(provider, discovery_uri=f"http://127.0.0.1:{closed_port()}{DISCOVERY}")

    error = refused(lambda: exchange(setting))

    assert error.code == "key_unavailable"
    assert "discovery document could not be fetched" in error.detail


def test_a_provider_that_takes_no_client_secret_is_key_unavailable(setting, provider):
    provider.publish(token_endpoint_auth_methods_supported=["private_key_jwt"])

    assert refused(lambda: exchange(setting)).code == "key_unavailable"


def test_a_provider_that_does_not_sign_with_rs256_is_key_unavailable(setting, provider):
    provider.publish(id_token_signing_alg_values_supported=["ES256"])

    assert refused(lambda: exchange(setting)).code == "key_unavailable"


def test_a_redirect_uri_other_than_the_settings_is_refused(provider):
    setting = openid_setting(provider, redirect_url="https://portal.example.com/elsewhere")

    assert refused(lambda: exchange(setting)).code == "bad_frame"
    assert not provider.token_requests()


def test_only_code_flow_settings_take_codes(implicit_setting):
    assert refused(lambda: exchange(implicit_setting)).code == "token_invalid"
    assert refused(lambda: exchange(None)).code == "token_invalid"


# OAuth 2.0 with a token action


def test_the_userinfo_action_reads_the_user_id_from_the_providers_userinfo_endpoint(provider):
    provider.answer_code({"access_token": ACCESS_TOKEN, "token_type": "Bearer"})

    def userinfo(handler):
        authorized = handler.headers.get("Authorization") == f"Bearer {ACCESS_TOKEN}"
        body = b'{"sub": "user-7", "name": "Dana"}' if authorized else b'{"error": "no"}'
        send(handler, 200 if authorized else 401, body, {"Content-Type": "application/json"})

    provider.server.serve_with("/userinfo", userinfo)
    setting = oauth2_setting(provider, "userinfo")

    pair = exchange(setting)

    verified = sessions.verify(setting, pair.session_token, now=NOW, widget_id=WIDGET_ID)
    assert verified.sub == "user-7"
    assert basic_credentials(provider.token_requests()[0]) == (CLIENT_ID, CLIENT_SECRET)


def test_the_userinfo_endpoint_comes_from_the_settings_discovery_uri_when_it_has_one(provider):
    tenant = provider.server.url("/tenant")
    provider.server.serve(
        f"/tenant{DISCOVERY}",
        {
            "issuer": tenant,
            "token_endpoint": provider.server.url("/token"),
            "jwks_uri": provider.server.url("/jwks"),
            "userinfo_endpoint": provider.server.url("/tenant/me"),
        },
    )
    provider.server.serve("/tenant/me", {"sub": "user-8"})
    provider.answer_code({"access_token": ACCESS_TOKEN})
    setting = oauth2_setting(provider, "userinfo", discovery_uri=f"{tenant}{DISCOVERY}")

    exchange(setting)

    assert WidgetSignIn.objects.get().subject == "user-8"


def test_a_failing_userinfo_endpoint_is_token_invalid(provider):
    provider.answer_code({"access_token": ACCESS_TOKEN})
    provider.server.serve("/userinfo", {"error": "invalid_token"}, status=401)
    setting = oauth2_setting(provider, "userinfo")

    assert refused(lambda: exchange(setting)).code == "token_invalid"


def test_the_id_token_action_takes_sub_from_a_verified_id_token(provider):
    # Token actions check id tokens at the current time.
    provider.answer_code_with_id_token(time.time())
    setting = oauth2_setting(provider, "id_token")

    exchange(setting, now=time.time())

    assert WidgetSignIn.objects.get().subject == SUBJECT


def test_the_id_token_action_refuses_an_id_token_for_another_client(provider):
    provider.answer_code_with_id_token(time.time(), aud="someone-else")
    setting = oauth2_setting(provider, "id_token")

    assert refused(lambda: exchange(setting, now=time.time())).code == "claims_invalid"


def account_number(setting, token_response) -> str:
    """A project's token action: the provider names the account in its token response."""
    return f"account-{token_response['account']}"


def user_id_as_given(setting, token_response) -> object:
    return token_response.get("user_id")


def test_a_project_registers_its_own_token_action(provider, settings):
    settings.CC_TOKEN_ACTIONS = {"account": f"{__name__}.account_number"}
    provider.answer_code({"access_token": ACCESS_TOKEN, "account": 1234})
    setting = oauth2_setting(provider, "account")

    exchange(setting)

    assert WidgetSignIn.objects.get().subject == "account-1234"


@pytest.mark.parametrize("user_id", ["", "x" * 256, "line\nbreak", 42, None])
def test_a_token_action_giving_no_usable_user_id_is_refused(provider, settings, user_id):
    settings.CC_TOKEN_ACTIONS = {"as_given": f"{__name__}.user_id_as_given"}
    provider.answer_code({"access_token": ACCESS_TOKEN, "user_id": user_id})
    setting = oauth2_setting(provider, "as_given")

    assert refused(lambda: exchange(setting)).code == "claims_invalid"
    assert not WidgetSignIn.objects.exists()


def test_a_token_action_that_cannot_be_loaded_is_token_invalid(provider, settings):
    settings.CC_TOKEN_ACTIONS = {"broken": "tests.nowhere.action"}
    provider.answer_code({"access_token": ACCESS_TOKEN})
    setting = oauth2_setting(provider, "broken")

    assert refused(lambda: exchange(setting)).code == "token_invalid"


# Refresh and logout


def assert_revoked(setting, pair: codeflow.SessionPair, reason: str, *, now: float) -> None:
    """The sign-in was revoked for `reason`: at `now`, the pair's refresh token and its session
    token, though not expired, are both refused as revoked."""
    assert WidgetSignIn.objects.get().revoked_reason == reason
    refreshed = refused(lambda: codeflow.refresh(setting, WIDGET_ID, pair.refresh_token, now=now))
    assert refreshed.code == "token_revoked"
    session = refused(
        lambda: sessions.verify(setting, pair.session_token, now=now, widget_id=WIDGET_ID)
    )
    assert session.code == "token_revoked"


def test_a_refresh_gives_a_new_pair_and_the_old_refresh_token_stops_working(setting):
    first = exchange(setting)

    second = codeflow.refresh(setting, WIDGET_ID, first.refresh_token, now=NOW + 60)

    assert second.refresh_token != first.refresh_token
    assert second.session_token != first.session_token
    verified = sessions.verify(setting, second.session_token, now=NOW + 61, widget_id=WIDGET_ID)
    assert verified.sub == SUBJECT
    third = codeflow.refresh(setting, WIDGET_ID, second.refresh_token, now=NOW + 120)
    assert third.refresh_token not in (first.refresh_token, second.refresh_token)


def test_reusing_a_replaced_refresh_token_revokes_the_sign_in(setting):
    first = exchange(setting)
    second = codeflow.refresh(setting, WIDGET_ID, first.refresh_token, now=NOW + 60)

    reused = refused(lambda: codeflow.refresh(setting, WIDGET_ID, first.refresh_token, now=NOW))

    assert reused.code == "token_revoked"
    assert_revoked(setting, second, WidgetSignIn.RevokedReason.REUSE, now=NOW + 61)


def test_a_sign_in_ends_after_the_settings_maximum_refresh_token_lifetime(setting):
    setting.max_refresh_token_lifetime_seconds = 900
    setting.save()
    first = exchange(setting)

    late = codeflow.refresh(setting, WIDGET_ID, first.refresh_token, now=NOW + 800)

    assert late.expires_in == 100  # the session never outlives the sign-in
    expired = refused(
        lambda: codeflow.refresh(setting, WIDGET_ID, late.refresh_token, now=NOW + 900)
    )
    assert expired.code == "token_expired"


def test_a_refresh_token_works_only_for_its_widget_and_setting(setting, provider):
    pair = exchange(setting)
    other_setting = openid_setting(provider)

    other_widget = refused(
        lambda: codeflow.refresh(setting, OTHER_WIDGET_ID, pair.refresh_token, now=NOW)
    )
    other = refused(lambda: codeflow.refresh(other_setting, WIDGET_ID, pair.refresh_token, now=NOW))

    assert (other_widget.code, other.code) == ("token_invalid", "token_invalid")
    assert WidgetSignIn.objects.get().revoked_at is None


@pytest.mark.parametrize("token", ["", "garbage", "a.b", "x" * 100, "a" * 22 + "." + "b" * 20])
def test_a_malformed_refresh_token_is_invalid(setting, token):
    assert refused(lambda: codeflow.refresh(setting, WIDGET_ID, token, now=NOW)).code == (
        "token_invalid"
    )


def test_logout_revokes_the_sign_in_and_its_session_tokens(setting):
    pair = exchange(setting)

    codeflow.logout(WIDGET_ID, pair.refresh_token, now=NOW + 5)

    assert_revoked(setting, pair, WidgetSignIn.RevokedReason.LOGOUT, now=NOW + 6)


def test_logout_of_a_token_naming_no_sign_in_changes_nothing(setting):
    pair = exchange(setting)

    codeflow.logout(WIDGET_ID, "garbage", now=NOW)
    codeflow.logout(OTHER_WIDGET_ID, pair.refresh_token, now=NOW)

    assert WidgetSignIn.objects.get().revoked_at is None


def guessed(refresh_token: str) -> str:
    """The token's selector with a secret of the right form that was never issued."""
    head, secret = refresh_token.rsplit(".", 1)
    return f"{head}.{'A' * len(secret)}"


def test_a_refresh_with_the_selector_and_a_wrong_secret_revokes_nothing(setting):
    pair = exchange(setting)

    wrong = refused(
        lambda: codeflow.refresh(setting, WIDGET_ID, guessed(pair.refresh_token), now=NOW)
    )

    assert wrong.code == "token_invalid"
    assert WidgetSignIn.objects.get().revoked_at is None
    assert codeflow.refresh(setting, WIDGET_ID, pair.refresh_token, now=NOW + 60).refresh_token


def test_a_logout_with_the_selector_and_a_wrong_secret_revokes_nothing(setting):
    pair = exchange(setting)

    codeflow.logout(WIDGET_ID, guessed(pair.refresh_token), now=NOW + 5)

    assert WidgetSignIn.objects.get().revoked_at is None
    assert sessions.verify(setting, pair.session_token, now=NOW + 6, widget_id=WIDGET_ID).sub


def test_a_logout_with_a_replaced_refresh_token_still_signs_out(setting):
    first = exchange(setting)
    codeflow.refresh(setting, WIDGET_ID, first.refresh_token, now=NOW + 60)

    codeflow.logout(WIDGET_ID, first.refresh_token, now=NOW + 70)

    assert WidgetSignIn.objects.get().revoked_reason == WidgetSignIn.RevokedReason.LOGOUT


def test_a_refresh_token_whose_generation_is_written_otherwise_is_not_one_the_platform_issued(
    setting,
):
    first = exchange(setting)
    second = codeflow.refresh(setting, WIDGET_ID, first.refresh_token, now=NOW + 60)
    selector, generation, secret = second.refresh_token.split(".")
    respelled = f"{selector}.0{generation}.{secret}"

    refused_token = refused(lambda: codeflow.refresh(setting, WIDGET_ID, respelled, now=NOW + 70))

    assert refused_token.code == "token_invalid"
    assert WidgetSignIn.objects.get().revoked_at is None
