"""The platform's session tokens for code-flow sign-ins: what they carry, who signs them, and
every way one is refused, with the implicit flow's error codes."""

from __future__ import annotations

import json
import time
import uuid
from datetime import UTC, datetime

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from django.conf import settings
from django.test import Client

from authsettings import sessions
from authsettings.models import WidgetSignIn
from authsettings.tokens import TokenRefused
from tests.helpers import Type, make_setting
from tests.keyserver import NOW, b64url, make_token

pytestmark = pytest.mark.django_db

WIDGET_ID = "0b6f1c52-6a57-4d8e-9f3e-1c2d3e4f5a6b"


@pytest.fixture
def setting():
    return make_setting(Type.OPENID_CONNECT)


def sign_in_of(setting, *, lasting: float = 86400) -> WidgetSignIn:
    return WidgetSignIn.objects.create(
        setting=setting,
        widget_id=WIDGET_ID,
        subject="visitor-42",
        refresh_selector=uuid.uuid4().hex,
        refresh_hash="0" * 64,
        expires_at=datetime.fromtimestamp(NOW + lasting, tz=UTC),
    )


@pytest.fixture
def sign_in(setting):
    return sign_in_of(setting)


def platform_key():
    return serialization.load_pem_private_key(
        settings.OAUTH2_PROVIDER["OIDC_RSA_PRIVATE_KEY"].encode(), password=None
    )


def session_claims(sign_in, **overrides) -> dict:
    claims = {
        "iss": sessions.ISSUER,
        "aud": WIDGET_ID,
        "sub": sign_in.subject,
        "iat": int(NOW),
        "exp": int(NOW) + 300,
        "jti": "j1",
        "sid": str(sign_in.session_id),
        **overrides,
    }
    return {name: value for name, value in claims.items() if value is not None}


def forged(sign_in, *, key=None, header: dict | None = None, **claims) -> str:
    """A token signed like a session token (the platform's key, kid and type) unless told."""
    header = {"kid": sessions.signing_key().kid, "typ": sessions.TYPE, **(header or {})}
    return make_token(
        key or platform_key(),
        session_claims(sign_in, **claims),
        **{name: value for name, value in header.items() if value is not None},
    )


def verify(setting, token, *, now: float = NOW + 1, widget_id: str = WIDGET_ID):
    return sessions.verify(setting, token, now=now, widget_id=widget_id)


def code_of(setting, token, **options) -> str:
    with pytest.raises(TokenRefused) as caught:
        verify(setting, token, **options)
    return caught.value.code


def test_a_session_token_names_the_visitor_for_its_widget(setting, sign_in):
    token, expires_in = sessions.issue(sign_in, now=NOW)

    verified = verify(setting, token)

    assert expires_in == sessions.SESSION_SECONDS == 300
    assert verified.sub == "visitor-42"
    assert verified.iss == sessions.ISSUER
    assert verified.claims["aud"] == WIDGET_ID
    assert verified.claims["exp"] - verified.claims["iat"] == 300
    assert verified.claims["sid"] == str(sign_in.session_id)
    assert verified.claims["jti"]


def test_each_session_token_has_its_own_jti(setting, sign_in):
    first, _ = sessions.issue(sign_in, now=NOW)
    second, _ = sessions.issue(sign_in, now=NOW)

    assert verify(setting, first).claims["jti"] != verify(setting, second).claims["jti"]


def test_it_is_signed_with_the_key_the_platforms_provider_publishes(setting):
    token, _ = sessions.issue(sign_in_of(setting, lasting=10**9), now=time.time())
    published = Client().get("/o/.well-known/jwks.json").json()["keys"]

    header = jwt.get_unverified_header(token)
    (key,) = [jwk for jwk in published if jwk["kid"] == header["kid"]]
    claims = jwt.decode(
        token,
        jwt.PyJWK(key).key,
        algorithms=["RS256"],
        audience=WIDGET_ID,
        issuer=sessions.ISSUER,
    )
    assert (header["typ"], claims["sub"]) == (sessions.TYPE, "visitor-42")


