"""What a web browser adds, and the rules that keep web pages from driving a branch.

Anyone who can open a connection to the branch can use it: on loopback,
that is every program of this machine, and with a token, whoever has the
token. A browser adds one more: any web page its user opens may send
requests to the branch (a form posted with no preflight, an image, a
`fetch`), and a page whose host name the attacker re-points to 127.0.0.1
(DNS rebinding) may even read the answers, as from its own origin. The
rules (openapi.yaml, "Browsers"):

- **Host** (DNS rebinding): a branch without a token answers only the host
  names that reach it without DNS (`localhost`, 127.0.0.0/8, `[::1]`),
  the address it listens on, and the names given with `--allow-host`; so
  does a branch with a token given `--allow-host`. The port is not
  compared: an attacker controls the name, not the port, and an SSH tunnel
  or a port mapping reaches the branch under another port.
- **Origin** (cross-site requests): a request that carries `Origin` must
  come from the branch's own origin (its scheme, `http://` or with TLS
  `https://`, and the request's Host) or
  from one given with `--allow-origin`; `Origin: null` never does. A
  request without `Origin` marked `Sec-Fetch-Site: cross-site` is refused
  too. Programs (curl, the SDKs) send neither header.
- **CORS**: the answers to an allowed origin carry
  `Access-Control-Allow-Origin` with that origin; a preflight (`OPTIONS`
  with `Origin` and `Access-Control-Request-Method`) from one gets a 204.
- **Pages** (HTML answers, `PAGES` in handlers.py) carry a
  Content-Security-Policy that allows their own inline scripts and styles
  by hash and nothing from elsewhere, and may not be framed.

This module holds the rules; the steps that apply them are in pipeline.py.
"""

from __future__ import annotations

import base64
import hashlib
import ipaddress
import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from multidict import istr

from .auth import is_loopback
from .problems import CrossSiteRequest, HostNotAllowed

if TYPE_CHECKING:
    from multidict import CIMultiDictProxy

log = logging.getLogger("cyme.branch")

# Request headers, as keys that headers look up without case-folding them.
HOST = istr("Host")
ORIGIN = istr("Origin")
SEC_FETCH_SITE = istr("Sec-Fetch-Site")
REQUEST_METHOD = istr("Access-Control-Request-Method")
REQUEST_PRIVATE_NETWORK = istr("Access-Control-Request-Private-Network")

# Addresses that mean "every interface": no name to add to the allowed hosts.
ANY_ADDRESS = frozenset({"", "0.0.0.0", "::"})  # noqa: S104 (compared, not bound)
DEFAULT_PORTS = {"http": 80, "https": 443}
# Answers of a preflight: what a page of an allowed origin may send, and for
# how long the browser may keep the answer (Chromium keeps one 2 hours at
# most). A kept preflight grants nothing by itself: every request is checked.
ALLOW_HEADERS = "Authorization, Content-Type, Cyme-Fault, Idempotency-Key, X-Request-Id"
MAX_AGE = "7200"
# What a page of an allowed origin may read of an answer, beyond the basics.
EXPOSE_HEADERS = "Idempotent-Replayed, Location, Retry-After, X-Request-Id"
# Host values already judged, at most this many (then forgotten all at once).
HOSTS_KEPT = 1024

# A host (an IPv6 address in brackets) and an optional port.
_AUTHORITY = re.compile(r"(\[[^\]]*\]|[^:\[\]]*)(?::([0-9]{0,5}))?")
_LABEL = re.compile(r"[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?")

NO_ORIGIN_DETAIL = (
    "The request comes from a web page of another site (Sec-Fetch-Site: cross-site) "
    "and names no origin this branch serves. Pages of the branch's own origin, or "
    "of one it was started with --allow-origin, may call it."
)
ORIGIN_DETAIL = (
    "The request comes from a web page of an origin this branch does not serve "
    "(its Origin header). Pages of the branch's own origin, or of one it was "
    "started with --allow-origin, may call it."
)


# -- names, addresses and origins -------------------------------------------------


def host_name(text: str) -> str:
    """A host name or IP address as the rules compare it: lowercase, an IPv6
    address compressed and without brackets. ValueError says what is wrong."""
    name = text[1:-1] if text.startswith("[") and text.endswith("]") else text
    try:
        return ipaddress.ip_address(name).compressed
    except ValueError:
        pass
    if text.startswith("["):
        raise ValueError("brackets hold an IPv6 address")
    if not name.isascii():
        raise ValueError("write an international name in its ASCII form (xn--...)")
    labels = name.lower().split(".")
    if len(name) > 253 or not all(_LABEL.fullmatch(label) for label in labels):
        raise ValueError(
            "a host name is letters, digits, hyphens and underscores, in labels split by dots"
        )
    return name.lower()


