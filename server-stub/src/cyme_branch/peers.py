"""Neighbour branches: who they are, and asking them about themselves.

A neighbour's id is learnt from the `Cyme-Branch` header of its `/ping`,
the one route that needs no token and asks nobody else: learning ids through
`/branches` would have two branches that know each other ask each other
forever.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Any

import aiohttp
import jsonschema_rs

from .cluster.calls import Calls
from .problems import BadGateway, GatewayTimeout, NotFound
from .spec import Spec

log = logging.getLogger("cyme.branch")

ID_HEADER = "Cyme-Branch"


@dataclass
class Peer:
    url: str
    id: str | None = None

    @classmethod
    def parse(cls, text: str) -> Peer:
        """`URL` or `ID=URL`."""
        ident, sep, url = text.partition("=")
        if not sep or "://" in ident:
            ident, url = "", text
        if not url.startswith(("http://", "https://")):
            raise ValueError(f"a neighbour is an http:// or https:// URL, not {url!r}")
        return cls(url.rstrip("/"), ident or None)


class Neighbours:
    """The neighbours of a branch. What they say is checked against the spec:
    a neighbour that answers nonsense is a bad gateway, not a branch."""

    def __init__(self, peers: list[Peer], calls: Calls, spec: Spec) -> None:
        self.peers = peers
        # How the branch calls other branches: the cluster token and trust
        # (cluster/calls.py), one session for neighbours and members.
        self.calls = calls
        self._branch_shape = jsonschema_rs.validator_for(spec.schema("Branch"))
        self._name_shape = jsonschema_rs.validator_for(spec.schema("Name"))
        for peer in peers:
            if peer.id is not None and not self.valid_id(peer.id):
                raise ValueError(f"{peer.id!r} is not a valid branch id")

    def valid_id(self, ident: str) -> bool:
        """Whether `ident` is a branch id the spec allows."""
        return bool(self._name_shape.is_valid(ident))

    async def ids(self) -> list[str]:
        """Ids of the neighbours: known ones, and those that answer now."""
        unknown = [peer for peer in self.peers if peer.id is None]
        if unknown:
            await asyncio.gather(*(self._learn(peer) for peer in unknown))
        return [peer.id for peer in self.peers if peer.id is not None]

    def url_of(self, ident: str) -> str:
        """The URL of the neighbour `ident` (one `ids()` listed)."""
        return next(peer.url for peer in self.peers if peer.id == ident)

    async def describe(self, ident: str) -> dict[str, Any]:
        """Ask the neighbour `ident` to describe itself."""
        await self.ids()
        peer = next((p for p in self.peers if p.id == ident), None)
        if peer is None:
            raise NotFound(f"No branch named '{ident}' is known here.")
        try:
            async with self.calls.session().get(f"{peer.url}/branches/{ident}") as response:
                if response.status == 200:
                    body: dict[str, Any] = await response.json(content_type=None)
                    if not self._branch_shape.is_valid(body):
                        raise BadGateway(
                            f"Neighbour '{ident}' at {peer.url}/ answered with something "
                            "that is not a branch."
                        )
                    return body
                if response.status == 404:
                    raise NotFound(f"Neighbour '{ident}' at {peer.url}/ does not know itself.")
                raise BadGateway(f"Neighbour '{ident}' at {peer.url}/ answered {response.status}.")
        except asyncio.TimeoutError:
            late = f"did not answer within {self.calls.timeout:g} s"
            raise GatewayTimeout(f"Neighbour '{ident}' at {peer.url}/ {late}.") from None
        except (aiohttp.ClientError, ValueError) as exc:
            raise BadGateway(
                f"Neighbour '{ident}' at {peer.url}/ cannot be reached ({type(exc).__name__})."
            ) from None

    async def _learn(self, peer: Peer) -> None:
        try:
            async with self.calls.session().get(f"{peer.url}/ping") as response:
                ident = response.headers.get(ID_HEADER)
        except (asyncio.TimeoutError, aiohttp.ClientError) as exc:
            log.warning("neighbour %s/ cannot be reached: %s", peer.url, type(exc).__name__)
            return
        if ident and self.valid_id(ident):
            peer.id = ident
        else:
            log.warning("neighbour %s/ does not say a valid id", peer.url)
