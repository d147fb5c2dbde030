"""The authentication setting tester: what it finds at real key URLs and identity providers on
loopback, and every check of a pasted token, the runtime's own, in the runtime's order."""

from __future__ import annotations

import json
import socket

import pytest

from authsettings import keys as keys_module
from authsettings import setting_check, tokens
from authsettings.models import AuthenticationSetting
from authsettings.setting_check import KeyRow, check_setting
from authsettings.tokens import TokenRefused
from contactcenter.lib import fetch
from contactcenter.models import ChannelType
from tests.authsettings.token_checks import TOKEN_CHECKS
from tests.helpers import Type, build_setting, make_chat_widget
from tests.identity_provider import openid_setting, start_provider
from tests.keyserver import (
    ISSUER,
    LATER,
    NOW,
    b64url,
    claims,
    jwk,
    kid_entry,
    make_token,
    public_pem,
    setting_for,
    setting_publishing,
    verify_for,
    without,
)
from workstreams.models import ContextVariable, Workstream


def step_named(name: str) -> tokens.Step:
    return next(step for step in tokens.STEPS if step.name == name)


def names(checks) -> list[str]:
    return [check.name for check in checks]


def outcomes(checks) -> dict[str, bool | None]:
    return {check.name: check.passed for check in checks}


def the_check(checks, name: str) -> setting_check.Check:
    [found] = [check for check in checks if check.name == name]
    return found


@pytest.fixture
def kid_list_setting(key_server, keys):
    """A kid list at /keys: `a` is the signing key, `b` another; tokens must be ISSUER's."""
    return setting_publishing(
        key_server,
        [kid_entry(keys.signing, "a", LATER), kid_entry(keys.other, "b", LATER)],
        expected_issuer=ISSUER,
    )


# What a key URL publishes


def test_it_lists_a_pem_key_as_usable(key_server, keys):
    setting = setting_publishing(
        key_server, public_pem(keys.signing), content_type="application/x-pem-file"
    )

    report = check_setting(setting, now=NOW)

    [finding] = report.findings
    assert finding.url == key_server.url("/keys")
    assert finding.keys == (KeyRow("PEM key", None, 2048, None, None),)
    assert outcomes(finding.checks) == {"key document": True, "usable keys": True}
    assert report.ok


def test_it_lists_each_kid_with_its_size_expiry_and_why_it_is_not_usable(key_server, keys):
    setting = setting_publishing(
        key_server,
        [
            kid_entry(keys.signing, "current", LATER),
            kid_entry(keys.other, "retired", int(NOW) - 60),
            kid_entry(keys.weak, "weak", LATER),
            {"kid": "no-expiry", "publicKey": kid_entry(keys.other, "x", 0)["publicKey"]},
        ],
    )

    [finding] = check_setting(setting, now=NOW).findings

    current, retired, weak, no_expiry = finding.keys
    assert (current.format, current.kid, current.key_size, current.usable) == (
        "kid list",
        "current",
        2048,
        True,
    )
    assert current.expiry == LATER
    assert current.expiry_utc == "2025-06-15 16:06:40 UTC"
    assert retired.problem.startswith("expired")
    assert "1024 bits" in weak.problem
    assert weak.key_size == 1024
    assert "no expiry" in no_expiry.problem
    assert the_check(finding.checks, "usable keys").detail == "1 of 4 keys can verify tokens."


def test_it_lists_the_keys_of_a_jwks_and_refuses_a_1024_bit_one(key_server, keys):
    key_server.serve("/jwks", {"keys": [jwk(keys.signing, "main"), jwk(keys.weak, "short")]})

    [finding] = check_setting(setting_for(key_server.url("/jwks")), now=NOW).findings

    main, short = finding.keys
    assert (main.format, main.kid, main.key_size, main.expiry, main.usable) == (
        "JWKS",
        "main",
        2048,
        None,
        True,
    )
    assert not short.usable
    assert short.problem == "an RSA key of 1024 bits; at least 2048 are needed"


def test_a_key_url_whose_keys_have_all_expired_fails_with_a_fix(key_server, keys):
    setting = setting_publishing(key_server, [kid_entry(keys.signing, "old", int(NOW) - 1)])

    report = check_setting(setting, now=NOW)

    usable = the_check(report.findings[0].checks, "usable keys")
    assert usable.passed is False
    assert usable.fix == setting_check.FIX_USABLE_KEYS
    assert not report.ok


