"""Conditional reads: an ETag on the lists a page polls, and 304 when it still holds.

The admin page (`/ui`) reads an app's instances and queues every second or
so; most of the time nothing changed. The tag is a hash of the answer's
bytes, so it needs no bookkeeping of changes: the branch still does the
read, but sends 19 bytes of tag instead of the body, and the page does
not render again (docs/benchmarks.md measures both ways).
"""

from __future__ import annotations

import base64
import hashlib

from multidict import istr

from .rendering import Answer

IF_NONE_MATCH = istr("If-None-Match")


def tag(body: bytes) -> str:
    """A strong entity tag of these bytes (RFC 9110 8.8.3)."""
    digest = hashlib.blake2b(body, digest_size=12).digest()
    return '"' + base64.urlsafe_b64encode(digest).decode("ascii") + '"'


def matches(header: str | None, etag: str) -> bool:
    """Whether `If-None-Match` names this tag (weak comparison, RFC 9110 13.1.2)."""
    if header is None:
        return False
    candidates = (c.strip() for c in header.split(","))
    return any(c == "*" or c.removeprefix("W/") == etag for c in candidates)


def tagged(answer: Answer, if_none_match: str | None) -> Answer:
    """A 200 with its ETag; a 304 with no body when the request sent that tag."""
    etag = tag(answer.body)
    answer.headers["ETag"] = etag
    if not matches(if_none_match, etag):
        return answer
    kept = {k: v for k, v in answer.headers.items() if k != "Content-Type"}
    return Answer(304, kept, b"")
