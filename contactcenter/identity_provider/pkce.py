"""When the platform's authorization server (/o/) requires PKCE (django-oauth-toolkit's
PKCE_REQUIRED, read with the client id at each authorization request)."""

from __future__ import annotations


def pkce_required(client_id: str) -> bool:
    """Always, but for a confidential client that an Apple Messages for Business OpenID Connect
    setting names: Apple's devices send no code challenge, and the platform redeems that
    client's codes with its secret (RFC 9700 §2.1.1 leaves PKCE optional for confidential
    clients)."""
    # Imported here: the settings module names this function before the apps are loaded.
    from oauth2_provider.models import Application

    from authsettings.models import AuthenticationSetting

    apple_client = AuthenticationSetting.objects.filter(
        authentication_type=AuthenticationSetting.Type.OAUTH2_OPENID_CONNECT, client_id=client_id
    ).exists()
    confidential = Application.objects.filter(
        client_id=client_id, client_type=Application.CLIENT_CONFIDENTIAL
    ).exists()
    return not (apple_client and confidential)