def test_a_key_url_answering_with_a_web_page_is_not_a_key_document(key_server):
    setting = setting_publishing(
        key_server, "<!doctype html><h1>Sign in</h1>", content_type="text/html"
    )

    report = check_setting(setting, now=NOW)

    [failed] = report.failures
    assert failed.name == "key document"
    assert "neither a PEM public key nor JSON" in failed.detail
    assert "a PEM" not in failed.fix
    assert failed.fix.startswith(f"Make {key_server.url('/keys')} answer HTTP 200")
    assert report.findings[0].keys == ()


@pytest.fixture
def silent_port():
    """A port on 127.0.0.1 that takes connections but never answers."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        yield listener.getsockname()[1]


@pytest.fixture
def unanswered_urls(key_server, keys, closed_port, silent_port, monkeypatch):
    """Key URLs on loopback, listed in CC_OUTBOUND_ALLOWED_HOSTS, that fail each its own way."""
    monkeypatch.setattr(fetch, "TIMEOUT_SECONDS", 0.5)
    key_server.serve("/error", "boom", status=500, content_type="text/plain")
    key_server.serve("/old", "", status=301, headers={"Location": key_server.url("/keys")})
    key_server.serve("/keys", public_pem(keys.signing), content_type="text/plain")
    return {
        "refused": f"http://127.0.0.1:{closed_port}/keys",
        "no answer": f"http://127.0.0.1:{silent_port}/keys",
        "404": key_server.url("/missing"),
        "500": key_server.url("/error"),
        "redirect": key_server.url("/old"),
    }


def test_a_listed_host_that_fails_reads_alike_whatever_went_wrong(key_server, unanswered_urls):
    details = {
        how: check_setting(setting_for(url), now=NOW).failures[0].detail
        for how, url in unanswered_urls.items()
    }

    assert len(set(details.values())) == 1, details
    assert set(details.values()) == {
        "The key URL could not be fetched: " + setting_check.UNDISCLOSED.format(host="127.0.0.1")
    }
    assert key_server.hits["/keys"] == 0


def test_a_listed_discovery_uri_that_fails_reads_alike_whatever_went_wrong(
    key_server, unanswered_urls, db
):
    def detail(url: str) -> str:
        setting = build_setting(Type.OPENID_CONNECT, discovery_uri=url)
        [failed] = check_setting(setting, now=NOW).failures
        assert failed.name == "fetch"
        return failed.detail

    details = {how: detail(url) for how, url in unanswered_urls.items()}

    assert len(set(details.values())) == 1, details
    assert set(details.values()) == {setting_check.UNDISCLOSED.format(host="127.0.0.1")}


def test_a_url_the_outbound_rules_refuse_keeps_its_reason(closed_port, settings):
    settings.CC_OUTBOUND_ALLOWED_HOSTS = []

    report = check_setting(setting_for(f"https://127.0.0.1:{closed_port}/keys"), now=NOW)

    [failed] = report.failures
    assert failed.detail == (
        "The key URL could not be fetched: 127.0.0.1 is a loopback address; the platform "
        "fetches from such addresses only for hosts listed in CC_OUTBOUND_ALLOWED_HOSTS."
    )


def test_the_key_url_is_fetched_afresh_each_time_even_with_its_keys_held(key_server, keys):
    setting = setting_publishing(key_server, public_pem(keys.signing), content_type="text/plain")
    keys_module.usable_keys(setting.public_key_url, now=NOW)

    check_setting(setting, now=NOW)
    check_setting(setting, now=NOW)

    assert key_server.hits["/keys"] == 3


# A pasted token


def test_a_good_token_passes_every_check_in_the_runtimes_order(portal_setting, keys):
    context = {"msdyn_cartvalue": "10000", "msdyn_isvip": True}
    token = make_token(keys.signing, claims(NOW, lwicontexts=context))

    report = check_setting(portal_setting, token=token, now=NOW)

    assert names(report.token_checks) == [
        *TOKEN_CHECKS,
        "Web chat: msdyn_cartvalue",
        "Web chat: msdyn_isvip",
    ]
    assert all(check.passed for check in report.token_checks)
    assert all(not check.fix for check in report.token_checks)
    assert the_check(report.token_checks, "Web chat: msdyn_cartvalue").detail == (
        "A number variable: the chat gets 10000."
    )
    assert the_check(report.token_checks, "key").detail.startswith("The PEM key of 2048 bits")
    assert report.ok


def test_a_token_without_lwicontexts_passes_with_no_context(portal_setting, keys):
    report = check_setting(portal_setting, token=make_token(keys.signing, claims(NOW)), now=NOW)

    assert names(report.token_checks) == TOKEN_CHECKS
    assert the_check(report.token_checks, "lwicontexts").detail == (
        "The token carries no context variables."
    )


def hs256(keys) -> str:
    header = b64url(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    payload = b64url(json.dumps(claims(NOW)).encode())
    return f"{header}.{payload}.{b64url(b'x' * 32)}"


@pytest.mark.parametrize(
    ("token_of", "failing", "said"),
    [
        (lambda keys: "x" * 9000, "size", "over 8 KiB"),
        (lambda keys: "not.a-token", "format", "three base64url segments"),
        (hs256, "algorithm and header", "alg is 'HS256'"),
        (
            lambda keys: make_token(keys.signing, claims(NOW), kid="c"),
            "key",
            "No usable key has the kid 'c'",
        ),
        (
            lambda keys: make_token(keys.other, claims(NOW), kid="a"),
            "signature",
            "The signature does not match",
        ),
        (
            lambda keys: make_token(keys.signing, without(claims(NOW), "sub"), kid="a"),
            "required claims",
            "lacks the claims sub",
        ),
        (
            lambda keys: make_token(keys.signing, claims(NOW, iat=str(int(NOW))), kid="a"),
            "claim types",
            "iat must be a JSON number",
        ),
        (
            lambda keys: make_token(keys.signing, claims(NOW, exp=int(NOW) + 2 * 86400), kid="a"),
            "lifetime",
            "at most 86400 s",
        ),
        (
            lambda keys: make_token(
                keys.signing, claims(NOW, iat=int(NOW) - 4000, exp=int(NOW) - 3400), kid="a"
            ),
            "exp",
            "The token expired 3400 s ago",
        ),
        (
            lambda keys: make_token(keys.signing, claims(NOW, nbf=int(NOW) + 3600), kid="a"),
            "nbf and iat",
            "nbf is 3600 s in the future",
        ),
        (
            lambda keys: make_token(
                keys.signing, claims(NOW, iss="https://elsewhere.example"), kid="a"
            ),
            "iss",
            "the setting expects 'https://portal.example.com'",
        ),
    ],
)
def test_a_token_failing_a_check_says_why_and_how_to_fix_it_and_runs_nothing_after(
    kid_list_setting, keys, token_of, failing, said
):
    token = token_of(keys)

    report = check_setting(kid_list_setting, token=token, now=NOW)

    checks = report.token_checks
    assert names(checks) == TOKEN_CHECKS
    position = TOKEN_CHECKS.index(failing)
    assert [check.passed for check in checks] == (
        [True] * position + [False] + [None] * (len(TOKEN_CHECKS) - position - 1)
    )
    failed = checks[position]
    assert said in failed.detail
    assert failed.fix
    assert all(check.detail == setting_check.NOT_RUN for check in checks[position + 1 :])
    assert not report.ok
    # The runtime refuses the same token with the same words.
    with pytest.raises(TokenRefused) as refused:
        verify_for(kid_list_setting, token, now=NOW)
    assert refused.value.detail == failed.detail


@pytest.mark.parametrize(
    ("aud", "said"),
    [
        (None, "The token lacks the claim aud"),
        ("https://portal.example.com", "aud is 'https://portal.example.com'"),
        (1, "aud must be a string or a list of strings"),
    ],
)
def test_a_token_for_another_audience_fails_the_aud_check_with_the_runtimes_words(
    kid_list_setting, keys, aud, said
):
    kid_list_setting.expected_audience = "https://chat.example.com"
    payload = claims(NOW) if aud is None else claims(NOW, aud=aud)
    token = make_token(keys.signing, payload, kid="a")

    report = check_setting(kid_list_setting, token=token, now=NOW)

    failed = the_check(report.token_checks, "aud")
    assert failed.passed is False
    assert said in failed.detail
    assert failed.fix == step_named("aud").fix
    with pytest.raises(TokenRefused) as refused:
        verify_for(kid_list_setting, token, now=NOW)
    assert refused.value.detail == failed.detail


def test_a_token_for_the_expected_audience_passes_the_aud_check(kid_list_setting, keys):
    kid_list_setting.expected_audience = "https://chat.example.com"
    token = make_token(keys.signing, claims(NOW, aud=["https://chat.example.com"]), kid="a")

    report = check_setting(kid_list_setting, token=token, now=NOW)

    assert the_check(report.token_checks, "aud").detail == (
        "aud holds 'https://chat.example.com', the audience the setting expects."
    )
    assert report.ok


def test_a_token_without_a_kid_when_the_kid_list_has_two_keys_fails_key_selection(
    kid_list_setting, keys
):
    report = check_setting(kid_list_setting, token=make_token(keys.signing, claims(NOW)), now=NOW)

    key = the_check(report.token_checks, "key")
    assert key.passed is False
    assert "2 usable keys; put the signing key's kid" in key.detail
    assert key.fix == step_named("key").fixes["unknown_kid"]


def test_the_key_check_fails_when_the_key_url_gives_no_usable_key(keys, closed_port, settings):
    settings.CC_OUTBOUND_ALLOWED_HOSTS = ["127.0.0.1"]
    setting = setting_for(f"http://127.0.0.1:{closed_port}/keys")

    report = check_setting(setting, token=make_token(keys.signing, claims(NOW)), now=NOW)

    assert outcomes(report.token_checks)["algorithm and header"] is True
    key = the_check(report.token_checks, "key")
    assert (key.passed, key.fix) == (False, step_named("key").fix)


def test_a_kid_list_token_names_the_key_it_was_checked_with(kid_list_setting, keys):
    token = make_token(keys.other, claims(NOW), kid="b")

    report = check_setting(kid_list_setting, token=token, now=NOW)

    assert report.ok
    assert the_check(report.token_checks, "key").detail == "The key with the kid 'b', of 2048 bits."


# The token's context against the workstreams using the setting


def context_checks(setting, keys, lwicontexts):
    token = make_token(keys.signing, claims(NOW, lwicontexts=lwicontexts))
    checks = check_setting(setting, token=token, now=NOW).token_checks
    return checks[TOKEN_CHECKS.index("lwicontexts") :]


def test_a_variable_the_workstream_does_not_define_fails_with_a_fix(portal_setting, keys):
    lwicontexts, *variables = context_checks(
        portal_setting, keys, {"msdyn_cartvalue": 5, "msdyn_CartValue": 5}
    )

    assert lwicontexts.passed
    assert outcomes(variables) == {
        "Web chat: msdyn_cartvalue": True,
        "Web chat: msdyn_CartValue": False,
    }
    dropped = variables[1]
    assert dropped.detail == (
        "Web chat defines no variable 'msdyn_CartValue': the chat starts, but without it."
    )
    assert "Add msdyn_CartValue to the context variables of Web chat" in dropped.fix


def test_a_value_a_number_variable_does_not_take_fails_with_a_fix(portal_setting, keys):
    _lwicontexts, cart = context_checks(portal_setting, keys, '{"msdyn_cartvalue": "abc"}')

    assert cart.passed is False
    assert cart.detail == (
        "msdyn_cartvalue: 'abc' is not a number (msdyn_cartvalue is a number variable of Web chat)."
    )
    assert cart.fix == setting_check.FIX_BY_VARIABLE_TYPE["number"]


def test_lwicontexts_that_is_not_an_object_fails_as_a_whole(portal_setting, keys):
    [lwicontexts] = context_checks(portal_setting, keys, ["msdyn_cartvalue"])

    assert lwicontexts.passed is False
    assert lwicontexts.fix == setting_check.FIX_CONTEXT


def test_a_null_value_counts_as_absent(portal_setting, keys):
    _lwicontexts, vip = context_checks(portal_setting, keys, {"msdyn_isvip": None})

    assert (vip.passed, vip.detail) == (True, "null, which counts as absent.")


def test_each_variable_is_checked_once_against_each_workstream_using_the_setting(
    portal_setting, workstream, keys
):
    shop = Workstream.objects.create(name="Shop chat", channel_type=ChannelType.LIVE_CHAT)
    ContextVariable.objects.create(
        workstream=shop, name="msdyn_cartvalue", type=ContextVariable.Type.TEXT
    )
    for name, used_by in (("Shop", shop), ("Second portal chat", workstream)):
        make_chat_widget(used_by, name=name, authentication_setting=portal_setting)

    _lwicontexts, *variables = context_checks(portal_setting, keys, {"msdyn_cartvalue": 12.5})

    assert sorted((check.name, check.detail) for check in variables) == [
        ("Shop chat: msdyn_cartvalue", "A text variable: the chat gets '12.5'."),
        ("Web chat: msdyn_cartvalue", "A number variable: the chat gets 12.5."),
    ]


def test_context_is_not_typed_when_no_chat_uses_the_setting(kid_list_setting, keys):
    token = make_token(keys.signing, claims(NOW, lwicontexts={"msdyn_cartvalue": 1}), kid="a")

    checks = check_setting(kid_list_setting, token=token, now=NOW).token_checks

    assert checks[-1].name == "lwicontexts"
    assert checks[-1].detail == (
        "1 variable: 'msdyn_cartvalue'; no chat uses this setting yet, so none is typed."
    )


# OpenID Connect


def test_openid_connect_reads_the_discovery_document_checks_its_issuer_and_lists_the_jwks(
    key_server, keys, db
):
    provider = start_provider(key_server, keys)

    report = check_setting(openid_setting(provider), now=NOW)

    discovery, jwks, token_endpoint = report.findings
    assert discovery.url == provider.discovery_uri
    assert outcomes(discovery.checks) == {"fetch": True, "issuer": True, "discovery document": True}
    assert dict(discovery.facts) == {
        "Issuer": provider.issuer,
        "Token endpoint": key_server.url("/token"),
        "JWKS URI": key_server.url("/jwks"),
        "Userinfo endpoint": key_server.url("/userinfo"),
        "Client authentication": "client_secret_basic",
    }
    assert jwks.url == key_server.url("/jwks")
    assert jwks.keys == (KeyRow("JWKS", "provider-key", 2048, None, None),)
    assert token_endpoint.facts == (("Address", "127.0.0.1"),)
    assert key_server.hits["/token"] == 0
    assert report.ok


def test_openid_connect_with_an_issuer_that_is_not_the_discovery_uris_fails(key_server, keys, db):
    provider = start_provider(key_server, keys)
    provider.publish(issuer="https://id.example.com")

    report = check_setting(openid_setting(provider), now=NOW)

    [discovery] = report.findings
    assert outcomes(discovery.checks) == {
        "fetch": True,
        "issuer": False,
        "discovery document": None,
    }
    issuer = the_check(discovery.checks, "issuer")
    assert "'https://id.example.com' is not the one its URL names" in issuer.detail
    assert issuer.fix == setting_check.FIX_ISSUER
    assert key_server.hits["/jwks"] == 0


def test_openid_connect_with_a_discovery_document_lacking_a_jwks_uri_fails(key_server, keys, db):
    provider = start_provider(key_server, keys)
    provider.publish(jwks_uri=None)

    report = check_setting(openid_setting(provider), now=NOW)

    [failed] = report.failures
    assert (failed.name, failed.detail) == (
        "discovery document",
        "The discovery document has no jwks_uri.",
    )


def test_a_pasted_token_is_not_checked_for_a_code_flow_setting(key_server, keys, db):
    provider = start_provider(key_server, keys)

    report = check_setting(openid_setting(provider), token="a.b.c", now=NOW)

    [note] = report.token_checks
    assert note.passed is None
    assert report.ok


# URLs the code flows call, vetted without sending anything


def test_oauth2_urls_are_vetted_and_resolved_without_sending_anything(key_server):
    setting = build_setting(Type.OAUTH2, token_url=key_server.url("/token"))

    report = check_setting(setting, now=NOW)

    token_url, discovery = report.findings
    assert (token_url.title, token_url.url) == ("Token URL", key_server.url("/token"))
    assert discovery.title == "Discovery document (read by the userinfo action)"
    assert discovery.url == key_server.url("/.well-known/openid-configuration")
    assert token_url.facts == (("Address", "127.0.0.1"),)
    assert token_url.checks[0].detail == (
        "The host resolves to 127.0.0.1, an address the platform may reach; nothing was sent."
    )
    assert report.ok
    assert key_server.requests == []


@pytest.mark.parametrize(
    ("url", "said"),
    [
        ("https://10.1.2.3/token", "10.1.2.3 is a private address"),
        ("https://localhost/token", "a loopback address"),
        ("https://169.254.169.254/token", "a cloud metadata address"),
        ("http://id.example.com/token", "Use an https URL"),
    ],
)
def test_an_oauth2_url_the_platform_may_not_reach_is_reported(settings, url, said):
    settings.CC_OUTBOUND_ALLOWED_HOSTS = []

    report = check_setting(build_setting(Type.OAUTH2, token_url=url), now=NOW)

    failed = report.failures[0]
    assert failed.name == "outbound rules"
    assert said in failed.detail
    assert failed.fix == setting_check.FIX_VET


def test_apple_settings_vet_both_token_urls_and_name_a_missing_one(key_server):
    setting = AuthenticationSetting(
        name="Apple",
        authentication_type=AuthenticationSetting.Type.OAUTH2_CODE,
        access_token_url=key_server.url("/token"),
    )

    report = check_setting(setting, now=NOW)

    access, decrypted = report.findings
    assert access.checks[0].passed
    assert decrypted.checks[0].passed is False
    assert decrypted.checks[0].detail == "The setting has no decrypted token URL."
    assert decrypted.checks[0].fix == "Fill in the decrypted token URL."
    assert key_server.requests == []
