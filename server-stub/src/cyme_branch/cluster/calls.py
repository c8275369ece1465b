"""Calling members: one request to one member, its outcome as a `Part`.

A branch calls only the URLs it learnt from announcements on its own
cluster's broker, or was given with `--peer`; it sends the cluster token
(`--cluster-token-file`, by default the branch's own) and checks a member's
certificate against the system's CAs, or `--cluster-ca-file`. Whatever
happens, the outcome is a `Part`: `ok` with the member's answer, `error`
with its status and its problem's detail, or `unreachable`. Never an
exception: one member's trouble is part of a cluster answer, not its end.
"""

from __future__ import annotations

import asyncio
import json
import ssl
from dataclasses import dataclass
from typing import Any

import aiohttp

UNREACHABLE = "unreachable"
DETAIL_MAX = 500  # characters of a member's problem detail passed on


@dataclass(frozen=True)
class Part:
    """What one member answered."""

    branch: str
    url: str
    state: str  # ok | error | unreachable
    status: int | None = None
    detail: str | None = None
    body: Any = None

    def public(self, items: bool = True) -> dict[str, Any]:
        part: dict[str, Any] = {"branch": self.branch, "url": f"{self.url}/", "state": self.state}
        if self.status is not None:
            part["status"] = self.status
        if self.detail is not None:
            part["detail"] = self.detail
        if items and self.state == "ok":
            part["items"] = self.body
        return part


class Calls:
    """An HTTP client for members, with the cluster token and trust."""

    def __init__(self, token: str | None, timeout: float, ca_file: str | None = None) -> None:
        self.timeout = timeout
        self._headers = {"Authorization": f"Bearer {token}"} if token else {}
        self._ssl: ssl.SSLContext | None = (
            ssl.create_default_context(cafile=ca_file) if ca_file else None
        )
        self._session: aiohttp.ClientSession | None = None

    def session(self) -> aiohttp.ClientSession:
        """The one session, made on first use (inside the event loop)."""
        if self._session is None:
            self._session = aiohttp.ClientSession(
                headers=self._headers,
                timeout=aiohttp.ClientTimeout(total=self.timeout),
                # One connection per member at least, however many members.
                connector=aiohttp.TCPConnector(limit=0, ssl=self._ssl or True),
            )
        return self._session

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def call(
        self,
        branch: str,
        url: str,
        method: str,
        path: str,
        *,
        query: dict[str, str] | None = None,
        body: Any = None,
        headers: dict[str, str] | None = None,
    ) -> Part:
        """`method url+path` with a JSON body (when given); its outcome."""
        try:
            async with self.session().request(
                method, f"{url}{path}", params=query, json=body, headers=headers
            ) as response:
                text = await response.text()
                status = response.status
        except asyncio.TimeoutError:
            return Part(
                branch, url, UNREACHABLE, detail=f"did not answer within {self.timeout:g} s"
            )
        except (aiohttp.ClientError, OSError, ValueError) as exc:
            return Part(
                branch, url, UNREACHABLE, detail=f"cannot be reached ({type(exc).__name__})"
            )
        try:
            answer = json.loads(text) if text else None
        except ValueError:
            return Part(branch, url, "error", status, "answered something that is not JSON")
        if status >= 400:
            detail = answer.get("detail") if isinstance(answer, dict) else None
            said = str(detail or f"answered {status}")[:DETAIL_MAX]
            return Part(branch, url, "error", status, said)
        return Part(branch, url, "ok", status, body=answer)
