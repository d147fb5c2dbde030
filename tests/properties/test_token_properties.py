"""Token verification on any input: a verified token or a refusal with a contract code, never
another exception; and any token signed properly with valid claims is verified."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.conf import settings as django_settings
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from authsettings.tokens import FORBIDDEN_HEADERS, VerifiedToken
from contactcenter.lib.errors import Refused
from tests.keyserver import (
    ISSUER,
    Keys,
    b64url,
    kid_entry,
    public_pem,
    raw_token,
    setting_publishing,
    verify_for,
)
from tests.properties.strategies import (
    deeply_nested,
    huge_numbers,
    json_text,
    json_texts,
    json_values,
    mostly,
    objects_with_duplicates,
    surrogate_text,
    unicode_scalars,
)

NOW = 1_750_000_000
LATER = NOW + 3600
AUDIENCE = "https://cc.example.com"
# CONTRACT.md "Widget runtime", error codes.
CONTRACT_CODES = {
    "token_missing",
    "token_malformed",
    "token_too_large",
    "token_invalid",
    "token_expired",
    "token_not_yet_valid",
    "claims_missing",
    "claims_invalid",
    "issuer_mismatch",
    "unknown_kid",
    "key_unavailable",
    "context_invalid",
    "token_revoked",
    "subject_mismatch",
    "upgrade_not_allowed",
    "resume_invalid",
    "workstream_unavailable",
    "deployment_inactive",
    "origin_not_allowed",
    "rate_limited",
    "bad_frame",
}
# The signing key is "a" in the kid list; "b" is another key.
SIGNING_KID = "a"

fuzz = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@pytest.fixture(params=["pem", "kid list"])
def setting(request, key_server, keys):
    """A setting expecting ISSUER whose key URL publishes the signing key as a PEM key, or
    in a kid list beside another key; the kid-list one also expects an audience."""
    if request.param == "pem":
        return setting_publishing(
            key_server,
            public_pem(keys.signing),
            content_type="application/x-pem-file",
            expected_issuer=ISSUER,
        )
    setting = setting_publishing(
        key_server,
        [kid_entry(keys.signing, SIGNING_KID, LATER), kid_entry(keys.other, "b", LATER)],
        expected_issuer=ISSUER,
    )
    setting.expected_audience = AUDIENCE
    return setting


def verified_or_refused(setting, token: object) -> VerifiedToken | Refused:
    """What verify_for() makes of a token: the verified token, or a refusal whose code is the
    contract's and whose detail does not hold the token. Any other exception fails the test."""
    try:
        result = verify_for(setting, token, now=NOW)
    except Refused as error:
        event(error.code)
        assert error.code in CONTRACT_CODES, error.code
        if isinstance(token, str) and len(token) >= 40:
            assert token not in error.detail
        return error
    event("verified")
    return result


# Strategies


dates = st.integers(min_value=NOW - 50_000, max_value=NOW + 50_000) | st.one_of(
    st.floats(min_value=NOW - 50_000, max_value=NOW + 50_000),
    st.floats(),
    huge_numbers,
    json_values,
)


@st.composite
def any_headers(draw: st.DrawFn) -> dict[str, Any]:
    """Headers with any alg and kid, sometimes a forbidden member, and any other members."""
    header = draw(st.dictionaries(st.text(max_size=6), json_values, max_size=2))
    header["alg"] = draw(
        mostly(st.just("RS256"), st.sampled_from(["none", "HS256", "ES256", "rs256"]) | json_values)
    )
    if kid := draw(mostly(st.just(SIGNING_KID), st.none() | st.text(max_size=8) | json_values)):
        header["kid"] = kid
    forbidden = st.sampled_from(sorted(FORBIDDEN_HEADERS))
    return {
        **header,
        **draw(
            mostly(st.just({}), st.dictionaries(forbidden, json_values, min_size=1, max_size=2))
        ),
    }


@st.composite
def any_claims(draw: st.DrawFn) -> dict[str, Any]:
    """Claims that are often plausible and often not, some of them left out."""
    claims = {
        "iss": draw(mostly(st.just(ISSUER), json_values)),
        "sub": draw(
            mostly(st.just("visitor"), st.text(max_size=300) | surrogate_text | json_values)
        ),
        "iat": draw(dates),
        "exp": draw(dates),
        "aud": draw(
            mostly(st.just(AUDIENCE), st.lists(st.just(AUDIENCE) | st.text()) | json_values)
        ),
        **draw(
            st.fixed_dictionaries(
                {},
                optional={"nbf": dates, "lwicontexts": json_values | json_values.map(json_text)},
            )
        ),
    }
    left_out = draw(mostly(st.just(set()), st.sets(st.sampled_from(sorted(claims)), min_size=1)))
    extra = draw(st.dictionaries(st.text(max_size=6), json_values, max_size=2))
    return {**extra, **{name: value for name, value in claims.items() if name not in left_out}}


# JSON texts for a segment that no serializer writes, or that hold no object.
header_texts = objects_with_duplicates(st.sampled_from(["alg", "kid", "typ"])) | json_texts
payload_texts = (
    objects_with_duplicates(st.sampled_from(["iss", "sub", "iat", "exp"]))
    | deeply_nested()
    | json_texts
)


