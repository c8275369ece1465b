"""What web pages may do, over plain HTTP: every rule of openapi.yaml's "Browsers".

- Host (DNS rebinding): a branch without a token answers loopback names,
  the address it listens on and --allow-host names, on any port;
- Origin (cross-site requests): its own origin and --allow-origin ones,
  never `null`; `Sec-Fetch-Site: cross-site` without an allowed Origin is
  refused; for every method, with a token or without;
- CORS: Access-Control-Allow-Origin only to allowed origins, with Vary:
  Origin on every answer; preflights 204 before auth, or 403;
- headers: the page's Content-Security-Policy (its own inline scripts and
  styles by hash, nothing remote), no framing, no referrer; nosniff on
  every answer;
- the command line refuses bad --allow-origin and --allow-host values.

test_browsers_chromium.py plays the same rules in a real browser.
"""

from __future__ import annotations

import base64
import hashlib
import socket
import types
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path

import httpx
import pytest
from contract import ContractValidator, assert_problem, contract_client, unique
from live import ipv6_loopback, run_cli

from cyme_branch import pipeline
from cyme_branch.browsers import BrowserPolicy, Page, parse_origin, split_authority
from cyme_branch.spec import Spec
from cyme_branch.testing import LiveBranch

CROSS_SITE = "urn:cyme:problem:cross-site-request"
HOST_NOT_ALLOWED = "urn:cyme:problem:host-not-allowed"
ALLOWED = "http://localhost:3000"
ALLOWED_TLS = "https://dashboard.example"
ALLOWED_HOST = "cyme.test"
TOKEN = "browsers-token-7c1d"
METHODS = ("GET", "HEAD", "PUT", "POST", "DELETE", "OPTIONS", "PATCH")
ACAO = "access-control-allow-origin"


@pytest.fixture(scope="module")
def allowing(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveBranch]:
    """A branch without a token that allows two origins and one more host name."""
    root = tmp_path_factory.mktemp("allowing-branch")
    with LiveBranch(
        root,
        "allowing",
        # Written unlike browsers do: the branch compares them as browsers write them.
        allow_origins=["HTTP://LocalHost:3000", "https://dashboard.example:443"],
        allow_hosts=[ALLOWED_HOST],
    ) as live:
        yield live


@pytest.fixture(scope="module")
def secured(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveBranch]:
    """A branch with a token, allowing one origin."""
    root = tmp_path_factory.mktemp("secured-browsers")
    with LiveBranch(root, "secured", token=TOKEN, allow_origins=[ALLOWED]) as live:
        yield live


@pytest.fixture
def http(branch: LiveBranch, validator: ContractValidator) -> Iterator[httpx.Client]:
    """The shared branch (no token, nothing allowed), every answer checked."""
    with contract_client(branch.url, validator, timeout=10) as client:
        yield client


def allowing_client(live: LiveBranch, validator: ContractValidator) -> httpx.Client:
    return contract_client(live.url, validator, timeout=10)


def host_of(live: LiveBranch) -> str:
    return live.url.split("://", 1)[1]


def raw_request(live: LiveBranch, data: bytes) -> bytes:
    """Bytes sent as they are, for what httpx will not send (no Host, two Origins)."""
    with socket.create_connection(("127.0.0.1", live.port), timeout=5) as sock:
        sock.sendall(data)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


def status_of(answer: bytes) -> int:
    return int(answer.split(b" ", 2)[1])


def assert_refused(response: httpx.Response, problem_type: str) -> dict:
    body = assert_problem(response, 403)
    assert body["type"] == problem_type, body
    assert ACAO not in response.headers, "a refused page must not read the refusal"
    assert response.headers["vary"] == "Origin"
    assert response.headers["x-content-type-options"] == "nosniff"
    return body


# -- Host: DNS rebinding ------------------------------------------------------------


@pytest.mark.parametrize(
    "host",
    ["localhost", "localhost:1", "LOCALHOST:8000", "127.0.0.1", "127.0.0.1:9", "127.8.9.10:80"],
)
def test_loopback_names_are_answered_on_any_port(http: httpx.Client, host: str):
    response = http.get("/", headers={"Host": host})
    assert response.status_code == 200, response.text


