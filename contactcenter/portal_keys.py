"""The sample portal's JWT signing key, generated on this machine into var/ and never committed."""

from __future__ import annotations

from django.conf import settings

from contactcenter.env import generated_once
from contactcenter.keygen import new_rsa_private_key_pem


def signing_key_pem() -> str:
    return generated_once(settings.VAR_DIR / "portal_signing_key.pem", new_rsa_private_key_pem)