@st.composite
def tokens_over(draw: st.DrawFn, header: str, payload: str, keys: Keys) -> str:
    """A token over header and payload texts, signed by the published key, another key or
    not at all."""
    signer = draw(st.sampled_from(["signing", "signing", "other", "none"]))
    if signer == "none":
        signing_input = f"{b64url(header.encode())}.{b64url(payload.encode())}"
        return f"{signing_input}.{b64url(draw(st.binary(max_size=300)))}"
    return raw_token(header, payload, getattr(keys, signer))


@st.composite
def garbled(draw: st.DrawFn, token: str) -> str:
    """A token cut short, or with characters deleted, replaced or inserted."""
    start = draw(st.integers(min_value=0, max_value=len(token)))
    end = draw(st.integers(min_value=start, max_value=min(len(token), start + 8)))
    inserted = draw(st.text(st.sampled_from(".=+/ -_aZ0\x00é\ud800"), max_size=4))
    return draw(st.sampled_from([token[:start], token[:start] + inserted + token[end:]]))


def near(date: int) -> st.SearchStrategy[int | float]:
    """The date as an integer, or a fraction of a second later (exact in a float)."""
    return st.just(date) | st.sampled_from([0.25, 0.5, 0.75]).map(lambda fraction: date + fraction)


@st.composite
def valid_claims(draw: st.DrawFn) -> dict[str, Any]:
    """Claims every rule accepts at NOW, for a setting expecting ISSUER and AUDIENCE."""
    leeway = django_settings.CC_JWT_LEEWAY_SECONDS
    longest = django_settings.CC_JWT_MAX_LIFETIME_SECONDS
    iat = draw(st.integers(min_value=NOW - longest + 1, max_value=NOW + leeway - 1))
    exp = draw(st.integers(min_value=max(iat + 1, NOW - leeway + 1), max_value=iat + longest - 1))
    claims = {
        "iss": ISSUER,
        "sub": draw(subjects),
        "iat": draw(near(iat)),
        "exp": draw(near(exp)),
        "aud": draw(audiences),
    }
    if draw(st.booleans()):
        claims["nbf"] = draw(st.integers(min_value=0, max_value=NOW + leeway - 1).flatmap(near))
    extra = st.dictionaries(
        st.text(max_size=12).filter(lambda name: name not in (*claims, "nbf")),
        unicode_scalars,
        max_size=3,
    )
    return {**draw(extra), **claims}


subjects = st.text(st.characters(exclude_categories=["Cc", "Cs"]), min_size=1, max_size=255)

audiences = st.just(AUDIENCE) | st.lists(st.text(max_size=20), max_size=3).flatmap(
    lambda others: st.permutations([*others, AUDIENCE])
)

valid_headers = st.dictionaries(
    st.text(max_size=6).filter(lambda name: name not in FORBIDDEN_HEADERS),
    unicode_scalars,
    max_size=3,
).map(lambda extra: {**extra, "alg": "RS256", "kid": SIGNING_KID})


# Properties


@fuzz
@given(
    token=st.one_of(
        st.text(),
        st.binary().map(lambda data: data.decode("utf-8", "surrogateescape")),
        json_values,
    )
)
def test_any_value_as_a_token_is_refused_with_a_contract_code(setting, token):
    assert isinstance(verified_or_refused(setting, token), Refused)


@fuzz
@given(header=header_texts, payload=payload_texts, data=st.data())
def test_a_token_over_any_json_text_is_refused_with_a_contract_code(
    setting, keys, header, payload, data
):
    token = data.draw(tokens_over(header, payload, keys))

    assert isinstance(verified_or_refused(setting, token), Refused)


@fuzz
@given(header=any_headers(), claims=any_claims(), data=st.data())
def test_a_token_with_any_header_and_claims_is_verified_or_refused_with_a_contract_code(
    setting, keys, header, claims, data
):
    token = data.draw(tokens_over(json_text(header), json_text(claims), keys))

    result = verified_or_refused(setting, token)

    if isinstance(result, VerifiedToken):
        assert (result.sub, result.iss) == (claims["sub"], ISSUER)


@fuzz
@given(data=st.data())
def test_a_token_changed_in_any_way_after_signing_is_refused(setting, keys, data):
    payload = {"iss": ISSUER, "sub": "visitor", "iat": NOW, "exp": NOW + 600, "aud": AUDIENCE}
    token = raw_token(
        json_text({"alg": "RS256", "kid": SIGNING_KID}), json_text(payload), keys.signing
    )

    changed = data.draw(garbled(token))

    result = verified_or_refused(setting, changed)
    assert isinstance(result, Refused) or changed == token


@fuzz
@given(header=valid_headers, claims=valid_claims())
def test_a_token_signed_with_valid_claims_is_verified_with_its_subject(
    setting, keys, header, claims
):
    token = raw_token(
        json.dumps(header, ensure_ascii=False), json.dumps(claims, ensure_ascii=False), keys.signing
    )

    result = verify_for(setting, token, now=NOW)

    assert (result.sub, result.iss, result.claims) == (claims["sub"], ISSUER, claims)