@pytest.mark.skipif(not ipv6_loopback(), reason="no IPv6 loopback here")
def test_an_ipv6_loopback_branch_answers_its_own_address_and_origin(tmp_path: Path):
    with LiveBranch(tmp_path, "six", host="::1") as live:
        own = f"http://[::1]:{live.port}"
        assert live.url == own
        assert httpx.get(f"{own}/").status_code == 200  # Host: [::1]:PORT
        created = httpx.put(f"{own}/{unique('six')}", headers={"Origin": own})
        assert created.status_code == 201, created.text
        assert created.headers[ACAO] == own
        assert httpx.get(f"{own}/", headers={"Host": "localhost"}).status_code == 200
        refused = httpx.get(f"{own}/", headers={"Host": "six.example"})
        assert refused.json()["type"] == HOST_NOT_ALLOWED


@pytest.mark.parametrize(
    "host",
    [
        "attacker.example",
        "attacker.example:8000",
        "localhost.",  # a name DNS may answer, unlike localhost
        "evil.localhost",
        "127.0.0.1.nip.io",
        "10.0.0.1:8000",
        "[fd00::1]:8000",
        "localhost:99999",
        "::1",  # an IPv6 address without its brackets
        "",
    ],
)
def test_other_host_names_are_refused(http: httpx.Client, host: str):
    response = http.get("/", headers={"Host": host})
    body = assert_refused(response, HOST_NOT_ALLOWED)
    assert "DNS rebinding" in body["detail"]
    assert "--allow-host" in body["detail"]


@pytest.mark.parametrize("method", METHODS)
def test_a_rebound_page_changes_nothing_whatever_the_method(
    branch: LiveBranch, http: httpx.Client, method: str
):
    """The page is same-origin with itself: its Origin matches its Host. Both are refused."""
    name = unique("rebound")
    evil = f"rebound.example:{branch.port}"
    response = httpx.request(
        method,
        f"{branch.url}/{name}",
        headers={"Host": evil, "Origin": f"http://{evil}", "Sec-Fetch-Site": "same-origin"},
        data={"broker": "redis://attacker.example:6379/0"} if method in ("PUT", "POST") else None,
    )
    assert response.status_code == 403
    if method != "HEAD":
        assert response.json()["type"] == HOST_NOT_ALLOWED
    assert http.get(f"/{name}").status_code == 404


def test_the_host_of_an_absolute_target_is_the_one_checked(branch: LiveBranch):
    """RFC 9112 3.2.2: with an absolute-form target, Host is ignored."""
    evil = raw_request(
        branch, f"GET http://attacker.example:{branch.port}/ HTTP/1.1\r\nHost: "
        f"127.0.0.1:{branch.port}\r\nConnection: close\r\n\r\n".encode(),
    )  # fmt: skip
    assert status_of(evil) == 403, evil
    assert HOST_NOT_ALLOWED.encode() in evil
    good = raw_request(
        branch, f"GET http://127.0.0.1:{branch.port}/ HTTP/1.1\r\nHost: attacker.example\r\n"
        "Connection: close\r\n\r\n".encode(),
    )  # fmt: skip
    assert status_of(good) == 200, good


def test_a_request_without_host_is_refused(branch: LiveBranch):
    """HTTP/1.0 lets a request leave Host out (1.1 does not: aiohttp answers 400)."""
    answer = raw_request(branch, b"GET / HTTP/1.0\r\n\r\n")
    assert status_of(answer) == 403, answer
    assert HOST_NOT_ALLOWED.encode() in answer


def test_allow_host_adds_a_name(allowing: LiveBranch, validator: ContractValidator):
    with allowing_client(allowing, validator) as http:
        assert http.get("/", headers={"Host": ALLOWED_HOST}).status_code == 200
        assert http.get("/", headers={"Host": f"{ALLOWED_HOST.upper()}:1"}).status_code == 200
        assert_refused(http.get("/", headers={"Host": "other.test"}), HOST_NOT_ALLOWED)
        assert_refused(http.get("/", headers={"Host": f"x.{ALLOWED_HOST}"}), HOST_NOT_ALLOWED)


def test_a_branch_with_a_token_answers_any_host(secured: LiveBranch, validator: ContractValidator):
    """A page cannot send the token, so rebinding reaches only 401s."""
    auth = {"Authorization": f"Bearer {TOKEN}"}
    with contract_client(secured.url, validator, timeout=10) as http:
        assert http.get("/", headers={**auth, "Host": "cyme.example:8000"}).status_code == 200
        response = http.get("/", headers={"Host": "cyme.example:8000"})
        assert_problem(response, 401)


