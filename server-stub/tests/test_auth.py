"""Bearer tokens: every route but /ping needs one when the branch has one.

Also the start-up rules: a branch without a token binds loopback only,
unless `--insecure-bind`; the token never shows in answers or in the log.
"""

from __future__ import annotations

import base64
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from contract import ContractValidator, assert_problem, contract_client, unique
from live import headers_text, run_cli

from cyme_branch.testing import LiveBranch, free_port

TOKEN = f"tok-{uuid.uuid4().hex}"

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def secured(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveBranch]:
    """A branch whose token comes from a file, with whitespace around it."""
    root = tmp_path_factory.mktemp("secured-branch")
    token_file = root / "token"
    token_file.write_text(f"  {TOKEN}\n\n", encoding="utf-8")
    token_file.chmod(0o600)
    # The harness writes a token file too, but as it is: this one has whitespace.
    with LiveBranch(root, "secured", args=["--token-file", str(token_file)]) as live:
        yield live


@pytest.fixture
def anonymous(secured: LiveBranch, validator: ContractValidator) -> Iterator[httpx.Client]:
    with contract_client(secured.url, validator, timeout=5) as http:
        yield http


@pytest.fixture
def authorized(secured: LiveBranch, validator: ContractValidator) -> Iterator[httpx.Client]:
    headers = {"Authorization": f"Bearer {TOKEN}"}
    with contract_client(secured.url, validator, headers=headers, timeout=5) as http:
        yield http


def assert_no_token(response: httpx.Response) -> None:
    assert TOKEN not in response.text, f"the token is in the body: {response.text}"
    assert TOKEN not in headers_text(response.headers), "the token is in a header"


def assert_unauthorized(response: httpx.Response, *, invalid_token: bool) -> None:
    body = assert_problem(response, 401)
    assert body["type"] == "urn:cyme:problem:unauthorized"
    challenge = response.headers.get("www-authenticate", "")
    assert challenge.startswith("Bearer"), f"WWW-Authenticate: {challenge!r}"
    if invalid_token:
        assert 'error="invalid_token"' in challenge, f"WWW-Authenticate: {challenge!r}"
    else:
        # RFC 6750 3.1: no error code when the request sent no credentials.
        assert "invalid_token" not in challenge, f"WWW-Authenticate: {challenge!r}"
    assert response.headers.get("x-request-id")
    assert_no_token(response)


PROTECTED = [
    ("GET", "/", None),
    ("GET", "/branches", None),
    ("GET", "/branches/secured", None),
    ("GET", "/openapi.yaml", None),
    ("GET", "/docs", None),
    ("GET", "/no-such-app", None),
    ("PUT", "/auth-app-x", None),
    ("POST", "/auth-app-x", {"broker": "redis://localhost//"}),
    ("PUT", "/auth-app-x", {"broker": 5}),  # invalid, but 401 comes first
    ("DELETE", "/no-such-app", None),
    ("GET", "/no-such-app/instances", None),
    ("POST", "/no-such-app/instances", None),
    ("POST", "/no-such-app/instances/w1", None),
    ("DELETE", "/no-such-app/instances/w1", None),
    ("PUT", "/no-such-app/instances/w1/autoscale", {"min": 1, "max": 2}),
    ("GET", "/no-such-app/instances/w1/stats", None),
    ("GET", "/no-such-app/instances/w1/queues", None),
    ("PUT", "/no-such-app/instances/w1/queues/q", None),
    ("GET", "/no-such-app/queues", None),
    ("PUT", "/no-such-app/queues/q", None),
    ("DELETE", "/no-such-app/queues/q", None),
]


@pytest.mark.parametrize(
    ("method", "path", "body"), PROTECTED, ids=[f"{m} {p}" for m, p, _ in PROTECTED]
)
def test_every_route_but_ping_needs_the_token(
    anonymous: httpx.Client, method: str, path: str, body: dict | None
):
    assert_unauthorized(anonymous.request(method, path, json=body), invalid_token=False)


