"""The one shape of a refusal (CONTRACT.md error codes). Each kind is named for what is
refused: TokenRefused, OriginRefused, FrameRefused, ActionRefused, SignInRefused."""

from __future__ import annotations


class Refused(Exception):
    """A refusal: `code` is CONTRACT.md's error code, `detail` tells the developer on the other
    side what to fix and never holds a token, a key or a secret."""

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(f"{code}: {detail}")
        self.code = code
        self.detail = detail
