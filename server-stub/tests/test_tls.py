"""HTTPS: `--tls-cert` and `--tls-key`.

- the branch serves TLS 1.2 or later with them, and its URL is https in
  the ready line and in `GET /branches/{id}`;
- its own origin, for the browser rules, is https too;
- one flag without the other, a file it cannot read or parse, a key that
  is not the certificate's or asks for a passphrase: exit 2 with one line
  naming the flag and the file, never the key.

The SDKs' side (verify, ca_file) is in their own suites.
"""

from __future__ import annotations

import ssl
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from live import run_cli

from cyme_branch.cli import tls_context
from cyme_branch.testing import Certificates, LiveBranch, make_certificates

CROSS_SITE = "urn:cyme:problem:cross-site-request"


@pytest.fixture(scope="module")
def certificates(tmp_path_factory: pytest.TempPathFactory) -> Certificates:
    return make_certificates(tmp_path_factory.mktemp("certificates"))


@pytest.fixture(scope="module")
def tls_branch(
    tmp_path_factory: pytest.TempPathFactory, certificates: Certificates
) -> Iterator[LiveBranch]:
    with LiveBranch(tmp_path_factory.mktemp("tls-branch"), "tls", tls=certificates) as live:
        yield live


@pytest.fixture
def trusting(certificates: Certificates) -> ssl.SSLContext:
    """A client's TLS settings that trust the test CA."""
    return ssl.create_default_context(cafile=str(certificates.ca))


@pytest.fixture
def https(tls_branch: LiveBranch, trusting: ssl.SSLContext) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=tls_branch.url, verify=trusting, timeout=10) as client:
        yield client


def test_the_branch_serves_https_and_says_so(
    tls_branch: LiveBranch, https: httpx.Client, trusting: ssl.SSLContext
):
    assert tls_branch.url == f"https://127.0.0.1:{tls_branch.port}"
    assert tls_branch.info["url"] == tls_branch.url
    assert "serving on https://127.0.0.1:" in tls_branch.log_text()
    branch = https.get(f"/branches/{tls_branch.id}").json()
    assert (branch["url"], branch["port"]) == (f"{tls_branch.url}/", tls_branch.port)
    # The certificate names localhost too.
    local = httpx.get(f"https://localhost:{tls_branch.port}/ping", verify=trusting)
    assert local.json() == {"ok": "pong"}


def test_an_unknown_ca_or_plain_http_gets_nothing(tls_branch: LiveBranch):
    with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
        httpx.get(f"{tls_branch.url}/ping")
    with pytest.raises(httpx.RemoteProtocolError):
        httpx.get(f"http://127.0.0.1:{tls_branch.port}/ping")


def test_tls_1_2_at_least(certificates: Certificates, tls_branch: LiveBranch):
    context = tls_context(certificates.cert, certificates.key)
    assert context is not None
    assert context.minimum_version == ssl.TLSVersion.TLSv1_2
    only_1_2 = ssl.create_default_context(cafile=str(certificates.ca))
    only_1_2.maximum_version = ssl.TLSVersion.TLSv1_2
    assert httpx.get(f"{tls_branch.url}/ping", verify=only_1_2).is_success


def test_the_own_origin_of_an_https_branch_is_https(tls_branch: LiveBranch, https: httpx.Client):
    """Its /docs page, loaded over https, calls it from https://HOST:PORT."""
    own = https.get("/", headers={"Origin": tls_branch.url, "Sec-Fetch-Site": "same-origin"})
    assert own.status_code == 200, own.text
    assert own.headers["access-control-allow-origin"] == tls_branch.url
    local = f"https://localhost:{tls_branch.port}"
    headers = {"Host": f"localhost:{tls_branch.port}", "Origin": local}
    assert https.get("/", headers=headers).is_success
    # The same host and port over plain http is another origin.
    plain = https.get("/", headers={"Origin": f"http://127.0.0.1:{tls_branch.port}"})
    assert plain.status_code == 403
    assert plain.json()["type"] == CROSS_SITE


def bad_files(certificates: Certificates, directory: Path) -> dict[str, tuple[list[str], str]]:
    """Command lines that must not start, with what the error must say."""
    cert, key = str(certificates.cert), str(certificates.key)
    missing = str(directory / "missing.pem")
    garbage = directory / "garbage.pem"
    garbage.write_text("not PEM\n")
    other_key = directory / "other.key"
    subprocess.run(
        ["openssl", "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256",
         "-out", str(other_key)],
        check=True, capture_output=True,
    )  # fmt: skip
    encrypted = directory / "encrypted.key"
    subprocess.run(
        ["openssl", "pkey", "-in", key, "-aes-128-cbc", "-passout", "pass:secret",
         "-out", str(encrypted)],
        check=True, capture_output=True,
    )  # fmt: skip
    return {
        "cert-alone": (["--tls-cert", cert], "--tls-cert needs --tls-key"),
        "key-alone": (["--tls-key", key], "--tls-key needs --tls-cert"),
        "cert-missing": (["--tls-cert", missing, "--tls-key", key], f"--tls-cert {missing}"),
        "key-missing": (["--tls-cert", cert, "--tls-key", missing], f"--tls-key {missing}"),
        "key-a-directory": (["--tls-cert", cert, "--tls-key", str(directory)], "--tls-key"),
        "cert-garbage": (["--tls-cert", str(garbage), "--tls-key", key], f"--tls-cert {garbage}"),
        "cert-is-a-key": (["--tls-cert", key, "--tls-key", key], f"--tls-cert {key} holds no"),
        "key-garbage": (["--tls-cert", cert, "--tls-key", str(garbage)], f"--tls-key {garbage}"),
        "key-is-a-cert": (["--tls-cert", cert, "--tls-key", cert], f"--tls-key {cert} holds no"),
        "another-key": (
            ["--tls-cert", cert, "--tls-key", str(other_key)],
            f"--tls-key {other_key} is not the private key of --tls-cert {cert}",
        ),
        "encrypted-key": (
            ["--tls-cert", cert, "--tls-key", str(encrypted)],
            f"--tls-key {encrypted} is encrypted",
        ),
    }


CASES = [
    "cert-alone",
    "key-alone",
    "cert-missing",
    "key-missing",
    "key-a-directory",
    "cert-garbage",
    "cert-is-a-key",
    "key-garbage",
    "key-is-a-cert",
    "another-key",
    "encrypted-key",
]


@pytest.mark.parametrize("case", CASES)
def test_bad_tls_files_stop_the_branch_with_one_line(
    certificates: Certificates, tmp_path: Path, case: str
):
    args, expected = bad_files(certificates, tmp_path)[case]
    done = run_cli(["127.0.0.1:0", "-D", str(tmp_path / "state"), *args])
    assert done.returncode == 2, done
    assert done.stdout == "", "no ready line"
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("cyme-branch: error: ")
    assert expected in lines[0]
    # Never a word of the key itself.
    key_text = certificates.key.read_text()
    body = "".join(key_text.splitlines()[1:-1])
    assert body[:16] not in done.stderr
    assert "PRIVATE KEY" not in done.stderr
