"""The `cyme` command: the SDK from a shell.

    cyme branches
    cyme apps add pycon --broker amqp:// --arguments=--workdir=/opt/play/proj
    cyme instances add pycon
    cyme instances autoscale pycon NAME --min 4 --max 10

Tables for people, `--json` for scripts; a failure prints one line to
stderr and exits with 1 (2 for a bad command line).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from typing import Any

from pydantic import BaseModel

from ._client import Client
from ._exceptions import APIError
from .resources import App, Instance

Handler = Callable[[Client, argparse.Namespace], Any]


def _jsonable(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json", by_alias=True)
    if isinstance(value, list):
        return [_jsonable(item) for item in value]
    return value


def _render(value: Any) -> str:
    """A human-readable form: one name per line, or `key  value` rows."""
    data = _jsonable(value)
    if isinstance(data, list):
        return "\n".join(
            str(item.get("name", item)) if isinstance(item, dict) else str(item) for item in data
        )
    if isinstance(data, dict):
        width = max((len(key) for key in data), default=0)
        rows = []
        for key, item in data.items():
            shown = item if isinstance(item, str) else json.dumps(item)
            rows.append(f"{key.ljust(width)}  {shown}")
        return "\n".join(rows)
    return str(data)


def _instance(client: Client, args: argparse.Namespace) -> Instance:
    return _app(client, args).instances.get(args.name)


def _app(client: Client, args: argparse.Namespace) -> App:
    # A shell user names the app; no need to fetch it to build its resources.
    return App.bind(client, {"name": args.app, "broker": "", "arguments": "", "extra_config": {}})


def _queue_options(args: argparse.Namespace) -> dict[str, Any]:
    return {
        "exchange": args.exchange,
        "exchange_type": args.exchange_type,
        "routing_key": args.routing_key,
        "nowait": args.nowait,
    }


def _autoscale(client: Client, args: argparse.Namespace) -> Any:
    instance = _instance(client, args)
    return instance.autoscale(min=args.min, max=args.max)


def _consumer(client: Client, args: argparse.Namespace) -> Any:
    consumers = Instance.model_construct(app=args.app, name=args.instance)
    consumers._client = client
    return consumers.consumers


def build_parser() -> argparse.ArgumentParser:
    # The global options are accepted before and after the command words;
    # SUPPRESS keeps a later, absent copy from resetting an earlier one.
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--url",
        default=argparse.SUPPRESS,
        help="the branch's URL (default: $CYME_URL or http://localhost:8000)",
    )
    common.add_argument(
        "--token", default=argparse.SUPPRESS, help="the branch's token (default: $CYME_TOKEN)"
    )
    common.add_argument(
        "--json", action="store_true", default=argparse.SUPPRESS, help="print JSON, for scripts"
    )
    common.add_argument(
        "--timeout", type=float, default=argparse.SUPPRESS, help="seconds to wait for an answer"
    )
    parser = argparse.ArgumentParser(
        prog="cyme", description="Manage the Celery instances of a branch.", parents=[common]
    )
    nouns = parser.add_subparsers(dest="noun", required=True, metavar="COMMAND")

    def verb(group: Any, name: str, handler: Handler, help: str) -> argparse.ArgumentParser:
        sub: argparse.ArgumentParser = group.add_parser(name, help=help, parents=[common])
        sub.set_defaults(handler=handler)
        return sub

    branches = nouns.add_parser(
        "branches", help="list this branch and its neighbours", parents=[common]
    )
    branches.set_defaults(handler=lambda c, a: c.branches)

    apps = nouns.add_parser("apps", help="apps: add, list, get, delete").add_subparsers(
        dest="verb", required=True
    )
    add = verb(apps, "add", lambda c, a: c.add(a.app, a.broker, a.arguments), "create or update")
    add.add_argument("app")
    add.add_argument("--broker")
    add.add_argument("--arguments")
    verb(apps, "list", lambda c, a: c.all_names(), "list app names")
    verb(apps, "get", lambda c, a: c.get(a.app), "show an app").add_argument("app")
    verb(apps, "delete", lambda c, a: c.delete(a.app), "delete an app").add_argument("app")

    inst = nouns.add_parser("instances", help="instances of an app").add_subparsers(
        dest="verb", required=True
    )
    add = verb(
        inst, "add", lambda c, a: _app(c, a).instances.add(a.name, nowait=a.nowait), "start one"
    )
    add.add_argument("app")
    add.add_argument("name", nargs="?")
    add.add_argument("--nowait", action="store_true")
    verb(inst, "list", lambda c, a: _app(c, a).instances.all_names(), "list names").add_argument(
        "app"
    )
    for name, handler, text in (
        ("get", lambda c, a: _app(c, a).instances.get(a.name), "show an instance"),
        ("delete", lambda c, a: _app(c, a).instances.delete(a.name), "stop and delete one"),
        ("stats", lambda c, a: _instance(c, a).stats(), "show what the worker reports"),
        ("autoscale", _autoscale, "show or set the pool bounds"),
    ):
        sub = verb(inst, name, handler, text)
        sub.add_argument("app")
        sub.add_argument("name")
        if name == "autoscale":
            sub.add_argument("--min", type=int)
            sub.add_argument("--max", type=int)

    queues = nouns.add_parser("queues", help="queues of an app").add_subparsers(
        dest="verb", required=True
    )
    add = verb(
        queues,
        "add",
        lambda c, a: _app(c, a).queues.add(a.name, **_queue_options(a)),
        "declare or update",
    )
    add.add_argument("app")
    add.add_argument("name")
    add.add_argument("--exchange")
    add.add_argument("--exchange-type", choices=["direct", "topic", "fanout", "headers"])
    add.add_argument("--routing-key")
    add.add_argument("--nowait", action="store_true")
    verb(queues, "list", lambda c, a: _app(c, a).queues.all_names(), "list names").add_argument(
        "app"
    )
    for name, handler, text in (
        ("get", lambda c, a: _app(c, a).queues.get(a.name), "show a queue"),
        ("delete", lambda c, a: _app(c, a).queues.delete(a.name), "delete a queue"),
    ):
        sub = verb(queues, name, handler, text)
        sub.add_argument("app")
        sub.add_argument("name")

    cons = nouns.add_parser("consumers", help="queues an instance consumes").add_subparsers(
        dest="verb", required=True
    )
    for name, handler, text in (
        ("add", lambda c, a: _consumer(c, a).add(a.queue), "consume from a queue"),
        ("delete", lambda c, a: _consumer(c, a).delete(a.queue), "stop consuming"),
        ("list", lambda c, a: _consumer(c, a).all(), "list the queues consumed"),
    ):
        sub = verb(cons, name, handler, text)
        sub.add_argument("app")
        sub.add_argument("instance")
        if name != "list":
            sub.add_argument("queue")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    url, token = getattr(args, "url", None), getattr(args, "token", None)
    try:
        with Client(url, token=token, timeout=getattr(args, "timeout", None)) as client:
            result = args.handler(client, args)
    except APIError as exc:
        print(f"cyme: {exc}", file=sys.stderr)
        return 1
    if getattr(args, "json", False):
        print(json.dumps(_jsonable(result), indent=2))
    else:
        print(_render(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