def test_its_lifetime_never_passes_the_end_of_the_sign_in(setting):
    sign_in = sign_in_of(setting, lasting=100)

    token, expires_in = sessions.issue(sign_in, now=NOW)

    assert expires_in == 100
    assert code_of(setting, token, now=NOW + 100 + settings.CC_JWT_LEEWAY_SECONDS) == (
        "token_expired"
    )


def test_it_expires_after_five_minutes(setting, sign_in):
    token, _ = sessions.issue(sign_in, now=NOW)

    assert verify(setting, token, now=NOW + 299)
    assert code_of(setting, token, now=NOW + 300 + settings.CC_JWT_LEEWAY_SECONDS) == (
        "token_expired"
    )


def test_it_is_refused_on_another_widget(setting, sign_in):
    token, _ = sessions.issue(sign_in, now=NOW)

    assert code_of(setting, token, widget_id=str(uuid.uuid4())) == "claims_invalid"


def test_it_is_refused_once_its_sign_in_is_revoked(setting, sign_in):
    token, _ = sessions.issue(sign_in, now=NOW)
    sign_in.revoked_at = datetime.fromtimestamp(NOW, tz=UTC)
    sign_in.save()

    assert code_of(setting, token) == "token_revoked"


def test_it_is_refused_under_a_setting_it_was_not_issued_for(setting, sign_in):
    token, _ = sessions.issue(sign_in, now=NOW)
    other = make_setting(Type.OAUTH2)

    assert code_of(other, token) == "token_invalid"


def test_a_token_naming_no_sign_in_is_invalid(setting, sign_in):
    assert code_of(setting, forged(sign_in, sid=str(uuid.uuid4()))) == "token_invalid"


def test_an_id_token_of_the_platforms_own_provider_is_not_a_session_token(setting, sign_in):
    # Same key, same kid, right claims, but no session type: an id token a visitor got from
    # /o/ must not pass for a session.
    assert code_of(setting, forged(sign_in, header={"typ": None})) == "token_invalid"
    assert code_of(setting, forged(sign_in, header={"typ": "JWT"})) == "token_invalid"


@pytest.mark.parametrize(
    ("make", "code"),
    [
        (lambda sign_in, keys: None, "token_missing"),
        (lambda sign_in, keys: "x" * 9000, "token_too_large"),
        (lambda sign_in, keys: "not-a-token", "token_malformed"),
        (lambda sign_in, keys: forged(sign_in, key=keys.other), "token_invalid"),
        (lambda sign_in, keys: forged(sign_in, header={"alg": "HS256"}), "token_invalid"),
        (lambda sign_in, keys: forged(sign_in, header={"jwk": {"kty": "RSA"}}), "token_invalid"),
        (lambda sign_in, keys: forged(sign_in, header={"kid": "another"}), "unknown_kid"),
        (lambda sign_in, keys: forged(sign_in, header={"kid": None}), "unknown_kid"),
        (lambda sign_in, keys: forged(sign_in, sid=None), "claims_missing"),
        (lambda sign_in, keys: forged(sign_in, aud=None), "claims_missing"),
        (lambda sign_in, keys: forged(sign_in, sid="not-a-uuid"), "claims_invalid"),
        (lambda sign_in, keys: forged(sign_in, sub=""), "claims_invalid"),
        (lambda sign_in, keys: forged(sign_in, iat=str(int(NOW))), "claims_invalid"),
        (
            lambda sign_in, keys: forged(sign_in, iss="https://portal.example.com"),
            "issuer_mismatch",
        ),
        (
            lambda sign_in, keys: forged(sign_in, iat=int(NOW) + 600, exp=int(NOW) + 900),
            "token_not_yet_valid",
        ),
    ],
)
def test_a_token_that_breaks_a_rule_is_refused_with_the_contracts_code(
    setting, sign_in, keys, make, code
):
    assert code_of(setting, make(sign_in, keys)) == code


def test_a_token_whose_claims_were_changed_after_signing_is_invalid(setting, sign_in):
    token, _ = sessions.issue(sign_in, now=NOW)
    header, _, signature = token.split(".")
    changed = b64url(json.dumps(session_claims(sign_in, sub="someone-else")).encode())

    assert code_of(setting, f"{header}.{changed}.{signature}") == "token_invalid"
