"""`cyme-branch [HOST]:PORT -i ID -D DIR`: start a branch."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from . import __version__
from .app import serve
from .branch import Branch, BranchConfig, BranchError
from .spec import Spec
from .supervisor.simulated import SimulatedSupervisor

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000
LOG_FORMAT = "[%(asctime)s: %(levelname)s] %(message)s"


def parse_address(text: str) -> tuple[str, int]:
    """`[HOST]:PORT`, `PORT` or `HOST`; IPv6 hosts in brackets (`[::1]:8000`)."""
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
    if not port_text.isdigit() or not 0 < int(port_text) < 65536:
        raise argparse.ArgumentTypeError(f"bad port {port_text!r}: use 1-65535")
    return host, int(port_text)


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
        help=f"where to listen (default {DEFAULT_HOST}:{DEFAULT_PORT})",
    )
    parser.add_argument("-i", "--id", help="the branch id (default: the host name)")
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
        "--sup-interval",
        type=float,
        default=5.0,
        metavar="SECONDS",
        help="seconds between two rounds of the supervisor (default 5)",
    )
    parser.add_argument("--spec", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    host, port = args.address
    handler: logging.Handler = (
        logging.FileHandler(args.logfile) if args.logfile else logging.StreamHandler(sys.stderr)
    )
    logging.basicConfig(level=args.loglevel, format=LOG_FORMAT, handlers=[handler])
    config = BranchConfig(
        id=args.id or BranchConfig.default_id(),
        host=host,
        port=port,
        directory=args.instance_dir.resolve(),
        loglevel=args.loglevel,
        logfile=args.logfile,
        sup_interval=args.sup_interval,
    )
    branch = Branch(config, SimulatedSupervisor(), Spec.load(args.spec))
    log = logging.getLogger("cyme.branch")
    log.info(
        "cyme-branch %s: id %s, http://%s:%d/, state in %s",
        __version__,
        config.id,
        host,
        port,
        config.directory,
    )
    try:
        asyncio.run(serve(branch, host, port))
    except BranchError as exc:
        log.error("cannot start: %s", exc)
        return 1
    except OSError as exc:
        log.error("cannot listen on %s:%d: %s", host, port, exc.strerror)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
