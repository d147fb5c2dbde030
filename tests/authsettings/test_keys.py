"""Public keys from a key URL: the three formats, what is never used, caching and refetching."""

from __future__ import annotations

import base64
import threading

import pytest
from cryptography.hazmat.primitives import serialization

from authsettings import keys as key_store
from authsettings.keys import JWKS, KID_LIST, PEM, KeyEntry, KeyUnavailable
from contactcenter.lib import fetch
from tests.keyserver import (
    LATER,
    NOW,
    jwk,
    kid_entry,
    private_pem,
    public_pem,
    send,
)

DROP = object()


def described_at(url: str) -> list[KeyEntry]:
    """Every entry of the key document served at `url`, as the setting check shows them."""
    return key_store.describe(fetch.fetch(url).body, now=NOW)


def kids(entries: list[KeyEntry]) -> list[str | None]:
    return [entry.kid for entry in entries]


def unavailable(url: str) -> str:
    """The message of the KeyUnavailable that asking for a URL's keys gets."""
    with pytest.raises(KeyUnavailable) as caught:
        key_store.usable_keys(url, now=NOW)
    return str(caught.value)


# Formats


def test_it_uses_a_pem_public_key(key_server, keys):
    key_server.serve("/keys", public_pem(keys.signing), content_type="application/x-pem-file")

    [entry] = key_store.usable_keys(key_server.url(), now=NOW)

    assert (entry.format, entry.kid, entry.key_size, entry.expiry) == (PEM, None, 2048, None)
    assert entry.public_key().public_numbers() == keys.signing.public_key().public_numbers()


def test_it_uses_a_pkcs1_rsa_public_key(key_server, keys):
    pkcs1 = keys.signing.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.PKCS1
    )
    key_server.serve("/keys", pkcs1, content_type="text/plain")

    [entry] = key_store.usable_keys(key_server.url(), now=NOW)

    assert entry.public_key().public_numbers() == keys.signing.public_key().public_numbers()


def test_it_uses_every_entry_of_a_kid_list(key_server, keys):
    key_server.serve(
        "/keys",
        [kid_entry(keys.signing, "a", LATER), kid_entry(keys.other, "b", LATER)],
    )

    entries = key_store.usable_keys(key_server.url(), now=NOW)

    assert kids(entries) == ["a", "b"]
    assert {entry.format for entry in entries} == {KID_LIST}
    assert entries[0].expiry == LATER


def test_it_uses_the_rsa_keys_of_a_jwks(key_server, keys):
    key_server.serve(
        "/keys",
        {
            "keys": [
                jwk(keys.signing, "a", use="sig", alg="RS256"),
                jwk(keys.other, "b"),
            ]
        },
    )

    entries = key_store.usable_keys(key_server.url(), now=NOW)

    assert kids(entries) == ["a", "b"]
    assert entries[1].format == JWKS
    assert entries[1].public_key().public_numbers() == keys.other.public_key().public_numbers()


def test_it_needs_a_key_url():
    with pytest.raises(KeyUnavailable, match="no public key URL"):
        key_store.usable_keys("")


def test_it_refuses_an_answer_in_no_known_format(key_server):
    key_server.serve("/keys", "<html>Sign in</html>", content_type="text/html")

    assert "neither a PEM public key nor JSON" in unavailable(key_server.url())


def test_it_refuses_json_that_is_neither_a_kid_list_nor_a_jwks(key_server):
    key_server.serve("/keys", {"key": "value"})

    assert "neither a kid list" in unavailable(key_server.url())


def test_an_empty_kid_list_has_no_usable_key(key_server):
    key_server.serve("/keys", [])

    assert "lists no keys" in unavailable(key_server.url())


# Keys that are never used


