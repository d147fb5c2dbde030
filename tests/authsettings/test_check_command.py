"""`manage.py check_authentication_setting <id or name> [--token JWT]`: what it prints and how
it exits."""

from __future__ import annotations

import time
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from tests.identity_provider import CLIENT_SECRET, openid_setting, start_provider
from tests.keyserver import claims, make_token, token_for


def run(*args: str) -> str:
    out = StringIO()
    call_command("check_authentication_setting", *args, stdout=out)
    return out.getvalue()


def failing(*args: str) -> tuple[str, CommandError]:
    out = StringIO()
    with pytest.raises(CommandError) as caught:
        call_command("check_authentication_setting", *args, stdout=out)
    return out.getvalue(), caught.value


def test_it_prints_the_keys_it_found_by_the_settings_name(portal_setting, key_server):
    out = run("Portal")

    assert out.splitlines()[:5] == [
        "Authentication setting 'Portal' (OAuth 2.0 implicit flow)",
        "",
        f"Public key URL: {key_server.url('/publickey')}",
        "  Keys:",
        "    PEM key, no kid, 2048 bits, usable",
    ]
    assert "  PASS  key document: A PEM key." in out
    assert out.endswith("All 2 checks passed.\n")


def test_it_finds_a_setting_by_its_id_and_prints_every_token_check(portal_setting, keys):
    token = token_for(keys, lwicontexts={"msdyn_cartvalue": "10000"})

    out = run(str(portal_setting.pk), "--token", f"{token}\n")

    assert "Token:\n  PASS  size: " in out
    assert "  PASS  signature: The signature matches that key." in out
    assert "  PASS  Web chat: msdyn_cartvalue: A number variable: the chat gets 10000." in out
    assert "FAIL" not in out


def test_a_failing_token_prints_the_failure_and_its_fix_and_exits_1(portal_setting, keys):
    expired = make_token(keys.signing, claims(time.time() - 4000))

    out, error = failing("Portal", "--token", expired)

    assert "  FAIL  exp: The token expired " in out
    assert "        Fix: Paste a freshly issued token" in out
    assert "  —     iss: Not run: an earlier check failed." in out
    assert error.returncode == 1
    assert str(error) == "1 check(s) failed; see FAIL above."


def test_a_key_url_that_cannot_be_fetched_exits_1(portal_setting, key_server):
    key_server.serve("/publickey", "<html>Maintenance</html>", content_type="text/html")

    out, error = failing("Portal")

    assert "  FAIL  key document: The key URL's answer is neither a PEM public key" in out
    assert error.returncode == 1


def test_an_unknown_setting_is_a_clear_error(db):
    _out, error = failing("Nobody's")

    assert str(error) == 'No authentication setting has the id or name "Nobody\'s".'
    assert error.returncode == 1


def test_it_never_prints_the_client_secret(key_server, keys, db):
    setting = openid_setting(start_provider(key_server, keys))

    out = run(setting.name)

    assert "  PASS  issuer: " in out
    assert f"  JWKS URI: {key_server.url('/jwks')}" in out
    assert CLIENT_SECRET not in out