def test_a_branch_with_a_token_and_allow_host_checks_the_host(tmp_path: Path, validator):
    with LiveBranch(tmp_path, "named", token=TOKEN, allow_hosts=["cyme.example"]) as live:
        auth = {"Authorization": f"Bearer {TOKEN}"}
        with contract_client(live.url, validator, timeout=10) as http:
            assert http.get("/", headers={**auth, "Host": "cyme.example:80"}).status_code == 200
            assert http.get("/", headers=auth).status_code == 200  # 127.0.0.1
            # Before auth: the token does not matter.
            assert_refused(http.get("/", headers={**auth, "Host": "x.example"}), HOST_NOT_ALLOWED)
            assert_refused(http.get("/", headers={"Host": "x.example"}), HOST_NOT_ALLOWED)


def test_insecure_bind_keeps_the_host_rule(tmp_path: Path, validator: ContractValidator):
    live = LiveBranch(
        tmp_path, "insecure", host="0.0.0.0", args=["--insecure-bind"], allow_hosts=["cyme.lan"]
    )
    with live:
        assert live.url.startswith("http://localhost:")
        with contract_client(live.url, validator, timeout=10) as http:
            assert http.get("/").status_code == 200
            assert http.get("/", headers={"Host": "cyme.lan:8000"}).status_code == 200
            assert_refused(http.get("/", headers={"Host": "rebound.example"}), HOST_NOT_ALLOWED)
            assert_refused(http.get("/", headers={"Host": "192.0.2.1"}), HOST_NOT_ALLOWED)
    # Given --allow-host, it does not warn that other machines are refused.
    assert "only requests for loopback names" not in live.log_text()


def test_insecure_bind_without_allow_host_says_what_is_answered(tmp_path: Path):
    with LiveBranch(tmp_path, "bare", host="0.0.0.0", args=["--insecure-bind"]) as live:
        assert live.wait_for_log("only requests for loopback names are answered")


def test_the_address_listened_on_is_answered():
    """For a branch on one address of a network, with --insecure-bind."""
    policy = BrowserPolicy(listen_host="192.0.2.7", has_token=False)
    policy.check_host("192.0.2.7:8000")
    policy.check_host("localhost")
    with pytest.raises(Exception, match="Host") as refused:
        policy.check_host("192.0.2.8:8000")
    assert refused.type.__name__ == "HostNotAllowed"
    assert BrowserPolicy(listen_host="0.0.0.0", has_token=False).hosts == frozenset()
    assert BrowserPolicy(listen_host="127.0.0.1", has_token=True).hosts is None


# -- Origin and Sec-Fetch-Site: cross-site requests ------------------------------------


def test_the_attack_form_post_is_refused(branch: LiveBranch, http: httpx.Client):
    """The request of the report: a form a page of another site posts, with no preflight."""
    name = unique("evil")
    response = httpx.post(
        f"{branch.url}/{name}",
        headers={"Origin": "http://evil.example", "Sec-Fetch-Site": "cross-site"},
        data={"broker": "redis://attacker.example:6379/0"},
    )
    body = assert_refused(response, CROSS_SITE)
    assert "--allow-origin" in body["detail"]
    assert "evil.example" not in response.text, "problems never repeat the request's values"
    assert http.get(f"/{name}").status_code == 404
    assert "refused a request from the origin 'http://evil.example'" in branch.log_text()


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": "http://evil.example"},
        {"Origin": "null"},
        {"Origin": "http://localhost:3000"},  # allowed by no flag on this branch
        {"Origin": "not an origin"},
        {"Sec-Fetch-Site": "cross-site"},
        {"Sec-Fetch-Site": "Cross-Site", "Sec-Fetch-Mode": "navigate"},
    ],
    ids=["evil", "null", "other-port", "malformed", "sec-fetch-site", "navigation"],
)
def test_cross_site_requests_are_refused_whatever_the_method(
    branch: LiveBranch, http: httpx.Client, method: str, headers: dict[str, str]
):
    name = unique("cross")
    response = httpx.request(method, f"{branch.url}/{name}", headers=headers)
    assert response.status_code == 403, response.text
    assert ACAO not in response.headers
    if method != "HEAD":
        assert response.json()["type"] == CROSS_SITE
    assert http.get(f"/{name}").status_code == 404