def split_authority(value: str) -> tuple[str, int | None] | None:
    """The host (as `host_name` gives it) and port of a Host header or an
    origin's authority: `name`, `name:port`, `1.2.3.4:port`, `[::1]:port`;
    None when it is none of these. `name:` has an empty port, the default
    (RFC 3986)."""
    match = _AUTHORITY.fullmatch(value)
    if match is None:
        return None
    host, port_text = match.groups()
    try:
        name = host_name(host)
    except ValueError:
        return None
    port = int(port_text) if port_text else None
    if port is not None and not 0 < port < 65536:
        return None
    return name, port


def _bracketed(name: str) -> str:
    return f"[{name}]" if ":" in name else name


def serialize_origin(scheme: str, name: str, port: int | None) -> str:
    """An origin as browsers write it: `scheme://host[:port]`, without the
    scheme's default port."""
    if port is None or port == DEFAULT_PORTS[scheme]:
        return f"{scheme}://{_bracketed(name)}"
    return f"{scheme}://{_bracketed(name)}:{port}"


def parse_origin(text: str) -> str:
    """An origin (`http://localhost:3000`) as browsers send it in `Origin`:
    the scheme and host in lowercase, the default port left out.
    ValueError says what is wrong with it."""
    if text == "null":
        raise ValueError(
            "'null' is the origin of sandboxed frames and local files, which any page "
            "can claim to be: it cannot be allowed"
        )
    if text == "*":
        raise ValueError("name each origin to allow, such as http://localhost:3000")
    scheme, sep, authority = text.partition("://")
    scheme = scheme.lower()
    if not sep or not authority:
        raise ValueError("an origin is scheme://host[:port], such as http://localhost:3000")
    if scheme not in DEFAULT_PORTS:
        raise ValueError("the scheme of an origin is http or https")
    if any(c in authority for c in "/?#"):
        raise ValueError("an origin has no path, not even '/': scheme://host[:port]")
    if "@" in authority:
        raise ValueError("an origin has no user name or password")
    parts = split_authority(authority)
    if parts is None:
        raise ValueError("its host or port is not valid")
    return serialize_origin(scheme, *parts)


def allowed_host_argument(text: str) -> str:
    """A value of --allow-host, as the rules compare it."""
    if "://" in text or "/" in text:
        raise ValueError("give a host name or address, not a URL")
    try:
        return host_name(text)
    except ValueError:
        parts = split_authority(text)
        if parts is not None and parts[1] is not None:
            raise ValueError("give the name without a port: the port is not compared") from None
        raise


def request_authority(target: str, headers: CIMultiDictProxy[str]) -> str | None:
    """Where a request says it is going: the authority of an absolute-form
    target (RFC 9112 3.2.2: the Host header is then ignored), else its Host."""
    if target[0] != "/" and target.startswith(("http://", "https://")):
        authority = target.split("://", 1)[1].split("/", 1)[0].split("?", 1)[0]
        return authority.rpartition("@")[2]
    return headers.get(HOST)


# -- the rules --------------------------------------------------------------------


