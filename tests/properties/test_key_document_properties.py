"""Key documents on any input: usable RSA keys, entries with a problem, or a KeyUnavailable
refusal, never another exception; and nothing unusable is ever used."""

from __future__ import annotations

import base64

from cryptography.hazmat.primitives.asymmetric import rsa
from django.core.cache import cache
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from authsettings.keys import (
    JWK_PRIVATE_MEMBERS,
    KID_LIST,
    MIN_KEY_BITS,
    KeyEntry,
    KeyUnavailable,
    forget_recent,
    parse_document,
    usable_keys,
)
from tests.keyserver import Keys, b64url_int, private_pem, public_pem
from tests.properties.strategies import (
    huge_numbers,
    json_text,
    json_values,
    mostly,
    surrogate_text,
)

NOW = 1_750_000_000
LATER = NOW + 3600

fuzz = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def entries_or_refusal(body: bytes) -> list[KeyEntry] | KeyUnavailable:
    """What parse_document() makes of a body, once its entries are checked to be sound."""
    try:
        entries = parse_document(body)
    except KeyUnavailable as refusal:
        event("refused")
        assert str(refusal)
        return refusal
    event("some usable" if any(entry.usable for entry in entries) else "none usable")
    assert_sound(entries)
    return entries


def assert_sound(entries: list[KeyEntry]) -> None:
    """Usable entries are RSA public keys of MIN_KEY_BITS or more with distinct kids; every
    other entry says why; everything an administrator is shown is text a page can hold."""
    for entry in entries:
        assert is_unicode(entry.kid or "")
        assert is_unicode(entry.problem or "")
        if not entry.usable:
            assert entry.problem
            continue
        key = entry.public_key()
        assert isinstance(key, rsa.RSAPublicKey)
        assert key.key_size == entry.key_size >= MIN_KEY_BITS
        if entry.format == KID_LIST:
            assert entry.kid and isinstance(entry.expiry, int)
    usable_kids = [entry.kid for entry in entries if entry.usable and entry.kid is not None]
    assert len(usable_kids) == len(set(usable_kids))


def is_unicode(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


# Strategies

kids = mostly(st.sampled_from(["a", "b"]), st.text(max_size=6) | surrogate_text | json_values)


def pems(keys: Keys) -> st.SearchStrategy[str]:
    """PEM texts of a good key, a weak, an EC or a private key, or cut short."""
    whole = st.sampled_from(
        [
            public_pem(keys.signing),
            public_pem(keys.weak),
            public_pem(keys.ec),
            private_pem(keys.signing),
        ]
    )
    return whole | st.tuples(whole, st.integers(min_value=0, max_value=500)).map(
        lambda cut: cut[0][: cut[1]]
    )


def kid_entries(keys: Keys) -> st.SearchStrategy[object]:
    """Entries of a kid list: mostly plausible, with any member replaced or left out."""
    base64_pems = pems(keys).map(lambda pem: base64.b64encode(pem.encode()).decode())
    return mostly(
        st.fixed_dictionaries(
            {
                "kid": kids,
                "publicKey": mostly(base64_pems, st.text(max_size=20) | json_values),
                "expiry": mostly(
                    st.just(LATER), huge_numbers | json_values | st.just(LATER * 1000)
                ),
            },
            optional={"extra": json_values},
        ),
        json_values,
    )


def jwks(keys: Keys) -> st.SearchStrategy[object]:
    """Keys of a JWKS: mostly plausible, with any member replaced or left out."""
    moduli = [key.public_key().public_numbers().n for key in (keys.signing, keys.other, keys.weak)]
    modulus = st.sampled_from([b64url_int(n) for n in moduli])
    return mostly(
        st.fixed_dictionaries(
            {
                "kty": mostly(st.just("RSA"), json_values),
                "n": mostly(modulus, st.text(max_size=40) | json_values),
                "e": mostly(st.just("AQAB"), st.text(max_size=8) | json_values),
            },
            optional={
                "kid": kids,
                "use": mostly(st.just("sig"), json_values),
                "alg": mostly(st.just("RS256"), json_values),
                **dict.fromkeys(sorted(JWK_PRIVATE_MEMBERS), st.text(max_size=8)),
            },
        ),
        json_values,
    )


def documents(keys: Keys) -> st.SearchStrategy[bytes]:
    """Key documents in each format, any JSON, any bytes."""
    as_bytes = st.one_of(
        pems(keys),
        st.lists(kid_entries(keys), max_size=4).map(json_text),
        st.lists(jwks(keys), max_size=4).map(lambda keys: json_text({"keys": keys})),
        json_values.map(json_text),
        st.text().map(lambda text: "-----BEGIN" + text),
    ).map(str.encode)
    return as_bytes | st.binary()


# Properties


@fuzz
@given(body=st.binary())
def test_any_bytes_give_sound_entries_or_a_refusal(body):
    entries_or_refusal(body)


@fuzz
@given(data=st.data())
def test_any_key_document_gives_sound_entries_or_a_refusal(keys, data):
    entries_or_refusal(data.draw(documents(keys)))


@settings(fuzz, max_examples=60)
@given(data=st.data())
def test_a_key_url_serving_any_document_gives_usable_keys_or_key_unavailable(
    key_server, keys, data
):
    body = data.draw(documents(keys))
    key_server.serve("/keys", body, content_type="application/octet-stream")
    cache.clear()
    forget_recent()

    try:
        usable = usable_keys(key_server.url("/keys"), now=NOW)
    except KeyUnavailable as refusal:
        assert str(refusal)
    else:
        assert usable
        assert all(entry.usable for entry in usable)
        assert_sound(usable)
        assert {entry.pem for entry in usable} <= {entry.pem for entry in parse_document(body)}
