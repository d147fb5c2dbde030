"""Signing Apple customers in (CONTRACT.md "Apple Messages for Business", Authentication).

The interactive `authenticate` message for both flows; its `state`, single use, bound to one
request (and so to its setting and conversation), derived from the request's id with the
secret key so only its hash is stored; the OpenID Connect flow's callback, which redeems the
code at the provider; and the earlier code flow's token, encrypted by the device to a P-384
key made for the request. Every failure is a SignInFailed whose detail is the one sentence
the agent is told. The callback page is messaging.apple.callback.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from datetime import timedelta

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.x963kdf import X963KDF
from django.utils.crypto import salted_hmac

from authsettings import oauth
from authsettings.models import AuthenticationSetting
from authsettings.tokens import TokenRefused
from contactcenter.lib import fetch
from contactcenter.lib.errors import Refused
from contactcenter.lib.strict_json import shown
from messaging.models import AppleAuthenticationRequest

# Apple's Messages extension that shows the sign-in bubble.
BALLOON_ID = (
    "com.apple.messages.MSMessageExtensionBalloonPlugin:0000000000:"
    "com.apple.icloud.apps.messages.business.extension"
)
REQUEST_LIFETIME = timedelta(minutes=10)
# The device capability each flow needs.
CAPABILITY = {
    AuthenticationSetting.Type.OAUTH2_OPENID_CONNECT: "AUTH2",
    AuthenticationSetting.Type.OAUTH2_CODE: "AUTH",
}
CURVE = ec.SECP384R1()
POINT_BYTES = 97  # an uncompressed P-384 point
TAG_BYTES = 16
MAX_SUBJECT = 255


class SignInFailed(Refused):
    """A sign-in that did not succeed. `status` is the callback page's answer."""

    def __init__(self, code: str, detail: str, *, status: int = 400) -> None:
        super().__init__(code, detail)
        self.status = status


def state_of(request_identifier) -> str:
    """The request's `state`: only the platform can make it, and it is never stored."""
    return salted_hmac(
        "messaging.apple.state", str(request_identifier), algorithm="sha256"
    ).hexdigest()


def state_hash(state: str) -> str:
    return hashlib.sha256(state.encode()).hexdigest()


def new_private_key() -> str:
    """A P-384 private key in PEM, made for one code-flow request."""
    key = ec.generate_private_key(CURVE)
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode("ascii")


def public_point(private_pem: str) -> str:
    """Base64 of the key's uncompressed public point: the `responseEncryptionKey`."""
    key = serialization.load_pem_private_key(private_pem.encode(), password=None)
    point = key.public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    return base64.b64encode(point).decode("ascii")


def interactive_data(request: AppleAuthenticationRequest) -> dict:
    """The `interactiveData` of the sign-in message sent to `<gateway>/authenticate`."""
    setting = request.setting
    oauth2 = {
        "responseType": "code",
        "scope": setting.scope.split(),
        "state": state_of(request.request_identifier),
    }
    if setting.authentication_type == setting.Type.OAUTH2_OPENID_CONNECT:
        oauth2["redirectURI"] = request.redirect_uri
    else:
        oauth2["clientSecret"] = setting.client_secret
        oauth2["responseEncryptionKey"] = public_point(request.private_key)
    content = request.rich_message.content
    return {
        "bid": BALLOON_ID,
        "data": {
            "version": "1.0",
            "requestIdentifier": str(request.request_identifier),
            "authenticate": {"oauth2": oauth2},
        },
        "receivedMessage": {"title": content["received_message"], "style": "icon"},
        "replyMessage": {"title": content["reply_message"], "style": "icon"},
    }


UNREADABLE_TOKEN = SignInFailed(
    "token_invalid",
    "The customer's device sent an access token that could not be decrypted; ask them to "
    "sign in again.",
)


def decrypt_token(private_pem: str, token: object) -> str:
    """The access token the device encrypted to the request's key: base64 of its ephemeral
    point, the ciphertext and the tag; ECDH, X9.63 KDF (SHA-256, the point as shared info, 48
    bytes) and AES-256-GCM with the first 32 bytes as key and the last 16 as IV. Raises
    SignInFailed (`token_invalid`)."""
    if not isinstance(token, str):
        raise UNREADABLE_TOKEN
    try:
        raw = base64.b64decode(token, validate=True)
    except (binascii.Error, ValueError):
        raise UNREADABLE_TOKEN from None
    if len(raw) <= POINT_BYTES + TAG_BYTES:
        raise UNREADABLE_TOKEN
    point, sealed = raw[:POINT_BYTES], raw[POINT_BYTES:]
    try:
        ephemeral = ec.EllipticCurvePublicKey.from_encoded_point(CURVE, point)
        key = serialization.load_pem_private_key(private_pem.encode(), password=None)
        shared = key.exchange(ec.ECDH(), ephemeral)
        derived = X963KDF(algorithm=hashes.SHA256(), length=48, sharedinfo=point).derive(shared)
        plaintext = AESGCM(derived[:32]).decrypt(derived[32:], sealed, None)
        return plaintext.decode("utf-8")
    except (ValueError, InvalidTag, UnicodeDecodeError):
        raise UNREADABLE_TOKEN from None


def redeem_code(setting: AuthenticationSetting, code: str, redirect_uri: str) -> str:
    """The access token for the provider's code: the form the contract lists, POSTed to the
    access token URL. Raises SignInFailed (`provider_refused`)."""
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": redirect_uri,
        "client_id": setting.client_id,
        "client_secret": setting.client_secret,
        **(setting.additional_parameters or {}),
    }
    refused = SignInFailed(
        "provider_refused",
        "The identity provider refused the customer's sign-in code; ask them to sign in again.",
        status=502,
    )
    try:
        answer = oauth.json_object(
            fetch.post_form(setting.access_token_url, form).body,
            "The token endpoint's answer",
            code="provider_refused",
        )
    except (fetch.FetchError, TokenRefused):
        raise refused from None
    token = answer.get("access_token")
    if not isinstance(token, str) or not token:
        raise refused
    return token


def read_subject(setting: AuthenticationSetting, access_token: str) -> str:
    """The customer the access token is for: `sub` of the decrypted token URL's JSON object.
    Raises SignInFailed (`provider_refused`, `subject_missing`)."""
    try:
        answer = oauth.json_object(
            fetch.fetch(
                setting.decrypted_token_url,
                accept="application/json",
                headers={"Authorization": f"Bearer {access_token}"},
            ).body,
            "The decrypted token URL's answer",
            code="provider_refused",
        )
    except (fetch.FetchError, TokenRefused):
        raise SignInFailed(
            "provider_refused",
            "The decrypted token URL did not accept the customer's access token, so they could "
            "not be identified.",
            status=502,
        ) from None
    subject = answer.get("sub")
    if not isinstance(subject, str) or not 1 <= len(subject) <= MAX_SUBJECT:
        raise SignInFailed(
            "subject_missing",
            f"The decrypted token URL's answer names no customer (a sub of 1 to {MAX_SUBJECT} "
            "characters).",
            status=502,
        )
    return subject


def provider_error(error: str) -> SignInFailed:
    return SignInFailed(
        "provider_refused",
        f"The identity provider refused the customer's sign-in ({shown(error, 40)}); ask them "
        "to try again.",
        status=502,
    )
