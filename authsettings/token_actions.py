"""The token custom actions an `oauth2` setting turns a token response into a user id with.

An action is a callable `(setting, token_response) -> user id` that raises
authsettings.tokens.TokenRefused when it cannot tell who signed in. Built in (in
authsettings.oidc): `userinfo` reads `sub` from the provider's userinfo endpoint, `id_token`
takes `sub` from the verified id token in the response. Projects register more in
settings.CC_TOKEN_ACTIONS as name -> dotted path; a built-in name cannot be replaced.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.utils.module_loading import import_string

from authsettings.tokens import TokenRefused

if TYPE_CHECKING:
    from authsettings.models import AuthenticationSetting

TokenAction = Callable[["AuthenticationSetting", dict[str, Any]], str]

logger = logging.getLogger(__name__)

# Dotted paths, imported when used: the actions need the models, which need these names.
BUILT_IN = {
    "userinfo": "authsettings.oidc.subject_from_userinfo",
    "id_token": "authsettings.oidc.subject_from_id_token",
}


def names() -> list[str]:
    return [*BUILT_IN, *(name for name in settings.CC_TOKEN_ACTIONS if name not in BUILT_IN)]


def resolve(name: str) -> TokenAction:
    """The action registered under a name. Raises TokenRefused (`token_invalid`) when there is
    none or its dotted path cannot be imported."""
    path = BUILT_IN.get(name) or settings.CC_TOKEN_ACTIONS.get(name)
    if not path:
        raise TokenRefused(
            "token_invalid",
            f"No token action is named {name[:100]!r}; choose one of: {', '.join(names())}.",
        )
    try:
        return import_string(path)
    except ImportError:
        logger.exception("The token action %s (%s) cannot be imported", name, path)
        raise TokenRefused(
            "token_invalid",
            f"The token action {name!r} cannot be loaded; check CC_TOKEN_ACTIONS.",
        ) from None
