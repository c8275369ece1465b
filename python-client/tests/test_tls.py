"""A branch that serves HTTPS (`--tls-cert`, `--tls-key`) with the certificate
of a throwaway CA, unknown to the system: `verify=` and `ca_file=` on every
kind of client (sync, async on httpx, async on aiohttp)."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import Api
from cyme_branch.testing import Certificates, LiveBranch, make_certificates

import cyme
from cyme import APIConnectionError


@pytest.fixture(scope="module")
def certificates(tmp_path_factory: pytest.TempPathFactory) -> Certificates:
    return make_certificates(tmp_path_factory.mktemp("certificates"))


@pytest.fixture(scope="module")
def tls_branch(
    tmp_path_factory: pytest.TempPathFactory, certificates: Certificates
) -> Iterator[LiveBranch]:
    root = tmp_path_factory.mktemp("tls-branch")
    with LiveBranch(root, "sdk-tls-branch", tls=certificates) as live:
        yield live


def tls_client(api: Api, url: str, **options: Any) -> Any:
    """A client of `api`'s kind with these options; aiohttp's take them on its httpx client."""
    if api.kind == "aiohttp":
        tls = {k: options.pop(k) for k in ("verify", "ca_file") if k in options}
        options["http_client"] = cyme.DefaultAioHttpClient(**tls)
    return api.make(url, **options)


def test_ca_file_verifies_the_branch(
    api: Api, tls_branch: LiveBranch, certificates: Certificates
) -> None:
    assert tls_branch.url.startswith("https://127.0.0.1:")
    client = tls_client(api, tls_branch.url, ca_file=str(certificates.ca))
    assert api.run(client.ping()) == "pong"
    # with_options shares the connections, and so their TLS settings.
    assert api.run(client.with_options(timeout=5, max_retries=0).ping()) == "pong"
    by_name = tls_client(
        api, tls_branch.url.replace("127.0.0.1", "localhost"), ca_file=certificates.ca
    )
    assert api.run(by_name.ping()) == "pong"


def test_by_default_an_unknown_ca_fails_clearly_at_once(
    api: Api, tls_branch: LiveBranch, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="cyme")
    client = tls_client(api, tls_branch.url, max_retries=2)
    with pytest.raises(APIConnectionError) as caught:
        api.run(client.ping())
    error = caught.value
    assert type(error) is APIConnectionError
    assert "TLS certificate could not be verified (unable to get local issuer" in str(error)
    assert "ca_file=" in str(error)
    assert error.url == f"{tls_branch.url}/ping"
    # The message says it all: no chain of the transport's errors is shown.
    assert error.__cause__ is None
    assert error.__suppress_context__
    # A certificate refused once is refused again: no retry.
    assert not [r for r in caplog.records if r.getMessage().startswith("retry")]


def test_verify_false_turns_the_check_off(api: Api, tls_branch: LiveBranch) -> None:
    client = tls_client(api, tls_branch.url, verify=False)
    assert api.run(client.ping()) == "pong"


def test_plain_http_to_the_branch_fails_clearly(api: Api, tls_branch: LiveBranch) -> None:
    client = tls_client(api, tls_branch.url.replace("https://", "http://"), max_retries=0)
    with pytest.raises(APIConnectionError) as caught:
        api.run(client.ping())
    assert type(caught.value) is APIConnectionError
    assert "https://" in str(caught.value)


def test_tls_options_do_not_touch_an_http_branch(
    api: Api, branch: LiveBranch, certificates: Certificates
) -> None:
    for options in ({"verify": False}, {"ca_file": certificates.ca}):
        assert api.run(tls_client(api, branch.url, **options).ping()) == "pong"


def test_contradictory_options_are_refused_at_once(
    certificates: Certificates, tmp_path: Path
) -> None:
    with pytest.raises(ValueError, match="verify=False"):
        cyme.Client("https://localhost:1", verify=False, ca_file=certificates.ca)
    with cyme.DefaultHttpxClient() as http, pytest.raises(ValueError, match="http_client"):
        cyme.Client("https://localhost:1", ca_file=certificates.ca, http_client=http)
    with pytest.raises(FileNotFoundError):
        cyme.Client("https://localhost:1", ca_file=tmp_path / "missing.pem")