def test_it_never_uses_an_rsa_key_under_2048_bits(key_server, keys):
    key_server.serve("/pem", public_pem(keys.weak))
    key_server.serve("/kids", [kid_entry(keys.weak, "weak", LATER)])
    key_server.serve("/jwks", {"keys": [jwk(keys.weak, "weak")]})

    for path in ("/pem", "/kids", "/jwks"):
        assert "1024 bits; at least 2048" in unavailable(key_server.url(path))


def test_it_never_uses_a_published_private_key(key_server, keys):
    traditional = keys.signing.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    )
    private_numbers = keys.signing.private_numbers()
    key_server.serve("/pkcs8", private_pem(keys.signing))
    key_server.serve("/traditional", traditional)
    key_server.serve(
        "/kids",
        [
            {
                "kid": "a",
                "publicKey": base64.b64encode(private_pem(keys.signing).encode()).decode(),
                "expiry": LATER,
            }
        ],
    )
    key_server.serve("/jwks", {"keys": [jwk(keys.signing, "a", d=str(private_numbers.d))]})

    for path in ("/pkcs8", "/traditional", "/kids", "/jwks"):
        message = unavailable(key_server.url(path))
        assert "a private key is published" in message
        assert str(private_numbers.d) not in message


def test_it_never_uses_an_ec_key(key_server, keys):
    ec_numbers = keys.ec.public_key().public_numbers()
    key_server.serve("/pem", public_pem(keys.ec))
    key_server.serve("/jwks", {"keys": [{"kty": "EC", "crv": "P-256", "x": str(ec_numbers.x)}]})

    assert "an EC key (secp256r1); only RSA keys are used" in unavailable(key_server.url("/pem"))
    assert "kty is 'EC'; only RSA keys are used" in unavailable(key_server.url("/jwks"))


@pytest.mark.parametrize(
    ("changes", "problem"),
    [
        ({"expiry": DROP}, "no expiry"),
        ({"expiry": None}, "no expiry"),
        ({"expiry": str(LATER)}, "expiry is not an integer"),
        ({"expiry": float(LATER)}, "expiry is not an integer"),
        ({"expiry": True}, "expiry is not an integer"),
        ({"expiry": LATER * 1000}, "looks like milliseconds"),
        ({"kid": DROP}, "no kid"),
        ({"kid": ""}, "no kid"),
        ({"kid": 7}, "no kid"),
        ({"publicKey": DROP}, "not base64 of a PEM"),
        ({"publicKey": "%%%"}, "not base64 of a PEM"),
        ({"publicKey": "clé"}, "not base64 of a PEM"),
        ({"publicKey": "aGVsbG8="}, "not a PEM public key"),
    ],
)
def test_it_ignores_a_kid_list_entry_that_cannot_be_used_and_keeps_the_others(
    key_server, keys, changes, problem
):
    entry = {**kid_entry(keys.other, "bad", LATER), **changes}
    entry = {name: value for name, value in entry.items() if value is not DROP}
    key_server.serve("/keys", [entry, kid_entry(keys.signing, "good", LATER)])

    assert kids(key_store.usable_keys(key_server.url(), now=NOW)) == ["good"]
    [described, _] = described_at(key_server.url())
    assert problem in described.problem


def test_it_ignores_a_kid_list_entry_that_is_not_an_object(key_server, keys):
    key_server.serve("/keys", ["a key", kid_entry(keys.signing, "good", LATER)])

    assert kids(key_store.usable_keys(key_server.url(), now=NOW)) == ["good"]


def test_it_ignores_a_kid_list_entry_holding_a_pem_that_is_not_base64(key_server, keys):
    key_server.serve(
        "/keys",
        [
            {"kid": "raw", "publicKey": public_pem(keys.other), "expiry": LATER},
            kid_entry(keys.signing, "good", LATER),
        ],
    )

    assert kids(key_store.usable_keys(key_server.url(), now=NOW)) == ["good"]


