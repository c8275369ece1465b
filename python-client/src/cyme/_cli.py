"""The `cyme` command: the SDK from a shell.

    cyme branches
    cyme apps add pycon --broker amqp:// --arguments=--workdir=/opt/play/proj
    cyme instances add pycon
    cyme instances autoscale pycon NAME --min 4 --max 10
    cyme status pycon --watch
    cyme instances restart pycon NAME --wait
    cyme apps restart pycon

Tables for people, `--json` for scripts; a failure prints one line to
stderr and exits with 1 (2 for a bad command line). A long wait (`--wait`
after a change, a rolling restart) shows its progress on one line of a
terminal, rewritten as it goes, and as plain lines otherwise.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable, Sequence
from datetime import datetime, timezone
from typing import Any, TextIO

from pydantic import BaseModel

from . import types
from ._client import Client
from ._exceptions import APIError, APITimeoutError
from .resources import App, Cluster, Instance, Scheduled

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
    if args.wait is not None:
        return follow(instance.autoscale(min=args.min, max=args.max, nowait=True), args.wait)
    return instance.autoscale(min=args.min, max=args.max, nowait=args.nowait)


# -- what the workers are doing ------------------------------------------------

STATUS_COLUMNS = ("APP", "NAME", "STATE", "PID", "POOL", "QUEUES", "RESTARTS", "AGE")
WATCH_INTERVAL = 2.0
CLEAR = "\x1b[H\x1b[2J"  # cursor home, clear the screen


def _age(since: datetime, now: datetime) -> str:
    """`42s`, `5m`, `3h`, `2d`: how long ago, as `kubectl get pods` says it."""
    seconds = max(0, int((now - since).total_seconds()))
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def status_rows(instances: list[Instance], now: datetime | None = None) -> list[dict[str, str]]:
    """One row per instance: state, pid, pool (current/min/max), queues, restarts, age."""
    now = now or datetime.now(timezone.utc)
    rows = []
    for i in instances:
        current = "-" if i.processes is None else str(i.processes)
        rows.append(
            {
                "APP": i.app,
                "NAME": i.name,
                "STATE": i.state,
                "PID": "-" if i.pid is None else str(i.pid),
                "POOL": f"{current}/{i.min_concurrency}/{i.max_concurrency}",
                "QUEUES": ",".join([f"dq.{i.name}", *i.queues]),
                "RESTARTS": str(i.restarts),
                "AGE": _age(i.since, now),
            }
        )
    return rows


def table(rows: list[dict[str, str]], columns: Sequence[str] = STATUS_COLUMNS) -> str:
    """Columns padded to their widest cell; a header even without rows."""
    widths = {c: max([len(c), *(len(r[c]) for r in rows)]) for c in columns}
    lines = [[c for c in columns], *([r[c] for c in columns] for r in rows)]
    return "\n".join(
        "   ".join(cell.ljust(widths[c]) for c, cell in zip(columns, line, strict=True)).rstrip()
        for line in lines
    )


def _instances(client: Client, app: str | None) -> list[Instance]:
    """Every instance of the app (or of every app), with its state: one request an app."""
    apps = [app] if app else client.all_names()
    found: list[Instance] = []
    for name in apps:
        found += _app(client, argparse.Namespace(app=name)).instances.all()
    return found


def _status(client: Client, args: argparse.Namespace) -> Any:
    """`cyme status [APP]`: the table, once or (`--watch`) every `--interval` seconds,
    until interrupted (Ctrl-C ends it as a success)."""
    try:
        _show_status(client, args)
    except KeyboardInterrupt:
        if not args.watch:
            raise
    return NOTHING


def _show_status(client: Client, args: argparse.Namespace) -> None:
    out = sys.stdout
    as_json = getattr(args, "json", False)
    while True:
        instances = _instances(client, args.app)
        if as_json:
            # One JSON document a line with --watch, so that a script reads each as it comes.
            text = json.dumps(_jsonable(instances), indent=None if args.watch else 2)
        else:
            text = table(status_rows(instances))
        if args.watch and out.isatty() and not as_json:
            text = CLEAR + text
        print(text, file=out, flush=True)
        if not args.watch:
            return
        time.sleep(args.interval)
        if not as_json and not out.isatty():
            print(file=out)


class Progress:
    """How a long wait shows itself: one line rewritten on a terminal, plain lines otherwise."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stderr
        self.live = self.stream.isatty()
        self.last = ""

    def show(self, text: str) -> None:
        if text == self.last:
            return
        self.last = text
        if self.live:
            self.stream.write(f"\r\x1b[K{text}")
        else:
            self.stream.write(f"{text}\n")
        self.stream.flush()

    def done(self) -> None:
        if self.live and self.last:
            self.stream.write("\n")
            self.stream.flush()