def test_the_branch_s_own_origin_is_served(branch: LiveBranch, http: httpx.Client):
    """Its /docs page (Swagger UI's "Try it out"), as reached by the request."""
    name = unique("own")
    response = http.put(f"/{name}", headers={"Origin": branch.url, "Sec-Fetch-Site": "same-origin"})
    assert response.status_code == 201, response.text
    assert response.headers[ACAO] == branch.url
    assert response.headers["vary"] == "Origin"
    exposed = {h.strip() for h in response.headers["access-control-expose-headers"].split(",")}
    assert exposed == {"X-Request-Id", "Location", "Retry-After", "Idempotent-Replayed"}
    # Reached as localhost, its origin is http://localhost:PORT.
    local = f"http://localhost:{branch.port}"
    assert http.get("/", headers={"Host": f"localhost:{branch.port}", "Origin": local}).is_success
    # The same host on another port, or over https, is another origin.
    for other in (f"http://127.0.0.1:{branch.port + 1}", f"https://127.0.0.1:{branch.port}"):
        assert_refused(http.get("/", headers={"Origin": other}), CROSS_SITE)
    http.delete(f"/{name}")


def test_two_origins_are_refused(branch: LiveBranch):
    own = branch.url.encode()
    answer = raw_request(
        branch,
        b"GET / HTTP/1.1\r\nHost: " + host_of(branch).encode() + b"\r\nOrigin: " + own
        + b"\r\nOrigin: " + own + b"\r\nConnection: close\r\n\r\n",
    )  # fmt: skip
    assert status_of(answer) == 403, answer


@pytest.mark.parametrize("site", ["same-origin", "same-site", "none"])
def test_sec_fetch_site_other_than_cross_site_passes(http: httpx.Client, site: str):
    """Typing the URL (none), a link from localhost:3000 (same-site): no Origin on a GET."""
    assert http.get("/", headers={"Sec-Fetch-Site": site}).status_code == 200


def test_allowed_origins_are_served_cross_site_too(
    allowing: LiveBranch, validator: ContractValidator
):
    with allowing_client(allowing, validator) as http:
        for origin in (ALLOWED, ALLOWED_TLS):
            name = unique("allowed")
            headers = {"Origin": origin, "Sec-Fetch-Site": "cross-site"}
            created = http.put(f"/{name}", headers=headers, data={"broker": "redis://"})
            assert created.status_code == 201, created.text
            assert created.headers[ACAO] == origin
            assert http.get(f"/{name}").json()["broker"] == "redis://"
            # A problem is readable too, so that the page can tell what went wrong.
            missing = http.get(f"/{name}/instances/nope", headers=headers)
            assert_problem(missing, 404)
            assert missing.headers[ACAO] == origin
            http.delete(f"/{name}")
        for near_miss in (
            "http://localhost:3001",
            "https://localhost:3000",
            "http://dashboard.example",
        ):
            assert_refused(http.get("/", headers={"Origin": near_miss}), CROSS_SITE)


def test_a_token_does_not_let_a_page_of_another_origin_in(
    secured: LiveBranch, validator: ContractValidator
):
    auth = {"Authorization": f"Bearer {TOKEN}"}
    with contract_client(secured.url, validator, timeout=10) as http:
        # Refused before auth: 403 with the token and without it, /ping included.
        for headers in ({}, auth):
            for path in ("/", "/ping"):
                response = http.get(path, headers={**headers, "Origin": "http://evil.example"})
                assert_refused(response, CROSS_SITE)
        allowed = http.get("/", headers={**auth, "Origin": ALLOWED})
        assert allowed.status_code == 200
        assert allowed.headers[ACAO] == ALLOWED
        # An allowed page without the token gets the 401, which it may read.
        unauthorized = http.get("/", headers={"Origin": ALLOWED})
        assert_problem(unauthorized, 401)
        assert unauthorized.headers[ACAO] == ALLOWED


# -- CORS -------------------------------------------------------------------------------


def test_no_answer_allows_any_origin(http: httpx.Client, branch: LiveBranch):
    """Without Origin (curl, the SDKs) no CORS header; every answer varies on Origin."""
    answers = [
        http.get("/"),
        http.get("/ping"),
        http.get("/openapi.yaml"),
        http.get("/docs"),
        http.get(f"/{unique('missing')}"),
        http.request("PATCH", "/ping"),
        httpx.get(f"{branch.url}/no/such/path/at/all/here"),
    ]
    for response in answers:
        assert not any(h.startswith("access-control-") for h in response.headers), response.headers
        assert response.headers["vary"] == "Origin"
        assert response.headers["x-content-type-options"] == "nosniff"


def test_an_answer_to_a_malformed_request_has_the_common_headers(branch: LiveBranch):
    answer = raw_request(branch, b"GET / HTTP/1.1\r\nHost: localhost\r\nBad Header\r\n\r\n")
    head = answer.split(b"\r\n\r\n", 1)[0].decode("latin-1").lower()
    assert status_of(answer) == 400
    assert "\r\nx-content-type-options: nosniff" in head
    assert "access-control-allow-origin" not in head


