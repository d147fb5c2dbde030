"""Names of the token custom actions an `oauth2` setting can use.

Built in: `userinfo` (reads the user id from the provider's userinfo endpoint) and `id_token`
(takes `sub` from a verified id token). Projects register more in settings.CC_TOKEN_ACTIONS.
"""

from __future__ import annotations

from django.conf import settings

BUILT_IN = ("userinfo", "id_token")


def names() -> list[str]:
    return [*BUILT_IN, *(name for name in settings.CC_TOKEN_ACTIONS if name not in BUILT_IN)]