@pytest.mark.parametrize(
    "authorization",
    [
        "Bearer wrong-token",
        f"Bearer {TOKEN}-wrong",
        f"Bearer {TOKEN[:-1]}",
        f"Bearer x{TOKEN}",
    ],
    ids=["other", "longer", "shorter", "prefixed"],
)
def test_a_wrong_token_is_401_invalid_token(anonymous: httpx.Client, authorization: str):
    for path in ("/", "/branches", "/no-such-app/instances"):
        response = anonymous.get(path, headers={"Authorization": authorization})
        assert_unauthorized(response, invalid_token=True)


@pytest.mark.parametrize(
    "authorization",
    [
        "Bearer",
        TOKEN,  # no scheme
        "Basic " + base64.b64encode(f"user:{TOKEN}".encode()).decode(),
        f"Token {TOKEN}",
    ],
    ids=["scheme-only", "no-scheme", "basic", "other-scheme"],
)
def test_other_credentials_are_refused(anonymous: httpx.Client, authorization: str):
    response = anonymous.get("/", headers={"Authorization": authorization})
    assert_problem(response, 401)
    assert response.headers.get("www-authenticate", "").startswith("Bearer")
    assert_no_token(response)


def test_ping_needs_no_token(anonymous: httpx.Client):
    response = anonymous.get("/ping")
    assert response.status_code == 200
    assert response.json() == {"ok": "pong"}


