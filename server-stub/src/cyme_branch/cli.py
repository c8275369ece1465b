"""`cyme-branch [HOST]:PORT -i ID -D DIR`: start a branch.

Logs go to stderr (or `--logfile`). Once the branch listens it prints one
line on stdout, a JSON object, so that whatever started it (a test, a
supervisor) knows where it is without polling it:

    {"event": "ready", "url": "http://127.0.0.1:43117", "id": "pc1", "pid": 4242,
     "version": "1.0.0"}

`url` has no trailing slash and names the port really bound (`HOST:0` binds
a free port); it is https:// when the branch serves TLS (`--tls-cert`,
`--tls-key`).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import re
import ssl
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import NoReturn
from urllib.parse import urlsplit

from . import __version__
from .app import serve
from .auth import TOKEN_ENV, is_loopback
from .branch import ID_NAME, Branch, BranchConfig, BranchError
from .browsers import ANY_ADDRESS, allowed_host_argument, parse_origin
from .cluster import DEFAULT_HEARTBEAT, DEFAULT_NAME, ClusterSettings
from .cluster.membership import kombu_module
from .logs import LineHandler
from .peers import Neighbours, Peer
from .spec import Spec
from .supervisor import Supervisor
from .supervisor.simulated import SimulatedSupervisor

# Where the branch finds the cluster's broker when no --cluster is given.
CLUSTER_ENV = "CYME_CLUSTER_URL"
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000


def parse_address(text: str) -> tuple[str, int]:
    """`[HOST]:PORT`, `PORT` or `HOST`; IPv6 hosts in brackets (`[::1]:8000`); port 0
    for a free one."""
    host, port_text = DEFAULT_HOST, ""
    if text.startswith("["):
        end = text.find("]")
        if end < 0:
            raise argparse.ArgumentTypeError(f"bad address {text!r}: missing ']'")
        host, rest = text[1:end], text[end + 1 :]
        port_text = rest[1:] if rest.startswith(":") else rest
    elif ":" in text:
        host_text, _, port_text = text.rpartition(":")
        host = host_text or DEFAULT_HOST
    elif text.isdigit():
        port_text = text
    else:
        host = text
    if not port_text:
        return host, DEFAULT_PORT
    if not port_text.isdigit() or not 0 <= int(port_text) < 65536:
        raise argparse.ArgumentTypeError(f"bad port {port_text!r}: use 1-65535 (0: a free one)")
    return host, int(port_text)


def positive_seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if not 0 < value < 86400:
        raise argparse.ArgumentTypeError(f"{text} is out of range: use more than 0 and under a day")
    return value


def restart_count(text: str) -> int:
    if not text.isdigit() or int(text) > 1000:
        raise argparse.ArgumentTypeError(f"not a number of restarts from 0 to 1000: {text!r}")
    return int(text)


def origin(text: str) -> str:
    """A value of --allow-origin: an exact origin, as browsers send it."""
    try:
        return parse_origin(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"bad origin {text!r}: {exc}") from None


def host(text: str) -> str:
    """A value of --allow-host: a host name or address, without a port."""
    try:
        return allowed_host_argument(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"bad host {text!r}: {exc}") from None


def cluster_name(text: str) -> str:
    if not re.fullmatch(r"[A-Za-z0-9_-]{1,64}", text):
        raise argparse.ArgumentTypeError(
            f"bad cluster name {text!r}: 1 to 64 letters, digits, '_' or '-'"
        )
    return text


def advertised_url(text: str) -> str:
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise argparse.ArgumentTypeError(f"bad URL {text!r}: give http(s)://HOST:PORT")
    if parts.query or parts.fragment or parts.username or parts.password:
        raise argparse.ArgumentTypeError(f"bad URL {text!r}: no query, fragment or user")
    return text.rstrip("/")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="cyme-branch",
        description="Run a Cyme branch: the HTTP API that manages this machine's "
        "Celery worker instances.",
    )
    parser.add_argument(
        "address",
        nargs="?",
        type=parse_address,
        default=(DEFAULT_HOST, DEFAULT_PORT),
        metavar="[HOST]:PORT",
        help=f"where to listen (default {DEFAULT_HOST}:{DEFAULT_PORT}; port 0: a free one)",
    )
    parser.add_argument(
        "-i",
        "--id",
        help=f"the branch id (default: a UUID, made once and kept in DIR/{ID_NAME})",
    )
    parser.add_argument(
        "-D",
        "--instance-dir",
        type=Path,
        default=Path("instances"),
        metavar="DIR",
        help="where instances and the branch state live (default: instances/)",
    )
    parser.add_argument(
        "-l",
        "--loglevel",
        default="INFO",
        choices=["DEBUG", "INFO", "WARNING", "ERROR"],
        type=str.upper,
    )
    parser.add_argument("-f", "--logfile", help="log to this file instead of stderr")
    parser.add_argument(
        "--supervisor",
        choices=["simulated", "celery"],
        default="simulated",
        help="what runs the instances: simulated workers (the default), or real "
        "`celery worker` processes (needs the celery extra: pip install 'cyme-branch[celery]')",
    )
    parser.add_argument(
        "--sup-interval",
        type=positive_seconds,
        default=5.0,
        metavar="SECONDS",
        help="seconds between two rounds of the supervisor (default 5)",
    )
    parser.add_argument(
        "--control-timeout",
        type=positive_seconds,
        default=10.0,
        metavar="SECONDS",
        help="how long a request waits for a worker before answering 504 (default 10)",
    )
    parser.add_argument(
        "--restart-max",
        type=restart_count,
        default=5,
        metavar="N",
        help="a worker that would need more than N restarts within --restart-window "
        "seconds is left failed until it is enabled (default 5)",
    )
    parser.add_argument(
        "--restart-window",
        type=positive_seconds,
        default=300.0,
        metavar="SECONDS",
        help="the time over which --restart-max counts restarts (default 300)",
    )
    parser.add_argument(
        "--metrics-public",
        action="store_true",
        help="serve GET /metrics without the token (for a Prometheus that has none)",
    )
    parser.add_argument(
        "--token-file",
        type=Path,
        metavar="PATH",
        help=f"require `Authorization: Bearer <the file's content>` (or set {TOKEN_ENV})",
    )
    parser.add_argument(
        "--insecure-bind",
        action="store_true",
        help="without a token, serve other addresses than loopback anyway",
    )
    parser.add_argument(
        "--allow-origin",
        action="append",
        default=[],
        type=origin,
        metavar="ORIGIN",
        help="let web pages of this origin call the branch, such as http://localhost:3000 "
        "(repeatable; the branch's own pages always may)",
    )
    parser.add_argument(
        "--allow-host",
        action="append",
        default=[],
        type=host,
        metavar="NAME",
        help="answer requests for this host name too (repeatable; without a token the "
        "branch answers loopback names only, against DNS rebinding)",
    )
    parser.add_argument(
        "--tls-cert",
        type=Path,
        metavar="PATH",
        help="serve HTTPS with this certificate (PEM, the chain after it); needs --tls-key",
    )
    parser.add_argument(
        "--tls-key",
        type=Path,
        metavar="PATH",
        help="the private key of --tls-cert (PEM, without a passphrase)",
    )
    parser.add_argument(
        "--peer",
        action="append",
        default=[],
        metavar="[ID=]URL",
        help="a neighbour branch (repeatable)",
    )
    parser.add_argument(
        "--peer-timeout",
        type=float,
        default=5.0,
        metavar="SECONDS",
        help="how long to wait for a neighbour (default 5)",
    )
    cluster = parser.add_argument_group("cluster")
    cluster.add_argument(
        "--cluster",
        metavar="BROKER_URL",
        default=os.environ.get(CLUSTER_ENV) or None,
        help=f"join the cluster on this broker, Redis or RabbitMQ (or set {CLUSTER_ENV})",
    )
    cluster.add_argument(
        "--cluster-name",
        type=cluster_name,
        default=DEFAULT_NAME,
        metavar="NAME",
        help=f"the cluster's name, to keep several on one broker apart (default {DEFAULT_NAME})",
    )
    cluster.add_argument(
        "--heartbeat",
        type=positive_seconds,
        default=DEFAULT_HEARTBEAT,
        metavar="SECONDS",
        help="seconds between two announcements; a member silent for 3 is lost "
        f"(default {DEFAULT_HEARTBEAT:g})",
    )
    cluster.add_argument(
        "--advertise-url",
        type=advertised_url,
        metavar="URL",
        help="the URL members reach this branch at (default: the URL it serves, "
        "which is localhost when it listens on every interface)",
    )
    cluster.add_argument(
        "--cluster-token-file",
        type=Path,
        metavar="PATH",
        help="the token sent to members and to --peer neighbours, and accepted from them "
        "(default: the branch's own token)",
    )
    cluster.add_argument(
        "--cluster-ca-file",
        type=Path,
        metavar="PATH",
        help="trust this CA for members' and neighbours' https URLs (default: the system's)",
    )
    parser.add_argument(
        "--allow-fault-injection",
        action="store_true",
        help="obey the Cyme-Fault request header (for testing clients; never in production)",
    )
    parser.add_argument("--spec", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    return parser


def fail(message: str) -> NoReturn:
    """Exit 2 with a one-line error: the command line was understood, but cannot be."""
    print(f"cyme-branch: error: {message}", file=sys.stderr)
    sys.exit(2)


def read_token(path: Path | None, env: str | None = TOKEN_ENV) -> str | None:
    if path is None:
        return os.environ.get(env, "").strip() or None if env else None
    try:
        token = path.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as exc:
        fail(f"cannot read the token file {path}: {type(exc).__name__}")
    if not token:
        fail(f"the token file {path} is empty")
    return token


class _EncryptedKey(Exception):
    """The key file asks for a passphrase, which the branch has no way to take."""


def _no_passphrase() -> str:
    # Without this, OpenSSL would prompt for the passphrase on the terminal.
    raise _EncryptedKey


def tls_context(cert: Path | None, key: Path | None) -> ssl.SSLContext | None:
    """The server's TLS settings from --tls-cert and --tls-key (None without
    either): TLS 1.2 at least, Python's ciphers. Each failure names the flag
    and the file, never what the file holds."""
    if cert is None and key is None:
        return None
    if cert is None or key is None:
        given, missing = ("--tls-cert", "--tls-key") if key is None else ("--tls-key", "--tls-cert")
        fail(f"{given} needs {missing}: a certificate is served with its private key")
    for flag, path in (("--tls-cert", cert), ("--tls-key", key)):
        try:
            path.read_bytes()
        except OSError as exc:
            fail(f"cannot read {flag} {path}: {exc.strerror or type(exc).__name__}")
    try:
        # Whether the certificate file parses, apart from the key.
        ssl.create_default_context(cafile=str(cert))
    except (ssl.SSLError, ValueError):
        fail(f"--tls-cert {cert} holds no PEM certificate")
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    try:
        context.load_cert_chain(cert, key, password=_no_passphrase)
    except _EncryptedKey:
        fail(f"--tls-key {key} is encrypted: give the key without its passphrase")
    except ssl.SSLError as exc:
        if exc.reason == "KEY_VALUES_MISMATCH":
            fail(f"--tls-key {key} is not the private key of --tls-cert {cert}")
        fail(f"--tls-key {key} holds no PEM private key")
    return context


def make_supervisor(kind: str, config: BranchConfig) -> Supervisor:
    if kind == "simulated":
        return SimulatedSupervisor(config.restart_policy)
    # Imported only when asked for: Celery takes a while to import.
    try:
        from .supervisor.celery import CelerySupervisor  # noqa: PLC0415
    except ImportError as exc:
        fail(f"--supervisor celery needs {exc.name}: pip install 'cyme-branch[celery]'")
    return CelerySupervisor(
        config.directory,
        interval=config.sup_interval,
        timeout=config.control_timeout,
        policy=config.restart_policy,
    )


def cluster_settings(args: argparse.Namespace, token: str | None) -> ClusterSettings:
    """The cluster options, checked; the cluster token is by default the branch's."""
    ca_file = args.cluster_ca_file
    if ca_file is not None and not ca_file.is_file():
        fail(f"the CA file {ca_file} cannot be read")
    if args.cluster is not None:
        cluster_needs_kombu(args.cluster)
    return ClusterSettings(
        broker_url=args.cluster,
        name=args.cluster_name,
        heartbeat=args.heartbeat,
        advertise_url=args.advertise_url,
        token=read_token(args.cluster_token_file, env=None) or token,
        ca_file=str(ca_file) if ca_file else None,
        timeout=args.peer_timeout,
    )


