"""Keeping broker passwords out of everything the branch says."""

from __future__ import annotations

MASK = "**"


def mask_url(url: str) -> str:
    """Mask the password of a broker URL the way Celery prints it.

    >>> mask_url("amqp://guest:guest@localhost:5672//")
    'amqp://guest:**@localhost:5672//'

    Kombu accepts several URLs separated by ``;`` (failover); each is masked.
    The user info is taken up to the *last* ``@`` so that a password holding
    an unescaped ``/`` or ``@`` is still hidden whole: when unsure, hide more.
    """
    return ";".join(_mask_one(part) for part in url.split(";"))


def _mask_one(url: str) -> str:
    scheme, sep, rest = url.partition("://")
    if not sep or "@" not in rest:
        return url
    userinfo, _, hostpart = rest.rpartition("@")
    user, colon, _password = userinfo.partition(":")
    if not colon:
        return url
    return f"{scheme}://{user}:{MASK}@{hostpart}"