def test_it_does_not_use_a_kid_list_key_whose_expiry_has_passed(key_server, keys):
    key_server.serve(
        "/keys",
        [
            kid_entry(keys.signing, "old", int(NOW) - 1),
            kid_entry(keys.other, "soon", int(NOW) + 60),
        ],
    )

    assert kids(key_store.usable_keys(key_server.url(), now=NOW)) == ["soon"]
    with pytest.raises(KeyUnavailable, match="Every usable key the key URL published has expired"):
        key_store.usable_keys(key_server.url(), now=NOW + 60)


def test_it_uses_neither_key_of_a_duplicated_kid(key_server, keys):
    key_server.serve(
        "/kids",
        [
            kid_entry(keys.signing, "twice", LATER),
            kid_entry(keys.other, "twice", LATER),
            kid_entry(keys.other, "once", LATER),
        ],
    )
    key_server.serve("/jwks", {"keys": [jwk(keys.signing, "twice"), jwk(keys.other, "twice")]})

    assert kids(key_store.usable_keys(key_server.url("/kids"), now=NOW)) == ["once"]
    assert "the kid appears 2 times" in unavailable(key_server.url("/jwks"))


@pytest.mark.parametrize(
    ("members", "problem"),
    [
        ({"use": "enc"}, "use is 'enc'"),
        ({"alg": "RS512"}, "alg is 'RS512'"),
        ({"n": "!!!"}, "n and e are not a valid"),
        ({"e": ""}, "n and e are not a valid"),
        ({"e": "Ag"}, "n and e are not a valid"),
        ({"kid": 12}, "no kid"),
    ],
)
def test_it_ignores_a_jwk_that_cannot_be_used_and_keeps_the_others(
    key_server, keys, members, problem
):
    key_server.serve(
        "/keys",
        {
            "keys": [
                {**jwk(keys.other, "bad"), **members},
                jwk(keys.signing, "good"),
            ]
        },
    )

    assert kids(key_store.usable_keys(key_server.url(), now=NOW)) == ["good"]
    [described, _] = described_at(key_server.url())
    assert problem in described.problem


def test_a_kid_that_is_not_valid_unicode_is_neither_used_nor_shown(key_server, keys):
    lone_surrogate = "\ud800"
    key_server.serve(
        "/kids",
        [kid_entry(keys.other, lone_surrogate, LATER), kid_entry(keys.signing, "good", LATER)],
    )
    key_server.serve(
        "/jwks", {"keys": [jwk(keys.other, lone_surrogate), jwk(keys.signing, "good")]}
    )

    for path in ("/kids", "/jwks"):
        assert kids(key_store.usable_keys(key_server.url(path), now=NOW)) == ["good"]
        [described, _] = described_at(key_server.url(path))
        assert (described.kid, described.problem) == (
            None,
            "the kid is not valid Unicode (a lone surrogate); give kid as text",
        )


# Caching


def test_it_fetches_a_key_url_once_while_the_keys_are_fresh(key_server, keys, settings):
    key_server.serve("/keys", public_pem(keys.signing))
    fresh_for = settings.CC_KEY_CACHE_SECONDS

    for moment in (NOW, NOW + 1, NOW + fresh_for - 1):
        key_store.usable_keys(key_server.url(), now=moment)
    assert key_server.hits["/keys"] == 1

    key_store.usable_keys(key_server.url(), now=NOW + fresh_for)
    assert key_server.hits["/keys"] == 2


def test_it_parses_a_key_once_per_process(key_server, keys):
    key_server.serve("/keys", public_pem(keys.signing))

    [first] = key_store.usable_keys(key_server.url(), now=NOW)
    [second] = key_store.usable_keys(key_server.url(), now=NOW)

    assert first.public_key() is second.public_key()