def cluster_needs_kombu(url: str) -> None:
    """Exit 2 unless kombu (and the broker's client library) can be had."""
    try:
        kombu_module().Connection(url).transport  # noqa: B018 (loads the transport's library)
    except ImportError as exc:
        fail(f"--cluster needs {exc.name}: pip install 'cyme-branch[cluster]'")
    except Exception as exc:  # kombu's own error for a URL it cannot use
        fail(f"--cluster: not a broker URL kombu can use ({type(exc).__name__})")


def announce(branch: Branch) -> None:
    """The ready line: one JSON object on stdout, flushed."""
    line = {
        "event": "ready",
        "url": branch.url,
        "id": branch.config.id,
        "pid": os.getpid(),
        "version": __version__,
    }
    sys.stdout.write(json.dumps(line) + "\n")
    sys.stdout.flush()


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    host, port = args.address
    token = read_token(args.token_file)
    tls = tls_context(args.tls_cert, args.tls_key)
    if token is None and not is_loopback(host) and not args.insecure_bind:
        fail(
            f"without a token the branch serves loopback only, not {host}: "
            f"give --token-file (or {TOKEN_ENV}), or --insecure-bind"
        )
    try:
        peers = [Peer.parse(text) for text in args.peer]
    except ValueError as exc:
        fail(str(exc))
    try:
        stream = open(args.logfile, "a", encoding="utf-8") if args.logfile else sys.stderr  # noqa: SIM115
    except OSError as exc:
        fail(f"cannot open the log file {args.logfile}: {exc.strerror}")
    logging.basicConfig(level=args.loglevel, handlers=[LineHandler(stream)])
    directory = args.instance_dir.resolve()
    try:
        ident = args.id or BranchConfig.default_id(directory)
    except BranchError as exc:
        fail(str(exc))
    config = BranchConfig(
        id=ident,
        host=host,
        port=port,
        directory=directory,
        loglevel=args.loglevel,
        logfile=args.logfile,
        sup_interval=args.sup_interval,
        control_timeout=args.control_timeout,
        token=token,
        allow_fault_injection=args.allow_fault_injection,
        restart_max=args.restart_max,
        restart_window=args.restart_window,
        metrics_public=args.metrics_public,
        allow_origins=tuple(args.allow_origin),
        allow_hosts=tuple(args.allow_host),
        tls=tls is not None,
    )
    spec = Spec.load(args.spec)
    cluster = cluster_settings(args, token)
    try:
        neighbours = Neighbours(peers, cluster.calls(), spec)
    except ValueError as exc:
        fail(str(exc))
    branch = Branch(config, make_supervisor(args.supervisor, config), spec, neighbours, cluster)
    log = logging.getLogger("cyme.branch")
    if token:
        log.info("a bearer token is required on every route but /ping")
    elif is_loopback(host):
        log.info("no token: serving loopback only (give --token-file to serve a network)")
    else:
        log.warning("no token and --insecure-bind: anyone who can reach %s controls it", host)
        if not args.allow_host:
            also = "" if host in ANY_ADDRESS else f" and {host}"
            log.warning(
                "only requests for loopback names%s are answered (DNS rebinding): give the "
                "names and addresses other machines reach the branch by with --allow-host",
                also,
            )
    log.info("%s", branch.browsers.describe())
    if args.allow_fault_injection:
        log.warning("fault injection is on: the Cyme-Fault header is obeyed")
    log.info("cyme-branch %s: id %s, state in %s", __version__, config.id, config.directory)
    try:
        asyncio.run(serve(branch, host, port, ready=announce, ssl_context=tls))
    except BranchError as exc:
        log.error("cannot start: %s", exc)
        return 1
    except OSError as exc:
        log.error("cannot listen on %s:%d: %s", host, port, exc.strerror)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
