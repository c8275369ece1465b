"""Bearer token authentication."""

from __future__ import annotations

import hashlib
import hmac
import ipaddress

from .problems import Unauthorized

# Where the branch finds its token when no --token-file is given.
TOKEN_ENV = "CYME_BRANCH_TOKEN"  # noqa: S105 (the name of a variable)


class TokenAuth:
    """Checks `Authorization: Bearer <token>` when the branch has a token.

    Only a digest of the token is kept, and digests are compared with
    `hmac.compare_digest`, so the comparison takes the same time whatever
    the token sent, and whatever its length.
    """

    def __init__(self, token: str | None, also: str | None = None) -> None:
        self._digest = _digest(token) if token else None
        # Another token that opens the branch too (the cluster's), if any.
        self._also = _digest(also) if token and also and also != token else None

    @property
    def enabled(self) -> bool:
        return self._digest is not None

    def check(self, authorization: str | None) -> None:
        if self._digest is None:
            return
        if not authorization:
            raise Unauthorized(
                "This branch needs a token: send Authorization: Bearer <token>.",
                invalid_token=False,
            )
        scheme, _, credentials = authorization.strip().partition(" ")
        if scheme.lower() != "bearer" or not credentials.strip():
            raise Unauthorized(
                "Send the token as Authorization: Bearer <token>.", invalid_token=False
            )
        sent = _digest(credentials.strip())
        # Both compared, always: the time taken does not tell which matched.
        matched = hmac.compare_digest(sent, self._digest)
        matched |= self._also is not None and hmac.compare_digest(sent, self._also)
        if not matched:
            raise Unauthorized("The bearer token is not valid.", invalid_token=True)


def _digest(token: str) -> bytes:
    # surrogateescape: a header's non-UTF-8 bytes come as surrogates; keep them.
    return hashlib.sha256(token.encode("utf-8", "surrogateescape")).digest()


def is_loopback(host: str) -> bool:
    """True for addresses only this machine can reach: `localhost` and loopback
    addresses, names that no DNS answer can re-point (browsers.py)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
