"""What the setting tester reports on a pasted token."""

from __future__ import annotations

# The checks of a pasted token, in the order the chat runs them (context variables follow).
TOKEN_CHECKS = [
    "size",
    "format",
    "algorithm and header",
    "key",
    "signature",
    "required claims",
    "claim types",
    "lifetime",
    "exp",
    "nbf and iat",
    "iss",
    "aud",
    "lwicontexts",
]
