"""Token verification: every rule of CONTRACT.md "Token rules", its code and the order of checks."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import string
from collections.abc import Callable

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding

from authsettings.tokens import MAX_TOKEN_BYTES, TokenRefused, VerifiedToken
from tests.keyserver import (
    ISSUER,
    LATER,
    NOW,
    SUBJECT,
    b64url,
    claims,
    jwk,
    kid_entry,
    make_token,
    private_pem,
    public_pem,
    raw_token,
    setting_for,
    setting_publishing,
    verify_for,
    without,
)

BASE64URL_ALPHABET = string.ascii_uppercase + string.ascii_lowercase + string.digits + "-_"


@pytest.fixture
def pem_setting(key_server, keys):
    """A setting whose key URL publishes the signing key as PEM."""
    return setting_publishing(
        key_server, public_pem(keys.signing), content_type="application/x-pem-file"
    )


@pytest.fixture
def kid_setting(key_server, keys):
    """A setting whose key URL publishes a kid list: `a` is the signing key, `b` another."""
    return setting_publishing(
        key_server, [kid_entry(keys.signing, "a", LATER), kid_entry(keys.other, "b", LATER)]
    )


def code_of(setting, token, *, now: float = NOW) -> str:
    with pytest.raises(TokenRefused) as caught:
        verify_for(setting, token, now=now)
    return caught.value.code


def error_of(setting, token, *, now: float = NOW) -> TokenRefused:
    with pytest.raises(TokenRefused) as caught:
        verify_for(setting, token, now=now)
    return caught.value


def signed_with(header: dict, payload: dict, sign: Callable[[bytes], bytes]) -> str:
    signing_input = f"{b64url(json.dumps(header).encode())}.{b64url(json.dumps(payload).encode())}"
    return f"{signing_input}.{b64url(sign(signing_input.encode()))}"


def unsigned(header: dict, payload: dict) -> str:
    return f"{b64url(json.dumps(header).encode())}.{b64url(json.dumps(payload).encode())}."


# Accepted tokens


def test_it_accepts_a_token_signed_with_the_published_pem_key(pem_setting, keys):
    payload = claims(NOW, lwicontexts={"msdyn_cartvalue": "10000"})

    verified = verify_for(pem_setting, make_token(keys.signing, payload), now=NOW)

    assert verified == VerifiedToken(sub=SUBJECT, iss=ISSUER, kid=None, claims=payload)


def test_it_accepts_a_token_whose_kid_names_a_usable_key(kid_setting, keys):
    verified = verify_for(kid_setting, make_token(keys.other, claims(NOW), kid="b"), now=NOW)

    assert verified.kid == "b"


def test_it_accepts_a_token_without_kid_when_only_one_key_is_usable(key_server, keys):
    setting = setting_publishing(key_server, {"keys": [jwk(keys.signing, "only")]})

    assert verify_for(setting, make_token(keys.signing, claims(NOW)), now=NOW).kid == "only"


def test_a_pem_key_ignores_the_kid_of_the_token(pem_setting, keys):
    token = make_token(keys.signing, claims(NOW), kid="whatever")

    assert verify_for(pem_setting, token, now=NOW).sub == SUBJECT


def test_it_finds_a_key_added_to_the_key_url_since_the_last_fetch(key_server, kid_setting, keys):
    verify_for(kid_setting, make_token(keys.signing, claims(NOW), kid="a"), now=NOW)
    key_server.serve(
        "/keys",
        [kid_entry(keys.signing, "a", LATER), kid_entry(keys.other, "c", LATER)],
    )

    assert (
        verify_for(kid_setting, make_token(keys.other, claims(NOW), kid="c"), now=NOW + 1).kid
        == "c"
    )


# Size


@pytest.mark.parametrize("token", [None, ""])
def test_it_says_the_token_is_missing(pem_setting, token):
    assert code_of(pem_setting, token) == "token_missing"


def test_it_refuses_a_token_over_8_kib_before_anything_else(pem_setting):
    assert code_of(pem_setting, "x" * (MAX_TOKEN_BYTES + 1)) == "token_too_large"
    assert code_of(pem_setting, "x" * MAX_TOKEN_BYTES) == "token_malformed"


def test_it_counts_the_size_of_a_token_in_bytes(pem_setting):
    assert code_of(pem_setting, "é" * (MAX_TOKEN_BYTES // 2 + 1)) == "token_too_large"


def test_a_large_token_signed_properly_is_still_too_large(pem_setting, keys):
    token = make_token(keys.signing, claims(NOW, padding="x" * MAX_TOKEN_BYTES))

    assert code_of(pem_setting, token) == "token_too_large"


# Format


@pytest.mark.parametrize(
    "token",
    [
        "abc",
        "abc.def",
        "a.b.c.d",
        ".eyJhIjoxfQ.c2ln",
        "eyJhbGciOiJSUzI1NiJ9..c2ln",
        "eyJhbGciOiJSUzI1NiJ9=.eyJhIjoxfQ.c2ln",
        "eyJhbGciOiJSUzI1NiJ9.eyJhIjoxfQ.c2ln=",
        "eyJhbGciOiJSUzI1NiJ9.eyJhIjoxfQ.c2l+",
        "eyJhbGciOiJSUzI1NiJ9.eyJhIjoxfQ.c2l/",
        "eyJhbGciOiJSUzI1NiJ9.eyJhIjoxfQ.c",
        " eyJhbGciOiJSUzI1NiJ9.eyJhIjoxfQ.c2ln",
        "eyJhbGciOiJSUzI1NiJ9.eyJhIjoxfQ.c2ln\n",
        "bm90IGpzb24.eyJhIjoxfQ.c2ln",
        "WzFd.eyJhIjoxfQ.c2ln",
        "eyJhbGciOiJSUzI1NiJ9.Im5vdCBhbiBvYmplY3Qi.c2ln",
        "eyJhbGciOiJSUzI1NiJ9.bnVsbA.c2ln",
        "eyJhbGciOiJSUzI1NiJ9.__8.c2ln",
        123,
        ["a", "b", "c"],
    ],
)
def test_it_refuses_what_is_not_three_base64url_segments_of_json_objects(pem_setting, token):
    assert code_of(pem_setting, token) == "token_malformed"


def test_it_refuses_a_non_canonical_base64url_segment(pem_setting, keys):
    header, payload, signature = make_token(keys.signing, claims(NOW)).split(".")
    # 256 bytes end in a character whose low 4 bits are spare: flipping one decodes the same.
    last = BASE64URL_ALPHABET[BASE64URL_ALPHABET.index(signature[-1]) ^ 1]

    assert code_of(pem_setting, f"{header}.{payload}.{signature[:-1]}{last}") == "token_malformed"


@pytest.mark.parametrize(
    "payload_json",
    [
        '{"iss": "a", "sub": "b", "iat": 1, "exp": 2, "sub": "c"}',
        '{"iss": "a", "sub": "b", "iat": 1, "exp": 2, "ctx": {"x": 1, "x": 2}}',
        '{"iss": "a", "sub": "b", "iat": NaN, "exp": 2}',
        '{"iss": "a", "sub": "b\\ud800", "iat": 1, "exp": 2}',
    ],
)
def test_it_refuses_a_signed_payload_with_duplicate_claims_or_non_json(
    pem_setting, keys, payload_json
):
    token = raw_token('{"alg": "RS256"}', payload_json, keys.signing)

    assert code_of(pem_setting, token) == "token_malformed"


def test_it_refuses_duplicate_header_members(pem_setting, keys):
    token = raw_token('{"alg": "RS256", "alg": "RS256"}', json.dumps(claims(NOW)), keys.signing)

    error = error_of(pem_setting, token)

    assert error.code == "token_malformed"
    assert "'alg' more than once" in error.detail


def test_an_empty_signature_passes_the_format_check_and_is_invalid(pem_setting, keys):
    header, payload, _ = make_token(keys.signing, claims(NOW)).split(".")

    assert code_of(pem_setting, f"{header}.{payload}.") == "token_invalid"


# Header and algorithm


@pytest.mark.parametrize("alg", ["none", "None", "NONE", "nOnE", "", None, "rs256", "RS256 "])
def test_it_refuses_a_token_without_rs256(pem_setting, alg):
    assert code_of(pem_setting, unsigned({"alg": alg}, claims(NOW))) == "token_invalid"


def test_it_refuses_a_token_without_alg(pem_setting, keys):
    token = raw_token("{}", json.dumps(claims(NOW)), keys.signing)

    assert code_of(pem_setting, token) == "token_invalid"


def test_it_rejects_a_token_signed_with_hs256_and_the_public_key_as_secret(pem_setting, keys):
    secret = public_pem(keys.signing).encode()
    token = signed_with(
        {"alg": "HS256", "typ": "JWT"},
        claims(NOW),
        lambda data: hmac.new(secret, data, hashlib.sha256).digest(),
    )

    assert code_of(pem_setting, token) == "token_invalid"


def test_it_rejects_a_token_signed_with_es256(key_server, keys):
    setting = setting_publishing(key_server, public_pem(keys.ec))
    token = signed_with(
        {"alg": "ES256"},
        claims(NOW),
        lambda data: keys.ec.sign(data, ec.ECDSA(hashes.SHA256())),
    )

    assert code_of(setting, token) == "token_invalid"


def test_it_rejects_a_token_signed_with_ps256(pem_setting, keys):
    pss = padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32)
    token = signed_with(
        {"alg": "PS256"},
        claims(NOW),
        lambda data: keys.signing.sign(data, pss, hashes.SHA256()),
    )

    assert code_of(pem_setting, token) == "token_invalid"


def test_it_rejects_a_token_signed_with_rs512(pem_setting, keys):
    token = signed_with(
        {"alg": "RS512"},
        claims(NOW),
        lambda data: keys.signing.sign(data, padding.PKCS1v15(), hashes.SHA512()),
    )

    assert code_of(pem_setting, token) == "token_invalid"


@pytest.mark.parametrize("member", ["crit", "jku", "x5u", "jwk", "x5c"])
def test_it_rejects_a_header_that_brings_keys_or_critical_extensions(
    key_server, pem_setting, keys, member
):
    values = {
        "crit": ["exp"],
        "jku": key_server.url("/attacker"),
        "x5u": key_server.url("/attacker"),
        "jwk": jwk(keys.other),
        "x5c": [base64.b64encode(b"certificate").decode()],
    }
    token = make_token(keys.signing, claims(NOW), **{member: values[member]})

    error = error_of(pem_setting, token)

    assert error.code == "token_invalid"
    assert f"Remove {member} from the header" in error.detail
    assert key_server.hits["/attacker"] == 0


def test_it_rejects_a_kid_that_is_not_a_string(pem_setting, keys):
    assert code_of(pem_setting, make_token(keys.signing, claims(NOW), kid=1)) == "token_invalid"


def test_it_checks_the_algorithm_before_fetching_any_key(key_server, pem_setting, keys):
    token = unsigned({"alg": "none", "kid": "unknown"}, claims(NOW, exp=1))

    assert code_of(pem_setting, token) == "token_invalid"
    assert key_server.hits["/keys"] == 0


# Key selection


def test_it_needs_a_kid_when_several_keys_are_usable(kid_setting, keys):
    error = error_of(kid_setting, make_token(keys.signing, claims(NOW)))

    assert error.code == "unknown_kid"
    assert "2 usable keys; put the signing key's kid" in error.detail


def test_it_rejects_a_kid_no_usable_key_has(kid_setting, keys):
    error = error_of(kid_setting, make_token(keys.signing, claims(NOW), kid="z"))

    assert error.code == "unknown_kid"
    assert error.detail == "No usable key has the kid 'z'; the usable kids are 'a', 'b'."


def test_it_rejects_a_kid_whose_key_has_expired(key_server, keys):
    setting = setting_publishing(
        key_server,
        [kid_entry(keys.signing, "a", int(NOW) - 1), kid_entry(keys.other, "b", LATER)],
    )

    assert code_of(setting, make_token(keys.signing, claims(NOW), kid="a")) == "unknown_kid"


def test_it_rejects_a_kid_that_two_keys_share(key_server, keys):
    setting = setting_publishing(
        key_server,
        [
            kid_entry(keys.signing, "a", LATER),
            kid_entry(keys.other, "a", LATER),
            kid_entry(keys.other, "b", LATER),
        ],
    )

    assert code_of(setting, make_token(keys.signing, claims(NOW), kid="a")) == "unknown_kid"


@pytest.mark.parametrize(
    ("document", "status"),
    [
        ("down", 503),
        ("weak", 200),
        ("private", 200),
        ("ec", 200),
    ],
)
def test_it_says_the_key_is_unavailable_when_no_usable_key_can_be_had(
    key_server, keys, document, status
):
    documents = {
        "down": "Service unavailable",
        "weak": public_pem(keys.weak),
        "private": private_pem(keys.signing),
        "ec": public_pem(keys.ec),
    }
    setting = setting_publishing(key_server, documents[document], status=status)

    error = error_of(setting, make_token(keys.signing, claims(NOW)))

    assert error.code == "key_unavailable"
    assert "BEGIN" not in error.detail


def test_it_chooses_the_key_before_checking_the_signature(kid_setting, keys):
    token = make_token(keys.weak, claims(NOW), kid="z")

    assert code_of(kid_setting, token) == "unknown_kid"


# Signature


def test_it_rejects_an_altered_signature(pem_setting, keys):
    header, payload, signature = make_token(keys.signing, claims(NOW)).split(".")
    altered = bytearray(base64.urlsafe_b64decode(signature + "=="))
    altered[10] ^= 1

    assert code_of(pem_setting, f"{header}.{payload}.{b64url(bytes(altered))}") == "token_invalid"


def test_it_rejects_a_truncated_signature(pem_setting, keys):
    header, payload, signature = make_token(keys.signing, claims(NOW)).split(".")
    truncated = b64url(base64.urlsafe_b64decode(signature + "==")[:-3])

    assert code_of(pem_setting, f"{header}.{payload}.{truncated}") == "token_invalid"


def test_it_rejects_an_altered_payload(pem_setting, keys):
    header, _, signature = make_token(keys.signing, claims(NOW)).split(".")
    payload = b64url(json.dumps(claims(NOW, sub="someone-else")).encode())

    assert code_of(pem_setting, f"{header}.{payload}.{signature}") == "token_invalid"


def test_it_rejects_a_token_signed_with_another_key(pem_setting, keys):
    assert code_of(pem_setting, make_token(keys.other, claims(NOW))) == "token_invalid"


def test_it_rejects_a_token_signed_with_another_kids_key(kid_setting, keys):
    assert code_of(kid_setting, make_token(keys.other, claims(NOW), kid="a")) == "token_invalid"


def test_it_checks_the_signature_before_the_claims(pem_setting, keys):
    token = make_token(keys.other, without(claims(NOW, exp=1), "iss"))

    assert code_of(pem_setting, token) == "token_invalid"


# Claims


@pytest.mark.parametrize("claim", ["iss", "iat", "exp", "sub"])
def test_it_requires_iss_iat_exp_and_sub(pem_setting, keys, claim):
    error = error_of(pem_setting, make_token(keys.signing, without(claims(NOW), claim)))

    assert error.code == "claims_missing"
    assert claim in error.detail


def test_it_reports_missing_claims_before_an_expiry(pem_setting, keys):
    token = make_token(keys.signing, without(claims(NOW, exp=NOW - 3600), "sub"))

    assert code_of(pem_setting, token) == "claims_missing"


@pytest.mark.parametrize(
    "changes",
    [
        {"exp": str(int(NOW) + 600)},
        {"iat": True},
        {"exp": False},
        {"exp": None},
        {"iat": None},
        {"nbf": None},
        {"nbf": "0"},
        {"iat": [int(NOW)]},
        {"iss": 5},
        {"iss": ""},
        {"iss": None},
        {"sub": ""},
        {"sub": "x" * 256},
        {"sub": 42},
        {"sub": None},
        {"sub": "line\nbreak"},
        {"sub": "nul\u0000"},
        {"sub": "del\u007f"},
        {"sub": "c1\u0085"},
    ],
)
def test_it_rejects_claims_of_the_wrong_type(pem_setting, keys, changes):
    assert (
        code_of(pem_setting, make_token(keys.signing, claims(NOW, **changes))) == "claims_invalid"
    )


def test_it_rejects_an_infinite_date(pem_setting, keys):
    payload_json = json.dumps(claims(NOW)).replace(f'"exp": {int(NOW) + 600}', '"exp": 1e400')

    assert code_of(pem_setting, raw_token('{"alg": "RS256"}', payload_json, keys.signing)) == (
        "claims_invalid"
    )


@pytest.mark.parametrize("date", ["1" + "0" * 400, "-" + "9" * 400, "10000000000000"])
def test_it_rejects_a_date_no_clock_can_reach(pem_setting, keys, date):
    payload_json = json.dumps(claims(NOW)).replace(f'"exp": {int(NOW) + 600}', f'"exp": {date}')

    assert code_of(pem_setting, raw_token('{"alg": "RS256"}', payload_json, keys.signing)) == (
        "claims_invalid"
    )


@pytest.mark.parametrize(
    "sub", ["x" * 255, "a", "Zoë 李 visitor", "3f2c1a9e-0000-4000-8000-000000000000"]
)
def test_it_accepts_a_subject_of_1_to_255_characters(pem_setting, keys, sub):
    assert (
        verify_for(pem_setting, make_token(keys.signing, claims(NOW, sub=sub)), now=NOW).sub == sub
    )


def test_it_accepts_fractional_dates(pem_setting, keys):
    token = make_token(keys.signing, claims(NOW, iat=NOW - 0.5, exp=NOW + 60.25, nbf=NOW - 1.5))

    assert verify_for(pem_setting, token, now=NOW).sub == SUBJECT


def test_it_rejects_a_lifetime_longer_than_the_maximum(pem_setting, keys, settings):
    longest = settings.CC_JWT_MAX_LIFETIME_SECONDS
    too_long = make_token(keys.signing, claims(NOW, exp=int(NOW) + longest + 1))
    longest_token = make_token(keys.signing, claims(NOW, exp=int(NOW) + longest))

    assert code_of(pem_setting, too_long) == "claims_invalid"
    assert verify_for(pem_setting, longest_token, now=NOW).sub == SUBJECT


def test_it_rejects_a_huge_lifetime(pem_setting, keys):
    token = make_token(keys.signing, claims(NOW, iat=0, exp=10**12))

    assert code_of(pem_setting, token) == "claims_invalid"


def test_it_follows_the_lifetime_setting(pem_setting, keys, settings):
    settings.CC_JWT_MAX_LIFETIME_SECONDS = 300

    assert code_of(pem_setting, make_token(keys.signing, claims(NOW))) == "claims_invalid"


def test_it_rejects_an_exp_before_iat(pem_setting, keys):
    token = make_token(keys.signing, claims(NOW, iat=int(NOW), exp=int(NOW) - 1))

    assert code_of(pem_setting, token) == "claims_invalid"


def test_it_rejects_a_token_expired_beyond_the_leeway(pem_setting, keys):
    payload = claims(NOW, iat=int(NOW) - 600, exp=int(NOW) - 30)

    error = error_of(pem_setting, make_token(keys.signing, payload))

    assert error.code == "token_expired"
    assert error.detail == "The token expired 30 s ago (leeway 30 s); get a fresh one."


def test_it_accepts_a_token_expired_within_the_leeway(pem_setting, keys):
    token = make_token(keys.signing, claims(NOW, iat=int(NOW) - 600, exp=int(NOW) - 29))

    assert verify_for(pem_setting, token, now=NOW).sub == SUBJECT


def test_it_follows_the_leeway_setting(pem_setting, keys, settings):
    settings.CC_JWT_LEEWAY_SECONDS = 0
    token = make_token(keys.signing, claims(NOW, iat=int(NOW) - 600, exp=int(NOW)))

    assert code_of(pem_setting, token) == "token_expired"


@pytest.mark.parametrize("claim", ["nbf", "iat"])
def test_it_rejects_a_token_not_valid_yet(pem_setting, keys, claim):
    payload = claims(NOW, exp=int(NOW) + 600, **{claim: int(NOW) + 31})

    assert code_of(pem_setting, make_token(keys.signing, payload)) == "token_not_yet_valid"


@pytest.mark.parametrize("claim", ["nbf", "iat"])
def test_it_accepts_a_start_in_the_future_within_the_leeway(pem_setting, keys, claim):
    payload = claims(NOW, exp=int(NOW) + 600, **{claim: int(NOW) + 30})

    assert verify_for(pem_setting, make_token(keys.signing, payload), now=NOW).sub == SUBJECT


def test_it_rejects_another_issuer_when_one_is_expected(key_server, pem_setting, keys):
    setting = setting_for(key_server.url("/keys"), expected_issuer="https://other.example.com")

    error = error_of(setting, make_token(keys.signing, claims(NOW)))

    assert error.code == "issuer_mismatch"
    assert "https://other.example.com" in error.detail


def test_it_accepts_the_expected_issuer(key_server, pem_setting, keys):
    setting = setting_for(key_server.url("/keys"), expected_issuer=ISSUER)

    assert verify_for(setting, make_token(keys.signing, claims(NOW)), now=NOW).iss == ISSUER


def test_it_reports_an_expiry_before_an_issuer_mismatch(key_server, pem_setting, keys):
    setting = setting_for(key_server.url("/keys"), expected_issuer="https://other.example.com")
    token = make_token(keys.signing, claims(NOW, iat=int(NOW) - 600, exp=int(NOW) - 60))

    assert code_of(setting, token) == "token_expired"


def test_it_reports_a_wrong_claim_type_before_an_expiry(pem_setting, keys):
    token = make_token(keys.signing, claims(NOW, iat=int(NOW) - 600, exp=int(NOW) - 60, sub=""))

    assert code_of(pem_setting, token) == "claims_invalid"


AUDIENCE = "https://chat.example.com"


@pytest.fixture
def audience_setting(pem_setting):
    """The PEM setting, expecting the audience AUDIENCE."""
    pem_setting.expected_audience = AUDIENCE
    return pem_setting


@pytest.mark.parametrize("aud", [AUDIENCE, ["https://portal.example.com", AUDIENCE]])
def test_it_accepts_an_aud_that_is_or_contains_the_expected_audience(audience_setting, keys, aud):
    token = make_token(keys.signing, claims(NOW, aud=aud))

    assert verify_for(audience_setting, token, now=NOW).claims["aud"] == aud


def test_it_says_the_aud_is_missing_when_an_audience_is_expected(audience_setting, keys):
    error = error_of(audience_setting, make_token(keys.signing, claims(NOW)))

    assert error.code == "claims_missing"
    assert error.detail == (
        "The token lacks the claim aud; the setting expects the audience "
        "'https://chat.example.com'."
    )


@pytest.mark.parametrize(
    "aud",
    ["https://portal.example.com", ["https://portal.example.com"], [], "HTTPS://CHAT.EXAMPLE.COM"],
)
def test_it_rejects_an_aud_without_the_expected_audience(audience_setting, keys, aud):
    error = error_of(audience_setting, make_token(keys.signing, claims(NOW, aud=aud)))

    assert error.code == "claims_invalid"
    assert error.detail.endswith(
        "the setting expects the audience 'https://chat.example.com' in it."
    )


@pytest.mark.parametrize("aud", [None, 1, True, {"aud": AUDIENCE}, [AUDIENCE, 1], [[AUDIENCE]]])
def test_it_rejects_an_aud_that_is_not_a_string_or_a_list_of_strings(audience_setting, keys, aud):
    error = error_of(audience_setting, make_token(keys.signing, claims(NOW, aud=aud)))

    assert (error.code, error.detail) == (
        "claims_invalid",
        "aud must be a string or a list of strings.",
    )


@pytest.mark.parametrize("aud", ["https://portal.example.com", 1, None])
def test_an_aud_is_ignored_when_the_setting_expects_no_audience(pem_setting, keys, aud):
    token = make_token(keys.signing, claims(NOW, aud=aud))

    assert verify_for(pem_setting, token, now=NOW).sub == SUBJECT


def test_it_reports_an_issuer_mismatch_before_a_wrong_audience(audience_setting, keys):
    audience_setting.expected_issuer = "https://other.example.com"
    token = make_token(keys.signing, claims(NOW, aud="https://portal.example.com"))

    assert code_of(audience_setting, token) == "issuer_mismatch"


# Details


def test_details_never_hold_the_token_or_a_key(key_server, pem_setting, keys):
    token = make_token(keys.signing, claims(NOW, exp=int(NOW) - 3600, iat=int(NOW) - 4000))
    header, payload, signature = token.split(".")
    failures = [
        error_of(pem_setting, token),
        error_of(pem_setting, f"{header}.{payload}.{signature[:-4]}"),
        error_of(pem_setting, f"{header}.{payload}"),
        error_of(pem_setting, token + "x" * MAX_TOKEN_BYTES),
    ]
    key_server.serve("/private", private_pem(keys.signing))
    failures.append(error_of(setting_for(key_server.url("/private")), token))

    for error in failures:
        for secret in (token, header, payload, signature, "BEGIN", "PRIVATE KEY-----"):
            assert secret not in error.detail
        assert str(error).startswith(f"{error.code}: ")