def follow(scheduled: Scheduled, timeout: float | None, progress: Progress | None = None) -> Any:
    """Follow a change asked for with nowait to its end, showing how far it has got;
    its result, or its error."""
    progress = progress or Progress()
    started = time.monotonic()
    deadline = None if timeout is None else started + timeout
    pause = 0.1
    try:
        while True:
            change = scheduled.status()
            elapsed = time.monotonic() - started
            line = f"{change.operation} {change.target}: {change.state}"
            if change.progress is not None:
                busy = f" ({change.progress.current})" if change.progress.current else ""
                line += f", {change.progress.done}/{change.progress.total}{busy}"
            progress.show(f"{line} {elapsed:.0f}s" if progress.live else line)
            if change.state in ("succeeded", "failed"):
                return scheduled.wait(
                    timeout=None if deadline is None else max(deadline - time.monotonic(), 1)
                )
            if deadline is not None and time.monotonic() >= deadline:
                raise APITimeoutError(
                    request=scheduled._request(),
                    message=f"{change.operation} was not done within {timeout:g} s",
                )
            time.sleep(pause)
            pause = min(pause * 1.5, 1.0)
    finally:
        progress.done()


def _lever(name: str) -> Handler:
    """`cyme instances restart|disable|enable APP NAME`."""

    def handler(client: Client, args: argparse.Namespace) -> Any:
        instance = _app(client, args).instances.get(args.name)
        if args.wait is not None:
            return follow(getattr(instance, name)(nowait=True), args.wait)
        return getattr(instance, name)(nowait=args.nowait)

    return handler


def _rolling(client: Client, args: argparse.Namespace) -> Any:
    """`cyme apps restart APP`: the rolling restart, followed as it goes."""
    app = _app(client, args)
    if args.nowait:
        return app.restart(nowait=True)
    rolled = follow(app.restart(nowait=True), args.wait)
    if getattr(args, "json", False):
        return rolled
    rows = [
        {
            "NAME": o.name,
            "OUTCOME": o.outcome,
            "PID": "-" if o.pid is None else str(o.pid),
            "DETAIL": o.detail or "",
        }
        for o in rolled.instances
    ]
    print(table(rows, ("NAME", "OUTCOME", "PID", "DETAIL")))
    return NOTHING


class _Nothing:
    """What a command that printed its output itself returns."""


NOTHING = _Nothing()


def _wait_options(sub: argparse.ArgumentParser, default: float | None = None) -> None:
    """`--nowait`, and `--wait [SECONDS]`: ask not to wait, and follow the change."""
    sub.add_argument("--nowait", action="store_true", help="answer at once (Scheduled)")
    sub.add_argument(
        "--wait",
        type=float,
        nargs="?",
        const=300.0,
        default=default,
        metavar="SECONDS",
        help="ask not to wait, then follow the change to its end, showing how far it has got "
        "(at most SECONDS, 300 by default)",
    )


def _consumer(client: Client, args: argparse.Namespace) -> Any:
    consumers = Instance.model_construct(app=args.app, name=args.instance)
    consumers._client = client
    return consumers.consumers


def _status_parser(nouns: Any, common: argparse.ArgumentParser) -> None:
    """`cyme status [APP] [--watch] [--interval SECONDS] [--json]`."""
    status = nouns.add_parser(
        "status", help="what the workers are doing: one table of instances", parents=[common]
    )
    status.set_defaults(handler=_status)
    status.add_argument("app", nargs="?", help="one app's instances (default: every app's)")
    status.add_argument("--watch", "-w", action="store_true", help="show it again and again")
    status.add_argument(
        "--interval",
        type=float,
        default=WATCH_INTERVAL,
        metavar="SECONDS",
        help=f"between two showings with --watch (default {WATCH_INTERVAL:g})",
    )