def preflight(url: str, origin: str, **headers: str) -> httpx.Response:
    return httpx.options(
        url,
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": "PUT",
            "Access-Control-Request-Headers": "content-type,idempotency-key",
            **headers,
        },
    )


def test_a_preflight_from_an_allowed_origin_is_answered_before_auth(secured: LiveBranch):
    response = preflight(f"{secured.url}/pycon", ALLOWED)  # no token
    assert response.status_code == 204, response.text
    assert response.content == b""
    assert response.headers[ACAO] == ALLOWED
    assert response.headers["vary"] == "Origin"
    methods = {m.strip() for m in response.headers["access-control-allow-methods"].split(",")}
    assert methods == {"GET", "HEAD", "PUT", "POST", "DELETE"}
    allowed = {h.strip() for h in response.headers["access-control-allow-headers"].split(",")}
    assert allowed == {
        "Authorization",
        "Content-Type",
        "Idempotency-Key",
        "X-Request-Id",
        "Cyme-Fault",
    }
    assert int(response.headers["access-control-max-age"]) > 0
    assert "access-control-allow-credentials" not in response.headers
    assert "access-control-allow-private-network" not in response.headers
    assert response.headers["x-request-id"]


def test_a_preflight_for_a_loopback_address_gets_private_network_access(secured: LiveBranch):
    """Chromium asks before a page on the internet reaches a loopback address."""
    headers = {"Access-Control-Request-Private-Network": "true"}
    response = preflight(f"{secured.url}/", ALLOWED, **headers)
    assert response.status_code == 204
    assert response.headers["access-control-allow-private-network"] == "true"
    refused = preflight(f"{secured.url}/", "http://evil.example", **headers)
    assert refused.status_code == 403
    assert "access-control-allow-private-network" not in refused.headers


def test_a_preflight_from_another_origin_is_refused(secured: LiveBranch, branch: LiveBranch):
    for live in (secured, branch):
        response = preflight(f"{live.url}/pycon", "http://evil.example")
        assert response.status_code == 403
        assert response.json()["type"] == CROSS_SITE
        assert not any(h.startswith("access-control-") for h in response.headers)


def test_an_options_that_is_no_preflight_keeps_its_answer(
    branch: LiveBranch, secured: LiveBranch, validator: ContractValidator
):
    with contract_client(branch.url, validator, timeout=10) as http:
        plain = http.options("/ping")
        assert_problem(plain, 405)
        assert plain.headers["allow"] == "GET, HEAD"
        assert_problem(httpx.options(f"{branch.url}/no/such/path/at/all"), 404)
        # An allowed Origin without Access-Control-Request-Method: no preflight either.
        own = http.options("/ping", headers={"Origin": branch.url})
        assert_problem(own, 405)
        assert own.headers[ACAO] == branch.url
    assert_problem(httpx.options(f"{secured.url}/ping"), 401)


# -- headers of pages and of the API ----------------------------------------------------


class Inline(HTMLParser):
    """The text of a page's script and style elements, read as a browser does."""

    def __init__(self, page: str) -> None:
        super().__init__(convert_charrefs=False)
        self.found: dict[str, list[str]] = {"script": [], "style": []}
        self.attributes: list[list[tuple[str, str | None]]] = []
        self._open: str | None = None
        self.feed(page)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.found:
            self._open = tag
            self.found[tag].append("")
            self.attributes.append(attrs)

    def handle_endtag(self, tag: str) -> None:
        self._open = None

    def handle_data(self, data: str) -> None:
        if self._open:
            self.found[self._open][-1] += data


def inline(page: str, tag: str) -> list[str]:
    return Inline(page).found[tag]