def test_concurrent_requests_on_a_cold_cache_fetch_once(key_server, keys):
    key_server.serve("/keys", public_pem(keys.signing), delay=0.3)
    start = threading.Barrier(8)
    results: list[int] = []

    def request() -> None:
        start.wait()
        results.append(len(key_store.usable_keys(key_server.url())))

    threads = [threading.Thread(target=request) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert results == [1] * 8
    assert key_server.hits["/keys"] == 1


def test_a_new_key_url_is_fetched_at_once(key_server, keys):
    key_server.serve("/old", public_pem(keys.signing))
    key_server.serve("/new", public_pem(keys.other))
    key_store.usable_keys(key_server.url("/old"), now=NOW)

    [entry] = key_store.usable_keys(key_server.url("/new"), now=NOW)

    assert entry.public_key().public_numbers() == keys.other.public_key().public_numbers()


# Unknown kids


def test_the_fetch_of_a_cold_cache_is_not_a_refetch_for_an_unknown_kid(key_server, keys):
    key_server.serve("/keys", [kid_entry(keys.signing, "a", LATER)])

    assert kids(key_store.usable_keys(key_server.url(), kid="b", now=NOW)) == ["a"]
    assert key_server.hits["/keys"] == 1


def test_an_unknown_kid_refetches_at_most_once_per_30_seconds(key_server, keys):
    key_server.serve("/keys", [kid_entry(keys.signing, "a", LATER)])
    key_store.usable_keys(key_server.url(), kid="b", now=NOW)

    expected_hits = {NOW + 1: 2, NOW + 2: 2, NOW + 30: 2, NOW + 31: 3, NOW + 32: 3}
    for moment, hits in expected_hits.items():
        key_store.usable_keys(key_server.url(), kid="b", now=moment)
        assert key_server.hits["/keys"] == hits


def test_an_unknown_kid_finds_a_rotated_key(key_server, keys):
    key_server.serve("/keys", {"keys": [jwk(keys.signing, "a")]})
    key_store.usable_keys(key_server.url(), now=NOW)
    key_server.serve("/keys", {"keys": [jwk(keys.signing, "a"), jwk(keys.other, "b")]})

    assert kids(key_store.usable_keys(key_server.url(), kid="b", now=NOW + 1)) == ["a", "b"]


def test_a_known_kid_does_not_refetch(key_server, keys):
    key_server.serve("/keys", [kid_entry(keys.signing, "a", LATER)])

    for moment in (NOW, NOW + 1, NOW + 2):
        key_store.usable_keys(key_server.url(), kid="a", now=moment)

    assert key_server.hits["/keys"] == 1


def test_a_pem_key_ignores_kids_and_never_refetches_for_them(key_server, keys):
    key_server.serve("/keys", public_pem(keys.signing))

    for moment in (NOW, NOW + 1, NOW + 2):
        assert len(key_store.usable_keys(key_server.url(), kid="anything", now=moment)) == 1

    assert key_server.hits["/keys"] == 1


# A failing key URL


def test_keys_fetched_before_stay_in_use_until_their_expiry_while_the_key_url_fails(
    key_server, keys
):
    key_server.serve("/keys", [kid_entry(keys.signing, "a", int(NOW) + 1000)])
    key_store.usable_keys(key_server.url(), now=NOW)
    key_server.serve("/keys", "down", status=503)

    assert kids(key_store.usable_keys(key_server.url(), now=NOW + 400)) == ["a"]
    assert key_server.hits["/keys"] == 2
    with pytest.raises(KeyUnavailable, match="has expired"):
        key_store.usable_keys(key_server.url(), now=NOW + 1000)


def test_a_pem_key_stays_in_use_while_the_key_url_fails(key_server, keys):
    key_server.serve("/keys", public_pem(keys.signing))
    key_store.usable_keys(key_server.url(), now=NOW)
    key_server.serve("/keys", "down", status=503)

    assert len(key_store.usable_keys(key_server.url(), now=NOW + 3600)) == 1


def test_an_answer_in_no_known_format_counts_as_a_failure_and_keeps_the_keys(key_server, keys):
    key_server.serve("/keys", public_pem(keys.signing))
    key_store.usable_keys(key_server.url(), now=NOW)
    key_server.serve("/keys", "<html>Maintenance</html>", content_type="text/html")

    assert len(key_store.usable_keys(key_server.url(), now=NOW + 400)) == 1
    assert key_server.hits["/keys"] == 2


def test_a_failing_key_url_is_tried_again_only_after_30_seconds(key_server, keys):
    key_server.serve("/keys", public_pem(keys.signing))
    key_store.usable_keys(key_server.url(), now=NOW)
    key_server.serve("/keys", "down", status=503)

    expected_hits = {NOW + 400: 2, NOW + 410: 2, NOW + 429: 2, NOW + 430: 3}
    for moment, hits in expected_hits.items():
        key_store.usable_keys(key_server.url(), now=moment)
        assert key_server.hits["/keys"] == hits


def test_a_failing_key_url_with_no_keys_held_makes_keys_unavailable(key_server):
    key_server.serve("/keys", "down", status=503)

    assert "answered HTTP 503" in unavailable(key_server.url())
    assert "answered HTTP 503" in unavailable(key_server.url())
    assert key_server.hits["/keys"] == 1


def test_a_key_url_the_fetcher_refuses_makes_keys_unavailable(settings):
    settings.CC_OUTBOUND_ALLOWED_HOSTS = []

    assert "a loopback address" in unavailable("https://127.0.0.1:9/keys")


# Describing a key URL for an administrator


def test_describe_tells_every_entry_and_why_it_cannot_be_used(key_server, keys):
    key_server.serve(
        "/keys",
        [
            kid_entry(keys.signing, "good", LATER),
            kid_entry(keys.other, "expired", int(NOW) - 10),
            kid_entry(keys.weak, "weak", LATER),
            kid_entry(keys.other, "millis", LATER * 1000),
        ],
    )

    entries = described_at(key_server.url())

    assert [(e.kid, e.key_size, e.expiry, e.usable) for e in entries] == [
        ("good", 2048, LATER, True),
        ("expired", 2048, int(NOW) - 10, False),
        ("weak", 1024, LATER, False),
        ("millis", 2048, LATER * 1000, False),
    ]
    assert [entry.problem for entry in entries] == [
        None,
        f"expired (expiry {int(NOW) - 10} has passed)",
        "an RSA key of 1024 bits; at least 2048 are needed",
        "expiry looks like milliseconds; give Unix seconds",
    ]
    assert {entry.format for entry in entries} == {KID_LIST}


def test_it_tells_why_a_key_url_has_no_usable_key_without_quoting_keys(key_server, keys):
    key_server.serve("/keys", [kid_entry(keys.weak, "weak", LATER)])

    message = unavailable(key_server.url())

    assert message == (
        "The key URL has no usable key: weak: an RSA key of 1024 bits; at least 2048 are needed."
    )


def test_stale_keys_keep_serving_while_another_thread_refreshes_them(key_server, keys, settings):
    settings.CC_KEY_CACHE_SECONDS = 1
    key_server.serve("/slow", public_pem(keys.signing), content_type="text/plain")
    url = key_server.url("/slow")
    first = key_store.usable_keys(url, now=NOW)
    asked, answer = threading.Event(), threading.Event()

    def slow(handler):
        asked.set()
        answer.wait(10)
        send(handler, 200, public_pem(keys.signing).encode(), {"Content-Type": "text/plain"})

    key_server.serve_with("/slow", slow)
    refreshing = threading.Thread(
        target=key_store.usable_keys, args=(url,), kwargs={"now": NOW + 10}
    )
    refreshing.start()
    assert asked.wait(10)  # the refresh is now waiting on the slow server

    served = key_store.usable_keys(url, now=NOW + 10)

    # Served from the keys held, while the refresh still waits on the server.
    assert refreshing.is_alive()
    answer.set()
    refreshing.join()
    assert [key.pem for key in served] == [key.pem for key in first]