def _consumers_parser(nouns: Any, verb: Callable[..., argparse.ArgumentParser]) -> None:
    """`cyme consumers add|delete|list APP INSTANCE [QUEUE]`."""
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


def _members(result: Any) -> Any:
    """A cluster answer as one row per member: what it holds, or what went wrong."""
    if isinstance(result, types.Placement):
        print(f"{result.instance.name} on {result.branch} ({result.url})")
        return NOTHING
    rows = []
    for part in result.branches:
        if part.state != "ok":
            said = part.detail or ""
        elif part.items is None:
            said = ""
        else:
            said = " ".join(str(i.get("name", i)) if isinstance(i, dict) else i for i in part.items)
        rows.append({"BRANCH": part.branch, "STATE": part.state, "": said})
    print(table(rows, ("BRANCH", "STATE", "")))
    if result.stale:
        print("(stale: the branch has lost the cluster's broker; this is its last view)")
    return NOTHING


def _cluster_parser(
    nouns: Any, verb: Callable[..., argparse.ArgumentParser], common: argparse.ArgumentParser
) -> None:
    """`cyme branches`, and `cyme cluster apps|instances|queues|add|delete|place ...`
    (`scope=cluster`)."""
    group = nouns.add_parser(
        "cluster", help="every member of the cluster: list, declare, place"
    ).add_subparsers(dest="verb", required=True)

    nouns.add_parser(
        "branches", help="list this branch and the others it knows", parents=[common]
    ).set_defaults(handler=lambda c, a: c.branches)

    def shown(call: Callable[[Cluster, argparse.Namespace], Any]) -> Handler:
        def handler(client: Client, args: argparse.Namespace) -> Any:
            result = call(client.cluster, args)
            return result if getattr(args, "json", False) else _members(result)

        return handler

    verb(group, "apps", shown(lambda c, a: c.apps()), "every member's apps")
    verb(
        group, "instances", shown(lambda c, a: c.instances(a.app)), "every member's instances"
    ).add_argument("app")
    verb(
        group, "queues", shown(lambda c, a: c.queues(a.app)), "every member's queues of an app"
    ).add_argument("app")
    add = verb(
        group,
        "add",
        shown(lambda c, a: c.add(a.app, broker=a.broker, arguments=a.arguments)),
        "create or update an app on every member",
    )
    add.add_argument("app")
    add.add_argument("--broker")
    add.add_argument("--arguments")
    verb(
        group, "delete", shown(lambda c, a: c.delete(a.app)), "delete an app on every member"
    ).add_argument("app")
    place = verb(
        group,
        "place",
        shown(lambda c, a: c.add_instance(a.app, branch=a.branch)),
        "start an instance on the least-loaded member (or --branch ID)",
    )
    place.add_argument("app")
    place.add_argument("--branch", metavar="ID")


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
    rolling = verb(apps, "restart", _rolling, "restart every instance, one at a time")
    rolling.add_argument("app")
    _wait_options(rolling, default=300.0)

    _status_parser(nouns, common)

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
        ("restart", _lever("restart"), "restart its worker (tasks in flight finish first)"),
        ("disable", _lever("disable"), "stop its worker and keep it stopped"),
        ("enable", _lever("enable"), "start a disabled or failed instance again"),
    ):
        sub = verb(inst, name, handler, text)
        sub.add_argument("app")
        sub.add_argument("name")
        if name == "autoscale":
            sub.add_argument("--min", type=int)
            sub.add_argument("--max", type=int)
        if name in ("autoscale", "restart", "disable", "enable"):
            _wait_options(sub)

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

    _consumers_parser(nouns, verb)
    _cluster_parser(nouns, verb, common)
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
    if result is NOTHING:
        return 0
    if getattr(args, "json", False):
        print(json.dumps(_jsonable(result), indent=2))
    else:
        print(_render(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