class BrowserPolicy:
    """The Host and Origin rules of one branch, from its settings."""

    def __init__(
        self,
        *,
        listen_host: str,
        has_token: bool,
        allow_hosts: Iterable[str] = (),
        allow_origins: Iterable[str] = (),
        scheme: str = "http",
    ) -> None:
        # The scheme of the branch's own pages: https when it serves TLS.
        self.scheme = scheme
        extra_hosts = {allowed_host_argument(h) for h in allow_hosts}
        self.origins = frozenset(parse_origin(o) for o in allow_origins)
        # None: no Host rule (a branch with a token, and no --allow-host).
        self.hosts: frozenset[str] | None = None
        if not has_token or extra_hosts:
            if listen_host not in ANY_ADDRESS:
                extra_hosts.add(host_name(listen_host))
            self.hosts = frozenset(extra_hosts)
        self._judged: dict[str, bool] = {}
        self._own: dict[str, str | None] = {}

    def describe(self) -> str:
        """The rules in one line, for the log."""
        if self.hosts is None:
            hosts = "any Host (the token is checked)"
        else:
            named = ", ".join(sorted(h for h in self.hosts if not is_loopback(h)))
            hosts = "Host names localhost, 127.0.0.0/8 and [::1]" + (f", {named}" if named else "")
        origins = ", ".join(sorted(self.origins)) or "none"
        return f"browsers: answering {hosts}; pages of other origins allowed: {origins}"

    # -- Host ----------------------------------------------------------------

    def check_host(self, authority: str | None) -> None:
        """HostNotAllowed unless the request names a host the branch answers to."""
        if authority is not None and (self._judged.get(authority) or self._judge(authority)):
            return
        shown = "none" if authority is None else repr(authority[:200])
        log.warning(
            "refused a request for the host %s: not a name this branch answers to "
            "(--allow-host NAME adds one)",
            shown,
        )
        raise HostNotAllowed(
            "The request's Host is not a name this branch answers to, as it would be "
            "if a web page had its own host name re-pointed to this machine (DNS "
            "rebinding). Reach the branch as localhost, 127.0.0.1 or [::1], or start "
            "it with --allow-host NAME for another name."
        )

    def _judge(self, authority: str) -> bool:
        assert self.hosts is not None
        parts = split_authority(authority)
        allowed = parts is not None and (parts[0] in self.hosts or is_loopback(parts[0]))
        if len(self._judged) >= HOSTS_KEPT:
            self._judged.clear()
        self._judged[authority] = allowed
        return allowed

    # -- Origin and Sec-Fetch-Site --------------------------------------------------

    def check_origin(self, headers: CIMultiDictProxy[str], authority: str | None) -> str | None:
        """The origin to allow in CORS answers (as the request wrote it), None
        for a request without Origin; CrossSiteRequest for a web page the
        branch does not serve."""
        origins = headers.getall(ORIGIN, ())
        if not origins:
            if any(s.strip().lower() == "cross-site" for s in headers.getall(SEC_FETCH_SITE, ())):
                log.warning("refused a cross-site request without Origin")
                raise CrossSiteRequest(NO_ORIGIN_DETAIL)
            return None
        if len(origins) == 1:
            (origin,) = origins
            try:
                canonical = parse_origin(origin)
            except ValueError:
                canonical = None
            if canonical is not None and (
                canonical in self.origins or canonical == self.own_origin(authority)
            ):
                return origin
        log.warning(
            "refused a request from the origin %s: not allowed (--allow-origin ORIGIN allows one)",
            ", ".join(repr(o[:200]) for o in origins),
        )
        raise CrossSiteRequest(ORIGIN_DETAIL)

    def own_origin(self, authority: str | None) -> str | None:
        """The origin of the branch's own pages, as reached by this request."""
        if authority is None:
            return None
        own = self._own.get(authority)
        if own is None and authority not in self._own:
            parts = split_authority(authority)
            own = serialize_origin(self.scheme, *parts) if parts is not None else None
            if len(self._own) >= HOSTS_KEPT:
                self._own.clear()
            self._own[authority] = own
        return own


# -- preflights and pages -----------------------------------------------------------


def preflight_headers(methods: Iterable[str], private_network: bool) -> dict[str, str]:
    """The headers of a 204 to a preflight from an allowed origin."""
    headers = {
        "Access-Control-Allow-Methods": ", ".join(sorted(methods)),
        "Access-Control-Allow-Headers": ALLOW_HEADERS,
        "Access-Control-Max-Age": MAX_AGE,
    }
    if private_network:
        # Chromium asks a page on the internet before it reaches a loopback or
        # private address; the operator allowed this origin by name.
        headers["Access-Control-Allow-Private-Network"] = "true"
    return headers


# An inline element of a page, written without attributes by the branch itself.
_INLINE = re.compile(r"<(script|style)>(.*?)</\1>", re.S)


@dataclass(frozen=True)
class Page:
    """An HTML page of the branch and the headers it is served with."""

    html: str
    headers: dict[str, str]

    @classmethod
    def of(cls, html: str) -> Page:
        """The page, with a Content-Security-Policy allowing exactly its inline
        scripts and style sheets, by their SHA-256 hashes."""
        hashes: dict[str, list[str]] = {"script": [], "style": []}
        for match in _INLINE.finditer(html):
            digest = hashlib.sha256(match.group(2).encode("utf-8")).digest()
            hashes[match.group(1)].append(f"'sha256-{base64.b64encode(digest).decode('ascii')}'")
        policy = "; ".join(
            [
                "default-src 'none'",
                "script-src " + (" ".join(hashes["script"]) or "'none'"),
                "style-src " + (" ".join(hashes["style"]) or "'none'"),
                "img-src 'self' data:",
                "font-src 'self' data:",
                "connect-src 'self'",
                "form-action 'self'",
                "base-uri 'none'",
                "frame-ancestors 'none'",
            ]
        )
        return cls(
            html,
            {
                "Content-Security-Policy": policy,
                # frame-ancestors, for browsers that predate it.
                "X-Frame-Options": "DENY",
                # The page's URL goes to no other origin. Not no-referrer:
                # with it, browsers send `Origin: null` with the page's own
                # form posts (the Fetch standard, "append a request Origin
                # header"), which the Origin rule refuses.
                "Referrer-Policy": "same-origin",
            },
        )