def test_the_admin_page_needs_no_token_and_holds_none(anonymous: httpx.Client):
    """The page asks for the token itself; it holds nothing of the branch."""
    response = anonymous.get("/ui")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert_no_token(response)
    # A wrong token does not spoil /ping either.
    wrong = anonymous.get("/ping", headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 200


def test_the_right_token_gets_normal_answers(authorized: httpx.Client, secured: LiveBranch):
    app = unique("app")
    assert authorized.get("/branches").json() == [secured.id]
    assert authorized.get(f"/branches/{secured.id}").json()["id"] == secured.id
    assert authorized.get("/openapi.yaml").status_code == 200
    assert authorized.get("/docs").status_code == 200
    assert_problem(authorized.get(f"/{app}"), 404)
    created = authorized.put(f"/{app}", json={"broker": "amqp://guest:guest@localhost//"})
    assert created.status_code == 201
    instance = authorized.post(f"/{app}/instances/{unique('w')}")
    assert instance.status_code == 201
    name = instance.json()["name"]
    assert authorized.get(f"/{app}/instances").json() == [name]
    autoscale = authorized.put(f"/{app}/instances/{name}/autoscale", json={"min": 1, "max": 3})
    assert autoscale.status_code == 200
    assert authorized.delete(f"/{app}/instances/{name}").status_code == 200
    assert authorized.delete(f"/{app}").status_code == 200
    for response in (created, instance, autoscale):
        assert_no_token(response)


def test_the_bearer_scheme_is_case_insensitive(anonymous: httpx.Client):
    """RFC 9110 11.1: the authentication scheme is a case-insensitive token."""
    response = anonymous.get("/branches", headers={"Authorization": f"bearer {TOKEN}"})
    assert response.status_code == 200, response.text


def test_refused_writes_change_nothing(anonymous: httpx.Client, authorized: httpx.Client):
    app = unique("app")
    assert anonymous.put(f"/{app}").status_code == 401
    assert anonymous.post(f"/{app}").status_code == 401
    bad = {"Authorization": f"Bearer {TOKEN}x"}
    assert anonymous.put(f"/{app}", headers=bad).status_code == 401
    assert app not in authorized.get("/").json()
    assert_problem(authorized.get(f"/{app}"), 404)


def test_the_token_never_shows_in_answers_or_the_log(anonymous: httpx.Client, secured: LiveBranch):
    app = unique("leak")
    right = {"Authorization": f"Bearer {TOKEN}"}
    attempts = [
        anonymous.get("/", headers=right),
        anonymous.put(f"/{app}", headers=right),
        anonymous.get(f"/{app}?access_token={TOKEN}", headers=right),
        anonymous.get(f"/{app}?access_token={TOKEN}"),
        anonymous.get(f"/?token={TOKEN}&x={TOKEN}"),
        anonymous.get(f"/{app}", headers={"Authorization": f"Bearer {TOKEN}-wrong"}),
        anonymous.get(f"/{app}", headers={"Authorization": f"Bearer {TOKEN[::-1]}{TOKEN}"}),
        anonymous.get(f"/{app}", headers={"Authorization": f"Basic {TOKEN}"}),
        anonymous.get(f"/ping?token={TOKEN}", headers={"Authorization": f"Bearer {TOKEN}z"}),
        anonymous.delete(f"/{app}", headers=right),
    ]
    for response in attempts:
        assert_no_token(response)
    last_id = attempts[-1].headers.get("x-request-id", "")
    secured.wait_for_log(last_id, timeout=3)
    log = secured.log_text()
    assert TOKEN not in log, "the token is in the branch's log:\n" + "\n".join(
        line for line in log.splitlines() if TOKEN in line
    )


def test_the_log_says_a_token_is_required(secured: LiveBranch):
    lines = [line for line in secured.log_text().splitlines() if "token" in line.lower()]
    assert lines, f"no start-up line about the token:\n{secured.log_tail()}"
    assert not any("no token" in line.lower() for line in lines), lines


def test_a_branch_without_token_says_so(branch: LiveBranch):
    lines = [line for line in branch.log_text().splitlines() if "no token" in line.lower()]
    assert any("loopback" in line.lower() for line in lines), (
        f"expected a start-up line with 'no token' and 'loopback':\n{branch.log_tail()}"
    )


def test_token_from_the_environment_on_all_interfaces(tmp_path: Path, validator):
    """CYME_BRANCH_TOKEN gives the token; with one, 0.0.0.0 is allowed."""
    token = f"env-{uuid.uuid4().hex}"
    live = LiveBranch(tmp_path, "env-token", host="0.0.0.0", token=token, token_in_env=True)
    live.start()
    try:
        with contract_client(live.url, validator, timeout=5) as http:
            assert_unauthorized(http.get("/branches"), invalid_token=False)
            bad = http.get("/branches", headers={"Authorization": f"Bearer {TOKEN}"})
            assert_unauthorized(bad, invalid_token=True)
            good = http.get("/branches", headers={"Authorization": f"Bearer {token}"})
            assert good.status_code == 200
            assert good.json() == ["env-token"]
        assert token not in live.log_text()
    finally:
        assert live.stop() == 0


def test_the_token_file_wins_over_the_environment(tmp_path: Path):
    """--token-file is used when given; the environment only when it is absent."""
    token_file = tmp_path / "token"
    token_file.write_text("from-file-token\n", encoding="utf-8")
    live = LiveBranch(
        tmp_path,
        "file-token",
        args=["--token-file", str(token_file)],
        env={"CYME_BRANCH_TOKEN": "from-env-token"},
    )
    live.start()
    try:
        ok = httpx.get(f"{live.url}/", headers={"Authorization": "Bearer from-file-token"})
        assert ok.status_code == 200, ok.text
        env = httpx.get(f"{live.url}/", headers={"Authorization": "Bearer from-env-token"})
        assert env.status_code == 401
    finally:
        live.stop()


def test_all_interfaces_without_token_refuses_to_start(tmp_path: Path):
    port = free_port()
    result = run_cli([f"0.0.0.0:{port}", "-i", "open", "-D", str(tmp_path / "inst")])
    assert result.returncode == 2, (result.returncode, result.stderr)
    # Start-up INFO lines may come first; the error itself is one line.
    lines = [line for line in result.stderr.strip().splitlines() if "INFO" not in line]
    assert len(lines) == 1, f"expected a one-line error, got:\n{result.stderr}"
    message = lines[0].lower()
    assert "token" in message or "--insecure-bind" in message, lines[0]
    assert "traceback" not in result.stderr.lower()
    with pytest.raises(httpx.TransportError):
        httpx.get(f"http://127.0.0.1:{port}/ping", timeout=1)


def test_insecure_bind_allows_all_interfaces_without_token(tmp_path: Path, validator):
    live = LiveBranch(tmp_path, "insecure", host="0.0.0.0", args=["--insecure-bind"])
    live.start()
    try:
        with contract_client(live.url, validator, timeout=5) as http:
            assert http.get("/branches").json() == ["insecure"]
            assert http.put(f"/{unique('app')}").status_code == 201
    finally:
        assert live.stop() == 0