def sha256(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"


def directives(policy: str) -> dict[str, list[str]]:
    found = {}
    for part in policy.split(";"):
        name, *values = part.split()
        assert name not in found, f"{name} twice in {policy}"
        found[name] = values
    return found


@pytest.mark.parametrize("path", ["/docs", "/ui"])
def test_a_page_allows_its_own_inline_code_and_nothing_else(http: httpx.Client, path: str):
    response = http.get(path)
    assert response.status_code == 200
    page = response.text
    assert len(inline(page, "script")) == len(inline(page, "style")) == 2
    assert Inline(page).attributes == [[]] * 4, "no src=, no nonce: only inline code"
    assert "style=" not in page.split("<script>", 1)[0], "no style attributes"
    policy = directives(response.headers["content-security-policy"])
    assert policy["default-src"] == ["'none'"]
    assert sorted(policy["script-src"]) == sorted(sha256(s) for s in inline(page, "script"))
    assert sorted(policy["style-src"]) == sorted(sha256(s) for s in inline(page, "style"))
    assert policy["frame-ancestors"] == ["'none'"]
    assert policy["base-uri"] == ["'none'"]
    assert policy["connect-src"] == ["'self'"]  # "Try it out", the admin page's calls
    for name, values in policy.items():
        for value in values:
            assert value in ("'self'", "'none'", "data:") or value.startswith("'sha256-"), (
                f"{name} allows {value}: nothing remote, nothing unsafe"
            )
    assert response.headers["x-frame-options"] == "DENY"
    # Not no-referrer: the page's own form posts would say `Origin: null`.
    assert response.headers["referrer-policy"] == "same-origin"
    assert response.headers["x-content-type-options"] == "nosniff"
    head = http.head(path)
    assert head.headers["content-security-policy"] == response.headers["content-security-policy"]


def test_api_answers_are_not_pages(http: httpx.Client, secured: LiveBranch):
    answers = [
        http.get("/"),
        http.get("/openapi.yaml"),
        http.get(f"/{unique('missing')}"),
        httpx.get(f"{secured.url}/docs"),  # the page's 401 is a problem, not the page
    ]
    for response in answers:
        assert response.headers["x-content-type-options"] == "nosniff"
        for header in ("content-security-policy", "x-frame-options", "referrer-policy"):
            assert header not in response.headers, (response.request.url, header)


def test_page_policy_hashes_exactly_the_inline_elements():
    page = Page.of("<html><head><style>a{}</style></head><script>go()</script></html>")
    policy = directives(page.headers["Content-Security-Policy"])
    assert policy["script-src"] == [sha256("go()")]
    assert policy["style-src"] == [sha256("a{}")]
    assert directives(Page.of("<p>no code</p>").headers["Content-Security-Policy"])[
        "script-src"
    ] == ["'none'"]


def test_every_html_operation_must_be_a_page():
    """A page added to openapi.yaml (`/ui`) is served only once registered in PAGES."""
    text = (Path(__file__).resolve().parents[2] / "openapi.yaml").read_text(encoding="utf-8")
    spec = Spec(text.replace("application/yaml:\n", "text/html:\n", 1))
    branch = types.SimpleNamespace(spec=spec)
    with pytest.raises(RuntimeError, match="getOpenAPI"):
        pipeline.browser_headers(branch, pipeline._unanswered)  # type: ignore[arg-type]
    assert pipeline.browser_headers(types.SimpleNamespace(spec=Spec.load()), pipeline._unanswered)  # type: ignore[arg-type]


# -- the command line ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("flag", "value", "reason"),
    [
        ("--allow-origin", "http://localhost:3000/", "no path"),
        ("--allow-origin", "localhost:3000", "scheme://host"),
        ("--allow-origin", "*", "name each origin"),
        ("--allow-origin", "null", "cannot be allowed"),
        ("--allow-origin", "ftp://files.example", "http or https"),
        ("--allow-origin", "http://user@localhost:3000", "no user name"),
        ("--allow-origin", "http://localhost:99999", "not valid"),
        ("--allow-host", "localhost:8000", "without a port"),
        ("--allow-host", "http://cyme.example", "not a URL"),
        ("--allow-host", "bad name", "letters, digits"),
    ],
)
def test_bad_flag_values_stop_the_branch_with_a_clear_message(
    tmp_path: Path, flag: str, value: str, reason: str
):
    done = run_cli(["127.0.0.1:0", "-D", str(tmp_path), flag, value])
    assert done.returncode == 2, done
    assert done.stdout == "", "no ready line"
    message = done.stderr.strip().splitlines()[-1]
    assert flag in message
    assert repr(value) in message
    assert reason in message
    assert "Traceback" not in done.stderr


def test_origins_and_authorities_as_browsers_write_them():
    assert parse_origin("HTTP://LocalHost:80") == "http://localhost"
    assert parse_origin("https://a.example:443") == "https://a.example"
    assert parse_origin("http://[0:0::1]:8000") == "http://[::1]:8000"
    assert split_authority("[::1]:8000") == ("::1", 8000)
    assert split_authority("localhost:") == ("localhost", None)
    assert split_authority("a:b:c") is None
    assert split_authority("[::1") is None
